/* SPDX-License-Identifier: GPL-2.0 */
/* writeamp.h: every struct and constant that crosses between the BPF programs and user space. */
#ifndef WRITEAMP_H
#define WRITEAMP_H

/* The BPF side includes this after vmlinux.h; user space gets the same types from UAPI headers. */
#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/bpf.h>
#endif

#define WA_COMM_LEN	      16
#define WA_NAME_LEN	      64 /* leaf name of a file, kept for files whose path cannot be resolved */
#define WA_CGROUP_LEAF_LEN    96 /* "cri-containerd-<64 hex>.scope" fits */
#define WA_MAX_CGROUP_FILTERS 16
#define WA_CGROUP_LEVEL_UNKNOWN                                                   \
	0xffffffffu	    /* a filter whose depth is unknown: checked by helper \
			     */
#define WA_HIST_SLOTS	 32 /* slot 0 holds 0, slot k holds [2^(k-1), 2^k); the last is open */
#define WA_FILE_DIRTIERS 4  /* processes whose pending dirty bytes a file record tracks */
#define WA_TXN_SLOTS	 4  /* processes whose journal blocks a transaction record tracks */
#define WA_MAX_SYSCALLS	 1024
#define WA_SMALL_WRITE	 512 /* a write below this is "small" whatever the page size */

/* The syscalls writeamp follows; user space maps the kernel's syscall numbers onto these. */
enum wa_syscall {
	WA_SYS_NONE,
	WA_SYS_WRITE,
	WA_SYS_PWRITE64,
	WA_SYS_WRITEV,
	WA_SYS_PWRITEV,
	WA_SYS_PWRITEV2,
	WA_SYS_FSYNC,
	WA_SYS_FDATASYNC,
	WA_SYS_SYNC_FILE_RANGE,
	WA_SYS_MSYNC,
	WA_SYS_SYNC,
	WA_SYS_SYNCFS,
	WA_SYS_OPEN,
	WA_SYS_OPENAT,
	WA_SYS_OPENAT2,
	WA_SYS_CREAT,
	WA_SYS__COUNT,
};

enum wa_sync_kind {
	WA_SYNC_FSYNC,
	WA_SYNC_FDATASYNC,
	WA_SYNC_FILE_RANGE,
	WA_SYNC_MSYNC,
	WA_SYNC_SYNC,
	WA_SYNC_SYNCFS,
	WA_SYNC__COUNT,
};

/* What a written fd refers to. Only REGULAR and BLOCKDEV are storage. */
enum wa_fd_class {
	WA_FD_REGULAR,
	WA_FD_BLOCKDEV,
	WA_FD_SOCKET,
	WA_FD_PIPE,
	WA_FD_CHARDEV,	/* ttys, /dev/null, ... */
	WA_FD_PSEUDOFS, /* a regular file on proc, sysfs, cgroupfs, tmpfs and the like */
	WA_FD_OTHER,	/* eventfd, anonymous inodes, ... */
	WA_FD__COUNT,
};

/* The kind of device bytes a charge stands for. */
enum wa_charge {
	WA_CHARGE_DATA,
	WA_CHARGE_METADATA,
	WA_CHARGE_JOURNAL,
	WA_CHARGE__COUNT,
};

/* Why device I/O could not be charged to a process. Each has a row of its own in the report. */
enum wa_unattributed {
	WA_UNATTR_BEFORE_TRACE, /* page-cache data with no recorded dirtier: dirtied before tracing
				 */
	WA_UNATTR_KERNEL_DIRTIED, /* pages dirtied by a kernel thread, e.g. a loop device's backing
				     file */
	WA_UNATTR_SHARED_WRITERS, /* dirtied by more processes than a file record tracks */
	WA_UNATTR_METADATA, /* filesystem metadata that no process dirtied, e.g. journal checkpoints
			     */
	WA_UNATTR_JOURNAL_PERIODIC, /* journal commits that no sync forced */
	WA_UNATTR_JOURNAL_SHARED,   /* the share of forced commits owed to untracked contributors */
	WA_UNATTR_NO_OWNER,	    /* bios from kernel threads that carry no page-cache page */
	WA_UNATTR_UNTRACKED_FILE,   /* the file had no record: the file map was full */
	WA_UNATTR__COUNT,
};

