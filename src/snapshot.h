/* SPDX-License-Identifier: GPL-2.0 */
/* snapshot.h: a copy of the kernel's tables at one instant; nothing else reads the BPF maps. */
#ifndef WRITEAMP_SNAPSHOT_H
#define WRITEAMP_SNAPSHOT_H

#include <stddef.h>
#include <linux/types.h>
#include <linux/bpf.h>

#include "writeamp.h"

struct tracer_maps;

struct snap_proc {
	__u32 tgid;
	struct wa_proc_stats s;
};

struct snap_writer {
	struct wa_writer_key k;
	struct wa_write_stats s;
};

struct snap_file {
	struct wa_file_key k;
	struct wa_file_stats s;
};

struct snap_dev {
	__u32 dev;
	struct wa_dev_stats s;
};

struct snap_stack {
	struct wa_stack_key k;
	struct wa_stack_weights w;
};

struct snap_stack_dirty {
	struct wa_stack_dirty_key k;
	__u64 bytes;
};

struct snap_stack_writeback {
	struct wa_writer_key k;
	struct wa_writeback_charge c;
};

/* A stack of the kernel's stack map: pc[0] is the leaf. */
struct snap_trace {
	__u32 id;
	__u32 n;
	__u64 pc[WA_STACK_DEPTH];
};

struct wa_snapshot {
	double taken_s; /* CLOCK_MONOTONIC */
	struct snap_proc *procs;
	size_t nprocs;
	struct snap_writer *writers;
	size_t nwriters;
	struct snap_file *files;
	size_t nfiles;
	struct snap_dev *devs;
	size_t ndevs;
	/* --stacks */
	struct snap_stack *stacks;
	size_t nstacks;
	struct snap_stack_dirty *stack_dirty;
	size_t nstack_dirty;
	struct snap_stack_writeback *stack_writeback;
	size_t nstack_writeback;
	struct snap_trace *traces; /* every stack the other tables refer to, by id */
	size_t ntraces;
	__u64 losses[WA_LOSS__COUNT];
	__u64 journal_in_flight_bytes; /* bios of commits that have not ended yet */
	__u64 journal_open_txns;
};

/* Copies every table. Returns 0, or -errno with *s left empty. */
int snapshot_take(const struct tracer_maps *maps, struct wa_snapshot *s);

/* Copies only the file table (for the settle loop). Returns 0 or -errno. */
int snapshot_take_files(const struct tracer_maps *maps, struct wa_snapshot *s);

/* The stack of the stack map with this id, or NULL if it was not copied. */
const struct snap_trace *snapshot_trace(const struct wa_snapshot *s, __u32 id);

/* Frees the tables; safe on a zeroed snapshot. */
void snapshot_free(struct wa_snapshot *s);

double monotonic_seconds(void);

#endif /* WRITEAMP_SNAPSHOT_H */
