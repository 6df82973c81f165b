// SPDX-License-Identifier: GPL-2.0
/*
 * findings.c: the rules that turn a report's figures into findings. Each rule looks at one
 * process; a process may show several patterns. Processes of one comm that show the same
 * pattern on the same file are one finding.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cgroups.h"
#include "findings.h"
#include "model.h"

#define PAGE_BYTES    4096ull
#define CONTAINER_LEN 256

/* Which of the process's files a finding names. */
enum file_pick {
	PICK_DEVICE,  /* the most device bytes (and app bytes) */
	PICK_SYNCED,  /* of the files it synced, the most device bytes */
	PICK_DIRTIED, /* the most page-cache bytes dirtied */
	PICK_DIRECT,  /* the O_DIRECT files: the most device bytes, else the most refused writes */
	PICK_NONE,    /* the finding is about no file (writes to sockets, pipes, ttys) */
};

/*
 * A process's writes through O_DIRECT fds (the kernel's writer records keep the fd flags),
 * and the device bytes of the files that took bios without page-cache pages. Refused writes
 * are misaligned ones: direct I/O fails with EINVAL on ext4 and xfs.
 */
struct direct_writes {
	__u64 calls;	/* O_DIRECT writes that went through */
	__u64 bytes;	/* what those writes wrote */
	__u64 device;	/* device bytes charged to the files that took O_DIRECT bios */
	__u64 rejected; /* O_DIRECT writes that failed */
};

/* What the rules see of one process. */
struct subject {
	const struct wa_report *r;
	const struct wa_proc_row *p;
	const struct wa_figures *f;
	__u64 syncs;
	__u64 device; /* all device bytes charged */
	__u64 data, journal, meta;
	double avg;		/* bytes per storage write; NAN without writes */
	double syncs_per_write; /* NAN without writes */
	double amp;		/* device bytes per app byte; NAN without app bytes */
	double seconds;		/* traced time, NAN when unknown */
	double sync_rate;	/* syncs per second, NAN when the time is unknown */
	double bytes_per_sync;	/* app bytes per sync, NAN without syncs */
	double device_per_sync; /* device bytes per sync, NAN without syncs */
	double commits_per_sync;
	size_t files_synced;
	struct direct_writes direct;
};

struct rule {
	const char *id;
	const char *severity;
	const char *title;
	const char *advice;
	enum file_pick pick;
	const char *superseded_by; /* not reported when that rule fires for the same process */
	bool (*applies)(const struct subject *s, struct wa_finding *out);
};

static double ratio(double num, double den)
{
	return den > 0 ? num / den : NAN;
}

/* Evidence values are always finite: the outputs print them as numbers. */
static double printable(double v)
{
	if (isnan(v))
		return 0;
	if (isinf(v))
		return v > 0 ? 1e18 : -1e18;
	return v;
}

static void evidence(struct wa_finding *f, const char *name, double value, const char *op,
		     double threshold, const char *unit)
{
	if (f->nevidence < FINDING_EVIDENCE_MAX)
		f->evidence[f->nevidence++] = (struct wa_evidence){name, printable(value), op,
								   printable(threshold), unit};
}

static __u64 pages_of(__u64 bytes)
{
	if (bytes > UINT64_MAX - PAGE_BYTES)
		return bytes;
	return (bytes + PAGE_BYTES - 1) / PAGE_BYTES * PAGE_BYTES;
}

static __u64 above(__u64 what, __u64 floor)
{
	return what > floor ? what - floor : 0;
}

/*
 * What the device would have received had each written page gone out once: the estimate of
 * every saving below that batches writes or syncs. It is a lower bound: writes that rewrite
 * whole pages (a log's last page, again at every commit) count as new data.
 */
static __u64 saving_by_batching(const struct subject *s)
{
	return above(s->device, pages_of(s->f->write_bytes));
}

/* Enough syncs, often enough: the gate of every sync rule. */
static bool sync_bound(const struct subject *s)
{
	return s->syncs >= FINDING_MIN_SYNCS &&
	       (isnan(s->sync_rate) || s->sync_rate >= FINDING_MIN_SYNC_RATE);
}

