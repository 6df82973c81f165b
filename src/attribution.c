// SPDX-License-Identifier: GPL-2.0
/* attribution.c: building the report's rows from a snapshot of the kernel's tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis.h"
#include "attribution.h"
#include "findings.h"
#include "stack_attribution.h"
#include "cgroups.h"
#include "grouping.h"

static int compare_proc_rows(const void *a, const void *b)
{
	const struct wa_proc_row *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static struct wa_proc_row *find_proc(struct wa_report *r, __u32 pid)
{
	struct wa_proc_row key = {.pid = pid};

	return bsearch(&key, r->procs, r->nprocs, sizeof(*r->procs), compare_proc_rows);
}

static int compare_file_rows(const void *a, const void *b)
{
	const struct wa_file_row *x = a, *y = b;

	if (x->key.dev != y->key.dev)
		return x->key.dev < y->key.dev ? -1 : 1;
	return x->key.ino < y->key.ino ? -1 : x->key.ino > y->key.ino;
}

static struct wa_file_row *find_file(struct wa_report *r, __u32 dev, __u64 ino)
{
	struct wa_file_row key = {.key = {.dev = dev, .ino = ino}};

	return bsearch(&key, r->files, r->nfiles, sizeof(*r->files), compare_file_rows);
}

static void copy_comm(char *dst, const char *src)
{
	memcpy(dst, src, WA_COMM_LEN);
	dst[WA_COMM_LEN] = '\0';
}

static void proc_row_from(struct wa_proc_row *row, const struct snap_proc *p, struct wa_namer *n,
			  struct wa_cgroups *cg)
{
	const struct wa_proc_stats *s = &p->s;
	struct wa_figures *f = &row->f;

	row->pid = p->tgid;
	row->ppid = s->ppid;
	row->exited = s->exited;
	row->overflow = p->tgid == WA_TGID_OVERFLOW;
	copy_comm(row->comm, s->comm);
	row->cmdline = row->overflow ? NULL : namer_cmdline(n, p->tgid, s->start_ns);
	row->libraries = row->overflow ? NULL : namer_libraries(n, p->tgid, s->start_ns);
	row->cgroup_id = s->cgroup_id;
	/* The overflow row mixes processes of every cgroup, so it belongs to no group. */
	row->cgroup = row->overflow ? NULL : cgroups_info(cg, s->cgroup_id);
	memcpy(f->sync_calls, s->sync_calls, sizeof(f->sync_calls));
	f->sync_errors = s->sync_errors;
	f->commits_forced = s->commits_forced;
	f->sync_latency_us = s->sync_latency_us;
	f->opens_sync = s->opens_sync;
	f->opens_dsync = s->opens_dsync;
	f->opens_direct = s->opens_direct;
	f->dirtied_pages = s->dirtied_pages;
	f->dirtied_bytes = s->dirtied_bytes;
	f->meta_dirtied_bytes = s->meta_dirtied_bytes;
	f->dev = s->dev;
}

static void add_writes(struct wa_figures *f, const struct wa_write_stats *w)
{
	if (!fd_class_is_storage(w->fd_class)) {
		if (w->fd_class < WA_FD__COUNT) {
			f->ns_calls[w->fd_class] += w->calls;
			f->ns_bytes[w->fd_class] += w->bytes;
		}
		f->ns_errors += w->errors;
		return;
	}
	f->write_calls += w->calls;
	f->write_requested += w->requested_bytes;
	f->write_bytes += w->bytes;
	f->write_errors += w->errors;
	f->small_calls += w->small_calls;
	f->subpage_calls += w->subpage_calls;
	f->direct_write_calls += w->direct_calls;
	f->direct_write_bytes += w->direct_bytes;
	f->direct_write_refused += w->direct_refused;
	for (int i = 0; i < WA_HIST_SLOTS; i++)
		f->write_size.slot[i] += w->size.slot[i];
}

static void file_row_from(struct wa_file_row *row, const struct snap_file *sf, struct wa_namer *n)
{
	const struct wa_file_stats *s = &sf->s;
	char leaf[WA_NAME_LEN + 1];

	memcpy(leaf, s->name, WA_NAME_LEN);
	leaf[WA_NAME_LEN] = '\0';
	row->key = sf->k;
	row->is_bdev = S_ISBLK(s->mode);
	row->path = namer_file_path(n, sf->k.dev, sf->k.ino, s->generation, s->mode, s->rdev, leaf);
	device_name(row->is_bdev ? s->rdev : sf->k.dev, row->device, sizeof(row->device));
	row->writer_pid = s->writer_tgid;
	row->shared = s->shared;
	row->forcer_pid = s->forcer_tgid;
	row->dirtied_bytes = s->dirtied_bytes;
	row->sync_calls = s->sync_calls;
	row->charged = s->charged;
	row->unattributed_bytes = s->unattributed_bytes;
}

