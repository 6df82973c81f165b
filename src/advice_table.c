// SPDX-License-Identifier: GPL-2.0
/*
 * advice_table.c: what writeamp knows about particular software: how to recognise it from a
 * process's comm and command line, and which of its settings changes each finding. To teach
 * writeamp a new program or setting, add rows here; nothing else needs to change.
 */
#include <stddef.h>
#include <string.h>

#include "findings.h"

/*
 * A program is known by its comm (the kernel's 15-byte name), by its command line's first word
 * (the program's base name, with a process title's trailing ':' dropped: "postgres: walwriter"),
 * by a whole word anywhere in the command line (a JVM's main class), or by a shared library it
 * has mapped (an application that embeds SQLite or RocksDB), named up to its ".so". Substrings
 * are not enough: "vim notes-sqlite.txt" is not SQLite.
 */
struct software_match {
	const char *software;
	const char *comms[4];
	const char *programs[4];
	const char *words[2];
	const char *libraries[2];
};

static const struct software_match software[] = {
	{"redis", {"redis-server", "valkey-server"}, {"redis-server", "valkey-server"}, {}, {}},
	{"postgresql", {"postgres", "postmaster"}, {"postgres", "postmaster"}, {}, {}},
	{"mysql", {"mysqld", "mariadbd"}, {"mysqld", "mariadbd"}, {}, {}},
	{"sqlite", {"sqlite3"}, {"sqlite3"}, {}, {"libsqlite3"}},
	{"etcd", {"etcd"}, {"etcd"}, {}, {}},
	{"rocksdb", {"db_bench"}, {"db_bench"}, {}, {"librocksdb"}},
	{"kafka", {}, {}, {"kafka.Kafka"}, {}},
	{"elasticsearch", {}, {}, {"org.elasticsearch.bootstrap.Elasticsearch"}, {}},
	{"containerd", {"containerd"}, {"containerd"}, {}, {}},
};

#define REDIS_APPENDFSYNC                                                                          \
	"appendfsync", "appendfsync everysec (in redis.conf, or CONFIG SET appendfsync everysec)", \
		"a crash of the host (not of redis) can lose up to 1 s of writes, instead of "     \
		"none with always"
#define PG_SYNC_COMMIT                                                                           \
	"synchronous_commit",                                                                    \
		"synchronous_commit = off for the transactions that can afford it (SET LOCAL), " \
		"or commit_delay = 1000 with commit_siblings = 5 to group concurrent commits",   \
		"off: a crash can lose the last ~0.6 s (3 x wal_writer_delay) of commits but "   \
		"never corrupts; commit_delay adds up to 1 ms per commit"
#define MYSQL_FLUSH_LOG                                                                          \
	"innodb_flush_log_at_trx_commit",                                                        \
		"innodb_flush_log_at_trx_commit = 2 and sync_binlog = 100 (or 0)",               \
		"an OS crash or power loss can lose up to 1 s of commits (a mysqld crash loses " \
		"none with 2); sync_binlog > 1 can lose binlog events a replica has not seen"
#define SQLITE_WAL                                                                                 \
	"journal_mode",                                                                            \
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL (and group rows in one "       \
		"BEGIN ... COMMIT)",                                                               \
		"with NORMAL a power loss can roll back the last commits, but the database stays " \
		"consistent; WAL needs shared memory, so not on network filesystems"

