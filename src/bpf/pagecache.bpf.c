// SPDX-License-Identifier: GPL-2.0
/*
 * pagecache.bpf.c: pages dirtied in the page cache, counted for the process that dirtied them
 * and left pending on the file's ledger until a bio writes them back.
 */
#include "records.bpf.h"
#include "dirtiers.bpf.h"
#include "stacks.bpf.h"

/* Kernels before 6.16 called the large folio's page count _folio_nr_pages. */
struct folio___old {
	unsigned int _folio_nr_pages;
} __attribute__((preserve_access_index));

/* The order of a large folio sits in the low byte of _flags_1 (folio_large_order()). */
#define FOLIO_ORDER_MASK 0xffUL

static __always_inline __u64 folio_bytes(struct folio *folio)
{
	unsigned long flags = 0;
	struct folio___old *old = (void *)folio;

	bpf_core_read(&flags, sizeof(flags), &folio->flags);
	if (!(flags & (1UL << bpf_core_enum_value(enum pageflags, PG_head))))
		return abi.page_size;
	if (bpf_core_field_exists(folio->_nr_pages))
		return (__u64)BPF_CORE_READ(folio, _nr_pages) * abi.page_size;
	if (bpf_core_field_exists(old->_folio_nr_pages))
		return (__u64)BPF_CORE_READ(old, _folio_nr_pages) * abi.page_size;
	return (__u64)abi.page_size << (BPF_CORE_READ(folio, _flags_1) & FOLIO_ORDER_MASK);
}

/* Block-device pages are raw device data inside a write to the device, metadata otherwise. */
static __always_inline __u32 dirtier_kind(__u32 fmt)
{
	struct task_ctx *ctx;

	if (fmt != abi.s_ifblk)
		return WA_DIRTIER_DATA;
	ctx = task_ctx_peek();
	if (ctx && sys_is_write(ctx->sys) && ctx->fd_class == WA_FD_BLOCKDEV)
		return WA_DIRTIER_DATA;
	return WA_DIRTIER_METADATA;
}

static __always_inline void count_dirtied(struct wa_file_stats *f, __u32 kind, __u64 bytes)
{
	struct wa_proc_stats *p = proc_current();

	__sync_fetch_and_add(&f->dirtied_pages, 1);
	__sync_fetch_and_add(&f->dirtied_bytes, bytes);
	if (!p)
		return;
	__sync_fetch_and_add(&p->dirtied_pages, 1);
	if (kind == WA_DIRTIER_DATA)
		__sync_fetch_and_add(&p->dirtied_bytes, bytes);
	else
		__sync_fetch_and_add(&p->meta_dirtied_bytes, bytes);
}

static __always_inline bool inode_dev_selected(struct inode *inode, __u32 fmt, __u32 sb_dev)
{
	struct block_device *bdev;

	if (!filter_dev)
		return true;
	if (fmt == abi.s_ifblk)
		return dev_selected(inode->i_rdev, inode->i_rdev);
	bdev = inode->i_sb->s_bdev;
	return dev_selected(sb_dev, bdev ? disk_of(bdev) : 0);
}

/* --stacks: pages dirtied inside a write syscall are tied to the write's call path. */
static __always_inline void note_dirtying_path(const struct wa_file_key *key, __u64 bytes)
{
	struct task_ctx *ctx = task_ctx_peek();

	if (ctx && sys_is_write(ctx->sys) && class_is_storage(ctx->fd_class))
		stack_note_dirtied(&ctx->stack, key->dev, key->ino, bytes);
}

/*
 * Kernel threads and, when tracing a selection, other processes still go on the ledger of a
 * file that is tracked, so that the selected process is charged only its own share.
 */
SEC("tp_btf/writeback_dirty_folio")
int BPF_PROG(writeback_dirty_folio, struct folio *folio, struct address_space *mapping)
{
	struct inode *inode = mapping ? mapping->host : NULL;
	struct wa_file_key key = {};
	struct wa_file_stats *f;
	__u32 fmt, tgid, kind;
	__u64 bytes;

	if (!inode)
		return 0;
	fmt = inode->i_mode & abi.s_ifmt;
	if (fmt != abi.s_ifreg && fmt != abi.s_ifblk)
		return 0;
	key.dev = inode->i_sb->s_dev;
	key.ino = inode->i_ino;
	if (!inode_dev_selected(inode, fmt, key.dev))
		return 0;
	bytes = folio_bytes(folio);
	if (task_is_kernel_thread(bpf_get_current_task_btf())) {
		f = SYSTEM_WIDE ? file_get(&key, inode, 0) : file_lookup(&key);
		if (f)
			dirtiers_add(f, 0, WA_DIRTIER_DATA, bytes);
		return 0;
	}
	if (!current_selected()) {
		f = SYSTEM_WIDE ? NULL : file_lookup(&key);
		if (f)
			dirtiers_add(f, WA_TGID_OVERFLOW, WA_DIRTIER_DATA, bytes);
		return 0;
	}
	tgid = current_tgid();
	kind = dirtier_kind(fmt);
	f = file_get(&key, inode, tgid);
	if (!f) {
		struct wa_proc_stats *p = proc_current();

		/* The ledger is lost for this file (counted), the process's figures are not. */
		if (p)
			__sync_fetch_and_add(&p->dirtied_bytes, bytes);
		return 0;
	}
	if (kind == WA_DIRTIER_DATA)
		file_note_writer(f, tgid);
	dirtiers_add(f, tgid, kind, bytes);
	count_dirtied(f, kind, bytes);
	if (STACKS_ON)
		note_dirtying_path(&key, bytes);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
