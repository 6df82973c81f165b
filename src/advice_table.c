// SPDX-License-Identifier: GPL-2.0
/*
 * advice_table.c: what writeamp knows about particular software: how to recognise it from a
 * process's comm and command line, and which of its settings changes each finding. To teach
 * writeamp a new program or setting, add rows here; nothing else needs to change.
 */
#include <stddef.h>
#include <string.h>

#include "findings.h"

struct software_match {
	const char *software;
	const char *comms[4];	 /* exact comm (the kernel's 15-byte name) */
	const char *cmdlines[3]; /* substrings of the command line */
};

static const struct software_match software[] = {
	{"redis", {"redis-server", "valkey-server"}, {"redis-server"}},
	{"postgresql", {"postgres", "postmaster"}, {"postgres:"}},
	{"mysql", {"mysqld", "mariadbd"}, {"mysqld", "mariadbd"}},
	{"sqlite", {"sqlite3"}, {"sqlite"}},
	{"etcd", {"etcd"}, {"/etcd "}},
	{"rocksdb", {"db_bench"}, {"rocksdb"}},
	{"kafka", {}, {"kafka.Kafka"}},
	{"elasticsearch", {}, {"org.elasticsearch"}},
	{"containerd", {"containerd"}, {}},
};

#define REDIS_APPENDFSYNC                                                                    \
	"appendfsync", "appendfsync everysec (in redis.conf, or CONFIG SET appendfsync everysec)", \
		"a crash of the host (not of redis) can lose up to 1 s of writes, instead of "    \
		"none with always"
#define PG_SYNC_COMMIT                                                                        \
	"synchronous_commit",                                                                  \
		"synchronous_commit = off for the transactions that can afford it (SET LOCAL), "  \
		"or commit_delay = 1000 with commit_siblings = 5 to group concurrent commits",    \
		"off: a crash can lose the last ~0.6 s (3 x wal_writer_delay) of commits but "   \
		"never corrupts; commit_delay adds up to 1 ms per commit"
#define MYSQL_FLUSH_LOG                                                                         \
	"innodb_flush_log_at_trx_commit",                                                        \
		"innodb_flush_log_at_trx_commit = 2 and sync_binlog = 100 (or 0)",                 \
		"an OS crash or power loss can lose up to 1 s of commits (a mysqld crash loses "   \
		"none with 2); sync_binlog > 1 can lose binlog events a replica has not seen"
#define SQLITE_WAL                                                                             \
	"journal_mode",                                                                         \
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL (and group rows in one "       \
		"BEGIN ... COMMIT)",                                                              \
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

static bool matches(const struct software_match *m, const char *comm, const char *cmdline)
{
	for (size_t i = 0; i < sizeof(m->comms) / sizeof(m->comms[0]) && m->comms[i]; i++)
		if (comm && !strcmp(comm, m->comms[i]))
			return true;
	for (size_t i = 0; i < sizeof(m->cmdlines) / sizeof(m->cmdlines[0]) && m->cmdlines[i];
	     i++)
		if (cmdline && strstr(cmdline, m->cmdlines[i]))
			return true;
	return false;
}

const char *software_of(const char *comm, const char *cmdline)
{
	for (size_t i = 0; i < sizeof(software) / sizeof(software[0]); i++)
		if (matches(&software[i], comm, cmdline))
			return software[i].software;
	return NULL;
}

const struct wa_software_advice *software_advice_for(const char *sw, const char *finding)
{
	if (!sw)
		return NULL;
	for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); i++)
		if (!strcmp(advice[i].software, sw) && !strcmp(advice[i].finding, finding))
			return &advice[i];
	return NULL;
}
