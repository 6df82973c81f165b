// SPDX-License-Identifier: GPL-2.0
/* analysis.c: derived figures (amplification and the like), ordering, and interval reports. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

#define U64_FIELDS(type) (sizeof(type) / sizeof(__u64))

_Static_assert(sizeof(struct wa_figures) % sizeof(__u64) == 0, "wa_figures is all __u64");
_Static_assert(sizeof(struct wa_device_charge) % sizeof(__u64) == 0, "charge is all __u64");
_Static_assert(sizeof(struct wa_dev_stats) % sizeof(__u64) == 0, "dev stats are all __u64");

/* The structs below hold nothing but __u64 counters, so they can be walked as arrays. */
static void add_u64s(__u64 *a, const __u64 *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		a[i] += b[i];
}

/* Counters only grow, so a difference below zero means the row was reset: clamp it. */
static void sub_floor(__u64 *a, __u64 b)
{
	*a = *a > b ? *a - b : 0;
}

static void subtract_u64s(__u64 *a, const __u64 *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sub_floor(&a[i], b[i]);
}

static bool any_u64(const __u64 *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return true;
	return false;
}

void figures_add(struct wa_figures *a, const struct wa_figures *b)
{
	add_u64s((__u64 *)a, (const __u64 *)b, U64_FIELDS(*a));
}

void figures_subtract(struct wa_figures *a, const struct wa_figures *b)
{
	subtract_u64s((__u64 *)a, (const __u64 *)b, U64_FIELDS(*a));
}

bool figures_any(const struct wa_figures *f)
{
	return any_u64((const __u64 *)f, U64_FIELDS(*f));
}

__u64 charge_bytes(const struct wa_device_charge *c)
{
	__u64 sum = 0;

	for (int i = 0; i < WA_CHARGE__COUNT; i++)
		sum += c->bytes[i];
	return sum;
}

__u64 figures_device_bytes(const struct wa_figures *f)
{
	return charge_bytes(&f->dev);
}

__u64 figures_sync_calls(const struct wa_figures *f)
{
	__u64 sum = 0;

	for (int i = 0; i < WA_SYNC__COUNT; i++)
		sum += f->sync_calls[i];
	return sum;
}

__u64 figures_nonstorage_calls(const struct wa_figures *f)
{
	__u64 sum = 0;

	for (int i = 0; i < WA_FD__COUNT; i++)
		sum += f->ns_calls[i];
	return sum;
}

__u64 figures_nonstorage_bytes(const struct wa_figures *f)
{
	__u64 sum = 0;

	for (int i = 0; i < WA_FD__COUNT; i++)
		sum += f->ns_bytes[i];
	return sum;
}

static double ratio(__u64 num, __u64 den)
{
	return den ? (double)num / (double)den : NAN;
}

double amplification(__u64 device_bytes, __u64 app_bytes)
{
	return ratio(device_bytes, app_bytes);
}

double figures_amplification(const struct wa_figures *f)
{
	return amplification(figures_device_bytes(f), f->write_bytes);
}

double figures_page_amplification(const struct wa_figures *f)
{
	return ratio(f->dirtied_bytes, f->write_bytes);
}

double figures_avg_write(const struct wa_figures *f)
{
	return ratio(f->write_bytes, f->write_calls);
}

double figures_syncs_per_write(const struct wa_figures *f)
{
	return ratio(figures_sync_calls(f), f->write_calls);
}

bool fd_class_is_storage(__u32 fd_class)
{
	return fd_class == WA_FD_REGULAR || fd_class == WA_FD_BLOCKDEV;
}

__u64 file_device_bytes(const struct wa_file_row *f)
{
	return charge_bytes(&f->charged) + f->unattributed_bytes;
}

static int by_u64_desc(__u64 a, __u64 b)
{
	return a > b ? -1 : a < b;
}

static int compare_procs_by_weight(const void *a, const void *b)
{
	const struct wa_proc_row *x = a, *y = b;
	int c = by_u64_desc(figures_device_bytes(&x->f), figures_device_bytes(&y->f));

	if (!c)
		c = by_u64_desc(x->f.write_bytes, y->f.write_bytes);
	if (!c)
		c = by_u64_desc(figures_nonstorage_bytes(&x->f), figures_nonstorage_bytes(&y->f));
	return c ? c : (x->pid > y->pid) - (x->pid < y->pid);
}

static int compare_files_by_weight(const void *a, const void *b)
{
	const struct wa_file_row *x = a, *y = b;
	int c = by_u64_desc(file_device_bytes(x), file_device_bytes(y));

	return c ? c : by_u64_desc(x->write_bytes, y->write_bytes);
}

static int compare_devs_by_weight(const void *a, const void *b)
{
	const struct wa_dev_row *x = a, *y = b;

	return by_u64_desc(x->s.write_bytes, y->s.write_bytes);
}

static int compare_unattributed(const void *a, const void *b)
{
	const struct wa_unattributed_row *x = a, *y = b;
	int c = by_u64_desc(x->bytes, y->bytes);

	return c ? c : by_u64_desc(x->flushes, y->flushes);
}