/* Counters of what was lost or approximated; all of them are printed. */
enum wa_loss {
	WA_LOSS_PROC_MAP_FULL,
	WA_LOSS_WRITER_MAP_FULL,
	WA_LOSS_FILE_MAP_FULL,
	WA_LOSS_TXN_MAP_FULL,
	WA_LOSS_DEV_MAP_FULL,
	WA_LOSS_RQ_MAP_FULL,
	WA_LOSS_TASK_STORAGE,
	WA_LOSS_IOV_TRUNCATED, /* writev with more iovecs than read: requested bytes undercounted */
	WA_LOSS_TXN_UNFINISHED,	  /* a commit ended whose start was not seen */
	WA_LOSS_STACK_MAP_FULL,	  /* --stacks: weights summed into the process's "[other]" stack */
	WA_LOSS_STACK_ID,	  /* a stack could not be stored (stack map full or a hash clash) */
	WA_LOSS_STACK_SAMPLE,	  /* a user-stack copy found the ring buffer full */
	WA_LOSS_STACK_DIRTY_FULL, /* dirtied bytes not tied to a stack: writeback goes to "[other]"
				   */
	WA_LOSS__COUNT,
};

/* --stacks: how user stacks are unwound. */
enum wa_unwind {
	WA_UNWIND_OFF,
	WA_UNWIND_FP,	 /* frame pointers, in the kernel: exact per stack, no copies */
	WA_UNWIND_DWARF, /* sampled copies of the user stack, unwound by CFI in user space */
};

#define WA_STACK_DEPTH	  64	/* frames kept per kernel or user stack */
#define WA_STACK_COPY_MAX 16384 /* bytes of user stack a sample can carry */
#define WA_REGS_WORDS	  48	/* room for the architecture's struct pt_regs */

/* Kernel stack ids below zero stand for a phase of the I/O, not for a captured stack. */
#define WA_KSTACK_NONE	       (-1) /* not captured, or the stack map had no room */
#define WA_KSTACK_WRITEBACK    (-2) /* written back later by a kernel thread */
#define WA_KSTACK_JOURNAL      (-3) /* journal commit forced by the sync */
/*
 * At a syscall's entry the kernel stack is always entry code and the tracepoint, so it is not
 * walked: the path's kernel part is the syscall itself, WA_KSTACK_SYSCALL_BASE - enum wa_syscall.
 */
#define WA_KSTACK_SYSCALL_BASE (-16)
#define WA_KSTACK_SYSCALL(sys) (WA_KSTACK_SYSCALL_BASE - (__s32)(sys))

/*
 * A call path of a process. `user` identifies the user part: with WA_UNWIND_FP the user stack
 * id plus one, with WA_UNWIND_DWARF the user instruction pointer at the syscall, whose call
 * paths the samples of that (tgid, user) resolve. 0: not known.
 */
struct wa_stack_key {
	__u32 tgid;
	__s32 kstack;
	__u64 user;
	__u64 leaf_ret; /* WA_UNWIND_FP: the word on top of the user stack; see stacks.c */
};

struct wa_stack_weights {
	__u64 calls; /* storage writes */
	__u64 app_bytes;
	__u64 syncs;
	__u64 bytes[WA_CHARGE__COUNT]; /* device bytes */
	__u64 flushes;
};

/* Page-cache bytes a call path dirtied in a file, to apportion the file's writeback. */
struct wa_stack_dirty_key {
	struct wa_stack_key stack;
	__u32 dev;
	__u32 pad;
	__u64 ino;
};

/* Device bytes of a process's dirty pages in a file, written back outside its context. */
struct wa_writeback_charge {
	__u64 bytes[WA_CHARGE__COUNT];
};

enum wa_stack_record_kind {
	WA_REC_FIRST_SIGHT, /* a process got its first stack: read its memory map now */
	WA_REC_SAMPLE,	    /* registers and the top of the user stack at a syscall */
};

/*
 * A process's first record was made: user space reads its command line and libraries while
 * it is alive, since a process that exits before the report takes them along.
 */
