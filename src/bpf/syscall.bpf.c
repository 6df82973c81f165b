// SPDX-License-Identifier: GPL-2.0
/* syscall.bpf.c: what applications ask for: write, sync and open syscalls, per process and file. */
#include "records.bpf.h"
#include "stacks.bpf.h"

/*
 * With bpf_rdonly_cast (Linux 6.2+) a struct file found in the fd table can be read with
 * plain loads; without it every field costs a probe read. Both programs below come from the
 * same code: `fast` is a compile-time constant, so each keeps only its own kind of read, and
 * user space loads the one the kernel supports.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

#define KREAD(fast, ptr, field) ((fast) ? (ptr)->field : BPF_CORE_READ(ptr, field))

#define IOV_READ_MAX 64 /* iovecs summed for "bytes requested"; more are counted as a loss */

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) ((regs)->syscallno)
#else
#error "writeamp: add SYSCALL_NR for this architecture"
#endif

static __always_inline __u32 syscall_kind(long nr)
{
	__u32 key = nr;
	__u32 *kind = bpf_map_lookup_elem(&syscall_kinds, &key);

	return kind ? *kind : WA_SYS_NONE;
}

static __always_inline struct file *file_of_fd(long fd, const bool fast)
{
	struct fdtable *fdt = bpf_get_current_task_btf()->files->fdt;
	struct file *file = NULL;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), (void *)fdt->fd + fd * sizeof(file));
	if (!file)
		return NULL;
	return fast ? bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file)) : file;
}

static __always_inline __u32 nonstorage_class(__u32 fmt)
{
	if (fmt == abi.s_ifsock)
		return WA_FD_SOCKET;
	if (fmt == abi.s_ififo)
		return WA_FD_PIPE;
	if (fmt == abi.s_ifchr)
		return WA_FD_CHARDEV;
	return WA_FD_OTHER;
}

/*
 * Regular files on filesystems without a block device of their own are looked up in the
 * table of pseudo filesystems (proc, sysfs, tmpfs...); overlayfs, NFS and FUSE stay storage.
 */
static __always_inline bool on_pseudo_fs(struct super_block *sb, const bool fast)
{
	__u64 magic;

	if (KREAD(fast, sb, s_bdev))
		return false;
	magic = KREAD(fast, sb, s_magic);
	return bpf_map_lookup_elem(&pseudo_fs_magics, &magic);
}

/*
 * Fills the ctx with what the fd refers to. Storage files are keyed by the inode that owns
 * their page cache (f_mapping->host), so that a block device's writes and its dirty pages
 * meet in one record. Returns false if the fd is filtered out by --dev.
 */
static __always_inline bool classify_file(struct file *file, struct task_ctx *ctx, const bool fast)
{
	struct address_space *mapping = KREAD(fast, file, f_mapping);
	struct inode *inode = mapping ? KREAD(fast, mapping, host) : NULL;
	struct super_block *sb;
	__u32 fmt;

	ctx->fd_flags = KREAD(fast, file, f_flags) & (abi.o_direct | abi.o_sync | abi.o_append);
	ctx->inode = (__u64)inode;
	if (!inode) {
		ctx->fd_class = WA_FD_OTHER;
		ctx->dev = 0;
		ctx->ino = WA_FD_OTHER;
		return true;
	}
	fmt = KREAD(fast, inode, i_mode) & abi.s_ifmt;
	if (fmt != abi.s_ifreg && fmt != abi.s_ifblk) {
		ctx->fd_class = nonstorage_class(fmt);
		ctx->dev = 0;
		ctx->ino = ctx->fd_class;
		return true;
	}
	sb = KREAD(fast, inode, i_sb);
	if (fmt == abi.s_ifreg && on_pseudo_fs(sb, fast)) {
		ctx->fd_class = WA_FD_PSEUDOFS;
		ctx->dev = 0;
		ctx->ino = WA_FD_PSEUDOFS;
		return true;
	}
	ctx->fd_class = fmt == abi.s_ifreg ? WA_FD_REGULAR : WA_FD_BLOCKDEV;
	ctx->dev = KREAD(fast, sb, s_dev);
	ctx->ino = KREAD(fast, inode, i_ino);
	if (filter_dev) {
		struct block_device *bdev = KREAD(fast, sb, s_bdev);
		__u32 dev = fmt == abi.s_ifreg ? ctx->dev : KREAD(fast, inode, i_rdev);

		if (!dev_selected(dev, bdev ? disk_of(bdev) : 0))
			return false;
	}
	return true;
}

