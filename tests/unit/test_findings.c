/*
 * test_findings.c: the finding rules on constructed reports. Each case builds the figures a
 * workload would produce, works out what the rules should say from those figures, and checks
 * the findings; odd input (nothing written, NAN durations, no files, NULL names) must not crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "model.h"

#define PAGE	   4096ull
#define MAX_PROCS  4
#define MAX_FILES  12 /* more than FINDING_MIN_SYNCED_FILES */
#define AOF_PATH   "/var/lib/redis/appendonlydir/appendonly.aof.1.incr.aof"
#define NO_FINDING ((size_t)-1)

struct fixture {
	struct wa_report r;
	struct wa_proc_row procs[MAX_PROCS];
	struct wa_file_row files[MAX_FILES];
};

static void init(struct fixture *x, double seconds)
{
	memset(x, 0, sizeof(*x));
	x->r.mode = "report";
	x->r.duration_s = seconds;
	x->r.procs = x->procs;
	x->r.files = x->files;
}

static struct wa_proc_row *add_proc(struct fixture *x, __u32 pid, const char *comm,
				    const char *cmdline)
{
	struct wa_proc_row *p = &x->procs[x->r.nprocs++];

	p->pid = pid;
	strncpy(p->comm, comm, WA_COMM_LEN);
	p->cmdline = cmdline;
	return p;
}

static struct wa_file_row *add_file(struct fixture *x, __u32 pid, const char *path, __u64 syncs,
				    __u64 data)
{
	struct wa_file_row *f = &x->files[x->r.nfiles++];

	f->path = path;
	f->writer_pid = pid;
	f->forcer_pid = pid;
	f->sync_calls = syncs;
	f->charged.bytes[WA_CHARGE_DATA] = data;
	return f;
}

static size_t find(const struct wa_report *r, const char *id)
{
	for (size_t i = 0; i < r->nfindings; i++)
		if (!strcmp(r->findings[i].id, id))
			return i;
	return NO_FINDING;
}

static const struct wa_evidence *evidence_of(const struct wa_finding *f, const char *name)
{
	for (size_t i = 0; i < f->nevidence; i++)
		if (!strcmp(f->evidence[i].name, name))
			return &f->evidence[i];
	return NULL;
}

static __u64 pages_of(__u64 bytes)
{
	return (bytes + PAGE - 1) / PAGE * PAGE;
}

/* redis, appendfsync always: one 45-byte AOF write and one fdatasync per SET. */
static void redis_always(struct wa_proc_row *p, __u64 sets)
{
	p->f.write_calls = sets;
	p->f.write_bytes = 45 * sets;
	p->f.subpage_calls = sets;
	p->f.sync_calls[WA_SYNC_FDATASYNC] = sets;
	p->f.dev.bytes[WA_CHARGE_DATA] = PAGE * sets;	  /* the AOF's last block, again */
	p->f.dev.bytes[WA_CHARGE_METADATA] = PAGE * sets; /* its inode block */
}

static void test_redis_always_is_small_sync_writes(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;
	const struct wa_finding *f;
	const struct wa_evidence *e;
	size_t i;
	__u64 sets = 5000, device = 2 * PAGE * sets;

	(void)state;
	init(&x, 5.0);
	p = add_proc(&x, 100, "redis-server", NULL);
	redis_always(p, sets);
	add_file(&x, 100, "/var/lib/redis/redis.log", 0, 0)->write_bytes = 1000;
	add_file(&x, 100, AOF_PATH, sets, PAGE * sets);
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "small-sync-writes");
	assert_true(i != NO_FINDING);
	f = &x.r.findings[i];
	assert_int_equal(f->pid, 100);
	assert_string_equal(f->software, "redis");
	assert_string_equal(f->file, AOF_PATH);
	assert_non_null(f->software_advice);
	assert_string_equal(f->software_advice->setting, "appendfsync");
	assert_int_equal(f->stake_bytes, device);
	assert_int_equal(f->saving_bytes, device - pages_of(45 * sets));
	e = evidence_of(f, "app_bytes_per_sync");
	assert_non_null(e);
	assert_true(fabs(e->value - 45.0) < 1e-9);
	e = evidence_of(f, "syncs_per_second");
	assert_non_null(e);
	assert_true(fabs(e->value - sets / 5.0) < 1e-9);
	assert_null(evidence_of(f, "fsync_share")); /* fdatasync already */
	findings_free(&x.r);
	assert_int_equal(x.r.nfindings, 0);
	assert_null(x.r.findings);
}

