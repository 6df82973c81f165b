// SPDX-License-Identifier: GPL-2.0
/* tracer.c: opening, configuring, loading and attaching the BPF skeleton. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroups.h"
#include "writeamp.h"
#include "writeamp.skel.h"
#include "tracer.h"

enum hook_need {
	HOOK_REQUIRED,
	HOOK_JOURNAL, /* only where jbd2 is in the kernel */
};

struct hook_spec {
	const char *tracepoint;
	const char *program;
	enum hook_need need;
	const char *purpose;
};

/* sys_enter comes in two builds; tracer_start keeps one of them. */
static const struct hook_spec hook_specs[] = {
	{"sys_enter", "sys_enter", HOOK_REQUIRED, "write/sync/open syscalls, typed file reads"},
	{"sys_enter", "sys_enter_probe_read", HOOK_REQUIRED,
	 "write/sync/open syscalls, probe-read file reads"},
	{"sys_exit", "sys_exit", HOOK_REQUIRED, "syscall results and sync latency"},
	{"writeback_dirty_folio", "writeback_dirty_folio", HOOK_REQUIRED, "page-cache dirtying"},
	{"block_bio_queue", "block_bio_queue", HOOK_REQUIRED, "bios: device bytes, attribution"},
	{"block_rq_issue", "block_rq_issue", HOOK_REQUIRED, "requests: sizes"},
	{"block_rq_complete", "block_rq_complete", HOOK_REQUIRED, "requests: latency"},
	{"jbd2_handle_stats", "jbd2_handle_stats", HOOK_JOURNAL, "journal: contributors"},
	{"jbd2_start_commit", "jbd2_start_commit", HOOK_JOURNAL, "journal: commit and forcer"},
	{"jbd2_end_commit", "jbd2_end_commit", HOOK_JOURNAL, "journal: commit bytes shared"},
	{"sched_process_fork", "sched_process_fork", HOOK_REQUIRED, "following children"},
	{"sched_process_exec", "sched_process_exec", HOOK_REQUIRED, "process names"},
	{"sched_process_exit", "sched_process_exit", HOOK_REQUIRED, "process exits"},
};

#define N_HOOK_SPECS (sizeof(hook_specs) / sizeof(hook_specs[0]))

/* The syscalls followed, by the kernel's numbers from the C library's headers. */
static const struct {
	long nr;
	enum wa_syscall kind;
} syscall_table[] = {
	{SYS_write, WA_SYS_WRITE},	   {SYS_pwrite64, WA_SYS_PWRITE64},
	{SYS_writev, WA_SYS_WRITEV},	   {SYS_pwritev, WA_SYS_PWRITEV},
	{SYS_pwritev2, WA_SYS_PWRITEV2},   {SYS_fsync, WA_SYS_FSYNC},
	{SYS_fdatasync, WA_SYS_FDATASYNC}, {SYS_sync_file_range, WA_SYS_SYNC_FILE_RANGE},
	{SYS_msync, WA_SYS_MSYNC},	   {SYS_sync, WA_SYS_SYNC},
	{SYS_syncfs, WA_SYS_SYNCFS},
#ifdef SYS_open
	{SYS_open, WA_SYS_OPEN},
#endif
	{SYS_openat, WA_SYS_OPENAT},	   {SYS_openat2, WA_SYS_OPENAT2},
};

/* Filesystems whose regular files never reach a block device. */
static const unsigned long pseudo_fs_magics[] = {
	PROC_SUPER_MAGIC,   SYSFS_MAGIC,	 TMPFS_MAGIC,	RAMFS_MAGIC,
	CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC,
	SECURITYFS_MAGIC,   SELINUX_MAGIC,	 SMACK_MAGIC,	BPF_FS_MAGIC,
	DEVPTS_SUPER_MAGIC, HUGETLBFS_MAGIC,	 PIPEFS_MAGIC,	SOCKFS_MAGIC,
	EFIVARFS_MAGIC,	    PSTOREFS_MAGIC,	 NSFS_MAGIC,	ANON_INODE_FS_MAGIC,
	BINFMTFS_MAGIC,	    AAFS_MAGIC,		 DMA_BUF_MAGIC, SECRETMEM_MAGIC,
};

