/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attribute.bpf.h: charging device I/O to the processes that caused it: page-cache data to its
 * dirtiers, direct I/O and flushes to the submitter, journal bios to their transaction, and
 * what nobody caused to a reason row of its own.
 */
#ifndef WRITEAMP_ATTRIBUTE_BPF_H
#define WRITEAMP_ATTRIBUTE_BPF_H

#include "records.bpf.h"
#include "dirtiers.bpf.h"
#include "stacks.bpf.h"

static __always_inline void charge_proc(__u32 tgid, __u32 kind, __u64 bytes)
{
	struct wa_proc_stats *p;

	if (!bytes || kind >= WA_CHARGE__COUNT)
		return;
	p = proc_of(tgid);
	if (p)
		__sync_fetch_and_add(&p->dev.bytes[kind], bytes);
}

static __always_inline void charge_device(struct wa_dev_stats *d, __u32 kind, __u64 bytes)
{
	if (bytes && kind < WA_CHARGE__COUNT)
		__sync_fetch_and_add(&d->charged_bytes[kind], bytes);
}

/*
 * I/O that belongs to no process. Tracing the whole host, it is a reason row of its own;
 * tracing a selection, it is outside the selection and only counted as ignored.
 */
static __always_inline void charge_unattributed(struct wa_dev_stats *d, __u32 why, __u64 bytes,
						__u64 flushes)
{
	if (SYSTEM_WIDE && why < WA_UNATTR__COUNT) {
		if (bytes)
			__sync_fetch_and_add(&d->unattributed_bytes[why], bytes);
		if (flushes)
			__sync_fetch_and_add(&d->unattributed_flushes[why], flushes);
		return;
	}
	if (bytes)
		__sync_fetch_and_add(&d->ignored_bytes, bytes);
	if (flushes)
		__sync_fetch_and_add(&d->ignored_flushes, flushes);
}

/* Flush and FUA flags are charged to the process whose context submitted them. */
static __always_inline void charge_flags(struct wa_dev_stats *d, bool submitter_selected,
					 bool flush, bool fua)
{
	struct wa_proc_stats *p;

	if (!flush && !fua)
		return;
	if (!submitter_selected) {
		charge_unattributed(d, WA_UNATTR_NO_OWNER, 0, flush);
		return;
	}
	p = proc_current();
	if (!p)
		return;
	if (flush) {
		__sync_fetch_and_add(&p->dev.flushes, 1);
		__sync_fetch_and_add(&d->charged_flushes, 1);
		stack_charge_here(WA_CHARGE_DATA, 0, 1);
	}
	if (fua)
		__sync_fetch_and_add(&p->dev.fua, 1);
}

/* Bytes that a user process put on a device from its own context: it forced them. */
static __always_inline void note_forced(struct wa_file_stats *f, __u64 bytes)
{
	struct wa_proc_stats *p = proc_current();

	if (p)
		__sync_fetch_and_add(&p->dev.forced_bytes, bytes);
	if (f) {
		__sync_fetch_and_add(&f->charged.forced_bytes, bytes);
		f->forcer_tgid = current_tgid();
	}
}

static __always_inline __u32 charge_kind_of(__u32 dirtier_kind)
{
	return dirtier_kind == WA_DIRTIER_METADATA ? WA_CHARGE_METADATA : WA_CHARGE_DATA;
}

/*
 * Metadata that a user process writes from its own context without a recorded dirtier (the
 * inode block an fsync writes on a filesystem without a journal) is charged to that process.
 */
static __always_inline void charge_forced_metadata(struct wa_dev_stats *d, struct wa_file_stats *f,
						   __u64 bytes)
{
	if (!bytes)
		return;
	charge_proc(current_tgid(), WA_CHARGE_METADATA, bytes);
	charge_device(d, WA_CHARGE_METADATA, bytes);
	stack_charge_here(WA_CHARGE_METADATA, bytes, 0);
	if (f)
		__sync_fetch_and_add(&f->charged.bytes[WA_CHARGE_METADATA], bytes);
}

/*
 * A dirtier's share goes to the path of the bio when the dirtier submitted it (fsync), else to
 * its writeback balance for the file, which user space shares among the paths that dirtied it.
 */
static __always_inline void stack_charge_share(const struct wa_file_key *key, __u32 tgid,
					       __u32 kind, __u64 bytes)
{
	const struct wa_stack_key *here = stack_of_bio();

	if (here && here->tgid == tgid)
		stack_add_device(here, kind, bytes, 0);
	else
		stack_note_writeback(tgid, key->dev, key->ino, kind, bytes);
}

