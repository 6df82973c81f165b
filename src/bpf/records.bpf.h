/* SPDX-License-Identifier: GPL-2.0 */
/* records.bpf.h: finding and creating the per-process, per-file and per-device records. */
#ifndef WRITEAMP_RECORDS_BPF_H
#define WRITEAMP_RECORDS_BPF_H

#include "common.bpf.h"

static const struct wa_proc_stats zero_proc;
static const struct wa_file_stats zero_file;
static const struct wa_dev_stats zero_dev;

/* Only the first process of a cgroup pays for reading its name. */
static __always_inline void note_cgroup(__u64 id, struct task_struct *task)
{
	struct wa_cgroup_seen seen = {};

	if (bpf_map_lookup_elem(&cgroups_seen, &id))
		return;
	bpf_probe_read_kernel_str(seen.leaf, sizeof(seen.leaf), task->cgroups->dfl_cgrp->kn->name);
	bpf_map_update_elem(&cgroups_seen, &id, &seen, BPF_NOEXIST);
}

/* Called in the context of @task: the cgroup id is the current task's. */
static __always_inline void proc_take_cgroup(struct wa_proc_stats *p, struct task_struct *task)
{
	p->cgroup_id = bpf_get_current_cgroup_id();
	note_cgroup(p->cgroup_id, task);
}

/*
 * Once per process, so the wakeup is forced: the reader must get to /proc before a short-lived
 * process exits. A full ring only means its names are read at the report instead.
 */
static __always_inline void announce_sighting(__u32 tgid, __u64 start_ns)
{
	struct wa_proc_sighting *r = bpf_ringbuf_reserve(&proc_sightings, sizeof(*r), 0);

	if (!r)
		return;
	r->tgid = tgid;
	r->pad = 0;
	r->start_ns = start_ns;
	bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
}

static __always_inline void proc_record_init(struct wa_proc_stats *p, struct task_struct *task)
{
	struct task_struct *leader = task->group_leader;

	bpf_probe_read_kernel(p->comm, sizeof(p->comm), leader->comm);
	p->start_ns = leader->start_time;
	p->ppid = leader->real_parent->tgid;
	proc_take_cgroup(p, task);
	announce_sighting(leader->tgid, p->start_ns);
}

/*
 * The record of the current thread group, created on first sight. Once the map is full the
 * counts go to the WA_TGID_OVERFLOW record, which user space creates, so none is lost.
 */
static __always_inline struct wa_proc_stats *proc_current(void)
{
	__u32 tgid = current_tgid();
	struct wa_proc_stats *p = bpf_map_lookup_elem(&procs, &tgid);

	if (p) {
		if (p->exec_unread) {
			p->exec_unread = 0;
			announce_sighting(tgid, p->start_ns);
		}
		return p;
	}
	if (!bpf_map_update_elem(&procs, &tgid, &zero_proc, BPF_NOEXIST)) {
		p = bpf_map_lookup_elem(&procs, &tgid);
		if (p)
			proc_record_init(p, bpf_get_current_task_btf());
	} else {
		p = bpf_map_lookup_elem(&procs, &tgid);
	}
	if (p)
		return p;
	count_loss(WA_LOSS_PROC_MAP_FULL);
	tgid = WA_TGID_OVERFLOW;
	return bpf_map_lookup_elem(&procs, &tgid);
}

/* The record of a process being charged from another context (a flusher, a jbd2 thread). */
static __always_inline struct wa_proc_stats *proc_of(__u32 tgid)
{
	struct wa_proc_stats *p = bpf_map_lookup_elem(&procs, &tgid);

	if (p)
		return p;
	tgid = WA_TGID_OVERFLOW;
	return bpf_map_lookup_elem(&procs, &tgid);
}

/*
 * The leaf name is kept so that a file which cannot be found again by its handle (deleted, or
 * on a filesystem without handles) still has a name. Works on typed and untyped inode pointers.
 */
static __always_inline void file_record_init(struct wa_file_stats *f, struct inode *inode,
					     __u32 tgid)
{
	struct hlist_node *alias = BPF_CORE_READ(inode, i_dentry.first);

	f->mode = BPF_CORE_READ(inode, i_mode);
	f->generation = BPF_CORE_READ(inode, i_generation);
	f->rdev = BPF_CORE_READ(inode, i_rdev);
	f->writer_tgid = tgid;
	if (alias) {
		struct dentry *dentry =
			(void *)alias - bpf_core_field_offset(struct dentry, d_u.d_alias);

		bpf_probe_read_kernel_str(f->name, sizeof(f->name),
					  BPF_CORE_READ(dentry, d_name.name));
	}
}

static __always_inline struct wa_file_stats *file_lookup(const struct wa_file_key *key)
{
	return bpf_map_lookup_elem(&files, key);
}

/* The record of a file, created with its identity and name on first sight (tgid 0: kernel). */
static __always_inline struct wa_file_stats *file_get(const struct wa_file_key *key,
						      struct inode *inode, __u32 tgid)
{
	struct wa_file_stats *f = bpf_map_lookup_elem(&files, key);

	if (f)
		return f;
	if (!bpf_map_update_elem(&files, key, &zero_file, BPF_NOEXIST)) {
		f = bpf_map_lookup_elem(&files, key);
		if (f)
			file_record_init(f, inode, tgid);
		return f;
	}
	f = bpf_map_lookup_elem(&files, key);
	if (!f)
		count_loss(WA_LOSS_FILE_MAP_FULL);
	return f;
}

/* Marks a file as shared once a second process writes or dirties it. */
static __always_inline void file_note_writer(struct wa_file_stats *f, __u32 tgid)
{
	if (!f->writer_tgid)
		f->writer_tgid = tgid;
	else if (f->writer_tgid != tgid && !f->shared)
		f->shared = 1;
}

static __always_inline struct wa_dev_stats *dev_get(__u32 dev)
{
	return map_get_or_init(&devs, &dev, &zero_dev, WA_LOSS_DEV_MAP_FULL);
}

/* The whole disk of a block device: requests and device rows are per disk, as in iostat. */
static __always_inline __u32 disk_of(struct block_device *bdev)
{
	return BPF_CORE_READ(bdev, bd_disk, part0, bd_dev);
}

/* Whether I/O to this partition (or disk) passes the --dev filter. */
static __always_inline bool dev_selected(__u32 dev, __u32 disk)
{
	return !filter_dev || filter_dev == dev || filter_dev == disk;
}

#endif /* WRITEAMP_RECORDS_BPF_H */