/* Three redis servers with 1000, 5000 and 3000 SETs: findings come heaviest stake first. */
static void test_findings_are_ordered_by_stake(void **state)
{
	static const __u64 sets[] = {1000, 5000, 3000};
	static const __u32 expected_pids[] = {101, 102, 100};
	static const char *const aofs[] = {"/a/aof", "/b/aof", "/c/aof"};
	struct fixture x;
	size_t n = 0;

	(void)state;
	init(&x, 5.0);
	for (__u32 i = 0; i < 3; i++) {
		/* distinct comms, so that no two fold into one finding */
		char comm[16];

		snprintf(comm, sizeof(comm), "redis-%u", i);
		redis_always(add_proc(&x, 100 + i, comm, NULL), sets[i]);
		add_file(&x, 100 + i, aofs[i], sets[i], PAGE * sets[i]);
	}
	assert_int_equal(findings_build(&x.r), 0);
	for (size_t i = 0; i < x.r.nfindings; i++) {
		const struct wa_finding *f = &x.r.findings[i];

		if (i > 0)
			assert_true(x.r.findings[i - 1].stake_bytes >= f->stake_bytes);
		if (strcmp(f->id, "small-sync-writes"))
			continue;
		assert_true(n < 3);
		assert_int_equal(f->pid, expected_pids[n]);
		assert_int_equal(f->stake_bytes, 2 * PAGE * sets[expected_pids[n] - 100]);
		n++;
	}
	assert_int_equal(n, 3);
	findings_free(&x.r);
}

static void test_syncs_on_a_timer_are_no_finding(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;

	(void)state;
	/* everysec for an hour: 3600 syncs of a little data each, one a second */
	init(&x, 3600.0);
	p = add_proc(&x, 100, "redis-server", NULL);
	redis_always(p, 3600);
	assert_int_equal(findings_build(&x.r), 0);
	assert_true(find(&x.r, "small-sync-writes") == NO_FINDING);
	findings_free(&x.r);
}

static void test_run_settle_time_is_not_traced_time(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;
	size_t i;

	(void)state;
	/* 100 syncs in 1 s, then 45 s of settle: 100/s, not 2/s */
	init(&x, 46.0);
	x.r.mode = "run";
	x.r.settle_waited_s = 45.0;
	p = add_proc(&x, 7, "workload", NULL);
	redis_always(p, 100);
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "small-sync-writes");
	assert_true(i != NO_FINDING);
	assert_true(fabs(evidence_of(&x.r.findings[i], "syncs_per_second")->value - 100.0) < 1e-9);
	findings_free(&x.r);
}

/* SQLite, rollback journal with synchronous=FULL: 4 syncs and one journal commit per row. */
static void test_sqlite_rollback_journal(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;
	const struct wa_finding *f;
	size_t i;
	__u64 rows = 300, journal = 36 * 1024 * rows;

	(void)state;
	init(&x, 0.5);
	p = add_proc(&x, 9, "sqlite3", NULL);
	p->f.write_calls = 10 * rows;
	p->f.write_bytes = 17000 * rows;
	p->f.sync_calls[WA_SYNC_FSYNC] = 3 * rows;
	p->f.sync_calls[WA_SYNC_FDATASYNC] = rows;
	p->f.commits_forced = rows;
	p->f.dev.bytes[WA_CHARGE_DATA] = 24 * 1024 * rows;
	p->f.dev.bytes[WA_CHARGE_JOURNAL] = journal;
	add_file(&x, 9, "/db/t.db", rows, 8 * 1024 * rows);
	add_file(&x, 9, "/db/t.db-journal", 2 * rows, 16 * 1024 * rows);
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "journal-commit-per-sync");
	assert_true(i != NO_FINDING);
	f = &x.r.findings[i];
	assert_string_equal(f->software, "sqlite");
	assert_string_equal(f->software_advice->setting, "journal_mode");
	assert_string_equal(f->file, "/db/t.db-journal");
	assert_true(fabs(evidence_of(f, "commits_per_sync")->value - 0.25) < 1e-9);
	/* half a second: ext4 would still commit once; the other 299 commits go */
	assert_int_equal(f->saving_bytes, journal - journal / rows);
	i = find(&x.r, "small-sync-writes");
	assert_true(i != NO_FINDING);
	assert_true(evidence_of(&x.r.findings[i], "fsync_share") != NULL); /* 3 in 4 */
	/* 2 files synced is not many */
	assert_true(find(&x.r, "many-files-synced") == NO_FINDING);
	findings_free(&x.r);
}

