// SPDX-License-Identifier: GPL-2.0
/*
 * journal.bpf.c: jbd2 transactions: which processes put blocks in each one, which sync forced
 * its commit, and what the commit wrote, shared out when the commit ends.
 */
#include "attribute.bpf.h"

static const struct wa_txn zero_txn;

static __always_inline struct wa_txn *txn_get(__u32 dev, __u32 tid)
{
	struct wa_txn_key key = {.dev = dev, .tid = tid};

	return map_get_or_init(&txns, &key, &zero_txn, WA_LOSS_TXN_MAP_FULL);
}

/* tgid 0 stands for kernel threads, WA_TGID_OVERFLOW for processes outside the selection. */
static __always_inline void txn_add_blocks(struct wa_txn *txn, __u32 tgid, __u32 blocks)
{
	bool added = false;

	bpf_spin_lock(&txn->lock);
	if (!tgid) {
		txn->kernel_blocks += blocks;
		added = true;
	} else if (tgid == WA_TGID_OVERFLOW) {
		txn->overflow_blocks += blocks;
		added = true;
	}
#pragma unroll
	for (int i = 0; i < WA_TXN_SLOTS && !added; i++) {
		struct wa_txn_slot *s = &txn->slot[i];

		if (s->tgid == tgid) {
			s->blocks += blocks;
			added = true;
		} else if (!s->tgid) {
			s->tgid = tgid;
			s->blocks = blocks;
			added = true;
		}
	}
	if (!added)
		txn->overflow_blocks += blocks;
	bpf_spin_unlock(&txn->lock);
}

SEC("tp_btf/jbd2_handle_stats")
int BPF_PROG(jbd2_handle_stats, dev_t dev, tid_t tid, unsigned int type, unsigned int line_no,
	     int interval, int sync, int requested_blocks, int dirtied_blocks)
{
	struct wa_txn *txn = txn_get(dev, tid);
	__u32 who;

	if (!txn)
		return 0;
	if (task_is_kernel_thread(bpf_get_current_task_btf()))
		who = 0;
	else if (current_selected())
		who = current_tgid();
	else
		who = WA_TGID_OVERFLOW;
	txn_add_blocks(txn, who, dirtied_blocks > 0 ? dirtied_blocks : 0);
	return 0;
}

/* The process whose sync is in flight on the device (or on all devices) when a commit starts. */
static __always_inline struct dev_sync *sync_in_flight(__u32 dev)
{
	__u32 any = 0;
	struct dev_sync *ds = bpf_map_lookup_elem(&dev_syncs, &dev);

	if (ds && ds->inflight)
		return ds;
	ds = bpf_map_lookup_elem(&dev_syncs, &any);
	return ds && ds->inflight ? ds : NULL;
}

SEC("tp_btf/jbd2_start_commit")
int BPF_PROG(jbd2_start_commit, journal_t *journal, transaction_t *transaction)
{
	__u32 dev = journal->j_fs_dev->bd_dev;
	__u32 tid = transaction->t_tid;
	struct task_ctx *tctx = task_ctx_get();
	struct wa_txn *txn = txn_get(dev, tid);
	struct dev_sync *ds = sync_in_flight(dev);

	if (!tctx || !txn)
		return 0;
	tctx->committing = 1;
	tctx->commit_dev = dev;
	tctx->commit_tid = tid;
	txn->committing = 1;
	txn->forced = ds != NULL;
	if (ds && ds->last_selected) {
		struct wa_proc_stats *p = proc_of(ds->last_tgid);

		txn->forcer_tgid = ds->last_tgid;
		if (STACKS_ON)
			txn->forcer_stack = ds->last_stack;
		if (p)
			__sync_fetch_and_add(&p->commits_forced, 1);
	}
	return 0;
}

/* What a commit left to share out, copied from its record under the lock. */
struct commit_bill {
	struct wa_txn_slot slot[WA_TXN_SLOTS];
	__u64 kernel_blocks;
	__u64 overflow_blocks;
	__u64 bytes;
	__u64 flushes;
	__u64 fua;
	__u32 forcer; /* 0 when the forcer is not selected */
	__u32 forced;
	__u32 disk;
	struct wa_stack_key forcer_stack;
};

