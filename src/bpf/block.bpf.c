// SPDX-License-Identifier: GPL-2.0
/* block.bpf.c: what reaches the devices: write-side bios and requests, charged as they are issued.
 */
#include "attribute.bpf.h"

/* The low bits of page->mapping mark anonymous and movable pages (include/linux/page-flags.h). */
#define PAGE_MAPPING_FLAG_BITS 0x3UL
/* Bit 0 of page->compound_head marks a tail page; the rest points to its head. */
#define COMPOUND_HEAD_TAIL_BIT 0x1UL

/* Before 6.0 the operation enum was called req_opf. */
enum req_opf___old {
	REQ_OP_WRITE___old = 1,
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);   /* struct request * */
	__type(value, __u64); /* issue time, ns */
} rq_issued SEC(".maps");

enum bio_kind {
	BIO_NOT_WRITE,
	BIO_WRITE,
	BIO_FLUSH,
	BIO_DISCARD,
	BIO_ZEROES,
};

static __always_inline __u32 op_mask(void)
{
	/* The first flag bit follows the operation bits (REQ_OP_BITS). */
	return (1U << bpf_core_enum_value(enum req_flag_bits, __REQ_FAILFAST_DEV)) - 1;
}

static __always_inline __u32 req_flag(enum req_flag_bits bit)
{
	return 1U << bit;
}

static __always_inline enum bio_kind kind_of_op(__u32 op)
{
	if (bpf_core_enum_value_exists(enum req_op, REQ_OP_WRITE)) {
		if (op == bpf_core_enum_value(enum req_op, REQ_OP_WRITE) ||
		    op == bpf_core_enum_value(enum req_op, REQ_OP_ZONE_APPEND))
			return BIO_WRITE;
		if (op == bpf_core_enum_value(enum req_op, REQ_OP_FLUSH))
			return BIO_FLUSH;
		if (op == bpf_core_enum_value(enum req_op, REQ_OP_DISCARD) ||
		    op == bpf_core_enum_value(enum req_op, REQ_OP_SECURE_ERASE))
			return BIO_DISCARD;
		if (op == bpf_core_enum_value(enum req_op, REQ_OP_WRITE_ZEROES))
			return BIO_ZEROES;
		return BIO_NOT_WRITE;
	}
	return op == bpf_core_enum_value(enum req_opf___old, REQ_OP_WRITE___old) ? BIO_WRITE
										 : BIO_NOT_WRITE;
}

/* The inode whose page cache holds the bio's first page, or NULL for any other memory. */
static __always_inline struct inode *bio_page_inode(struct bio *bio)
{
	struct page *page;
	unsigned long head, mapping;

	if (!BPF_CORE_READ(bio, bi_vcnt))
		return NULL;
	page = BPF_CORE_READ(bio, bi_io_vec, bv_page);
	if (!page)
		return NULL;
	head = BPF_CORE_READ(page, compound_head);
	if (head & COMPOUND_HEAD_TAIL_BIT)
		page = (struct page *)(head - COMPOUND_HEAD_TAIL_BIT);
	mapping = (unsigned long)BPF_CORE_READ(page, mapping);
	if (!mapping || (mapping & PAGE_MAPPING_FLAG_BITS))
		return NULL;
	return BPF_CORE_READ((struct address_space *)mapping, host);
}

static __always_inline void count_bio(struct wa_dev_stats *d, enum bio_kind kind, __u32 opf,
				      __u64 bytes)
{
	if (kind == BIO_DISCARD) {
		__sync_fetch_and_add(&d->discard_bios, 1);
		__sync_fetch_and_add(&d->discard_bytes, bytes);
		return;
	}
	if (kind == BIO_ZEROES) {
		__sync_fetch_and_add(&d->zeroes_bios, 1);
		__sync_fetch_and_add(&d->zeroes_bytes, bytes);
		return;
	}
	if (bytes) {
		__sync_fetch_and_add(&d->write_bios, 1);
		__sync_fetch_and_add(&d->write_bytes, bytes);
	}
	if (kind == BIO_FLUSH ||
	    (opf & req_flag(bpf_core_enum_value(enum req_flag_bits, __REQ_PREFLUSH))))
		__sync_fetch_and_add(&d->flush_bios, 1);
	if (opf & req_flag(bpf_core_enum_value(enum req_flag_bits, __REQ_FUA)))
		__sync_fetch_and_add(&d->fua_bios, 1);
	if (opf & req_flag(bpf_core_enum_value(enum req_flag_bits, __REQ_META)))
		__sync_fetch_and_add(&d->meta_bios, 1);
	if (opf & req_flag(bpf_core_enum_value(enum req_flag_bits, __REQ_SYNC)))
		__sync_fetch_and_add(&d->sync_bios, 1);
}

/*
 * Whom a bio is charged to, in order: page-cache data of a regular file goes to its dirtiers
 * (even when jbd2 writes it in ordered mode); what a committing jbd2 thread writes goes to its
 * transaction; block-device page cache (metadata, raw device writes) to its dirtiers; memory
 * outside the page cache, from a user context, to that process (O_DIRECT).
 */