static void test_journal_dominance_gives_way_to_commit_per_sync(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;

	(void)state;
	init(&x, 1.0);
	p = add_proc(&x, 5, "workload", NULL);
	redis_always(p, 500);
	p->f.commits_forced = 500;
	p->f.dev.bytes[WA_CHARGE_JOURNAL] = 3 * PAGE * 500;
	assert_int_equal(findings_build(&x.r), 0);
	assert_true(find(&x.r, "journal-commit-per-sync") != NO_FINDING);
	assert_true(find(&x.r, "journal-metadata-dominant") == NO_FINDING);
	findings_free(&x.r);

	/* the same journal bytes with no syncs: only dominance can explain them */
	init(&x, 1.0);
	p = add_proc(&x, 5, "workload", NULL);
	p->f.write_calls = 10;
	p->f.write_bytes = 10 * PAGE;
	p->f.dev.bytes[WA_CHARGE_DATA] = 10 * PAGE;
	p->f.dev.bytes[WA_CHARGE_JOURNAL] = 1000 * PAGE;
	assert_int_equal(findings_build(&x.r), 0);
	assert_int_equal(x.r.nfindings, 1);
	assert_string_equal(x.r.findings[0].id, "journal-metadata-dominant");
	assert_int_equal(x.r.findings[0].saving_bytes, 990 * PAGE);
	findings_free(&x.r);
}

/* 2000 writes of 100 bytes, each to a page of its own, then one fsync. */
static struct wa_proc_row *scattered_writes(struct fixture *x, __u64 writes, __u64 folio)
{
	struct wa_proc_row *p = add_proc(x, 3, "python3", "python3 -B overwrite.py");

	p->f.write_calls = writes;
	p->f.write_bytes = writes * 100;
	p->f.subpage_calls = writes;
	p->f.sync_calls[WA_SYNC_FSYNC] = 1;
	p->f.dirtied_pages = writes * PAGE / folio;
	p->f.dirtied_bytes = writes * PAGE; /* one dirtying event per folio */
	add_file(x, 3, "/data/file", 1, 0)->dirtied_bytes = p->f.dirtied_bytes;
	return p;
}

static void test_partial_page_overwrites(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;
	const struct wa_finding *f;
	size_t i;
	__u64 writes = 2000;

	(void)state;
	/* 4 KiB folios: the dirtied bytes tell */
	init(&x, 1.0);
	scattered_writes(&x, writes, PAGE);
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "partial-page-overwrite");
	assert_true(i != NO_FINDING);
	f = &x.r.findings[i];
	assert_true(fabs(evidence_of(f, "page_bytes_per_app_byte")->value - 40.96) < 1e-9);
	assert_int_equal(f->stake_bytes, writes * PAGE);
	assert_int_equal(f->saving_bytes, writes * PAGE - pages_of(writes * 100));
	assert_null(f->software);
	assert_string_equal(f->file, "/data/file");
	findings_free(&x.r);

	/* 1 MiB folios, not yet written back: the dirtied bytes say nothing about pages */
	init(&x, 1.0);
	scattered_writes(&x, writes, 256 * PAGE);
	assert_int_equal(findings_build(&x.r), 0);
	assert_true(find(&x.r, "partial-page-overwrite") == NO_FINDING);
	findings_free(&x.r);

	/* the same, written back: ext4 wrote one block per write */
	init(&x, 1.0);
	p = scattered_writes(&x, writes, 256 * PAGE);
	p->f.dev.bytes[WA_CHARGE_DATA] = writes * PAGE;
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "partial-page-overwrite");
	assert_true(i != NO_FINDING);
	assert_int_equal(x.r.findings[i].stake_bytes, writes * PAGE);
	findings_free(&x.r);

	/* never more than each write's bytes and two pages */
	init(&x, 1.0);
	p = scattered_writes(&x, writes, PAGE);
	p->f.dirtied_bytes = writes * 64 * PAGE;
	p->f.dirtied_pages = writes * 64;
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "partial-page-overwrite");
	assert_true(i != NO_FINDING);
	assert_int_equal(x.r.findings[i].stake_bytes, writes * 100 + 2 * PAGE * writes);
	findings_free(&x.r);
}

