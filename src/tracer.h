/* SPDX-License-Identifier: GPL-2.0 */
/* tracer.h: loading writeamp's BPF programs, choosing their hooks, and attaching them. */
#ifndef WRITEAMP_TRACER_H
#define WRITEAMP_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "platform.h"

#define WA_MAX_HOOKS 16

struct writeamp_bpf;
struct bpf_link;

struct tracer_config {
	const pid_t *pids; /* only these thread groups (and, with follow_forks, their children) */
	int npids;
	bool select_none; /* start with an empty selection: run adds its child */
	bool follow_forks;
	const char *comm;      /* NULL: any */
	__u32 dev;	       /* kernel dev_t of --dev, 0: any */
	const int *cgroup_fds; /* only tasks under one of these cgroup v2 directories */
	int ncgroup_fds;       /* at most WA_MAX_CGROUP_FILTERS */
	bool probe_reads;
	bool verbose;
	unsigned int max_procs;
	unsigned int max_files;
	__u32 unwind;		   /* enum wa_unwind: WA_UNWIND_OFF without --stacks */
	__u32 stack_sample_period; /* DWARF: one user-stack copy in this many calls */
	__u32 stack_copy_bytes;	   /* DWARF: bytes of user stack per copy */
	unsigned int max_stacks;
};

struct tracer_hook {
	const char *tracepoint;
	const char *program;
	const char *purpose;
	bool attached;
};

/* File descriptors of the maps that user space reads. */
struct tracer_maps {
	int procs;
	int writers;
	int files;
	int devs;
	int txns;
	int losses;
	int selected;
	int cgroups_seen;
	int proc_sightings; /* the ring buffer of processes seen for the first time */
	/* --stacks */
	__u32 unwind; /* enum wa_unwind; WA_UNWIND_OFF: the stack maps are not read */
	int stack_weights;
	int stack_dirtied;
	int stack_writeback;
	int stack_traces;
	int stack_records; /* the ring buffer of samples and first sightings */
};

struct tracer {
	struct writeamp_bpf *skel;
	struct wa_features features;
	struct bpf_link *links[WA_MAX_HOOKS];
	struct tracer_hook hooks[WA_MAX_HOOKS];
	int nhooks;
	bool journal; /* the jbd2 hooks are attached */
	struct tracer_maps maps;
};

/*
 * Probes the kernel, loads the programs with the settings in cfg, fills the lookup tables and
 * attaches. Returns 0, or -1 with a one-line reason (and what to do) in `why`. On failure
 * everything is released again.
 */
int tracer_start(struct tracer *t, const struct tracer_config *cfg, char *why, size_t len);

/* Adds a thread group to the selection (for `run`, before its child execs). Returns 0 or -errno. */
int tracer_select(struct tracer *t, pid_t tgid);

/* Detaches and frees everything; safe on a zeroed or already stopped tracer. */
void tracer_stop(struct tracer *t);

#endif /* WRITEAMP_TRACER_H */