/* Splits a written-back bio of a file among the processes that dirtied its pages. */
static __always_inline void charge_file_bio(struct wa_dev_stats *d, struct wa_file_stats *f,
					    const struct wa_file_key *key, __u64 bytes,
					    bool is_bdev, bool forcer)
{
	struct dirtier_shares s = {};
	__u64 nobody;

	dirtiers_take(f, bytes, &s);
#pragma unroll
	for (int i = 0; i < WA_FILE_DIRTIERS; i++) {
		__u32 kind = charge_kind_of(s.kind[i]);

		if (!s.bytes[i])
			continue;
		charge_proc(s.tgid[i], kind, s.bytes[i]);
		charge_device(d, kind, s.bytes[i]);
		if (STACKS_ON)
			stack_charge_share(key, s.tgid[i], kind, s.bytes[i]);
		if (kind < WA_CHARGE__COUNT)
			__sync_fetch_and_add(&f->charged.bytes[kind], s.bytes[i]);
	}
	charge_unattributed(d, WA_UNATTR_SHARED_WRITERS, s.overflow, 0);
	nobody = s.overflow;
	if (is_bdev && forcer) {
		charge_forced_metadata(d, f, s.kernel + s.unowned);
	} else {
		charge_unattributed(d, is_bdev ? WA_UNATTR_METADATA : WA_UNATTR_KERNEL_DIRTIED,
				    s.kernel, 0);
		charge_unattributed(d, is_bdev ? WA_UNATTR_METADATA : WA_UNATTR_BEFORE_TRACE,
				    s.unowned, 0);
		nobody += s.kernel + s.unowned;
	}
	if (nobody)
		__sync_fetch_and_add(&f->unattributed_bytes, nobody);
}

/*
 * A bio of page-cache pages. Tracing the whole host, or when a selected process submits it,
 * a file seen for the first time gets a record now, so that its bytes have a row.
 */
static __always_inline void charge_page_cache(struct wa_dev_stats *d, struct inode *inode,
					      __u64 bytes, bool is_bdev, bool forcer)
{
	struct wa_file_key key = {
		.dev = BPF_CORE_READ(inode, i_sb, s_dev),
		.ino = BPF_CORE_READ(inode, i_ino),
	};
	struct wa_file_stats *f =
		SYSTEM_WIDE || forcer ? file_get(&key, inode, 0) : file_lookup(&key);

	if (!f) {
		if (is_bdev && forcer)
			charge_forced_metadata(d, NULL, bytes);
		else
			charge_unattributed(
				d, SYSTEM_WIDE ? WA_UNATTR_UNTRACKED_FILE : WA_UNATTR_BEFORE_TRACE,
				bytes, 0);
		return;
	}
	charge_file_bio(d, f, &key, bytes, is_bdev, forcer);
	if (forcer)
		note_forced(f, bytes);
}

/* Bios without page-cache pages from a user context: O_DIRECT, io_uring and the like. */
static __always_inline void charge_direct(struct wa_dev_stats *d, struct task_ctx *ctx, __u64 bytes)
{
	struct wa_file_stats *f = NULL;
	struct wa_proc_stats *p;

	if (!bytes)
		return;
	if (ctx && sys_is_write(ctx->sys) && class_is_storage(ctx->fd_class)) {
		struct wa_file_key key = {.dev = ctx->dev, .ino = ctx->ino};

		f = file_lookup(&key);
	}
	charge_proc(current_tgid(), WA_CHARGE_DATA, bytes);
	charge_device(d, WA_CHARGE_DATA, bytes);
	stack_charge_here(WA_CHARGE_DATA, bytes, 0);
	p = proc_current();
	if (p)
		__sync_fetch_and_add(&p->dev.direct_bytes, bytes);
	if (f) {
		__sync_fetch_and_add(&f->charged.bytes[WA_CHARGE_DATA], bytes);
		__sync_fetch_and_add(&f->charged.direct_bytes, bytes);
	}
	note_forced(f, bytes);
}

/* A bio submitted by a jbd2 thread while it commits a transaction. */
static __always_inline void journal_add_bio(struct wa_dev_stats *d, struct task_ctx *ctx,
					    __u32 disk, __u64 bytes, bool flush, bool fua)
{
	struct wa_txn_key key = {.dev = ctx->commit_dev, .tid = ctx->commit_tid};
	struct wa_txn *txn = bpf_map_lookup_elem(&txns, &key);

	if (!txn) {
		count_loss(WA_LOSS_TXN_UNFINISHED);
		charge_unattributed(d, WA_UNATTR_JOURNAL_PERIODIC, bytes, flush);
		return;
	}
	txn->disk_dev = disk;
	__sync_fetch_and_add(&txn->bytes, bytes);
	if (flush)
		__sync_fetch_and_add(&txn->flushes, 1);
	if (fua)
		__sync_fetch_and_add(&txn->fua, 1);
}

#endif /* WRITEAMP_ATTRIBUTE_BPF_H */