/* An O_DIRECT file: its device bytes came as bios without page-cache pages. */
static struct wa_file_row *add_direct_file(struct fixture *x, __u32 pid, const char *path,
					   __u64 writes, __u64 size, __u64 device)
{
	struct wa_file_row *f = add_file(x, pid, path, 0, device);

	f->write_calls = writes;
	f->write_bytes = writes * size;
	f->charged.direct_bytes = device;
	return f;
}

/* 200 O_DIRECT writes of 512 bytes: ext4 zeroes the rest of each new block. */
static void test_direct_io_under_a_block(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;
	const struct wa_finding *f;
	size_t i;
	__u64 writes = 200, device = 450 * 1024;

	(void)state;
	init(&x, 1.0);
	p = add_proc(&x, 4, "workload", NULL);
	p->f.write_calls = writes;
	p->f.write_bytes = writes * 512;
	p->f.subpage_calls = writes;
	p->f.opens_direct = 1;
	p->f.direct_write_calls = writes;
	p->f.direct_write_bytes = writes * 512;
	p->f.dev.bytes[WA_CHARGE_DATA] = device;
	p->f.dev.direct_bytes = device;
	add_direct_file(&x, 4, "/data/direct", writes, 512, device);
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "direct-io-small");
	assert_true(i != NO_FINDING);
	f = &x.r.findings[i];
	assert_string_equal(f->file, "/data/direct");
	assert_true(fabs(evidence_of(f, "direct_write_calls")->value - (double)writes) < 1e-9);
	assert_true(fabs(evidence_of(f, "direct_bytes_per_write")->value - 512.0) < 1e-9);
	/* nothing was refused, so no figure about refusals is shown */
	assert_null(evidence_of(f, "direct_writes_rejected"));
	assert_null(evidence_of(f, "direct_opens"));
	assert_int_equal(f->stake_bytes, device);
	assert_int_equal(f->saving_bytes, device - pages_of(writes * 512));
	findings_free(&x.r);
}

/* One O_DIRECT file written in 64 KiB blocks, and a log of small buffered lines. */
static void test_direct_io_open_with_a_buffered_log_is_no_finding(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;
	struct wa_file_row *log;
	__u64 mib = 1024 * 1024;

	(void)state;
	init(&x, 1.0);
	p = add_proc(&x, 4, "db", NULL);
	p->f.write_calls = 64 + 1000;
	p->f.write_bytes = 4 * mib + 1000 * 50;
	p->f.subpage_calls = 1000;
	p->f.opens_direct = 1;
	p->f.direct_write_calls = 64;
	p->f.direct_write_bytes = 4 * mib;
	p->f.dev.bytes[WA_CHARGE_DATA] = 4 * mib + 13 * PAGE;
	add_direct_file(&x, 4, "/data/table", 64, 64 * 1024, 4 * mib);
	log = add_file(&x, 4, "/data/log", 0, 13 * PAGE);
	log->write_calls = 1000;
	log->write_bytes = 1000 * 50;
	assert_int_equal(findings_build(&x.r), 0);
	assert_true(find(&x.r, "direct-io-small") == NO_FINDING);
	findings_free(&x.r);
}