void report_sort(struct wa_report *r)
{
	qsort(r->procs, r->nprocs, sizeof(*r->procs), compare_procs_by_weight);
	qsort(r->files, r->nfiles, sizeof(*r->files), compare_files_by_weight);
	qsort(r->devs, r->ndevs, sizeof(*r->devs), compare_devs_by_weight);
	qsort(r->unattributed, r->nunattributed, sizeof(*r->unattributed), compare_unattributed);
}

static const struct wa_proc_row *find_proc_linear(const struct wa_report *r, __u32 pid)
{
	for (size_t i = 0; i < r->nprocs; i++)
		if (r->procs[i].pid == pid)
			return &r->procs[i];
	return NULL;
}

static void subtract_procs(struct wa_report *cur, const struct wa_report *prev)
{
	size_t kept = 0;

	memset(&cur->totals, 0, sizeof(cur->totals));
	for (size_t i = 0; i < cur->nprocs; i++) {
		struct wa_proc_row *p = &cur->procs[i];
		const struct wa_proc_row *before = find_proc_linear(prev, p->pid);

		if (before)
			figures_subtract(&p->f, &before->f);
		if (!figures_any(&p->f))
			continue;
		figures_add(&cur->totals, &p->f);
		cur->procs[kept++] = *p;
	}
	cur->nprocs = kept;
}

static void subtract_charge(struct wa_device_charge *a, const struct wa_device_charge *b)
{
	subtract_u64s((__u64 *)a, (const __u64 *)b, U64_FIELDS(*a));
}

static void subtract_files(struct wa_report *cur, const struct wa_report *prev)
{
	size_t kept = 0;

	for (size_t i = 0; i < cur->nfiles; i++) {
		struct wa_file_row *f = &cur->files[i];

		for (size_t j = 0; j < prev->nfiles; j++) {
			const struct wa_file_row *b = &prev->files[j];

			if (b->key.dev != f->key.dev || b->key.ino != f->key.ino)
				continue;
			sub_floor(&f->write_calls, b->write_calls);
			sub_floor(&f->write_bytes, b->write_bytes);
			sub_floor(&f->dirtied_bytes, b->dirtied_bytes);
			sub_floor(&f->sync_calls, b->sync_calls);
			sub_floor(&f->unattributed_bytes, b->unattributed_bytes);
			subtract_charge(&f->charged, &b->charged);
			break;
		}
		if (f->write_calls || f->dirtied_bytes || f->sync_calls || file_device_bytes(f))
			cur->files[kept++] = *f;
	}
	cur->nfiles = kept;
}

static void subtract_devs(struct wa_report *cur, const struct wa_report *prev)
{
	for (size_t i = 0; i < cur->ndevs; i++)
		for (size_t j = 0; j < prev->ndevs; j++)
			if (prev->devs[j].dev == cur->devs[i].dev)
				subtract_u64s((__u64 *)&cur->devs[i].s,
					      (const __u64 *)&prev->devs[j].s,
					      U64_FIELDS(cur->devs[i].s));
}

static void subtract_unattributed(struct wa_report *cur, const struct wa_report *prev)
{
	size_t kept = 0;

	cur->unattributed_bytes = cur->unattributed_flushes = 0;
	for (size_t i = 0; i < cur->nunattributed; i++) {
		struct wa_unattributed_row *u = &cur->unattributed[i];

		for (size_t j = 0; j < prev->nunattributed; j++) {
			const struct wa_unattributed_row *b = &prev->unattributed[j];

			if (b->dev != u->dev || b->reason != u->reason)
				continue;
			sub_floor(&u->bytes, b->bytes);
			sub_floor(&u->flushes, b->flushes);
		}
		if (!u->bytes && !u->flushes)
			continue;
		cur->unattributed_bytes += u->bytes;
		cur->unattributed_flushes += u->flushes;
		cur->unattributed[kept++] = *u;
	}
	cur->nunattributed = kept;
}

void report_subtract(struct wa_report *cur, const struct wa_report *prev)
{
	subtract_procs(cur, prev);
	subtract_files(cur, prev);
	subtract_devs(cur, prev);
	subtract_unattributed(cur, prev);
	sub_floor(&cur->ignored_bytes, prev->ignored_bytes);
	sub_floor(&cur->device_write_bytes, prev->device_write_bytes);
	subtract_u64s(cur->losses, prev->losses, WA_LOSS__COUNT);
	cur->interval = true;
}

static const char *const unattributed_ids[WA_UNATTR__COUNT] = {
	[WA_UNATTR_BEFORE_TRACE] = "dirtied-before-trace",
	[WA_UNATTR_KERNEL_DIRTIED] = "kernel-dirtied",
	[WA_UNATTR_SHARED_WRITERS] = "too-many-writers",
	[WA_UNATTR_METADATA] = "fs-metadata",
	[WA_UNATTR_JOURNAL_PERIODIC] = "journal-periodic",
	[WA_UNATTR_JOURNAL_SHARED] = "journal-others",
	[WA_UNATTR_NO_OWNER] = "no-owner",
	[WA_UNATTR_UNTRACKED_FILE] = "untracked-file",
};

