// SPDX-License-Identifier: GPL-2.0
/*
 * findings.c: the rules that turn a report's figures into findings. Each rule looks at one
 * process; a process may show several patterns. Processes of one comm that show the same
 * pattern on the same file are one finding.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cgroups.h"
#include "findings.h"
#include "model.h"

#define PAGE_BYTES    4096ull
#define CONTAINER_LEN 256

/* What the rules see of one process. */
struct subject {
	const struct wa_report *r;
	const struct wa_proc_row *p;
	const struct wa_figures *f;
	const struct wa_file_row *file; /* its heaviest file by device bytes */
	__u64 syncs;
	__u64 device; /* all device bytes charged */
	__u64 data, journal, meta;
	double avg;		/* bytes per storage write */
	double syncs_per_write; /* NAN without writes */
	double amp;		/* device bytes per app byte */
	size_t files_synced;
};

struct rule {
	const char *id;
	const char *severity;
	const char *title;
	const char *advice;
	bool (*applies)(const struct subject *s, struct wa_finding *out);
};

static void evidence(struct wa_finding *f, const char *name, double value, const char *op,
		     double threshold, const char *unit)
{
	if (f->nevidence < FINDING_EVIDENCE_MAX)
		f->evidence[f->nevidence++] = (struct wa_evidence){name, value, op, threshold, unit};
}

static __u64 pages_of(__u64 bytes)
{
	return (bytes + PAGE_BYTES - 1) / PAGE_BYTES * PAGE_BYTES;
}

static __u64 above(__u64 what, __u64 floor)
{
	return what > floor ? what - floor : 0;
}

/*
 * What the device would have received had each written page gone out once: the estimate of
 * every saving below that batches writes or syncs.
 */
static __u64 saving_by_batching(const struct subject *s)
{
	return above(s->device, pages_of(s->f->write_bytes));
}

static bool small_sync_writes(const struct subject *s, struct wa_finding *out)
{
	if (s->syncs < FINDING_MIN_SYNCS || !(s->syncs_per_write >= FINDING_SYNCS_PER_WRITE) ||
	    !(s->avg < FINDING_SMALL_WRITE) || !(s->amp >= FINDING_MIN_AMPLIFICATION))
		return false;
	evidence(out, "avg_write_bytes", s->avg, "<", FINDING_SMALL_WRITE, "bytes");
	evidence(out, "syncs_per_write", s->syncs_per_write, ">=", FINDING_SYNCS_PER_WRITE,
		 "ratio");
	evidence(out, "sync_calls", (double)s->syncs, ">=", FINDING_MIN_SYNCS, "calls");
	evidence(out, "amplification", s->amp, ">=", FINDING_MIN_AMPLIFICATION, "ratio");
	/* fsync where fdatasync would do: the advice says when it would. */
	if (s->f->sync_calls[WA_SYNC_FSYNC])
		evidence(out, "fsync_calls", (double)s->f->sync_calls[WA_SYNC_FSYNC], ">", 0.0,
			 "calls");
	out->stake_bytes = s->device;
	out->saving_bytes = saving_by_batching(s);
	return true;
}

static bool tiny_buffered_writes(const struct subject *s, struct wa_finding *out)
{
	if (s->f->write_calls < FINDING_MIN_TINY_CALLS || !(s->avg < FINDING_TINY_WRITE) ||
	    !(s->syncs_per_write <= FINDING_BUFFERED_SYNC_RATIO))
		return false;
	evidence(out, "write_calls", (double)s->f->write_calls, ">=", FINDING_MIN_TINY_CALLS,
		 "calls");
	evidence(out, "avg_write_bytes", s->avg, "<", FINDING_TINY_WRITE, "bytes");
	evidence(out, "syncs_per_write", s->syncs_per_write, "<=", FINDING_BUFFERED_SYNC_RATIO,
		 "ratio");
	evidence(out, "writes_per_page", PAGE_BYTES / s->avg, ">=", PAGE_BYTES / FINDING_TINY_WRITE,
		 "calls");
	out->stake_bytes = s->device;
	out->saving_bytes = 0; /* the page cache already merges them: the cost is in syscalls */
	return true;
}

static bool sync_open_flags(const struct subject *s, struct wa_finding *out)
{
	__u64 opens = s->f->opens_sync + s->f->opens_dsync;

	if (!opens || !s->f->write_calls || !(s->avg < FINDING_SMALL_WRITE) ||
	    !(s->amp >= FINDING_MIN_AMPLIFICATION))
		return false;
	evidence(out, "sync_opens", (double)opens, ">", 0, "calls");
	evidence(out, "avg_write_bytes", s->avg, "<", FINDING_SMALL_WRITE, "bytes");
	evidence(out, "amplification", s->amp, ">=", FINDING_MIN_AMPLIFICATION, "ratio");
	out->stake_bytes = s->device;
	out->saving_bytes = saving_by_batching(s);
	return true;
}

