/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stack_attribution.h: the report's call paths. Kernel-side weights are joined with their
 * stacks, writeback is shared among the paths that dirtied the pages, and with DWARF
 * unwinding a user part's weights are shared among the call paths its samples showed.
 */
#ifndef WRITEAMP_STACK_ATTRIBUTION_H
#define WRITEAMP_STACK_ATTRIBUTION_H

#include "model.h"
#include "procmaps.h"
#include "snapshot.h"
#include "stack_collect.h"
#include "symbolize.h"

struct stack_sources {
	struct wa_stack_collector *collector;
	struct wa_procmaps *maps;
	struct wa_symbols *symbols;
	enum wa_unwind unwind;
	__u32 sample_period;
	__u32 copy_bytes;
};

/* Fills r->stacks and r->stack_info. Needs r->procs for the names. Returns 0 or -ENOMEM. */
int stack_attribution_build(struct wa_report *r, const struct wa_snapshot *s,
			    const struct stack_sources *src);

void stack_attribution_free(struct wa_report *r);

/*
 * Splits total in proportion to shares[0..n), exactly: the remainders of the integer division
 * go to the largest fractions, so that out[] adds up to total. All-zero shares split evenly.
 */
void apportion(__u64 total, const __u64 *shares, size_t n, __u64 *out);

#endif /* WRITEAMP_STACK_ATTRIBUTION_H */
