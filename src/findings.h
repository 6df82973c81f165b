/* SPDX-License-Identifier: GPL-2.0 */
/*
 * findings.h: the diagnosis. Rules read a finished report and name the write-amplification
 * patterns they see, with the figures that prove them, the thresholds those figures crossed,
 * the device bytes a fix would save, and the change to make. Software-specific settings come
 * from one table (advice_table.c).
 */
#ifndef WRITEAMP_FINDINGS_H
#define WRITEAMP_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct wa_report;

/*
 * Thresholds, documented in README.md ("Findings"). Each sync rule needs FINDING_MIN_SYNCS
 * syncs at FINDING_MIN_SYNC_RATE or more (over the traced time, without run's settle wait).
 */
#define FINDING_MIN_SYNCS	     32	   /* syncs before a pattern counts: fewer is start-up */
#define FINDING_MIN_SYNC_RATE	     10.0  /* syncs/s: a timer's 1-5/s is the fix, not the fault */
#define FINDING_SMALL_SYNC_BYTES     32768 /* app bytes per sync: under 8 pages made durable */
#define FINDING_MIN_DEVICE_PER_SYNC  4096  /* device bytes per sync: each sync wrote a block */
#define FINDING_FSYNC_SHARE	     0.5   /* share of fsync among syncs: the fdatasync hint */
#define FINDING_SMALL_WRITE	     4096  /* bytes: a write smaller than a page */
#define FINDING_TINY_WRITE	     512   /* bytes: a write smaller than a sector */
#define FINDING_SYNCS_PER_WRITE	     0.5   /* a sync after (nearly) every write: sync-bound */
#define FINDING_MIN_AMPLIFICATION    4.0   /* device bytes per app byte worth a finding */
#define FINDING_MIN_TINY_CALLS	     10000 /* tiny buffered writes before they count */
#define FINDING_BUFFERED_SYNC_RATIO  0.01  /* at most one sync per 100 writes: buffered */
#define FINDING_MIN_PAGE_AMP	     2.0   /* dirtied bytes per app byte: partial pages */
#define FINDING_MAX_DIRTY_FOLIO	     4096  /* bytes per dirtying: above, folios hide the pages */
#define FINDING_MIN_OVERWRITE_CALLS  256   /* writes before a partial-page pattern counts */
#define FINDING_SUBPAGE_SHARE	     0.5   /* share of writes smaller than a page */
#define FINDING_MIN_COMMITS	     32	   /* forced journal commits before they count */
#define FINDING_COMMITS_PER_SYNC     0.2   /* SQLite's 4 syncs per commit (0.25) must count */
#define FINDING_COMMIT_INTERVAL_S    5.0   /* ext4's commit=5: the commits left unforced */
#define FINDING_JOURNAL_DOMINANCE    2.0   /* journal + metadata bytes per data byte */
#define FINDING_MIN_STAKE_BYTES	     1048576 /* bytes: less is not worth a change */
#define FINDING_ABSORBED_RATIO	     4.0     /* app bytes per dirtied byte: rewritten in cache */
#define FINDING_MIN_SYNCED_FILES     8	     /* files synced by one process: "many" */
#define FINDING_MIN_NONSTORAGE_CALLS 1000    /* non-storage writes worth a note */
#define FINDING_DIRECT_BLOCK	     4096    /* bytes: a filesystem block (ext4, xfs default) */
#define FINDING_MIN_DIRECT_CALLS     32	     /* O_DIRECT writes before their size counts */

#define FINDING_EVIDENCE_MAX 6

/* One measured figure and the threshold it crossed ("op" says which way). */
struct wa_evidence {
	const char *name; /* stable id: "avg_write_bytes" */
	double value;
	const char *op; /* ">=", "<", ... */
	double threshold;
	const char *unit; /* "bytes", "ratio", "calls" */
};

/* What the advice table knows about one setting of one piece of software. */
struct wa_software_advice {
	const char *software; /* "redis" */
	const char *finding;  /* the finding id it applies to */
	const char *setting;  /* "appendfsync" */
	const char *change;   /* "appendfsync everysec" */
	const char *tradeoff;
};

struct wa_finding {
	const char *id;
	const char *severity; /* "high", "medium", "low" or "info" */
	const char *title;    /* one line, with no untrusted text */
	/* who; comm, container and file are untrusted */
	__u32 pid;
	const char *comm;
	const char *container;	/* name, else short id; NULL on the host */
	const char *file;	/* the heaviest file involved; NULL when none */
	const char *software;	/* "redis", from the advice table; NULL when not recognised */
	unsigned int processes; /* processes of that comm that showed the same pattern */
	struct wa_evidence evidence[FINDING_EVIDENCE_MAX];
	size_t nevidence;
	__u64 stake_bytes;  /* device bytes the pattern is behind */
	__u64 saving_bytes; /* estimated device bytes a fix would save */
	const char *advice;
	const struct wa_software_advice *software_advice; /* NULL when none applies */
};

/* Fills r->findings, heaviest stake first. Needs the report sorted and grouped. */
int findings_build(struct wa_report *r);
void findings_free(struct wa_report *r);

/* The advice table (advice_table.c); comm, cmdline, libraries and software may be NULL. */
const char *software_of(const char *comm, const char *cmdline, const char *libraries);
const struct wa_software_advice *software_advice_for(const char *software, const char *finding);

#endif /* WRITEAMP_FINDINGS_H */