static __always_inline __u64 iov_total(const struct iovec *iov, long count)
{
	__u64 total = 0;

	if (count > IOV_READ_MAX) {
		count_loss(WA_LOSS_IOV_TRUNCATED);
		count = IOV_READ_MAX;
	}
	for (int i = 0; i < IOV_READ_MAX; i++) {
		struct iovec v;

		if (i >= count || bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		total += v.iov_len;
	}
	return total;
}

static __always_inline __u64 requested_bytes(struct pt_regs *regs, __u32 sys)
{
	if (sys == WA_SYS_WRITE || sys == WA_SYS_PWRITE64)
		return PT_REGS_PARM3_SYSCALL(regs);
	return iov_total((const struct iovec *)PT_REGS_PARM2_SYSCALL(regs),
			 PT_REGS_PARM3_SYSCALL(regs));
}

/* A sync in flight on a device: a journal commit that starts now was forced by it. */
static __always_inline void sync_begin(struct task_ctx *ctx, __u32 dev, bool selected)
{
	struct dev_sync zero = {},
			*ds = map_get_or_init(&dev_syncs, &dev, &zero, WA_LOSS_DEV_MAP_FULL);

	if (!ds)
		return;
	__sync_fetch_and_add(&ds->inflight, 1);
	ds->last_tgid = current_tgid();
	ds->last_selected = selected;
	if (STACKS_ON && selected)
		ds->last_stack = ctx->stack;
	ctx->sync_dev = dev;
	ctx->syncing = 1;
}

static __always_inline void sync_end(struct task_ctx *ctx)
{
	__u32 dev = ctx->sync_dev;
	struct dev_sync *ds = bpf_map_lookup_elem(&dev_syncs, &dev);

	ctx->syncing = 0;
	if (ds)
		__sync_fetch_and_add(&ds->inflight, -1);
}

/*
 * O_DIRECT and O_DSYNC writes put their bytes on the device before they return, so the file
 * needs its record now; and a sync inside the write can force a journal commit too.
 */
static __always_inline void enter_synchronous_write(struct task_ctx *ctx)
{
	struct wa_file_key key = {.dev = ctx->dev, .ino = ctx->ino};

	file_get(&key, (struct inode *)ctx->inode, current_tgid());
	if (ctx->fd_flags & abi.o_dsync)
		sync_begin(ctx, ctx->dev, true);
}

/*
 * A sync whose exit was not seen (the task left the filtered cgroups inside it, and exits of
 * tasks left out are skipped) would keep its device's sync in flight forever.
 */
static __always_inline void end_stale_sync(struct task_ctx *ctx)
{
	if (ctx->syncing)
		sync_end(ctx);
}

static __always_inline int enter_write(void *prog, struct pt_regs *regs, __u32 sys, const bool fast)
{
	struct file *file = file_of_fd(PT_REGS_PARM1_SYSCALL(regs), fast);
	struct task_ctx *ctx;

	if (!file)
		return 0;
	ctx = task_ctx_get();
	if (!ctx)
		return 0;
	end_stale_sync(ctx);
	ctx->sys = WA_SYS_NONE;
	if (!classify_file(file, ctx, fast))
		return 0;
	ctx->requested = requested_bytes(regs, sys);
	ctx->sys = sys;
	if (STACKS_ON && class_is_storage(ctx->fd_class))
		stack_capture_syscall(prog, regs, sys, ctx);
	if (class_is_storage(ctx->fd_class) && (ctx->fd_flags & (abi.o_direct | abi.o_dsync)))
		enter_synchronous_write(ctx);
	return 0;
}

static __always_inline bool sync_takes_fd(__u32 sys)
{
	return sys != WA_SYS_MSYNC && sys != WA_SYS_SYNC;
}

/*
 * Syncs of unselected processes are followed too, but only so that a journal commit they force
 * is not mistaken for a periodic one; their figures are not kept.
 */
static __always_inline int enter_sync(void *prog, struct pt_regs *regs, __u32 sys, bool selected,
				      const bool fast)
{
	struct task_ctx *ctx = task_ctx_get();

	if (!ctx)
		return 0;
	end_stale_sync(ctx);
	ctx->sys = WA_SYS_NONE;
	ctx->dev = 0;
	ctx->ino = 0;
	ctx->fd_class = WA_FD_OTHER;
	if (sync_takes_fd(sys)) {
		struct file *file = file_of_fd(PT_REGS_PARM1_SYSCALL(regs), fast);

		if (file && !classify_file(file, ctx, fast))
			return 0;
	}
	ctx->sys = sys;
	ctx->counted = selected;
	ctx->start_ns = bpf_ktime_get_ns();
	if (STACKS_ON && selected)
		stack_capture_syscall(prog, regs, sys, ctx);
	sync_begin(ctx, class_is_storage(ctx->fd_class) ? ctx->dev : 0, selected);
	return 0;
}

struct open_how_flags {
	__u64 flags;
};

static __always_inline __u64 open_flags(struct pt_regs *regs, __u32 sys)
{
	struct open_how_flags how = {};

	if (sys == WA_SYS_OPEN)
		return PT_REGS_PARM2_SYSCALL(regs);
	if (sys == WA_SYS_OPENAT)
		return PT_REGS_PARM3_SYSCALL(regs);
	bpf_probe_read_user(&how, sizeof(how), (void *)PT_REGS_PARM3_SYSCALL(regs));
	return how.flags;
}

/* Only opens that ask for synchronous or direct I/O are followed to their exit. */
static __always_inline int enter_open(struct pt_regs *regs, __u32 sys)
{
	__u64 flags = open_flags(regs, sys) & (abi.o_direct | abi.o_sync);
	struct task_ctx *ctx;

	if (!flags)
		return 0;
	ctx = task_ctx_get();
	if (!ctx)
		return 0;
	ctx->sys = sys;
	ctx->fd_flags = flags;
	return 0;
}

static __always_inline int on_sys_enter(void *prog, struct pt_regs *regs, long id, const bool fast)
{
	__u32 sys = syscall_kind(id);
	bool selected;

	if (sys == WA_SYS_NONE)
		return 0;
	selected = current_selected();
	if (sys_is_sync(sys))
		return enter_sync(prog, regs, sys, selected, fast);
	if (!selected)
		return 0;
	if (sys_is_write(sys))
		return enter_write(prog, regs, sys, fast);
	return enter_open(regs, sys);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	return on_sys_enter(ctx, regs, id, true);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter_probe_read, struct pt_regs *regs, long id)
{
	return on_sys_enter(ctx, regs, id, false);
}

static const struct wa_write_stats zero_writer;

/*
 * The first write of a process to a file creates its process and file records as well, so
 * that the hot path afterwards is one lookup.
 */
static __always_inline struct wa_write_stats *writer_get(struct wa_writer_key *key,
							 struct task_ctx *ctx)
{
	struct wa_write_stats *w = bpf_map_lookup_elem(&writers, key);

	if (w)
		return w;
	if (!proc_current())
		return NULL;
	if (class_is_storage(ctx->fd_class)) {
		struct wa_file_key fkey = {.dev = ctx->dev, .ino = ctx->ino};
		struct wa_file_stats *f = file_get(&fkey, (struct inode *)ctx->inode, key->tgid);

		if (f)
			file_note_writer(f, key->tgid);
	}
	if (!bpf_map_update_elem(&writers, key, &zero_writer, BPF_NOEXIST)) {
		w = bpf_map_lookup_elem(&writers, key);
		if (w)
			w->fd_class = ctx->fd_class;
		return w;
	}
	w = bpf_map_lookup_elem(&writers, key);
	if (w)
		return w;
	/* User space made one overflow entry per fd class, so the counts survive a full map. */
	count_loss(WA_LOSS_WRITER_MAP_FULL);
	key->tgid = WA_TGID_OVERFLOW;
	key->dev = 0;
	key->ino = ctx->fd_class;
	return bpf_map_lookup_elem(&writers, key);
}

static __always_inline void count_direct_write(struct wa_write_stats *w, long ret)
{
	__sync_fetch_and_add(&w->direct_calls, 1);
	if (ret > 0)
		__sync_fetch_and_add(&w->direct_bytes, ret);
	else if (ret == -(long)abi.e_inval)
		__sync_fetch_and_add(&w->direct_refused, 1);
}

static __always_inline void exit_write(struct pt_regs *regs, struct task_ctx *ctx, long ret)
{
	struct wa_writer_key key = {.tgid = current_tgid(), .dev = ctx->dev, .ino = ctx->ino};
	__u64 requested = ctx->requested;
	struct wa_write_stats *w;

	if (ctx->syncing)
		sync_end(ctx);
	w = writer_get(&key, ctx);
	if (!w)
		return;
	__sync_fetch_and_add(&w->calls, 1);
	__sync_fetch_and_add(&w->requested_bytes, requested);
	if (ret < 0)
		__sync_fetch_and_add(&w->errors, 1);
	else
		__sync_fetch_and_add(&w->bytes, ret);
	if (requested < WA_SMALL_WRITE)
		__sync_fetch_and_add(&w->small_calls, 1);
	if (requested < abi.page_size)
		__sync_fetch_and_add(&w->subpage_calls, 1);
	hist_add(&w->size, requested);
	if ((w->fd_flags_seen & ctx->fd_flags) != ctx->fd_flags)
		__sync_fetch_and_or(&w->fd_flags_seen, ctx->fd_flags);
	if (ctx->fd_flags & abi.o_direct)
		count_direct_write(w, ret);
	if (STACKS_ON && class_is_storage(ctx->fd_class))
		stack_add_write(regs, &ctx->stack, ret);
}

static __always_inline __u32 sync_kind_of(__u32 sys)
{
	return sys - WA_SYS_FSYNC; /* enum wa_sync_kind follows the order of enum wa_syscall */
}

static __always_inline void exit_sync(struct pt_regs *regs, struct task_ctx *ctx, __u32 sys,
				      long ret)
{
	__u64 us = (bpf_ktime_get_ns() - ctx->start_ns) / 1000;
	struct wa_proc_stats *p;
	__u32 kind = sync_kind_of(sys);

	sync_end(ctx);
	if (!ctx->counted)
		return;
	p = proc_current();
	if (!p)
		return;
	if (kind < WA_SYNC__COUNT)
		__sync_fetch_and_add(&p->sync_calls[kind], 1);
	if (ret < 0)
		__sync_fetch_and_add(&p->sync_errors, 1);
	hist_add(&p->sync_latency_us, us);
	if (STACKS_ON)
		stack_add_sync(regs, &ctx->stack);
	if (class_is_storage(ctx->fd_class)) {
		struct wa_file_key fkey = {.dev = ctx->dev, .ino = ctx->ino};
		struct wa_file_stats *f = file_lookup(&fkey);

		if (f)
			__sync_fetch_and_add(&f->sync_calls, 1);
	}
}

/* O_SYNC includes the O_DSYNC bit, so it is told apart by the rest of its bits. */
static __always_inline void exit_open(struct task_ctx *ctx, long ret)
{
	__u32 flags = ctx->fd_flags;
	struct wa_proc_stats *p;

	if (ret < 0)
		return;
	p = proc_current();
	if (!p)
		return;
	if ((flags & abi.o_sync) == abi.o_sync)
		__sync_fetch_and_add(&p->opens_sync, 1);
	else if (flags & abi.o_dsync)
		__sync_fetch_and_add(&p->opens_dsync, 1);
	if (flags & abi.o_direct)
		__sync_fetch_and_add(&p->opens_direct, 1);
}

static __always_inline int on_sys_exit(struct pt_regs *regs, long ret)
{
	__u32 sys = syscall_kind(SYSCALL_NR(regs));
	struct task_ctx *ctx;

	if (sys == WA_SYS_NONE)
		return 0;
	/* Only syncs are followed for tasks left out (see enter_sync); the rest skip the lookup. */
	if (cgroup_filters_n && !sys_is_sync(sys) && !current_in_filtered_cgroup())
		return 0;
	ctx = task_ctx_peek();
	if (!ctx || ctx->sys != sys)
		return 0;
	ctx->sys = WA_SYS_NONE;
	if (sys_is_write(sys))
		exit_write(regs, ctx, ret);
	else if (sys_is_sync(sys))
		exit_sync(regs, ctx, sys, ret);
	else
		exit_open(ctx, ret);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	return on_sys_exit(regs, ret);
}

char LICENSE[] SEC("license") = "GPL";