static int print_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static struct wa_abi abi_from_libc(void)
{
	struct wa_abi abi = {
		.o_direct = O_DIRECT,
		.o_dsync = O_DSYNC,
		.o_sync = O_SYNC,
		.o_append = O_APPEND,
		.s_ifmt = S_IFMT,
		.s_ifreg = S_IFREG,
		.s_ifblk = S_IFBLK,
		.s_ifsock = S_IFSOCK,
		.s_ififo = S_IFIFO,
		.s_ifchr = S_IFCHR,
		.page_size = (unsigned int)sysconf(_SC_PAGESIZE),
		.e_inval = EINVAL,
	};

	return abi;
}

static void configure_rodata(struct writeamp_bpf *skel, const struct tracer_config *cfg)
{
	struct writeamp_bpf__rodata *ro = skel->rodata;

	ro->abi = abi_from_libc();
	ro->self_tgid = getpid();
	ro->filter_tgids = cfg->npids > 0 || cfg->select_none;
	ro->follow_forks = cfg->follow_forks;
	ro->filter_dev = cfg->dev;
	ro->cgroup_filters_n = cfg->ncgroup_fds;
	for (int i = 0; i < cfg->ncgroup_fds; i++) {
		__u64 id = 0;
		__u32 level;

		if (!cgroup_dir_place(cfg->cgroup_fds[i], &id, &level))
			level = WA_CGROUP_LEVEL_UNKNOWN;
		ro->cgroup_filter_ids[i] = id;
		ro->cgroup_filter_levels[i] = level;
	}
	ro->stack_unwind = cfg->unwind;
	ro->stack_sample_period = cfg->stack_sample_period ? cfg->stack_sample_period : 1;
	ro->stack_copy_bytes = cfg->stack_copy_bytes;
	if (cfg->comm) {
		ro->filter_comm = true;
		strncpy((char *)ro->comm_filter, cfg->comm, sizeof(ro->comm_filter) - 1);
	}
}

static void size_maps(struct writeamp_bpf *skel, const struct tracer_config *cfg)
{
	bpf_map__set_max_entries(skel->maps.procs, cfg->max_procs);
	bpf_map__set_max_entries(skel->maps.selected_tgids, cfg->max_procs);
	bpf_map__set_max_entries(skel->maps.files, cfg->max_files);
	bpf_map__set_max_entries(skel->maps.writers, cfg->max_files);
	if (cfg->unwind == WA_UNWIND_OFF) {
		/* The stack tables are allocated up front; without --stacks they stay minimal. */
		bpf_map__set_max_entries(skel->maps.stack_traces, 1);
		bpf_map__set_max_entries(skel->maps.stack_weights, 1);
		bpf_map__set_max_entries(skel->maps.stack_dirtied, 1);
		bpf_map__set_max_entries(skel->maps.stack_writeback, 1);
		bpf_map__set_max_entries(skel->maps.stack_records, sysconf(_SC_PAGESIZE));
		return;
	}
	bpf_map__set_max_entries(skel->maps.stack_traces, cfg->max_stacks);
	bpf_map__set_max_entries(skel->maps.stack_weights, cfg->max_stacks);
	bpf_map__set_max_entries(skel->maps.stack_dirtied, cfg->max_stacks * 2);
	bpf_map__set_max_entries(skel->maps.stack_writeback, cfg->max_files);
}

static bool choose_hook(struct tracer *t, const struct hook_spec *h,
			const struct tracer_config *cfg)
{
	bool typed = t->features.rdonly_cast && !cfg->probe_reads;

	if (!strcmp(h->program, "sys_enter"))
		return typed;
	if (!strcmp(h->program, "sys_enter_probe_read"))
		return !typed;
	return true;
}