static const struct wa_software_advice advice[] = {
	{"redis", "small-sync-writes", REDIS_APPENDFSYNC},
	{"redis", "journal-commit-per-sync", REDIS_APPENDFSYNC},
	{"postgresql", "small-sync-writes", PG_SYNC_COMMIT},
	{"postgresql", "journal-commit-per-sync", "wal_recycle",
	 "keep wal_recycle = on and wal_init_zero = on (the defaults), so that WAL segments are "
	 "reused preallocated; and see synchronous_commit",
	 "none for safety; on copy-on-write filesystems (ZFS, btrfs) turning both off is cheaper"},
	{"postgresql", "journal-metadata-dominant", "wal_compression",
	 "wal_compression = lz4 (PostgreSQL 15) or on; keep full_page_writes = on unless the "
	 "storage guarantees atomic 8 KiB writes",
	 "compression costs CPU per full-page image; turning full_page_writes off risks torn "
	 "pages after a crash"},
	{"postgresql", "partial-page-overwrite", "full_page_writes",
	 "raise checkpoint_timeout and max_wal_size so fewer checkpoints each log full pages; "
	 "wal_compression = lz4",
	 "longer crash recovery; more WAL kept on disk"},
	{"mysql", "small-sync-writes", MYSQL_FLUSH_LOG},
	{"mysql", "sync-open-flags", "innodb_flush_method",
	 "innodb_flush_method = O_DIRECT (not O_DSYNC)",
	 "none for safety: InnoDB still fsyncs its log; reads then bypass the page cache"},
	{"sqlite", "small-sync-writes", SQLITE_WAL},
	{"sqlite", "journal-commit-per-sync", SQLITE_WAL},
	{"sqlite", "many-files-synced", SQLITE_WAL},
	{"sqlite", "journal-metadata-dominant", SQLITE_WAL},
	{"etcd", "small-sync-writes", "--wal-dir",
	 "etcd must fsync its WAL for every raft commit: put --wal-dir on a dedicated low-latency "
	 "SSD; batch client writes (txn) rather than many single puts",
	 "none: relaxing the fsync (--unsafe-no-fsync) risks losing committed data"},
	{"rocksdb", "small-sync-writes", "WriteOptions.sync",
	 "WriteOptions.sync = false with DBOptions.manual_wal_flush, calling FlushWAL(true) once "
	 "per batch; or group writes in one WriteBatch",
	 "writes since the last FlushWAL(true) can be lost on a host crash"},
	{"kafka", "small-sync-writes", "log.flush.interval.messages",
	 "leave log.flush.interval.messages and log.flush.interval.ms unset (the default) and "
	 "rely on replication (acks=all, min.insync.replicas=2)",
	 "durability comes from replicas, not from each broker's fsync"},
	{"elasticsearch", "small-sync-writes", "index.translog.durability",
	 "index.translog.durability: async with index.translog.sync_interval: 5s",
	 "acknowledged writes of the last sync_interval can be lost on a crash"},
	{"containerd", "many-files-synced", "snapshotter",
	 "containerd syncs each blob and its metadata database per transaction; pull fewer, "
	 "larger layers, or put /var/lib/containerd on faster storage",
	 "no setting relaxes it safely"},
};

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Whether one of names[] (NULL-terminated or full) is the n bytes at text. */
static bool one_of(const char *const *names, size_t count, const char *text, size_t n)
{
	for (size_t i = 0; i < count && names[i]; i++)
		if (strlen(names[i]) == n && !strncmp(text, names[i], n))
			return true;
	return false;
}

/* The command line's program: its first word's base name, without a trailing ':'. */
static bool program_is(const struct software_match *m, const char *cmdline)
{
	size_t n = strcspn(cmdline, " ");
	const char *base = cmdline;

	for (size_t i = 0; i < n; i++)
		if (cmdline[i] == '/')
			base = cmdline + i + 1;
	n -= (size_t)(base - cmdline);
	if (n && base[n - 1] == ':')
		n--;
	return n && one_of(m->programs, LEN(m->programs), base, n);
}

static bool word_in(const struct software_match *m, const char *cmdline)
{
	for (const char *p = cmdline; *p;) {
		size_t n = strcspn(p, " ");

		if (n && one_of(m->words, LEN(m->words), p, n))
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

/* @libraries holds base names ("libsqlite3.so.0 libc.so.6"); a match ends at ".so". */
static bool library_in(const struct software_match *m, const char *libraries)
{
	for (const char *p = libraries; *p;) {
		size_t n = strcspn(p, " ");
		const char *so = strstr(p, ".so");

		if (so && so < p + n &&
		    one_of(m->libraries, LEN(m->libraries), p, (size_t)(so - p)))
			return true;
		p += n;
		p += strspn(p, " ");
	}
	return false;
}

static bool matches(const struct software_match *m, const char *comm, const char *cmdline,
		    const char *libraries)
{
	if (comm && one_of(m->comms, LEN(m->comms), comm, strlen(comm)))
		return true;
	if (cmdline && (program_is(m, cmdline) || word_in(m, cmdline)))
		return true;
	return libraries && library_in(m, libraries);
}

/* A program is tried before a library, so that redis linked with some library stays redis. */
const char *software_of(const char *comm, const char *cmdline, const char *libraries)
{
	for (size_t i = 0; i < LEN(software); i++)
		if (matches(&software[i], comm, cmdline, NULL))
			return software[i].software;
	for (size_t i = 0; i < LEN(software); i++)
		if (matches(&software[i], NULL, NULL, libraries))
			return software[i].software;
	return NULL;
}

const struct wa_software_advice *software_advice_for(const char *sw, const char *finding)
{
	if (!sw || !finding)
		return NULL;
	for (size_t i = 0; i < LEN(advice); i++)
		if (!strcmp(advice[i].software, sw) && !strcmp(advice[i].finding, finding))
			return &advice[i];
	return NULL;
}