struct wa_proc_sighting {
	__u32 tgid;
	__u32 pad;
	__u64 start_ns; /* the leader's start_time, which tells a reused pid apart */
};

#define WA_SIGHTING_RING_BYTES (64 * 1024)

struct wa_stack_record_head {
	__u32 kind; /* enum wa_stack_record_kind */
	__u32 tgid;
	__u64 user;	 /* the wa_stack_key.user it resolves */
	__u32 stack_len; /* bytes of stack[] copied, from the user stack pointer up */
	__u32 pad;
	__u64 regs[WA_REGS_WORDS]; /* the user registers, as the kernel's struct pt_regs */
};

struct wa_stack_sample {
	struct wa_stack_record_head h;
	__u8 stack[WA_STACK_COPY_MAX];
};

/* Kernel dev_t layout (MINORBITS), as found in bio->bi_bdev->bd_dev and sb->s_dev. */
#define WA_MINORBITS	  20
#define WA_DEV_MAJOR(dev) ((unsigned int)((dev) >> WA_MINORBITS))
#define WA_DEV_MINOR(dev) ((unsigned int)((dev) & ((1U << WA_MINORBITS) - 1)))
#define WA_MKDEV(ma, mi)  (((__u32)(ma) << WA_MINORBITS) | (__u32)(mi))

/* tgid of the catch-all process record that absorbs counts once the process map is full */
#define WA_TGID_OVERFLOW 0xffffffffU

/* A log2 histogram; see WA_HIST_SLOTS for the slot layout. */
struct wa_hist {
	__u64 slot[WA_HIST_SLOTS];
};

/* Write syscalls of one process to one file (or, for non-storage fds, to one fd class). */
struct wa_writer_key {
	__u32 tgid;
	__u32 dev; /* 0 for non-storage classes */
	__u64 ino; /* the enum wa_fd_class for non-storage classes */
};

struct wa_write_stats {
	__u64 calls;
	__u64 requested_bytes;
	__u64 bytes; /* sum of the return values that were not errors */
	__u64 errors;
	__u64 small_calls;   /* requested size under WA_SMALL_WRITE */
	__u64 subpage_calls; /* requested size under one page */
	__u32 fd_class;	     /* enum wa_fd_class */
	__u32 fd_flags_seen; /* O_DIRECT, O_DSYNC, O_SYNC, O_APPEND bits seen on these writes */
	/* writes through an O_DIRECT fd, counted per call: other fds may write the file too */
	__u64 direct_calls;
	__u64 direct_bytes;
	__u64 direct_refused; /* failed with EINVAL: not aligned to the device's logical block */
	struct wa_hist size;
};

/* Device bytes charged to a process or a file. */
struct wa_device_charge {
	__u64 bytes[WA_CHARGE__COUNT];
	__u64 flushes; /* bios with REQ_PREFLUSH, including empty flushes */
	__u64 fua;
	__u64 forced_bytes; /* submitted in a user process's own context: sync, O_SYNC, O_DIRECT */
	__u64 direct_bytes; /* O_DIRECT and other bios that carry no page-cache page */
};

/* Everything per process (thread group) apart from its writes, which are in wa_write_stats. */
struct wa_proc_stats {
	char comm[WA_COMM_LEN]; /* of the thread group leader, updated at exec */
	__u64 start_ns;		/* task start time, to tell a reused pid apart */
	__u32 ppid;
	__u8 exited;
	__u8 exec_unread; /* exec'd since user space last read its cmdline and libraries */
	__u16 pad;
	__u64 cgroup_id; /* cgroup v2 id, at the record's creation and again at exec */
	__u64 sync_calls[WA_SYNC__COUNT];
	__u64 sync_errors;
	struct wa_hist sync_latency_us;
	__u64 commits_forced; /* journal commits that started while its sync was in flight */
	__u64 opens_sync;
	__u64 opens_dsync;
	__u64 opens_direct;
	__u64 dirtied_pages;
	__u64 dirtied_bytes;	  /* data pages: regular files and raw block-device writes */
	__u64 meta_dirtied_bytes; /* block-device pages dirtied outside a write to a block device */
	struct wa_device_charge dev;
};

/*
 * A cgroup some traced process was in. Its leaf name is kept so that a container can still be
 * named after its cgroup has been removed.
 */