static const char *const unattributed_texts[WA_UNATTR__COUNT] = {
	[WA_UNATTR_BEFORE_TRACE] = "page-cache data dirtied before tracing began",
	[WA_UNATTR_KERNEL_DIRTIED] = "pages dirtied by kernel threads (e.g. loop backing files)",
	[WA_UNATTR_SHARED_WRITERS] = "dirtied by more processes than a file record tracks",
	[WA_UNATTR_METADATA] = "filesystem metadata no process dirtied (e.g. checkpoints)",
	[WA_UNATTR_JOURNAL_PERIODIC] = "journal commits that no sync forced (periodic)",
	[WA_UNATTR_JOURNAL_SHARED] = "share of forced commits owed to other processes",
	[WA_UNATTR_NO_OWNER] = "bios from kernel threads with no page-cache owner",
	[WA_UNATTR_UNTRACKED_FILE] = "files the kernel table had no room for",
};

static const char *const loss_ids[WA_LOSS__COUNT] = {
	[WA_LOSS_PROC_MAP_FULL] = "process_table_full",
	[WA_LOSS_WRITER_MAP_FULL] = "writer_table_full",
	[WA_LOSS_FILE_MAP_FULL] = "file_table_full",
	[WA_LOSS_TXN_MAP_FULL] = "journal_table_full",
	[WA_LOSS_DEV_MAP_FULL] = "device_table_full",
	[WA_LOSS_RQ_MAP_FULL] = "request_table_full",
	[WA_LOSS_TASK_STORAGE] = "task_storage_failed",
	[WA_LOSS_IOV_TRUNCATED] = "iovec_truncated",
	[WA_LOSS_TXN_UNFINISHED] = "journal_commit_unseen",
	[WA_LOSS_STACK_MAP_FULL] = "stack_table_full",
	[WA_LOSS_STACK_ID] = "stack_not_stored",
	[WA_LOSS_STACK_SAMPLE] = "stack_sample_dropped",
	[WA_LOSS_STACK_DIRTY_FULL] = "stack_dirty_table_full",
};

static const char *const fd_class_ids[WA_FD__COUNT] = {
	[WA_FD_REGULAR] = "file", [WA_FD_BLOCKDEV] = "blockdev", [WA_FD_SOCKET] = "socket",
	[WA_FD_PIPE] = "pipe",	  [WA_FD_CHARDEV] = "chardev",	 [WA_FD_PSEUDOFS] = "pseudofs",
	[WA_FD_OTHER] = "other",
};

static const char *const sync_kind_ids[WA_SYNC__COUNT] = {
	[WA_SYNC_FSYNC] = "fsync",
	[WA_SYNC_FDATASYNC] = "fdatasync",
	[WA_SYNC_FILE_RANGE] = "sync_file_range",
	[WA_SYNC_MSYNC] = "msync",
	[WA_SYNC_SYNC] = "sync",
	[WA_SYNC_SYNCFS] = "syncfs",
};

const char *unattributed_id(enum wa_unattributed why)
{
	return why < WA_UNATTR__COUNT ? unattributed_ids[why] : "unknown";
}

const char *unattributed_text(enum wa_unattributed why)
{
	return why < WA_UNATTR__COUNT ? unattributed_texts[why] : "unknown";
}

const char *loss_id(enum wa_loss what)
{
	return what < WA_LOSS__COUNT ? loss_ids[what] : "unknown";
}

const char *fd_class_id(enum wa_fd_class c)
{
	return c < WA_FD__COUNT ? fd_class_ids[c] : "unknown";
}

const char *sync_kind_id(enum wa_sync_kind k)
{
	return k < WA_SYNC__COUNT ? sync_kind_ids[k] : "unknown";
}

const struct wa_stack_row *report_stacks_of(const struct wa_report *r, __u32 pid, size_t *n)
{
	size_t lo = 0, hi = r->nstacks, first;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->stacks[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < r->nstacks && r->stacks[lo].pid == pid)
		lo++;
	*n = lo - first;
	return *n ? &r->stacks[first] : NULL;
}

__u64 stack_device_bytes(const struct wa_stack_weights *w)
{
	return w->bytes[WA_CHARGE_DATA] + w->bytes[WA_CHARGE_METADATA] +
	       w->bytes[WA_CHARGE_JOURNAL];
}

__u64 stack_weight(const struct wa_stack_weights *w, enum wa_weight which)
{
	switch (which) {
	case WA_WEIGHT_DEVICE_BYTES:
		return stack_device_bytes(w);
	case WA_WEIGHT_SYNCS:
		return w->syncs;
	case WA_WEIGHT_CALLS:
		return w->calls;
	case WA_WEIGHT_APP_BYTES:
	default:
		return w->app_bytes;
	}
}

const char *weight_name(enum wa_weight which)
{
	static const char *const names[] = {
		[WA_WEIGHT_APP_BYTES] = "app bytes",
		[WA_WEIGHT_DEVICE_BYTES] = "device bytes",
		[WA_WEIGHT_SYNCS] = "syncs",
		[WA_WEIGHT_CALLS] = "calls",
	};

	return which < sizeof(names) / sizeof(names[0]) ? names[which] : "app bytes";
}
