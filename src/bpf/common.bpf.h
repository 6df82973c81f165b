/* SPDX-License-Identifier: GPL-2.0 */
/* common.bpf.h: the maps, settings and small helpers that every BPF layer of writeamp shares. */
#ifndef WRITEAMP_COMMON_BPF_H
#define WRITEAMP_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "writeamp.h"

/*
 * Settings, fixed at load time from user space. They are defined in process.bpf.c; the
 * verifier sees their values, so a filter that is off costs nothing.
 */
extern const volatile struct wa_abi abi;
extern const volatile __u32 self_tgid;
extern const volatile bool filter_tgids; /* only tgids in selected_tgids */
extern const volatile bool filter_comm;	 /* only thread groups whose leader is comm_filter */
extern const volatile char comm_filter[WA_COMM_LEN];
extern const volatile __u32 filter_dev;	      /* 0, a whole disk or a partition (kernel dev_t) */
extern const volatile bool follow_forks;      /* children of selected tgids are selected too */
extern const volatile __u32 cgroup_filters_n; /* only tasks under one of cgroup_filters[0..n) */
extern const volatile __u64 cgroup_filter_ids[WA_MAX_CGROUP_FILTERS];	 /* their kernfs ids */
extern const volatile __u32 cgroup_filter_levels[WA_MAX_CGROUP_FILTERS]; /* and depths */
extern const volatile __u32 stack_unwind;	 /* enum wa_unwind; off without --stacks */
extern const volatile __u32 stack_sample_period; /* DWARF: one user-stack copy in this many */
extern const volatile __u32 stack_copy_bytes;	 /* DWARF: bytes of user stack per copy */

/* True when nothing restricts the processes traced, so unowned I/O is the host's to report. */
#define SYSTEM_WIDE (!filter_tgids && !filter_comm && !cgroup_filters_n)

/*
 * A map is declared __weak here so that each layer's object carries the same definition and
 * `bpftool gen object` merges them into one.
 */
#define SHARED_MAP __weak SEC(".maps")

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WA_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, __u32); /* enum wa_syscall */
} syscall_kinds SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64); /* sb->s_magic */
	__type(value, __u8);
} pseudo_fs_magics SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} selected_tgids SHARED_MAP;

/* The cgroups of --container and --cgroup, as directory fds that user space puts here. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, WA_MAX_CGROUP_FILTERS);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filters SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct wa_proc_stats);
} procs SHARED_MAP;

/* Processes whose record was just made; see struct wa_proc_sighting. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, WA_SIGHTING_RING_BYTES);
} proc_sightings SHARED_MAP;

/* Every cgroup a process record was created in; user space names them while they exist. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct wa_cgroup_seen);
} cgroups_seen SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct wa_writer_key);
	__type(value, struct wa_write_stats);
} writers SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct wa_file_key);
	__type(value, struct wa_file_stats);
} files SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* whole-disk dev_t */
	__type(value, struct wa_dev_stats);
} devs SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct wa_txn_key);
	__type(value, struct wa_txn);
} txns SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WA_LOSS__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} losses SHARED_MAP;

/* Sync syscalls in flight per device, so that a journal commit can name the process forcing it. */
struct dev_sync {
	__u32 inflight;
	__u32 last_tgid;
	__u32 last_selected;
	struct wa_stack_key last_stack; /* --stacks: the path of the last selected sync */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* sb->s_dev; 0 for sync() and msync(), which name no device */
	__type(value, struct dev_sync);
} dev_syncs SHARED_MAP;

/* What a task is in the middle of, from a syscall's entry to its exit, or through a commit. */
struct task_ctx {
	__u32 sys;	/* enum wa_syscall in flight, WA_SYS_NONE between syscalls */
	__u32 fd_class; /* enum wa_fd_class of the written fd */
	__u32 fd_flags; /* the O_DIRECT/O_DSYNC/O_SYNC/O_APPEND bits of the file */
	__u32 dev;	/* file key of the written or synced file */
	__u64 ino;
	__u64 inode; /* struct inode *, to name the file when its record is created */
	__u64 requested;
	__u64 start_ns;
	__u32 sync_dev;	  /* device whose journal commits this syscall may force */
	__u32 syncing;	  /* counted in-flight in dev_syncs */
	__u32 counted;	  /* the syscall's task is selected: its figures are kept */
	__u32 committing; /* a jbd2 thread inside a commit of (commit_dev, commit_tid) */
	__u32 commit_dev;
	__u32 commit_tid;
	__u32 in_bio;	 /* --stacks: bio_stack is the path of the bio being charged */
	__u32 announced; /* --stacks: user space was told to read this process's memory map */
	struct wa_stack_key stack;     /* --stacks: the path of the syscall in flight */
	struct wa_stack_key bio_stack; /* --stacks: the path of the bio being charged */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ctx);
} task_ctxs SHARED_MAP;