static int build_unattributed(struct wa_report *r)
{
	size_t n = 0;

	r->unattributed = calloc(r->ndevs * WA_UNATTR__COUNT + 1, sizeof(*r->unattributed));
	if (!r->unattributed)
		return -ENOMEM;
	for (size_t i = 0; i < r->ndevs; i++) {
		const struct wa_dev_row *d = &r->devs[i];

		for (int why = 0; why < WA_UNATTR__COUNT; why++) {
			struct wa_unattributed_row *u = &r->unattributed[n];

			if (!d->s.unattributed_bytes[why] && !d->s.unattributed_flushes[why])
				continue;
			u->dev = d->dev;
			memcpy(u->device, d->name, sizeof(u->device));
			u->reason = why;
			u->bytes = d->s.unattributed_bytes[why];
			u->flushes = d->s.unattributed_flushes[why];
			r->unattributed_bytes += u->bytes;
			r->unattributed_flushes += u->flushes;
			n++;
		}
		r->ignored_bytes += d->s.ignored_bytes;
		r->device_write_bytes += d->s.write_bytes;
	}
	r->nunattributed = n;
	return 0;
}

static int build_devices(struct wa_report *r, const struct wa_snapshot *s)
{
	r->devs = calloc(s->ndevs + 1, sizeof(*r->devs));
	if (!r->devs)
		return -ENOMEM;
	for (size_t i = 0; i < s->ndevs; i++) {
		struct wa_dev_row *d = &r->devs[i];

		d->dev = s->devs[i].dev;
		d->s = s->devs[i].s;
		device_name(d->dev, d->name, sizeof(d->name));
	}
	r->ndevs = s->ndevs;
	return build_unattributed(r);
}

static int build_processes(struct wa_report *r, const struct wa_snapshot *s, struct wa_namer *n,
			   struct wa_cgroups *cg)
{
	r->procs = calloc(s->nprocs + 1, sizeof(*r->procs));
	if (!r->procs)
		return -ENOMEM;
	for (size_t i = 0; i < s->nprocs; i++)
		proc_row_from(&r->procs[i], &s->procs[i], n, cg);
	r->nprocs = s->nprocs;
	qsort(r->procs, r->nprocs, sizeof(*r->procs), compare_proc_rows);
	return 0;
}

static int build_files(struct wa_report *r, const struct wa_snapshot *s, struct wa_namer *n)
{
	r->files = calloc(s->nfiles + 1, sizeof(*r->files));
	if (!r->files)
		return -ENOMEM;
	for (size_t i = 0; i < s->nfiles; i++) {
		struct wa_file_row *row = &r->files[i];
		struct wa_proc_row *writer;

		file_row_from(row, &s->files[i], n);
		writer = row->writer_pid ? find_proc(r, row->writer_pid) : NULL;
		if (writer)
			memcpy(row->writer_comm, writer->comm, sizeof(row->writer_comm));
	}
	r->nfiles = s->nfiles;
	qsort(r->files, r->nfiles, sizeof(*r->files), compare_file_rows);
	return 0;
}

/* Writes are kept per process and file; they are summed into both. */
static void assign_writes(struct wa_report *r, const struct wa_snapshot *s)
{
	struct wa_proc_row *overflow = find_proc(r, WA_TGID_OVERFLOW);

	for (size_t i = 0; i < s->nwriters; i++) {
		const struct snap_writer *w = &s->writers[i];
		struct wa_proc_row *p = find_proc(r, w->k.tgid);
		struct wa_file_row *f;

		if (!p)
			p = overflow;
		if (p)
			add_writes(&p->f, &w->s);
		if (!fd_class_is_storage(w->s.fd_class))
			continue;
		f = find_file(r, w->k.dev, w->k.ino);
		if (f) {
			f->write_calls += w->s.calls;
			f->write_bytes += w->s.bytes;
		}
	}
}

int attribution_build(struct wa_report *r, const struct wa_snapshot *s, struct wa_namer *n,
		      struct wa_cgroups *cg)
{
	if (build_processes(r, s, n, cg) || build_files(r, s, n) || build_devices(r, s)) {
		attribution_free(r);
		return -ENOMEM;
	}
	assign_writes(r, s);
	for (size_t i = 0; i < r->nprocs; i++)
		figures_add(&r->totals, &r->procs[i].f);
	memcpy(r->losses, s->losses, sizeof(r->losses));
	r->journal_in_flight_bytes = s->journal_in_flight_bytes;
	return 0;
}

void attribution_free(struct wa_report *r)
{
	report_groups_free(r);
	stack_attribution_free(r);
	findings_free(r);
	free(r->procs);
	free(r->files);
	free(r->devs);
	free(r->unattributed);
	r->procs = NULL;
	r->files = NULL;
	r->devs = NULL;
	r->unattributed = NULL;
	r->nprocs = r->nfiles = r->ndevs = r->nunattributed = 0;
}