/* Decides which programs load; fails if the kernel lacks a hook writeamp cannot do without. */
static int choose_hooks(struct tracer *t, const struct tracer_config *cfg, char *why, size_t len)
{
	bool journal = true;

	for (size_t i = 0; i < N_HOOK_SPECS; i++) {
		const struct hook_spec *h = &hook_specs[i];
		bool present = features_has_tracepoint(&t->features, h->tracepoint);

		if (!present && h->need == HOOK_REQUIRED) {
			snprintf(why, len,
				 "this kernel lacks the tracepoint %s (writeamp needs "
				 "Linux 5.17 or newer)",
				 h->tracepoint);
			return -1;
		}
		if (!present)
			journal = false;
	}
	t->journal = journal;
	for (size_t i = 0; i < N_HOOK_SPECS; i++) {
		const struct hook_spec *h = &hook_specs[i];
		struct bpf_program *prog =
			bpf_object__find_program_by_name(t->skel->obj, h->program);
		bool load = choose_hook(t, h, cfg) && (h->need != HOOK_JOURNAL || journal);

		if (!prog) {
			snprintf(why, len, "internal error: no BPF program %s", h->program);
			return -1;
		}
		bpf_program__set_autoload(prog, load);
		if (load && t->nhooks < WA_MAX_HOOKS)
			t->hooks[t->nhooks++] = (struct tracer_hook){
				.tracepoint = h->tracepoint,
				.program = h->program,
				.purpose = h->purpose,
			};
	}
	return 0;
}

static int update(int fd, const void *key, const void *value, char *why, size_t len,
		  const char *what)
{
	if (!bpf_map_update_elem(fd, key, value, BPF_ANY))
		return 0;
	snprintf(why, len, "cannot fill the %s table: %s", what, strerror(errno));
	return -1;
}

static int seed_tables(struct tracer *t, const struct tracer_config *cfg, char *why, size_t len)
{
	struct wa_proc_stats overflow_proc = {.comm = "[other]"};
	__u32 overflow = WA_TGID_OVERFLOW;
	__u8 yes = 1;

	for (size_t i = 0; i < sizeof(syscall_table) / sizeof(syscall_table[0]); i++) {
		__u32 nr = syscall_table[i].nr, kind = syscall_table[i].kind;

		if (nr < WA_MAX_SYSCALLS && update(bpf_map__fd(t->skel->maps.syscall_kinds), &nr,
						   &kind, why, len, "syscall"))
			return -1;
	}
	for (size_t i = 0; i < sizeof(pseudo_fs_magics) / sizeof(pseudo_fs_magics[0]); i++) {
		__u64 magic = pseudo_fs_magics[i];

		if (update(bpf_map__fd(t->skel->maps.pseudo_fs_magics), &magic, &yes, why, len,
			   "filesystem"))
			return -1;
	}
	if (update(t->maps.procs, &overflow, &overflow_proc, why, len, "process"))
		return -1;
	for (__u32 c = 0; c < WA_FD__COUNT; c++) {
		struct wa_writer_key key = {.tgid = WA_TGID_OVERFLOW, .ino = c};
		struct wa_write_stats w = {.fd_class = c};

		if (update(t->maps.writers, &key, &w, why, len, "writer"))
			return -1;
	}
	for (int i = 0; i < cfg->ncgroup_fds; i++) {
		__u32 slot = i, fd = cfg->cgroup_fds[i];

		if (update(bpf_map__fd(t->skel->maps.cgroup_filters), &slot, &fd, why, len,
			   "cgroup filter"))
			return -1;
	}
	for (int i = 0; i < cfg->npids; i++) {
		__u32 tgid = cfg->pids[i];

		if (update(t->maps.selected, &tgid, &yes, why, len, "selection"))
			return -1;
	}
	return 0;
}

