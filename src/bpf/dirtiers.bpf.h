/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dirtiers.bpf.h: the ledger that joins the page cache to the block layer. Each file record
 * keeps, per process, the bytes it dirtied that are not yet written back; a written-back bio
 * takes its bytes off those balances in proportion, which says whom to charge.
 */
#ifndef WRITEAMP_DIRTIERS_BPF_H
#define WRITEAMP_DIRTIERS_BPF_H

#include "common.bpf.h"

/* tgid 0 stands for kernel threads; WA_TGID_OVERFLOW for processes not tracked by name. */
static __always_inline void dirtiers_add(struct wa_file_stats *f, __u32 tgid, __u32 kind,
					 __u64 bytes)
{
	int free = -1;
	bool added = false;

	bpf_spin_lock(&f->lock);
	if (!tgid) {
		f->kernel_pending += bytes;
		added = true;
	} else if (tgid == WA_TGID_OVERFLOW) {
		f->overflow_pending += bytes;
		added = true;
	}
#pragma unroll
	for (int i = 0; i < WA_FILE_DIRTIERS && !added; i++) {
		struct wa_dirtier *d = &f->dirtier[i];

		if (d->pending && d->tgid == tgid && d->kind == kind) {
			d->pending += bytes;
			added = true;
		} else if (!d->pending && free < 0) {
			free = i;
		}
	}
	if (!added && free >= 0 && free < WA_FILE_DIRTIERS) {
		f->dirtier[free].tgid = tgid;
		f->dirtier[free].kind = kind;
		f->dirtier[free].pending = bytes;
	} else if (!added) {
		f->overflow_pending += bytes;
	}
	bpf_spin_unlock(&f->lock);
}

/* Who a written-back bio's bytes belong to, as taken off the ledger. */
struct dirtier_shares {
	__u64 bytes[WA_FILE_DIRTIERS];
	__u32 tgid[WA_FILE_DIRTIERS];
	__u32 kind[WA_FILE_DIRTIERS];
	__u64 kernel;
	__u64 overflow;
	__u64 unowned; /* more bytes than were pending: dirtied before tracing began */
};

static __always_inline __u64 share_of(__u64 take, __u64 pending, __u64 total)
{
	return total ? take * pending / total : 0;
}

/*
 * Takes `bytes` off the pending balances in proportion to them. Integer division leaves a
 * remainder of a few bytes, which goes to the largest balance so that the shares add up to
 * exactly `bytes`.
 */
static __always_inline void dirtiers_take(struct wa_file_stats *f, __u64 bytes,
					  struct dirtier_shares *s)
{
	__u64 total, take, given, rest;
	int largest = -1;
	__u64 largest_left = 0;

	bpf_spin_lock(&f->lock);
	total = f->kernel_pending + f->overflow_pending;
#pragma unroll
	for (int i = 0; i < WA_FILE_DIRTIERS; i++)
		total += f->dirtier[i].pending;
	take = bytes < total ? bytes : total;
	s->kernel = share_of(take, f->kernel_pending, total);
	s->overflow = share_of(take, f->overflow_pending, total);
	f->kernel_pending -= s->kernel;
	f->overflow_pending -= s->overflow;
	given = s->kernel + s->overflow;
#pragma unroll
	for (int i = 0; i < WA_FILE_DIRTIERS; i++) {
		struct wa_dirtier *d = &f->dirtier[i];
		__u64 share = share_of(take, d->pending, total);

		d->pending -= share;
		given += share;
		s->bytes[i] = share;
		s->tgid[i] = d->tgid;
		s->kind[i] = d->kind;
		if (d->pending > largest_left) {
			largest_left = d->pending;
			largest = i;
		}
	}
	rest = take - given;
	if (rest && largest >= 0 && largest < WA_FILE_DIRTIERS && largest_left >= rest) {
		f->dirtier[largest].pending -= rest;
		s->bytes[largest] += rest;
		rest = 0;
	}
	if (rest && f->kernel_pending >= rest) {
		f->kernel_pending -= rest;
		s->kernel += rest;
		rest = 0;
	}
	if (rest && f->overflow_pending >= rest) {
		f->overflow_pending -= rest;
		s->overflow += rest;
		rest = 0;
	}
	bpf_spin_unlock(&f->lock);
	s->unowned = bytes - take + rest;
}

#endif /* WRITEAMP_DIRTIERS_BPF_H */
