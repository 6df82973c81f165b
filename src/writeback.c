// SPDX-License-Identifier: GPL-2.0
/* writeback.c: the settle phase of `writeamp run`: polling the ledger until writeback is done. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "names.h"
#include "snapshot.h"
#include "writeback.h"

#define SETTLE_POLL_MS	200
/* cachestat(2), Linux 6.5; the number is the same on every architecture. */
#define WA_NR_CACHESTAT 451

struct cachestat_range {
	__u64 off;
	__u64 len;
};

struct cachestat {
	__u64 nr_cache;
	__u64 nr_dirty;
	__u64 nr_writeback;
	__u64 nr_evicted;
	__u64 nr_recently_evicted;
};

static __u64 ledger_pending(const struct wa_file_stats *s)
{
	__u64 sum = 0;

	for (int i = 0; i < WA_FILE_DIRTIERS; i++)
		if (s->dirtier[i].tgid && s->dirtier[i].tgid != WA_TGID_OVERFLOW)
			sum += s->dirtier[i].pending;
	return sum;
}

/* Whether the kernel still holds dirty or in-flight pages of the file; true if it cannot tell. */
static bool file_still_dirty(struct wa_namer *namer, const struct snap_file *f)
{
	struct cachestat_range range = {0, 0}; /* len 0: to the end of the file */
	struct cachestat cs;
	int fd, err;

	if (!S_ISREG(f->s.mode))
		return true;
	fd = namer_open_file(namer, f->k.dev, f->k.ino, f->s.generation, O_RDONLY);
	if (fd == -ESTALE || fd == -ENOENT)
		return false; /* deleted: its dirty pages are gone with it */
	if (fd < 0)
		return true;
	err = syscall(WA_NR_CACHESTAT, fd, &range, &cs, 0);
	close(fd);
	if (err)
		return true;
	return cs.nr_dirty || cs.nr_writeback;
}

static __u64 pending_bytes(const struct tracer_maps *maps, struct wa_namer *namer)
{
	struct wa_snapshot snap;
	__u64 total = 0;

	if (snapshot_take_files(maps, &snap))
		return 0;
	for (size_t i = 0; i < snap.nfiles; i++) {
		__u64 pending = ledger_pending(&snap.files[i].s);

		if (pending && file_still_dirty(namer, &snap.files[i]))
			total += pending;
	}
	snapshot_free(&snap);
	return total;
}

void writeback_settle(const struct tracer_maps *maps, struct wa_namer *namer, double limit_s,
		      volatile sig_atomic_t *stop, const sigset_t *wait_mask,
		      struct settle_result *res)
{
	double start = monotonic_seconds();

	res->timed_out = false;
	for (;;) {
		res->pending_bytes = pending_bytes(maps, namer);
		res->waited_s = monotonic_seconds() - start;
		if (!res->pending_bytes || *stop)
			return;
		if (res->waited_s >= limit_s) {
			res->timed_out = true;
			return;
		}
		ppoll(NULL, 0, &(struct timespec){.tv_nsec = SETTLE_POLL_MS * 1000000L}, wait_mask);
	}
}
