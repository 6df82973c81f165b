/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unwind.h: user call paths from the DWARF call-frame information (.eh_frame, .debug_frame),
 * for binaries built without frame pointers: a sampled copy of the stack is unwound with
 * elfutils' libdwfl, as `perf --call-graph dwarf` does.
 */
#ifndef WRITEAMP_UNWIND_H
#define WRITEAMP_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "procmaps.h"
#include "writeamp.h"

struct unwound {
	__u64 pc[WA_STACK_DEPTH]; /* pc[0] is the leaf; the others are return addresses */
	size_t n;
	bool truncated; /* the unwinding stopped before the outermost frame */
};

/* Unwinds one sample taken at a syscall. Returns false if not even the leaf is known. */
bool unwind_sample(struct wa_addrspace *as, const struct wa_stack_record_head *h, const __u8 *stack,
		   struct unwound *out);

/*
 * True if, at ip, the function has not set up a frame yet: its return address is the word on
 * top of the stack. That is how a libc syscall wrapper is entered, and it makes the frame-
 * pointer walk skip the wrapper's caller, whose address the kernel keeps aside for this.
 */
bool unwind_return_address_on_top(struct wa_addrspace *as, __u64 ip);

#endif /* WRITEAMP_UNWIND_H */