static void sync_evidence(const struct subject *s, struct wa_finding *out)
{
	evidence(out, "sync_calls", (double)s->syncs, ">=", FINDING_MIN_SYNCS, "calls");
	if (!isnan(s->sync_rate))
		evidence(out, "syncs_per_second", s->sync_rate, ">=", FINDING_MIN_SYNC_RATE,
			 "rate");
}

static bool small_sync_writes(const struct subject *s, struct wa_finding *out)
{
	double fsync_share = ratio((double)s->f->sync_calls[WA_SYNC_FSYNC], (double)s->syncs);

	if (!sync_bound(s) || !s->f->write_bytes ||
	    !(s->bytes_per_sync < FINDING_SMALL_SYNC_BYTES) ||
	    !(s->device_per_sync >= FINDING_MIN_DEVICE_PER_SYNC))
		return false;
	evidence(out, "app_bytes_per_sync", s->bytes_per_sync, "<", FINDING_SMALL_SYNC_BYTES,
		 "bytes");
	evidence(out, "device_bytes_per_sync", s->device_per_sync,
		 ">=", FINDING_MIN_DEVICE_PER_SYNC, "bytes");
	sync_evidence(s, out);
	/* fsync where fdatasync would do: the advice says when it would. */
	if (fsync_share >= FINDING_FSYNC_SHARE)
		evidence(out, "fsync_share", fsync_share, ">=", FINDING_FSYNC_SHARE, "ratio");
	out->stake_bytes = s->device;
	out->saving_bytes = saving_by_batching(s);
	return true;
}

