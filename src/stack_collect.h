/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stack_collect.h: what the kernel streams for --stacks: first sightings of processes, whose
 * memory maps are read at once, and sampled user stacks, unwound as they arrive and counted
 * per distinct user call path.
 */
#ifndef WRITEAMP_STACK_COLLECT_H
#define WRITEAMP_STACK_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "procmaps.h"

/* A distinct user call path behind one (tgid, user ip), and how many samples showed it. */
struct sampled_path {
	__u32 tgid;
	__u64 user;
	__u64 count;
	bool truncated;
	size_t n;
	__u64 pc[]; /* pc[0] is the leaf */
};

struct wa_stack_collector;

/* Returns NULL with errno set. The collector reads ringbuf_fd; maps must outlive it. */
struct wa_stack_collector *collector_new(int ringbuf_fd, struct wa_procmaps *maps);
void collector_free(struct wa_stack_collector *c);

/* A descriptor that polls readable when records wait. */
int collector_fd(const struct wa_stack_collector *c);

/* Handles every record waiting. */
void collector_drain(struct wa_stack_collector *c);

/* The paths sampled for (tgid, user), heaviest first; *n is 0 if none. */
const struct sampled_path *const *collector_paths(struct wa_stack_collector *c, __u32 tgid,
						  __u64 user, size_t *n);

__u64 collector_samples(const struct wa_stack_collector *c);
__u64 collector_truncated(const struct wa_stack_collector *c);

#endif /* WRITEAMP_STACK_COLLECT_H */