static bool partial_page_overwrites(const struct subject *s, struct wa_finding *out)
{
	double page_amp = figures_page_amplification(s->f);
	double subpage = s->f->write_calls ? (double)s->f->subpage_calls / s->f->write_calls : 0;

	if (s->f->write_calls < FINDING_MIN_OVERWRITE_CALLS || !(page_amp >= FINDING_MIN_PAGE_AMP) ||
	    subpage < FINDING_SUBPAGE_SHARE || s->syncs_per_write >= FINDING_SYNCS_PER_WRITE)
		return false;
	evidence(out, "page_amplification", page_amp, ">=", FINDING_MIN_PAGE_AMP, "ratio");
	evidence(out, "subpage_write_share", subpage, ">=", FINDING_SUBPAGE_SHARE, "ratio");
	evidence(out, "syncs_per_write", isnan(s->syncs_per_write) ? 0 : s->syncs_per_write, "<",
		 FINDING_SYNCS_PER_WRITE, "ratio");
	out->stake_bytes = s->f->dirtied_bytes;
	out->saving_bytes = above(s->f->dirtied_bytes, pages_of(s->f->write_bytes));
	return true;
}

static bool journal_commit_per_sync(const struct subject *s, struct wa_finding *out)
{
	double per_sync = s->syncs ? (double)s->f->commits_forced / s->syncs : 0;

	if (s->syncs < FINDING_MIN_SYNCS || per_sync < FINDING_COMMITS_PER_SYNC || !s->journal)
		return false;
	evidence(out, "commits_per_sync", per_sync, ">=", FINDING_COMMITS_PER_SYNC, "ratio");
	evidence(out, "sync_calls", (double)s->syncs, ">=", FINDING_MIN_SYNCS, "calls");
	evidence(out, "journal_bytes_per_sync", (double)s->journal / s->syncs, ">", 0, "bytes");
	out->stake_bytes = s->journal + s->meta;
	/* A preallocated file's data syncs need no commit: its size and blocks do not change. */
	out->saving_bytes = s->journal + s->meta;
	return true;
}

static bool journal_dominates(const struct subject *s, struct wa_finding *out)
{
	__u64 overhead = s->journal + s->meta;
	double ratio = s->data ? (double)overhead / s->data : INFINITY;

	if (overhead < FINDING_MIN_STAKE_BYTES || ratio < FINDING_JOURNAL_DOMINANCE)
		return false;
	evidence(out, "journal_metadata_per_data", isinf(ratio) ? 1e9 : ratio, ">=",
		 FINDING_JOURNAL_DOMINANCE, "ratio");
	evidence(out, "journal_metadata_bytes", (double)overhead, ">=", FINDING_MIN_STAKE_BYTES,
		 "bytes");
	out->stake_bytes = overhead;
	out->saving_bytes = above(overhead, s->data);
	return true;
}

static bool overwritten_in_cache(const struct subject *s, struct wa_finding *out)
{
	double absorbed = s->f->dirtied_bytes ? (double)s->f->write_bytes / s->f->dirtied_bytes : 0;

	if (s->f->write_bytes < FINDING_MIN_STAKE_BYTES || absorbed < FINDING_ABSORBED_RATIO ||
	    !(s->syncs_per_write <= FINDING_BUFFERED_SYNC_RATIO))
		return false;
	evidence(out, "app_bytes_per_dirtied_byte", absorbed, ">=", FINDING_ABSORBED_RATIO,
		 "ratio");
	evidence(out, "app_bytes", (double)s->f->write_bytes, ">=", FINDING_MIN_STAKE_BYTES,
		 "bytes");
	out->stake_bytes = s->device;
	out->saving_bytes = 0; /* the cache absorbed them; the waste is the writes themselves */
	return true;
}

static bool files_synced_one_by_one(const struct subject *s, struct wa_finding *out)
{
	double per_sync = s->syncs ? (double)s->f->commits_forced / s->syncs : 0;

	if (s->files_synced < FINDING_MIN_SYNCED_FILES || s->syncs < FINDING_MIN_SYNCS ||
	    per_sync < FINDING_COMMITS_PER_SYNC)
		return false;
	evidence(out, "files_synced", (double)s->files_synced, ">=", FINDING_MIN_SYNCED_FILES,
		 "files");
	evidence(out, "commits_per_sync", per_sync, ">=", FINDING_COMMITS_PER_SYNC, "ratio");
	out->stake_bytes = s->journal + s->meta;
	/* One commit for all of them instead of one each. */
	out->saving_bytes = (s->journal + s->meta) - (s->journal + s->meta) / s->files_synced;
	return true;
}

