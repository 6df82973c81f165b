/* SPDX-License-Identifier: GPL-2.0 */
/*
 * model.h: the report as user space sees it: rows for processes, files, devices and what could
 * not be attributed, with the figures each has. Every output format reads only this.
 */
#ifndef WRITEAMP_MODEL_H
#define WRITEAMP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <linux/bpf.h>

#include "writeamp.h"

#define WA_SCHEMA_VERSION 1
#define WA_DEVNAME_LEN	  32

/* The figures every process row (and the totals) carry; all __u64 so they add and subtract. */
struct wa_figures {
	__u64 write_calls; /* storage writes: regular files and block devices */
	__u64 write_requested;
	__u64 write_bytes;
	__u64 write_errors;
	__u64 small_calls;
	__u64 subpage_calls;
	struct wa_hist write_size;
	__u64 ns_calls[WA_FD__COUNT]; /* non-storage writes by fd class */
	__u64 ns_bytes[WA_FD__COUNT];
	__u64 ns_errors;
	__u64 sync_calls[WA_SYNC__COUNT];
	__u64 sync_errors;
	__u64 commits_forced;
	struct wa_hist sync_latency_us;
	__u64 opens_sync;
	__u64 opens_dsync;
	__u64 opens_direct;
	/* storage writes through an O_DIRECT fd, counted per call by the kernel */
	__u64 direct_write_calls;
	__u64 direct_write_bytes;
	__u64 direct_write_refused; /* failed with EINVAL: misaligned */
	__u64 dirtied_pages;
	__u64 dirtied_bytes;
	__u64 meta_dirtied_bytes;
	struct wa_device_charge dev;
};

struct wa_cgroup_info;

struct wa_proc_row {
	__u32 pid;
	__u32 ppid;
	char comm[WA_COMM_LEN + 1];
	__u64 cgroup_id;
	const struct wa_cgroup_info *cgroup; /* owned by the cgroup namer; never NULL once built */
	bool exited;
	bool overflow;	     /* the catch-all row for processes the kernel table had no room for */
	const char *cmdline; /* owned by the namer; NULL when the process was not seen alive */
	const char *libraries; /* base names of its mapped shared objects, as cmdline */
	struct wa_figures f;
};

struct wa_file_row {
	struct wa_file_key key;
	const char *path; /* owned by the namer; never NULL */
	bool is_bdev;	  /* a block device's own page cache: raw device writes and metadata */
	char device[WA_DEVNAME_LEN]; /* the filesystem's device */
	__u32 writer_pid;	     /* 0: dirtied only by kernel threads */
	char writer_comm[WA_COMM_LEN + 1];
	bool shared;
	__u32 forcer_pid;
	__u64 write_calls;
	__u64 write_bytes;
	__u64 dirtied_bytes;
	__u64 sync_calls;
	struct wa_device_charge charged;
	__u64 unattributed_bytes;
};

struct wa_dev_row {
	__u32 dev;
	char name[WA_DEVNAME_LEN];
	struct wa_dev_stats s;
};

struct wa_unattributed_row {
	__u32 dev;
	char device[WA_DEVNAME_LEN];
	enum wa_unattributed reason;
	__u64 bytes;
	__u64 flushes;
};

/*
 * Processes summed by container, by cgroup, or (for processes in no container) by systemd
 * unit. Built from the process rows, so every view adds up to the same totals.
 */
struct wa_group_row {
	const struct wa_cgroup_info *cgroup; /* the first cgroup of the group met */
	const char *unit;		     /* unit groups: the unit; else NULL */
	__u32 *pids;
	size_t npids;
	struct wa_figures f;
};

/* A frame of a call path; names are interned by the symbolizer, so equal names are equal. */
struct wa_frame {
	const char *name;
	bool kernel;
	bool known; /* symbolized; else name is "[unknown]" with its module, or a phase marker */
};

/*
 * A call path of a process with what it caused. Frames go from the outermost user frame to the
 * user leaf, then from the kernel's syscall entry to its leaf. Writeback and journal I/O are
 * shown under the path that dirtied the pages or forced the commit, with a marker frame.
 */
struct wa_stack_row {
	__u32 pid;
	char comm[WA_COMM_LEN + 1];
	struct wa_frame *frames;
	size_t nframes;
	size_t nuser; /* frames[0..nuser) are user frames */
	struct wa_stack_weights w;
	__u64 samples;	/* DWARF: samples that resolved this user part */
	bool estimated; /* DWARF: weights shared among user paths by their samples */
};

struct wa_stack_info {
	bool enabled;
	enum wa_unwind unwind;
	__u32 sample_period;
	__u32 copy_bytes;
	__u64 samples;		   /* user-stack copies received and unwound */
	__u64 samples_truncated;   /* unwinding stopped before the outermost frame */
	__u64 samples_dropped;	   /* the ring buffer was full (also a loss counter) */
	__u64 paths_unsampled;	   /* DWARF: user parts without a sample; shown by their leaf */
	__u64 frames;		   /* frames in the report's paths */
	__u64 frames_unsymbolized; /* of those, without a symbol */
	__u64 processes_unmapped;  /* processes whose memory map could not be read */
};

struct tracer_hook;
struct wa_finding;

struct wa_report {
	const char *mode; /* "report" or "run" */
	bool interval;	  /* figures of one interval, not of the whole trace */
	double duration_s;
	/* what was selected */
	const int *pids;
	int npids;
	const char *comm;
	const char *dev;
	const char *const *containers_selected;
	int ncontainers_selected;
	const char *const *cgroups_selected;
	int ncgroups_selected;
	/* rows */
	struct wa_proc_row *procs;
	size_t nprocs;
	struct wa_file_row *files;
	size_t nfiles;
	struct wa_dev_row *devs;
	size_t ndevs;
	struct wa_unattributed_row *unattributed;
	size_t nunattributed;
	struct wa_group_row *containers; /* containers only */
	size_t ncontainers;
	struct wa_group_row *units; /* processes in no container, by systemd unit */
	size_t nunits;
	struct wa_group_row *cgroups; /* every cgroup */
	size_t ncgroups;
	struct wa_stack_row *stacks; /* --stacks: by process, then heaviest first */
	size_t nstacks;
	struct wa_stack_info stack_info;
	struct wa_finding *findings; /* heaviest stake first (findings.h) */
	size_t nfindings;
	/* sums */
	struct wa_figures totals; /* over the process rows */
	__u64 unattributed_bytes;
	__u64 unattributed_flushes;
	__u64 ignored_bytes; /* device bytes outside the selection */
	__u64 device_write_bytes;
	__u64 losses[WA_LOSS__COUNT];
	__u64 journal_in_flight_bytes;
	/* run */
	char **command;
	int exit_status;
	int exit_signal;
	double settle_waited_s;
	__u64 settle_pending_bytes;
	bool settle_timed_out;
	/* how it was traced */
	const struct tracer_hook *hooks;
	int nhooks;
	bool journal_followed;
};

#endif /* WRITEAMP_MODEL_H */