static void remember_map_fds(struct tracer *t, __u32 unwind)
{
	t->maps = (struct tracer_maps){
		.procs = bpf_map__fd(t->skel->maps.procs),
		.writers = bpf_map__fd(t->skel->maps.writers),
		.files = bpf_map__fd(t->skel->maps.files),
		.devs = bpf_map__fd(t->skel->maps.devs),
		.txns = bpf_map__fd(t->skel->maps.txns),
		.losses = bpf_map__fd(t->skel->maps.losses),
		.selected = bpf_map__fd(t->skel->maps.selected_tgids),
		.cgroups_seen = bpf_map__fd(t->skel->maps.cgroups_seen),
		.proc_sightings = bpf_map__fd(t->skel->maps.proc_sightings),
		.unwind = unwind,
		.stack_weights = bpf_map__fd(t->skel->maps.stack_weights),
		.stack_dirtied = bpf_map__fd(t->skel->maps.stack_dirtied),
		.stack_writeback = bpf_map__fd(t->skel->maps.stack_writeback),
		.stack_traces = bpf_map__fd(t->skel->maps.stack_traces),
		.stack_records = bpf_map__fd(t->skel->maps.stack_records),
	};
}

static int attach_hooks(struct tracer *t, char *why, size_t len)
{
	for (int i = 0; i < t->nhooks; i++) {
		struct bpf_program *prog =
			bpf_object__find_program_by_name(t->skel->obj, t->hooks[i].program);

		t->links[i] = bpf_program__attach(prog);
		if (!t->links[i]) {
			snprintf(why, len, "cannot attach to the tracepoint %s: %s",
				 t->hooks[i].tracepoint, strerror(errno));
			return -1;
		}
		t->hooks[i].attached = true;
	}
	return 0;
}

static int load_error(char *why, size_t len, int err, bool verbose)
{
	if (err == -EPERM || err == -EACCES)
		snprintf(why, len,
			 "the kernel refused to load the BPF programs (%s): run as root, "
			 "outside a restricted container%s",
			 strerror(-err), verbose ? "" : "; -v shows the verifier log");
	else
		snprintf(why, len, "loading the BPF programs failed: %s%s", strerror(-err),
			 verbose ? "" : " (-v shows the verifier log)");
	return -1;
}

int tracer_start(struct tracer *t, const struct tracer_config *cfg, char *why, size_t len)
{
	int err;

	memset(t, 0, sizeof(*t));
	libbpf_set_print(cfg->verbose ? print_libbpf_log : NULL);
	if (!features_check_privileges(why, len) || !features_probe(&t->features, why, len))
		goto fail;
	t->skel = writeamp_bpf__open();
	if (!t->skel) {
		snprintf(why, len, "cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	configure_rodata(t->skel, cfg);
	size_maps(t->skel, cfg);
	if (choose_hooks(t, cfg, why, len))
		goto fail;
	err = writeamp_bpf__load(t->skel);
	if (err) {
		load_error(why, len, err, cfg->verbose);
		goto fail;
	}
	remember_map_fds(t, cfg->unwind);
	if (seed_tables(t, cfg, why, len) || attach_hooks(t, why, len))
		goto fail;
	return 0;
fail:
	tracer_stop(t);
	return -1;
}

int tracer_select(struct tracer *t, pid_t tgid)
{
	__u32 key = tgid;
	__u8 yes = 1;

	return bpf_map_update_elem(t->maps.selected, &key, &yes, BPF_ANY) ? -errno : 0;
}

void tracer_stop(struct tracer *t)
{
	for (int i = 0; i < WA_MAX_HOOKS; i++) {
		bpf_link__destroy(t->links[i]);
		t->links[i] = NULL;
	}
	writeamp_bpf__destroy(t->skel);
	t->skel = NULL;
	features_release(&t->features);
}