static bool direct_io_small(const struct subject *s, struct wa_finding *out)
{
	if (!s->f->opens_direct || !s->f->write_calls ||
	    !(s->avg < FINDING_SMALL_WRITE || s->f->write_errors))
		return false;
	evidence(out, "direct_opens", (double)s->f->opens_direct, ">", 0, "calls");
	evidence(out, "avg_write_bytes", s->avg, "<", FINDING_SMALL_WRITE, "bytes");
	if (s->f->write_errors)
		evidence(out, "write_errors", (double)s->f->write_errors, ">", 0, "calls");
	out->stake_bytes = s->device;
	out->saving_bytes = saving_by_batching(s);
	return true;
}

static bool nonstorage_writes(const struct subject *s, struct wa_finding *out)
{
	__u64 calls = 0, bytes = 0;

	for (int c = 0; c < WA_FD__COUNT; c++) {
		calls += s->f->ns_calls[c];
		bytes += s->f->ns_bytes[c];
	}
	if (calls < FINDING_MIN_NONSTORAGE_CALLS || calls < s->f->write_calls)
		return false;
	evidence(out, "nonstorage_calls", (double)calls, ">=", FINDING_MIN_NONSTORAGE_CALLS,
		 "calls");
	evidence(out, "nonstorage_bytes", (double)bytes, ">", 0, "bytes");
	evidence(out, "storage_calls", (double)s->f->write_calls, "<=", (double)calls, "calls");
	out->stake_bytes = 0;
	out->saving_bytes = 0;
	return true;
}

static const struct rule rules[] = {
	{"small-sync-writes", "high", "small writes, each followed by a sync",
	 "Group the writes and sync once per group (group commit), or sync on a timer; where "
	 "only the data must be durable and the file does not grow, use fdatasync instead of "
	 "fsync.",
	 small_sync_writes},
	{"sync-open-flags", "high", "small writes to a file opened O_SYNC or O_DSYNC",
	 "Open without O_SYNC/O_DSYNC and call fdatasync once per batch of writes, or make each "
	 "write a whole multiple of the page size.",
	 sync_open_flags},
	{"journal-commit-per-sync", "medium", "each sync forces a journal commit",
	 "Syncs of a file that grows (or whose blocks are not yet allocated) must commit the "
	 "journal. Preallocate the file (fallocate, or write it once at its final size) and "
	 "reuse it, so that fdatasync writes data only.",
	 journal_commit_per_sync},
	{"many-files-synced", "medium", "many files, each synced on its own",
	 "Sync the files together: write all, then fsync each (the commits merge), or use "
	 "syncfs, or keep the records in fewer files.",
	 files_synced_one_by_one},
	{"journal-metadata-dominant", "medium", "journal and metadata bytes dwarf data bytes",
	 "The filesystem writes more about the data than the data itself: batch syncs, "
	 "preallocate growing files, and mount with noatime or lazytime.",
	 journal_dominates},
	{"partial-page-overwrite", "medium", "small overwrites, each dirtying a whole page",
	 "Write whole, page-aligned blocks (buffer records up to 4 KiB), or group updates that "
	 "touch the same pages; an uncached partial page also has to be read first.",
	 partial_page_overwrites},
	{"direct-io-small", "medium", "O_DIRECT writes smaller than a page",
	 "Make each O_DIRECT write a multiple of the device's logical and physical block size, "
	 "aligned to it, or drop O_DIRECT for small writes.",
	 direct_io_small},
	{"tiny-buffered-writes", "low", "many tiny buffered writes",
	 "Buffer in the application (stdio, a 64 KiB buffer) and write whole pages: each "
	 "write() costs a syscall and a page-cache copy.",
	 tiny_buffered_writes},
	{"overwritten-before-writeback", "low", "writes overwritten in the cache before writeback",
	 "The same bytes are written again before they reach the disk: keep the state in memory "
	 "and write the final version.",
	 overwritten_in_cache},
	{"nonstorage-writes", "info", "write() calls that are not storage writes",
	 "These are socket, pipe or tty writes; a per-syscall count (bpftrace on "
	 "sys_enter_write) would have counted them as storage. Nothing to change on the disk "
	 "side.",
	 nonstorage_writes},
};