/* Misaligned O_DIRECT writes fail with EINVAL: the file never gets a byte. */
static void test_direct_io_refused(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;
	struct wa_file_row *log;
	const struct wa_finding *f;
	size_t i;

	(void)state;
	init(&x, 1.0);
	p = add_proc(&x, 4, "workload", NULL);
	p->f.write_calls = 50;
	p->f.write_errors = 50;
	p->f.opens_direct = 1;
	p->f.direct_write_calls = 50;
	p->f.direct_write_refused = 50;
	add_direct_file(&x, 4, "/data/direct", 50, 0, 0);
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "direct-io-small");
	assert_true(i != NO_FINDING);
	f = &x.r.findings[i];
	assert_string_equal(f->file, "/data/direct");
	assert_true(fabs(evidence_of(f, "direct_writes_rejected")->value - 50.0) < 1e-9);
	assert_null(evidence_of(f, "direct_bytes_per_write")); /* not crossed: none went through */
	assert_int_equal(f->stake_bytes, 0);
	findings_free(&x.r);

	/* the same failures, not EINVAL through an O_DIRECT fd, are not refusals */
	init(&x, 1.0);
	p = add_proc(&x, 4, "workload", NULL);
	p->f.write_calls = 50;
	p->f.write_errors = 50;
	add_direct_file(&x, 4, "/data/full", 50, 0, 0);
	assert_int_equal(findings_build(&x.r), 0);
	assert_true(find(&x.r, "direct-io-small") == NO_FINDING);
	findings_free(&x.r);

	/* a buffered file that filled up (ENOSPC after some writes) is not a refusal either */
	init(&x, 1.0);
	p = add_proc(&x, 4, "workload", NULL);
	p->f.write_calls = 64 + 10;
	p->f.write_bytes = 64 * 65536 + 9 * 100;
	p->f.write_errors = 1;
	p->f.opens_direct = 1;
	p->f.direct_write_calls = 64;
	p->f.direct_write_bytes = 64 * 65536;
	add_direct_file(&x, 4, "/data/table", 64, 65536, 64 * 65536);
	log = add_file(&x, 4, "/data/log", 0, 0);
	log->write_calls = 10;
	log->write_bytes = 900;
	assert_int_equal(findings_build(&x.r), 0);
	assert_true(find(&x.r, "direct-io-small") == NO_FINDING);
	findings_free(&x.r);
}

/* 4 MiB written over and over a 64 KiB region: 16 pages reach the disk. */
static struct wa_proc_row *rewritten_region(struct fixture *x, __u64 folio)
{
	struct wa_proc_row *p = add_proc(x, 6, "workload", NULL);
	__u64 region = 64 * 1024, folios = region / folio ? region / folio : 1;

	p->f.write_calls = 1024;
	p->f.write_bytes = 1024 * PAGE;
	p->f.dirtied_pages = folios;
	p->f.dirtied_bytes = folios * folio; /* a dirtied folio counts whole */
	add_file(x, 6, "/data/state", 0, 0)->dirtied_bytes = p->f.dirtied_bytes;
	return p;
}

static void test_overwritten_before_writeback(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;
	const struct wa_finding *f;
	size_t i;

	(void)state;
	/* 4 KiB folios: the dirtied bytes tell */
	init(&x, 1.0);
	rewritten_region(&x, PAGE);
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "overwritten-before-writeback");
	assert_true(i != NO_FINDING);
	f = &x.r.findings[i];
	assert_string_equal(f->file, "/data/state");
	assert_true(fabs(evidence_of(f, "app_bytes_per_dirtied_byte")->value - 64.0) < 1e-9);
	findings_free(&x.r);

	/* one 2 MiB folio dirtied whole, not yet written back: the pages are not known */
	init(&x, 1.0);
	rewritten_region(&x, 512 * PAGE);
	assert_int_equal(findings_build(&x.r), 0);
	assert_true(find(&x.r, "overwritten-before-writeback") == NO_FINDING);
	findings_free(&x.r);

	/* the same, written back: ext4 wrote the 16 dirty blocks, not the folio */
	init(&x, 1.0);
	p = rewritten_region(&x, 512 * PAGE);
	p->f.dev.bytes[WA_CHARGE_DATA] = 16 * PAGE;
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "overwritten-before-writeback");
	assert_true(i != NO_FINDING);
	assert_true(fabs(evidence_of(&x.r.findings[i], "app_bytes_per_dirtied_byte")->value -
			 64.0) < 1e-9);
	findings_free(&x.r);
}