static __always_inline void attribute_bio(struct bio *bio, struct wa_dev_stats *d, __u32 disk,
					  __u64 bytes, bool flush, bool fua)
{
	bool user = !task_is_kernel_thread(bpf_get_current_task_btf());
	bool selected = user && current_selected();
	struct task_ctx *ctx = task_ctx_peek();
	struct inode *inode = bytes ? bio_page_inode(bio) : NULL;
	__u32 fmt = inode ? BPF_CORE_READ(inode, i_mode) & abi.s_ifmt : 0;

	if (inode && fmt == abi.s_ifreg) {
		charge_page_cache(d, inode, bytes, false, selected);
		charge_flags(d, selected, flush, fua);
		return;
	}
	if (ctx && ctx->committing) {
		journal_add_bio(d, ctx, disk, bytes, flush, fua);
		return;
	}
	if (inode && fmt == abi.s_ifblk) {
		charge_page_cache(d, inode, bytes, true, selected);
		charge_flags(d, selected, flush, fua);
		return;
	}
	if (selected) {
		charge_direct(d, ctx, bytes);
		charge_flags(d, selected, flush, fua);
		return;
	}
	charge_unattributed(d, WA_UNATTR_NO_OWNER, bytes, flush);
}

/* --stacks: a bio that a selected process submits in its own context gets its call path. */
static __always_inline struct task_ctx *stack_bio_enter(void *prog)
{
	struct task_ctx *tctx;

	if (task_is_kernel_thread(bpf_get_current_task_btf()) || !current_selected())
		return NULL;
	tctx = task_ctx_get();
	if (tctx)
		stack_begin_bio(prog, tctx);
	return tctx;
}

SEC("tp_btf/block_bio_queue")
int BPF_PROG(block_bio_queue, struct bio *bio)
{
	__u32 opf = bio->bi_opf;
	enum bio_kind kind = kind_of_op(opf & op_mask());
	struct block_device *bdev = bio->bi_bdev;
	struct task_ctx *tctx;
	struct wa_dev_stats *d;
	__u32 disk;
	__u64 bytes;
	bool flush, fua;

	if (kind == BIO_NOT_WRITE || !bdev)
		return 0;
	disk = disk_of(bdev);
	if (!dev_selected(bdev->bd_dev, disk))
		return 0;
	d = dev_get(disk);
	if (!d)
		return 0;
	bytes = bio->bi_iter.bi_size;
	count_bio(d, kind, opf, bytes);
	if (kind == BIO_DISCARD || kind == BIO_ZEROES)
		return 0;
	flush = kind == BIO_FLUSH ||
		(opf & req_flag(bpf_core_enum_value(enum req_flag_bits, __REQ_PREFLUSH)));
	fua = opf & req_flag(bpf_core_enum_value(enum req_flag_bits, __REQ_FUA));
	tctx = STACKS_ON ? stack_bio_enter(ctx) : NULL;
	attribute_bio(bio, d, disk, bytes, flush, fua);
	if (tctx)
		tctx->in_bio = 0;
	return 0;
}

static __always_inline __u32 rq_disk(struct request *rq)
{
	struct gendisk *disk = BPF_CORE_READ(rq, q, disk);

	return disk ? BPF_CORE_READ(disk, part0, bd_dev) : 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(block_rq_issue, struct request *rq)
{
	enum bio_kind kind = kind_of_op(rq->cmd_flags & op_mask());
	__u64 key = (__u64)rq, now;
	struct wa_dev_stats *d;
	__u32 disk;

	if (kind != BIO_WRITE && kind != BIO_FLUSH)
		return 0;
	disk = rq_disk(rq);
	if (!disk || !dev_selected(disk, disk))
		return 0;
	d = dev_get(disk);
	if (!d)
		return 0;
	if (kind == BIO_FLUSH) {
		__sync_fetch_and_add(&d->rq_flushes, 1);
	} else {
		__sync_fetch_and_add(&d->rq_writes, 1);
		__sync_fetch_and_add(&d->rq_write_bytes, rq->__data_len);
		hist_add(&d->rq_size, rq->__data_len);
	}
	now = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&rq_issued, &key, &now, BPF_ANY))
		count_loss(WA_LOSS_RQ_MAP_FULL);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(block_rq_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	__u64 key = (__u64)rq;
	__u64 *issued = bpf_map_lookup_elem(&rq_issued, &key);
	struct wa_dev_stats *d;
	__u32 disk;

	if (!issued)
		return 0;
	disk = rq_disk(rq);
	d = disk ? bpf_map_lookup_elem(&devs, &disk) : NULL;
	if (d)
		hist_add(&d->rq_latency_us, (bpf_ktime_get_ns() - *issued) / 1000);
	bpf_map_delete_elem(&rq_issued, &key);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