static const struct wa_file_row *heaviest_file(const struct wa_report *r, __u32 pid)
{
	const struct wa_file_row *best = NULL;
	__u64 best_bytes = 0;

	for (size_t i = 0; i < r->nfiles; i++) {
		const struct wa_file_row *f = &r->files[i];
		__u64 bytes = 0;

		if (f->writer_pid != pid && f->forcer_pid != pid)
			continue;
		for (int c = 0; c < WA_CHARGE__COUNT; c++)
			bytes += f->charged.bytes[c];
		bytes += f->write_bytes; /* ties between unwritten-back files go to the app bytes */
		if (!best || bytes > best_bytes) {
			best = f;
			best_bytes = bytes;
		}
	}
	return best;
}

static size_t files_synced_by(const struct wa_report *r, __u32 pid)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nfiles; i++)
		if (r->files[i].sync_calls && !r->files[i].is_bdev &&
		    (r->files[i].writer_pid == pid || r->files[i].forcer_pid == pid))
			n++;
	return n;
}

static struct subject subject_of(const struct wa_report *r, const struct wa_proc_row *p)
{
	const struct wa_figures *f = &p->f;
	struct subject s = {.r = r, .p = p, .f = f};

	s.syncs = figures_sync_calls(f);
	s.data = f->dev.bytes[WA_CHARGE_DATA];
	s.journal = f->dev.bytes[WA_CHARGE_JOURNAL];
	s.meta = f->dev.bytes[WA_CHARGE_METADATA];
	s.device = s.data + s.journal + s.meta;
	s.avg = figures_avg_write(f);
	s.syncs_per_write = figures_syncs_per_write(f);
	s.amp = figures_amplification(f);
	s.file = heaviest_file(r, p->pid);
	s.files_synced = files_synced_by(r, p->pid);
	return s;
}

static const char *container_of(const struct wa_proc_row *p, char *buf, size_t len)
{
	if (!p->cgroup || !p->cgroup->in_container)
		return NULL;
	return container_display_name(p->cgroup, buf, len);
}

static bool same_finding(const struct wa_finding *a, const struct wa_finding *b)
{
	return a->id == b->id && !strcmp(a->comm, b->comm) &&
	       ((!a->file && !b->file) || (a->file && b->file && !strcmp(a->file, b->file))) &&
	       ((!a->container && !b->container) ||
		(a->container && b->container && !strcmp(a->container, b->container)));
}

/*
 * Adds f (returns 0), or folds it into the same pattern of an earlier process of that comm
 * (returns 1, and f's own strings are the caller's to free). -1: out of memory.
 */
static int add_finding(struct wa_report *r, const struct wa_finding *f)
{
	struct wa_finding *grown;

	for (size_t i = 0; i < r->nfindings; i++) {
		struct wa_finding *g = &r->findings[i];

		if (!same_finding(g, f))
			continue;
		g->stake_bytes += f->stake_bytes;
		g->saving_bytes += f->saving_bytes;
		g->processes++;
		return 1;
	}
	grown = realloc(r->findings, (r->nfindings + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	r->findings = grown;
	r->findings[r->nfindings++] = *f;
	return 0;
}

static char *copy_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int diagnose_process(struct wa_report *r, const struct wa_proc_row *p)
{
	struct subject s = subject_of(r, p);
	char container[CONTAINER_LEN];
	const char *software = software_of(p->comm, p->cmdline);
	int rc;

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct wa_finding f = {
			.id = rules[i].id,
			.severity = rules[i].severity,
			.title = rules[i].title,
			.advice = rules[i].advice,
			.pid = p->pid,
			.software = software,
			.processes = 1,
		};

		if (!rules[i].applies(&s, &f))
			continue;
		f.comm = p->comm;
		f.file = s.file ? s.file->path : NULL;
		f.container = copy_or_null(container_of(p, container, sizeof(container)));
		f.software_advice = software_advice_for(software, f.id);
		rc = add_finding(r, &f);
		if (rc)
			free((char *)f.container);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int by_stake(const void *a, const void *b)
{
	const struct wa_finding *x = a, *y = b;

	if (x->stake_bytes != y->stake_bytes)
		return x->stake_bytes > y->stake_bytes ? -1 : 1;
	if (x->saving_bytes != y->saving_bytes)
		return x->saving_bytes > y->saving_bytes ? -1 : 1;
	return strcmp(x->id, y->id);
}

int findings_build(struct wa_report *r)
{
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct wa_proc_row *p = &r->procs[i];

		if (p->overflow || !figures_any(&p->f))
			continue;
		if (diagnose_process(r, p)) {
			findings_free(r);
			return -1;
		}
	}
	if (r->nfindings)
		qsort(r->findings, r->nfindings, sizeof(*r->findings), by_stake);
	return 0;
}

void findings_free(struct wa_report *r)
{
	for (size_t i = 0; i < r->nfindings; i++)
		free((char *)r->findings[i].container);
	free(r->findings);
	r->findings = NULL;
	r->nfindings = 0;
}