static void test_nonstorage_writes_must_outnumber_storage_writes(void **state)
{
	struct fixture x;
	struct wa_proc_row *p;
	size_t i;

	(void)state;
	init(&x, 1.0);
	p = add_proc(&x, 8, "server", NULL);
	p->f.ns_calls[WA_FD_SOCKET] = 1000;
	p->f.ns_bytes[WA_FD_SOCKET] = 100000;
	p->f.write_calls = 1000;
	p->f.write_bytes = 1000 * PAGE;
	add_file(&x, 8, "/data/log", 0, 1000 * PAGE)->write_calls = 1000;
	assert_int_equal(findings_build(&x.r), 0);
	assert_true(find(&x.r, "nonstorage-writes") == NO_FINDING); /* as many, not more */
	findings_free(&x.r);

	p->f.ns_calls[WA_FD_SOCKET] = 1001;
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "nonstorage-writes");
	assert_true(i != NO_FINDING);
	/* the socket writes are not the log's: the finding names no file */
	assert_null(x.r.findings[i].file);
	findings_free(&x.r);
}

/* Files each appended to and fsynced on its own, 10 times: a journal commit for each sync. */
static void test_many_files_synced(void **state)
{
	static char paths[MAX_FILES][16];
	struct fixture x;
	struct wa_proc_row *p;
	const struct wa_finding *f;
	size_t i;
	__u64 files = MAX_FILES, syncs = 10 * files, journal = syncs * 8 * PAGE;

	(void)state;
	init(&x, 0.5);
	p = add_proc(&x, 2, "workload", NULL);
	p->f.write_calls = syncs;
	p->f.write_bytes = syncs * 100;
	p->f.sync_calls[WA_SYNC_FSYNC] = syncs;
	p->f.commits_forced = syncs;
	p->f.dev.bytes[WA_CHARGE_DATA] = syncs * PAGE;
	p->f.dev.bytes[WA_CHARGE_JOURNAL] = journal;
	for (size_t k = 0; k < files; k++) {
		snprintf(paths[k], sizeof(paths[k]), "/tree/f%06zu", k);
		add_file(&x, 2, paths[k], 10, 10 * PAGE)->write_bytes = 1000;
	}
	assert_int_equal(findings_build(&x.r), 0);
	i = find(&x.r, "many-files-synced");
	assert_true(i != NO_FINDING);
	f = &x.r.findings[i];
	assert_true(fabs(evidence_of(f, "files_synced")->value - (double)files) < 1e-9);
	assert_true(fabs(evidence_of(f, "commits_per_sync")->value - 1.0) < 1e-9);
	/* one commit for all of them instead of one each */
	assert_int_equal(f->saving_bytes, journal - journal / files);
	findings_free(&x.r);

	/* one file fewer than "many" */
	x.r.nfiles = FINDING_MIN_SYNCED_FILES - 1;
	assert_int_equal(findings_build(&x.r), 0);
	assert_true(find(&x.r, "many-files-synced") == NO_FINDING);
	findings_free(&x.r);
}

static void test_processes_of_one_comm_fold(void **state)
{
	struct fixture x;

	(void)state;
	init(&x, 2.0);
	redis_always(add_proc(&x, 1, "redis-server", NULL), 1000);
	redis_always(add_proc(&x, 2, "redis-server", NULL), 1000);
	assert_int_equal(findings_build(&x.r), 0);
	assert_int_equal(x.r.nfindings, 1);
	assert_int_equal(x.r.findings[0].processes, 2);
	assert_int_equal(x.r.findings[0].stake_bytes, 2 * 2 * PAGE * 1000);
	assert_null(x.r.findings[0].file);
	findings_free(&x.r);
}