static __always_inline void count_loss(enum wa_loss what)
{
	__u32 key = what;
	__u64 *n = bpf_map_lookup_elem(&losses, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* Kernel threads have no user address space; that is how the kernel itself tells them apart. */
static __always_inline bool task_is_kernel_thread(struct task_struct *task)
{
	return !task->mm;
}

static __always_inline struct task_ctx *task_ctx_peek(void)
{
	return bpf_task_storage_get(&task_ctxs, bpf_get_current_task_btf(), 0, 0);
}

static __always_inline struct task_ctx *task_ctx_get(void)
{
	struct task_ctx *ctx = bpf_task_storage_get(&task_ctxs, bpf_get_current_task_btf(), 0,
						    BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (!ctx)
		count_loss(WA_LOSS_TASK_STORAGE);
	return ctx;
}

static __always_inline bool sys_is_write(__u32 sys)
{
	return sys >= WA_SYS_WRITE && sys <= WA_SYS_PWRITEV2;
}

static __always_inline bool sys_is_sync(__u32 sys)
{
	return sys >= WA_SYS_FSYNC && sys <= WA_SYS_SYNCFS;
}

static __always_inline bool class_is_storage(__u32 fd_class)
{
	return fd_class == WA_FD_REGULAR || fd_class == WA_FD_BLOCKDEV;
}

static __always_inline bool comm_is_filtered_comm(const char *comm)
{
	for (int i = 0; i < WA_COMM_LEN; i++) {
		if (comm[i] != comm_filter[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

#define CGROUP_MAX_DEPTH 64 /* deeper cgroups than this are not searched for a filter */

/* Whether @cg is the cgroup of id @id at depth @level, or under it, by a walk up its parents. */
static __always_inline bool cgroup_is_under(struct cgroup *cg, __u32 level, __u64 id)
{
	struct cgroup_subsys_state *css = &cg->self;
	int steps = cg->level - (int)level;

	if (steps < 0)
		return false;
	for (int i = 0; i < CGROUP_MAX_DEPTH && css; i++) {
		if (i == steps)
			return css->cgroup->kn->id == id;
		css = css->parent;
	}
	return false;
}

/*
 * Ancestry, not equality: a container's processes sit in sub-cgroups of its cgroup too. This
 * runs on every syscall of every task that the filters leave out, so it walks the task's v2
 * cgroups with plain loads; only a filter whose depth user space could not learn costs a
 * helper call.
 */
static __always_inline bool current_in_filtered_cgroup(void)
{
	struct cgroup *cg = bpf_get_current_task_btf()->cgroups->dfl_cgrp;

	for (__u32 i = 0; i < WA_MAX_CGROUP_FILTERS; i++) {
		__u32 level = cgroup_filter_levels[i];

		if (i >= cgroup_filters_n)
			break;
		if (level == WA_CGROUP_LEVEL_UNKNOWN) {
			if (bpf_current_task_under_cgroup(&cgroup_filters, i) == 1)
				return true;
		} else if (cgroup_is_under(cg, level, cgroup_filter_ids[i])) {
			return true;
		}
	}
	return false;
}

/* Whether the current task's thread group is one the user asked to trace. */
static __always_inline bool current_selected(void)
{
	__u32 tgid;

	if (cgroup_filters_n && !current_in_filtered_cgroup())
		return false;
	tgid = current_tgid();
	if (tgid == self_tgid)
		return false;
	if (filter_tgids && !bpf_map_lookup_elem(&selected_tgids, &tgid))
		return false;
	if (filter_comm) {
		char comm[WA_COMM_LEN];

		bpf_probe_read_kernel(comm, sizeof(comm),
				      bpf_get_current_task_btf()->group_leader->comm);
		if (!comm_is_filtered_comm(comm))
			return false;
	}
	return true;
}

/* The slot of a log2 histogram (see WA_HIST_SLOTS), by binary search on the highest bit. */
static __always_inline __u32 hist_slot(__u64 v)
{
	__u32 slot = 0;

	if (!v)
		return 0;
	if (v >> 32) {
		v >>= 32;
		slot += 32;
	}
	if (v >> 16) {
		v >>= 16;
		slot += 16;
	}
	if (v >> 8) {
		v >>= 8;
		slot += 8;
	}
	if (v >> 4) {
		v >>= 4;
		slot += 4;
	}
	if (v >> 2) {
		v >>= 2;
		slot += 2;
	}
	if (v >> 1)
		slot += 1;
	slot += 1;
	return slot < WA_HIST_SLOTS ? slot : WA_HIST_SLOTS - 1;
}

static __always_inline void hist_add(struct wa_hist *h, __u64 v)
{
	__u32 slot = hist_slot(v);

	if (slot < WA_HIST_SLOTS)
		__sync_fetch_and_add(&h->slot[slot], 1);
}

/* Inserts the zero value if the key is new; returns the entry, or NULL (counted) if full. */
static __always_inline void *map_get_or_init(void *map, const void *key, const void *zero,
					     enum wa_loss full)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	/* EEXIST from a racing insert on another CPU is fine: the lookup below finds it. */
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		count_loss(full);
	return v;
}

#endif /* WRITEAMP_COMMON_BPF_H */
