/* SPDX-License-Identifier: GPL-2.0 */
/* writeback.h: waiting for the traced processes' dirty pages to reach their devices. */
#ifndef WRITEAMP_WRITEBACK_H
#define WRITEAMP_WRITEBACK_H

#include <signal.h>
#include <stdbool.h>
#include <linux/types.h>

struct tracer_maps;
struct wa_namer;

struct settle_result {
	double waited_s;
	__u64 pending_bytes; /* still dirty when the wait ended */
	bool timed_out;
};

/*
 * Waits until no selected process has dirty bytes pending on any file, at most limit_s
 * seconds, or until *stop is set. A file the kernel says is clean (cachestat), or that is
 * gone, is not waited for even if its ledger says otherwise (its pages were truncated).
 * Signals are let in with `wait_mask` only while it sleeps.
 */
void writeback_settle(const struct tracer_maps *maps, struct wa_namer *namer, double limit_s,
		      volatile sig_atomic_t *stop, const sigset_t *wait_mask,
		      struct settle_result *res);

#endif /* WRITEAMP_WRITEBACK_H */