static void test_odd_input_does_not_crash(void **state)
{
	static const double durations[] = {0.0, -1.0, NAN, INFINITY, 1e-300};
	struct fixture x;
	struct wa_proc_row *p;

	(void)state;
	assert_int_equal(findings_build(NULL), -1);
	findings_free(NULL);
	for (size_t d = 0; d < sizeof(durations) / sizeof(durations[0]); d++) {
		init(&x, durations[d]);
		x.r.procs = NULL; /* no rows at all */
		assert_int_equal(findings_build(&x.r), 0);
		assert_int_equal(x.r.nfindings, 0);

		init(&x, durations[d]);
		x.r.files = NULL;
		add_proc(&x, 1, "", NULL)->f.ns_calls[WA_FD_SOCKET] = 1;
		p = add_proc(&x, 2, "syncer", NULL); /* syncs, nothing written */
		p->f.sync_calls[WA_SYNC_SYNCFS] = 100000;
		p->f.commits_forced = 100000;
		p->f.dev.bytes[WA_CHARGE_JOURNAL] = UINT64_MAX / 4;
		p = add_proc(&x, 3, "zeros", NULL); /* zero-byte writes */
		p->f.write_calls = UINT64_MAX / 2;
		p->f.subpage_calls = UINT64_MAX / 2;
		p->f.dirtied_bytes = UINT64_MAX;
		p->f.opens_direct = 1;
		p->f.opens_sync = 1;
		assert_int_equal(findings_build(&x.r), 0);
		for (size_t i = 0; i < x.r.nfindings; i++)
			for (size_t e = 0; e < x.r.findings[i].nevidence; e++) {
				assert_true(isfinite(x.r.findings[i].evidence[e].value));
				assert_true(isfinite(x.r.findings[i].evidence[e].threshold));
			}
		findings_free(&x.r);
	}
}

static void test_software_recognition(void **state)
{
	(void)state;
	assert_null(software_of(NULL, NULL, NULL));
	assert_null(software_of("", "", NULL));
	assert_string_equal(software_of("redis-server", NULL, NULL), "redis");
	assert_string_equal(software_of(NULL, "/usr/bin/redis-server *:6379", NULL), "redis");
	assert_string_equal(software_of("postgres", NULL, NULL), "postgresql");
	assert_string_equal(software_of(NULL, "postgres: walwriter   ", NULL), "postgresql");
	assert_string_equal(software_of("sqlite3", NULL, NULL), "sqlite");
	assert_string_equal(software_of("java", "java -cp x kafka.Kafka server.properties", NULL),
			    "kafka");
	/* a name that merely contains the program's is not it */
	assert_null(software_of("vim", "vim notes-sqlite3.txt", NULL));
	assert_null(software_of("bash", "bash /opt/redis-server-backup.sh", NULL));
	assert_null(software_advice_for(NULL, "small-sync-writes"));
	assert_null(software_advice_for("redis", NULL));
	assert_null(software_advice_for("nosuch", "small-sync-writes"));
	assert_string_equal(software_advice_for("postgresql", "small-sync-writes")->setting,
			    "synchronous_commit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redis_always_is_small_sync_writes),
		cmocka_unit_test(test_findings_are_ordered_by_stake),
		cmocka_unit_test(test_syncs_on_a_timer_are_no_finding),
		cmocka_unit_test(test_run_settle_time_is_not_traced_time),
		cmocka_unit_test(test_sqlite_rollback_journal),
		cmocka_unit_test(test_journal_dominance_gives_way_to_commit_per_sync),
		cmocka_unit_test(test_partial_page_overwrites),
		cmocka_unit_test(test_direct_io_under_a_block),
		cmocka_unit_test(test_direct_io_open_with_a_buffered_log_is_no_finding),
		cmocka_unit_test(test_direct_io_refused),
		cmocka_unit_test(test_overwritten_before_writeback),
		cmocka_unit_test(test_nonstorage_writes_must_outnumber_storage_writes),
		cmocka_unit_test(test_many_files_synced),
		cmocka_unit_test(test_processes_of_one_comm_fold),
		cmocka_unit_test(test_odd_input_does_not_crash),
		cmocka_unit_test(test_software_recognition),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