static bool tiny_buffered_writes(const struct subject *s, struct wa_finding *out)
{
	if (s->f->write_calls < FINDING_MIN_TINY_CALLS || !s->f->write_bytes ||
	    !(s->avg < FINDING_TINY_WRITE) || !(s->syncs_per_write <= FINDING_BUFFERED_SYNC_RATIO))
		return false;
	evidence(out, "write_calls", (double)s->f->write_calls, ">=", FINDING_MIN_TINY_CALLS,
		 "calls");
	evidence(out, "avg_write_bytes", s->avg, "<", FINDING_TINY_WRITE, "bytes");
	evidence(out, "syncs_per_write", s->syncs_per_write, "<=", FINDING_BUFFERED_SYNC_RATIO,
		 "ratio");
	evidence(out, "writes_per_page", PAGE_BYTES / s->avg, ">", PAGE_BYTES / FINDING_TINY_WRITE,
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

/*
 * The pages the writes cost, at block granularity: the data written back for the process, or
 * the page-cache bytes it dirtied when the kernel dirtied single pages. A large folio is
 * reported dirtied whole, whatever the write touched (ext4 still writes back only the dirty
 * blocks), so then only writeback tells. At most the write's bytes plus two pages per write.
 */
static __u64 pages_dirtied(const struct wa_figures *f)
{
	__u64 folio = f->dirtied_pages ? f->dirtied_bytes / f->dirtied_pages : 0;
	__u64 dirtied = folio && folio <= FINDING_MAX_DIRTY_FOLIO ? f->dirtied_bytes : 0;
	__u64 data = f->dev.bytes[WA_CHARGE_DATA];
	__u64 got = dirtied > data ? dirtied : data;
	__u64 most = f->write_bytes + 2 * PAGE_BYTES * f->write_calls;

	if (f->write_calls > UINT64_MAX / (4 * PAGE_BYTES) || most < f->write_bytes)
		return got; /* no bound without overflow */
	return got < most ? got : most;
}

static bool partial_page_overwrites(const struct subject *s, struct wa_finding *out)
{
	__u64 dirtied = pages_dirtied(s->f);
	double page_amp = ratio((double)dirtied, (double)s->f->write_bytes);
	double subpage = ratio((double)s->f->subpage_calls, (double)s->f->write_calls);

	if (s->f->write_calls < FINDING_MIN_OVERWRITE_CALLS ||
	    !(page_amp >= FINDING_MIN_PAGE_AMP) || !(subpage >= FINDING_SUBPAGE_SHARE) ||
	    !(s->syncs_per_write < FINDING_SYNCS_PER_WRITE))
		return false;
	evidence(out, "page_bytes_per_app_byte", page_amp, ">=", FINDING_MIN_PAGE_AMP, "ratio");
	evidence(out, "subpage_write_share", subpage, ">=", FINDING_SUBPAGE_SHARE, "ratio");
	evidence(out, "write_calls", (double)s->f->write_calls, ">=", FINDING_MIN_OVERWRITE_CALLS,
		 "calls");
	evidence(out, "syncs_per_write", s->syncs_per_write, "<", FINDING_SYNCS_PER_WRITE, "ratio");
	out->stake_bytes = dirtied;
	out->saving_bytes = above(dirtied, pages_of(s->f->write_bytes));
	return true;
}

/*
 * Without forced commits jbd2 still commits every FINDING_COMMIT_INTERVAL_S: the journal bytes
 * of that many commits (one at least) stay.
 */
static __u64 journal_saving(const struct subject *s)
{
	double per_commit = ratio((double)s->journal, (double)s->f->commits_forced);
	double left = isnan(s->seconds) ? 1 : ceil(s->seconds / FINDING_COMMIT_INTERVAL_S);

	if (isnan(per_commit))
		return 0;
	if (left < 1)
		left = 1;
	if (left > (double)s->f->commits_forced)
		left = (double)s->f->commits_forced;
	return above(s->journal + s->meta, (__u64)(per_commit * left));
}

static bool journal_commit_per_sync(const struct subject *s, struct wa_finding *out)
{
	if (!sync_bound(s) || s->f->commits_forced < FINDING_MIN_COMMITS ||
	    !(s->commits_per_sync >= FINDING_COMMITS_PER_SYNC) || !s->journal)
		return false;
	evidence(out, "commits_per_sync", s->commits_per_sync, ">=", FINDING_COMMITS_PER_SYNC,
		 "ratio");
	evidence(out, "commits_forced", (double)s->f->commits_forced, ">=", FINDING_MIN_COMMITS,
		 "calls");
	sync_evidence(s, out);
	evidence(out, "journal_bytes_per_commit",
		 ratio((double)s->journal, (double)s->f->commits_forced), ">", 0, "bytes");
	out->stake_bytes = s->journal + s->meta;
	/* A preallocated, reused file's data syncs need no commit: its size and blocks stay. */
	out->saving_bytes = journal_saving(s);
	return true;
}

static bool journal_dominates(const struct subject *s, struct wa_finding *out)
{
	__u64 overhead = s->journal + s->meta;
	double per_data = s->data ? (double)overhead / (double)s->data : INFINITY;

	if (overhead < FINDING_MIN_STAKE_BYTES || !(per_data >= FINDING_JOURNAL_DOMINANCE))
		return false;
	evidence(out, "journal_metadata_per_data", isinf(per_data) ? 1e9 : per_data,
		 ">=", FINDING_JOURNAL_DOMINANCE, "ratio");
	evidence(out, "journal_metadata_bytes", (double)overhead, ">=", FINDING_MIN_STAKE_BYTES,
		 "bytes");
	out->stake_bytes = overhead;
	out->saving_bytes = above(overhead, s->data);
	return true;
}

/*
 * The page bytes as pages_dirtied counts them: a large folio is reported dirtied whole, which
 * would hide how much of the writing the cache absorbed.
 */
static bool overwritten_in_cache(const struct subject *s, struct wa_finding *out)
{
	double absorbed = ratio((double)s->f->write_bytes, (double)pages_dirtied(s->f));

	if (s->f->write_bytes < FINDING_MIN_STAKE_BYTES || !(absorbed >= FINDING_ABSORBED_RATIO) ||
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
	__u64 overhead = s->journal + s->meta;

	if (s->files_synced < FINDING_MIN_SYNCED_FILES || !sync_bound(s) ||
	    !(s->commits_per_sync >= FINDING_COMMITS_PER_SYNC))
		return false;
	evidence(out, "files_synced", (double)s->files_synced, ">=", FINDING_MIN_SYNCED_FILES,
		 "files");
	evidence(out, "commits_per_sync", s->commits_per_sync, ">=", FINDING_COMMITS_PER_SYNC,
		 "ratio");
	sync_evidence(s, out);
	out->stake_bytes = overhead;
	/* One commit for all of them instead of one each. */
	out->saving_bytes = overhead - overhead / s->files_synced;
	return true;
}

static double direct_bytes_per_write(const struct direct_writes *d)
{
	return ratio((double)d->bytes, (double)d->calls);
}

/* Under a block, the filesystem must zero or read around the rest of the block on the device. */
static bool direct_writes_under_a_block(const struct direct_writes *d)
{
	return d->calls >= FINDING_MIN_DIRECT_CALLS &&
	       direct_bytes_per_write(d) < FINDING_DIRECT_BLOCK;
}

static bool direct_io_small(const struct subject *s, struct wa_finding *out)
{
	const struct direct_writes *d = &s->direct;
	bool small = direct_writes_under_a_block(d);

	if (!small && !d->rejected)
		return false;
	if (small) {
		evidence(out, "direct_write_calls", (double)d->calls,
			 ">=", FINDING_MIN_DIRECT_CALLS, "calls");
		evidence(out, "direct_bytes_per_write", direct_bytes_per_write(d), "<",
			 FINDING_DIRECT_BLOCK, "bytes");
	}
	/* Not the O_DIRECT opens: under `report` the file was often opened before tracing. */
	if (d->rejected)
		evidence(out, "direct_writes_rejected", (double)d->rejected, ">", 0, "calls");
	out->stake_bytes = d->device;
	/* Whole, aligned blocks would have cost the device each page written, once. */
	out->saving_bytes = above(d->device, pages_of(d->bytes));
	return true;
}

static bool nonstorage_writes(const struct subject *s, struct wa_finding *out)
{
	__u64 calls = 0, bytes = 0;

	for (int c = 0; c < WA_FD__COUNT; c++) {
		calls += s->f->ns_calls[c];
		bytes += s->f->ns_bytes[c];
	}
	if (calls < FINDING_MIN_NONSTORAGE_CALLS || calls <= s->f->write_calls)
		return false;
	evidence(out, "nonstorage_calls", (double)calls, ">=", FINDING_MIN_NONSTORAGE_CALLS,
		 "calls");
	evidence(out, "nonstorage_bytes", (double)bytes, ">", 0, "bytes");
	evidence(out, "storage_calls", (double)s->f->write_calls, "<", (double)calls, "calls");
	out->stake_bytes = 0;
	out->saving_bytes = 0;
	return true;
}

static const struct rule rules[] = {
	{"small-sync-writes", "high", "little data made durable per sync, many times a second",
	 "Group the writes and sync once per group (group commit), or sync on a timer; where "
	 "only the data must be durable and the file does not grow, use fdatasync instead of "
	 "fsync.",
	 PICK_SYNCED, NULL, small_sync_writes},
	{"sync-open-flags", "high", "small writes to a file opened O_SYNC or O_DSYNC",
	 "Open without O_SYNC/O_DSYNC and call fdatasync once per batch of writes, or make each "
	 "write a whole multiple of the page size.",
	 PICK_DEVICE, NULL, sync_open_flags},
	{"journal-commit-per-sync", "medium", "the syncs keep forcing journal commits",
	 "Syncs of a file that grows, was just created or whose blocks are not yet allocated "
	 "must commit the journal. Preallocate the file (fallocate, or write it once at its "
	 "final size) and reuse it, so that fdatasync writes data only.",
	 PICK_SYNCED, NULL, journal_commit_per_sync},
	{"many-files-synced", "medium", "many files, each synced on its own",
	 "Sync the files together: write all, then fsync each (the commits merge), or use "
	 "syncfs, or keep the records in fewer files.",
	 PICK_SYNCED, NULL, files_synced_one_by_one},
	{"journal-metadata-dominant", "medium", "journal and metadata bytes dwarf data bytes",
	 "The filesystem writes more about the data than the data itself: batch syncs, "
	 "preallocate growing files, and mount with noatime or lazytime.",
	 PICK_DEVICE, "journal-commit-per-sync", journal_dominates},
	{"partial-page-overwrite", "medium", "small overwrites, each dirtying a whole page",
	 "Write whole, page-aligned blocks (buffer records up to 4 KiB), or group updates that "
	 "touch the same pages; an uncached partial page also has to be read first.",
	 PICK_DIRTIED, NULL, partial_page_overwrites},
	{"direct-io-small", "medium",
	 "O_DIRECT writes smaller than a filesystem block, or refused as misaligned",
	 "Make each O_DIRECT write a whole number of filesystem blocks (and so of the device's "
	 "logical and physical blocks), at an offset and from a buffer aligned to them, or drop "
	 "O_DIRECT for small writes.",
	 PICK_DIRECT, NULL, direct_io_small},
	{"tiny-buffered-writes", "low", "many tiny buffered writes",
	 "Buffer in the application (stdio, a 64 KiB buffer) and write whole pages: each "
	 "write() costs a syscall and a page-cache copy.",
	 PICK_DEVICE, NULL, tiny_buffered_writes},
	{"overwritten-before-writeback", "low", "writes overwritten in the cache before writeback",
	 "The same bytes are written again before they reach the disk: keep the state in memory "
	 "and write the final version.",
	 PICK_DIRTIED, NULL, overwritten_in_cache},
	{"nonstorage-writes", "info", "write() calls that are not storage writes",
	 "These are socket, pipe or tty writes; a per-syscall count (bpftrace on "
	 "sys_enter_write) would have counted them as storage. Nothing to change on the disk "
	 "side.",
	 PICK_NONE, NULL, nonstorage_writes},
};

#define NRULES (sizeof(rules) / sizeof(rules[0]))

static bool involves(const struct wa_file_row *f, __u32 pid)
{
	return f->writer_pid == pid || f->forcer_pid == pid;
}

/* Bios without page-cache pages, issued in a writer's context: O_DIRECT writes. */
static bool took_direct_io(const struct wa_file_row *f)
{
	return f->charged.direct_bytes > 0;
}

static bool writes_all_failed(const struct wa_file_row *f)
{
	return f->write_calls && !f->write_bytes && !took_direct_io(f);
}

/* How much a file weighs for a pick; 0 leaves it out. */
static __u64 file_weight(const struct wa_file_row *f, enum file_pick pick)
{
	/* ties between files not yet written back go to the app bytes */
	__u64 device = charge_bytes(&f->charged) + f->write_bytes;

	switch (pick) {
	case PICK_SYNCED:
		return f->sync_calls ? device + 1 : 0;
	case PICK_DIRTIED:
		return f->dirtied_bytes + f->charged.bytes[WA_CHARGE_DATA];
	case PICK_DIRECT:
		if (took_direct_io(f))
			return charge_bytes(&f->charged) + f->write_calls + 1;
		return writes_all_failed(f) ? f->write_calls : 0;
	case PICK_DEVICE:
	default:
		return device + 1;
	}
}

/* The process's heaviest file for the pick; block devices only when no file qualifies. */
static const struct wa_file_row *file_of(const struct wa_report *r, __u32 pid, enum file_pick pick)
{
	const struct wa_file_row *best = NULL, *best_bdev = NULL;
	__u64 best_w = 0, best_bdev_w = 0;

	if (pick == PICK_NONE)
		return NULL;
	for (size_t i = 0; r->files && i < r->nfiles; i++) {
		const struct wa_file_row *f = &r->files[i];
		__u64 w = involves(f, pid) ? file_weight(f, pick) : 0;

		if (w && !f->is_bdev && w > best_w) {
			best = f;
			best_w = w;
		} else if (w && f->is_bdev && w > best_bdev_w) {
			best_bdev = f;
			best_bdev_w = w;
		}
	}
	if (!best && pick != PICK_DEVICE)
		return file_of(r, pid, PICK_DEVICE);
	return best ? best : best_bdev;
}

static size_t files_synced_by(const struct wa_report *r, __u32 pid)
{
	size_t n = 0;

	for (size_t i = 0; r->files && i < r->nfiles; i++)
		if (r->files[i].sync_calls && !r->files[i].is_bdev && involves(&r->files[i], pid))
			n++;
	return n;
}

static struct direct_writes direct_writes_of(const struct wa_report *r, const struct wa_proc_row *p)
{
	struct direct_writes d = {0};

	for (size_t i = 0; r->files && i < r->nfiles; i++)
		if (involves(&r->files[i], p->pid) && took_direct_io(&r->files[i]))
			d.device += charge_bytes(&r->files[i].charged);
	d.calls = above(p->f.direct_write_calls, p->f.direct_write_refused);
	d.bytes = p->f.direct_write_bytes;
	d.rejected = p->f.direct_write_refused;
	return d;
}

/* The traced time: run's settle wait after the command is not time the process ran. */
static double traced_seconds(const struct wa_report *r)
{
	double t = r->duration_s;

	if (r->mode && !strcmp(r->mode, "run") && isfinite(r->settle_waited_s) &&
	    r->settle_waited_s > 0)
		t -= r->settle_waited_s;
	return isfinite(t) && t > 0 ? t : NAN;
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
	s.seconds = traced_seconds(r);
	s.sync_rate = ratio((double)s.syncs, s.seconds);
	s.bytes_per_sync = ratio((double)f->write_bytes, (double)s.syncs);
	s.device_per_sync = ratio((double)s.device, (double)s.syncs);
	s.commits_per_sync = ratio((double)f->commits_forced, (double)s.syncs);
	s.files_synced = files_synced_by(r, p->pid);
	s.direct = direct_writes_of(r, p);
	return s;
}

static const char *container_of(const struct wa_proc_row *p, char *buf, size_t len)
{
	if (!p->cgroup || !p->cgroup->in_container)
		return NULL;
	return container_display_name(p->cgroup, buf, len);
}

static bool same_string(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_finding(const struct wa_finding *a, const struct wa_finding *b)
{
	return same_string(a->id, b->id) && same_string(a->comm, b->comm) &&
	       same_string(a->file, b->file) && same_string(a->container, b->container);
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

static bool fired_by_id(const bool *fired, const char *id)
{
	for (size_t i = 0; id && i < NRULES; i++)
		if (fired[i] && !strcmp(rules[i].id, id))
			return true;
	return false;
}

static int report_finding(struct wa_report *r, const struct subject *s, const struct rule *rule,
			  struct wa_finding *f)
{
	const struct wa_file_row *file = file_of(r, s->p->pid, rule->pick);
	char container[CONTAINER_LEN];
	int rc;

	f->comm = s->p->comm;
	f->file = file ? file->path : NULL;
	f->container = copy_or_null(container_of(s->p, container, sizeof(container)));
	f->software_advice = software_advice_for(f->software, f->id);
	rc = add_finding(r, f);
	if (rc)
		free((char *)f->container);
	return rc < 0 ? -1 : 0;
}

static int diagnose_process(struct wa_report *r, const struct wa_proc_row *p)
{
	struct subject s = subject_of(r, p);
	const char *software = software_of(p->comm, p->cmdline, p->libraries);
	struct wa_finding found[NRULES];
	bool fired[NRULES];

	for (size_t i = 0; i < NRULES; i++) {
		found[i] = (struct wa_finding){
			.id = rules[i].id,
			.severity = rules[i].severity,
			.title = rules[i].title,
			.advice = rules[i].advice,
			.pid = p->pid,
			.software = software,
			.processes = 1,
		};
		fired[i] = rules[i].applies(&s, &found[i]);
	}
	for (size_t i = 0; i < NRULES; i++)
		if (fired[i] && !fired_by_id(fired, rules[i].superseded_by) &&
		    report_finding(r, &s, &rules[i], &found[i]))
			return -1;
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
	if (!r)
		return -1;
	for (size_t i = 0; r->procs && i < r->nprocs; i++) {
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
	if (!r)
		return;
	for (size_t i = 0; i < r->nfindings; i++)
		free((char *)r->findings[i].container);
	free(r->findings);
	r->findings = NULL;
	r->nfindings = 0;
}
