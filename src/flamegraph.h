/* SPDX-License-Identifier: GPL-2.0 */
/* flamegraph.h: a flame graph of weighted call paths, as one self-contained SVG document. */
#ifndef WRITEAMP_FLAMEGRAPH_H
#define WRITEAMP_FLAMEGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

/*
 * One call path and its weight. frames[0] is the root (the process name), then user frames
 * from the outermost caller to the leaf, then kernel frames from the syscall entry to the
 * leaf. Kernel frames end in "_[k]", as in the folded format. Names are untrusted: any byte
 * may appear in them.
 */
struct flame_path {
	const char *const *frames;
	size_t nframes;
	__u64 weight;
};

struct flame_style {
	const char *title;	 /* e.g. "writeamp: device bytes by call path" */
	const char *weight_name; /* what the weight is, for tooltips: "device bytes", "syncs" */
	bool weight_is_bytes;	 /* format weights as kB/MB rather than as counts */
};

/*
 * Writes the flame graph of the paths to out: paths with a common prefix share frames, a
 * frame's width is its share of the total weight, and each frame's tooltip gives its name,
 * weight and share. Returns 0, or -1 with errno set if writing or memory failed.
 */
int flamegraph_svg(FILE *out, const struct flame_path *paths, size_t npaths,
		   const struct flame_style *style);

#endif /* WRITEAMP_FLAMEGRAPH_H */