struct wa_cgroup_seen {
	char leaf[WA_CGROUP_LEAF_LEN];
};

/* A file (an inode of a regular file, or a block device's own inode) by its filesystem. */
struct wa_file_key {
	__u32 dev; /* sb->s_dev */
	__u32 pad;
	__u64 ino;
};

enum wa_dirtier_kind {
	WA_DIRTIER_DATA,
	WA_DIRTIER_METADATA,
};

/* A process whose dirtied bytes on a file are still waiting to be written back. */
struct wa_dirtier {
	__u32 tgid;
	__u32 kind; /* enum wa_dirtier_kind */
	__u64 pending;
};

struct wa_file_stats {
	struct bpf_spin_lock lock; /* guards dirtier[], kernel_pending and overflow_pending */
	__u32 mode;		   /* i_mode */
	__u32 generation;	   /* i_generation, for resolving the path by file handle */
	__u32 rdev;		   /* for block-device inodes: the device */
	__u32 writer_tgid;	   /* first process that wrote or dirtied it */
	__u32 forcer_tgid; /* last process whose sync or O_DIRECT write put its bytes on a device */
	__u32 shared;	   /* set once a second process writes or dirties it */
	struct wa_dirtier dirtier[WA_FILE_DIRTIERS];
	__u64 kernel_pending;
	__u64 overflow_pending;
	__u64 dirtied_pages;
	__u64 dirtied_bytes;
	__u64 sync_calls;
	struct wa_device_charge charged;
	__u64 unattributed_bytes;
	char name[WA_NAME_LEN];
};

/* Per device (whole disk). Bio counts are at submission; rq_* are requests at the driver. */
struct wa_dev_stats {
	__u64 write_bios;
	__u64 write_bytes;
	__u64 flush_bios;
	__u64 fua_bios;
	__u64 meta_bios;
	__u64 sync_bios;
	__u64 discard_bios;
	__u64 discard_bytes;
	__u64 zeroes_bios;
	__u64 zeroes_bytes;
	__u64 charged_bytes[WA_CHARGE__COUNT];
	__u64 charged_flushes;
	__u64 unattributed_bytes[WA_UNATTR__COUNT];
	__u64 unattributed_flushes[WA_UNATTR__COUNT];
	__u64 ignored_bytes; /* not selected by the filters */
	__u64 ignored_flushes;
	__u64 rq_writes;
	__u64 rq_write_bytes;
	__u64 rq_flushes;
	struct wa_hist rq_size;
	struct wa_hist rq_latency_us;
};

/* A jbd2 transaction, from its first handle to the end of its commit. */
struct wa_txn_key {
	__u32 dev;
	__u32 tid;
};

struct wa_txn_slot {
	__u32 tgid;
	__u32 blocks;
};

struct wa_txn {
	struct bpf_spin_lock lock; /* guards slot[], kernel_blocks and overflow_blocks */
	__u32 forcer_tgid;	   /* the process whose sync forced the commit, if it is selected */
	__u32 forced;		   /* a sync was in flight when the commit started */
	struct wa_txn_slot slot[WA_TXN_SLOTS];
	__u32 kernel_blocks;
	__u32 overflow_blocks;
	__u32 committing;
	__u32 disk_dev;			  /* whole disk that the commit's bios went to */
	struct wa_stack_key forcer_stack; /* --stacks: the path of the forcing sync */
	__u64 bytes;
	__u64 flushes;
	__u64 fua;
};

/*
 * ABI constants that are not in the kernel's BTF (fcntl flags, file types). User space fills
 * them in from the C library's headers before load, so BPF code never spells a magic number.
 */
struct wa_abi {
	__u32 o_direct;
	__u32 o_dsync;
	__u32 o_sync; /* O_SYNC as the C library defines it: includes O_DSYNC */
	__u32 o_append;
	__u32 s_ifmt;
	__u32 s_ifreg;
	__u32 s_ifblk;
	__u32 s_ifsock;
	__u32 s_ififo;
	__u32 s_ifchr;
	__u32 page_size;
	__u32 e_inval; /* EINVAL, what a misaligned O_DIRECT write fails with */
};

#endif /* WRITEAMP_H */