static __always_inline void bill_from_txn(struct commit_bill *b, struct wa_txn *txn)
{
	bpf_spin_lock(&txn->lock);
#pragma unroll
	for (int i = 0; i < WA_TXN_SLOTS; i++)
		b->slot[i] = txn->slot[i];
	b->kernel_blocks = txn->kernel_blocks;
	b->overflow_blocks = txn->overflow_blocks;
	bpf_spin_unlock(&txn->lock);
	b->bytes = txn->bytes;
	b->flushes = txn->flushes;
	b->fua = txn->fua;
	b->forcer = txn->forcer_tgid;
	b->forced = txn->forced;
	b->disk = txn->disk_dev;
	b->forcer_stack = txn->forcer_stack;
}

/*
 * --stacks: the forcer's share of a commit goes to the path of its sync; another
 * contributor's to that process's journal path, whose user part is not known.
 */
static __always_inline void stack_charge_journal(const struct commit_bill *b, __u32 tgid,
						 __u64 bytes, __u64 flushes)
{
	struct wa_stack_key key = {.tgid = tgid};

	if (tgid == b->forcer)
		key = b->forcer_stack;
	key.tgid = tgid;
	key.kstack = WA_KSTACK_JOURNAL;
	stack_add_device(&key, WA_CHARGE_JOURNAL, bytes, flushes);
}

/* tgid 0: a part that belongs to no selected process. */
static __always_inline void charge_journal(struct wa_dev_stats *d, const struct commit_bill *b,
					   __u32 tgid, __u64 bytes)
{
	if (!bytes)
		return;
	if (!tgid) {
		charge_unattributed(d, WA_UNATTR_JOURNAL_SHARED, bytes, 0);
		return;
	}
	charge_proc(tgid, WA_CHARGE_JOURNAL, bytes);
	charge_device(d, WA_CHARGE_JOURNAL, bytes);
	if (STACKS_ON)
		stack_charge_journal(b, tgid, bytes, 0);
}

static __always_inline void charge_commit_flushes(struct wa_dev_stats *d, struct commit_bill *b)
{
	struct wa_proc_stats *p = b->forcer ? proc_of(b->forcer) : NULL;

	if (!p) {
		charge_unattributed(d, WA_UNATTR_JOURNAL_SHARED, 0, b->flushes);
		return;
	}
	if (b->flushes) {
		__sync_fetch_and_add(&p->dev.flushes, b->flushes);
		__sync_fetch_and_add(&d->charged_flushes, b->flushes);
		if (STACKS_ON)
			stack_charge_journal(b, b->forcer, 0, b->flushes);
	}
	if (b->fua)
		__sync_fetch_and_add(&p->dev.fua, b->fua);
}

/*
 * A forced commit is shared among the transaction's contributors by the blocks each dirtied;
 * the kernel threads' share, the rounding and an all-empty transaction go to the forcer, and
 * so do the commit's flushes. A commit that no sync forced is the filesystem's own overhead.
 */
static __always_inline void charge_commit(struct wa_dev_stats *d, struct commit_bill *b)
{
	__u64 total = b->kernel_blocks + b->overflow_blocks, given = 0, others;

	if (!b->forced) {
		charge_unattributed(d, WA_UNATTR_JOURNAL_PERIODIC, b->bytes, b->flushes);
		return;
	}
#pragma unroll
	for (int i = 0; i < WA_TXN_SLOTS; i++)
		total += b->slot[i].blocks;
	if (total) {
#pragma unroll
		for (int i = 0; i < WA_TXN_SLOTS; i++) {
			__u64 share = b->bytes * b->slot[i].blocks / total;

			if (b->slot[i].tgid && share) {
				charge_journal(d, b, b->slot[i].tgid, share);
				given += share;
			}
		}
		others = b->bytes * b->overflow_blocks / total;
		charge_journal(d, b, 0, others);
		given += others;
	}
	charge_journal(d, b, b->forcer, b->bytes - given);
	charge_commit_flushes(d, b);
}

SEC("tp_btf/jbd2_end_commit")
int BPF_PROG(jbd2_end_commit, journal_t *journal, transaction_t *transaction)
{
	struct wa_txn_key key = {.dev = journal->j_fs_dev->bd_dev, .tid = transaction->t_tid};
	struct task_ctx *tctx = task_ctx_peek();
	struct commit_bill bill = {};
	struct wa_dev_stats *d;
	struct wa_txn *txn;

	if (tctx)
		tctx->committing = 0;
	txn = bpf_map_lookup_elem(&txns, &key);
	if (!txn)
		return 0;
	bill_from_txn(&bill, txn);
	bpf_map_delete_elem(&txns, &key);
	if (!bill.disk)
		return 0;
	d = bpf_map_lookup_elem(&devs, &bill.disk);
	if (d)
		charge_commit(d, &bill);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
