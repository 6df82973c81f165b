// SPDX-License-Identifier: GPL-2.0
/* workload.c: ground truth for the live tests: makes exactly the I/O its arguments describe. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

/*
 * A test compares what writeamp measured with what it computes from our arguments, so any
 * write this program makes on its own would be a false difference. Hence: no output unless
 * something fails, and every call's result is checked so that exit 0 means every write was
 * made in full.
 */

#define EXIT_USAGE    2
#define PROG	      "workload"
#define FILE_MODE     0644
#define BUF_ALIGN     4096	  /* O_DIRECT wants aligned memory; a page suits every device */
#define MAX_IO_SIZE   (1LL << 30) /* one buffer holds a whole write */
#define MAX_FILE_SIZE (1LL << 40)
#define MAX_COUNT     (1LL << 40)
#define MAX_THREADS   64
#define MAX_HOLD_MS   (24LL * 3600 * 1000)
#define DEFAULT_FILL  0x5a /* not zero, so no layer can mistake the data for a hole */
#define START_POLL_MS 10
#define DRAIN_CHUNK   65536
#define PREPARE_CHUNK (1 << 20)
#define TREE_NAME_FMT "%s/f%06lld"
#define NSEC_PER_MSEC 1000000L
#define MSEC_PER_SEC  1000L
#define BYTE_MAX      0xff
#define SYNC_FILE_RANGE_ALL \
	(SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER)
#define WHOLE_FILE 0 /* sync_file_range's nbytes: up to the end of the file */

enum pattern {
	PAT_WRITE,
	PAT_PREPARE,
	PAT_PIPE,
	PAT_SOCKET,
	PAT_MMAP,
	PAT_SYNC,
	PAT_SYNCFS,
	PAT_TREE,
	PAT__COUNT,
};

#define P(pat)	      (1u << PAT_##pat)
#define ALL_PATTERNS  ((1u << PAT__COUNT) - 1)
#define DATA_PATTERNS (P(WRITE) | P(PREPARE) | P(PIPE) | P(SOCKET) | P(MMAP) | P(TREE))

enum write_call {
	CALL_WRITE,
	CALL_PWRITE,
	CALL_WRITEV,
	CALL_PWRITEV,
	CALL_PWRITEV2,
	CALL__COUNT,
};

static const char *const call_names[CALL__COUNT] = {
	[CALL_WRITE] = "write",	    [CALL_PWRITE] = "pwrite",	  [CALL_WRITEV] = "writev",
	[CALL_PWRITEV] = "pwritev", [CALL_PWRITEV2] = "pwritev2",
};

enum family {
	FAMILY_UNIX,
	FAMILY_TCP,
};

enum msync_mode {
	MSYNC_NONE,
	MSYNC_AT_END,
	MSYNC_EVERY_PAGE,
};

/* Long options only; their ids start above every character getopt_long could return. */
enum opt_id {
	OPT_FIRST = 256,
	OPT_FILE = OPT_FIRST,
	OPT_COUNT,
	OPT_SIZE,
	OPT_FSYNC_EVERY,
	OPT_FDATASYNC_EVERY,
	OPT_SFR_EVERY,
	OPT_ODIRECT,
	OPT_ODSYNC,
	OPT_OSYNC,
	OPT_APPEND,
	OPT_TRUNC,
	OPT_SYSCALL,
	OPT_IOV,
	OPT_OFFSET,
	OPT_OVERWRITE,
	OPT_REGION,
	OPT_FALLOCATE,
	OPT_FAMILY,
	OPT_MSYNC,
	OPT_MSYNC_EVERY_PAGE,
	OPT_TOUCH_STRIDE,
	OPT_DIR,
	OPT_FILES,
	OPT_FSYNC,
	OPT_FILL,
	OPT_HOLD_MS,
	OPT_COMM,
	OPT_START_AFTER,
	OPT_REPEAT,
	OPT_THREADS,
	OPT_EXPECT_EINVAL,
	OPT_HELP,
	OPT_END,
};

#define OPT_INDEX(id) ((id)-OPT_FIRST)
#define OPT__COUNT    OPT_INDEX(OPT_END)

struct opt_spec {
	const char *name;
	int has_arg;
	unsigned int patterns; /* the patterns that take this option */
};

static const struct opt_spec opt_specs[OPT__COUNT] = {
	[OPT_INDEX(OPT_FILE)] = {"file", required_argument,
				 P(WRITE) | P(PREPARE) | P(MMAP) | P(SYNCFS)},
	[OPT_INDEX(OPT_COUNT)] = {"count", required_argument, P(WRITE) | P(PIPE) | P(SOCKET)},
	[OPT_INDEX(OPT_SIZE)] = {"size", required_argument, DATA_PATTERNS},
	[OPT_INDEX(OPT_FSYNC_EVERY)] = {"fsync-every", required_argument, P(WRITE)},
	[OPT_INDEX(OPT_FDATASYNC_EVERY)] = {"fdatasync-every", required_argument, P(WRITE)},
	[OPT_INDEX(OPT_SFR_EVERY)] = {"sync-file-range-every", required_argument, P(WRITE)},
	[OPT_INDEX(OPT_ODIRECT)] = {"odirect", no_argument, P(WRITE)},
	[OPT_INDEX(OPT_ODSYNC)] = {"odsync", no_argument, P(WRITE)},
	[OPT_INDEX(OPT_OSYNC)] = {"osync", no_argument, P(WRITE)},
	[OPT_INDEX(OPT_APPEND)] = {"append", no_argument, P(WRITE)},
	[OPT_INDEX(OPT_TRUNC)] = {"trunc", no_argument, P(WRITE)},
	[OPT_INDEX(OPT_SYSCALL)] = {"syscall", required_argument, P(WRITE)},
	[OPT_INDEX(OPT_IOV)] = {"iov", required_argument, P(WRITE)},
	[OPT_INDEX(OPT_OFFSET)] = {"offset", required_argument, P(WRITE)},
	[OPT_INDEX(OPT_OVERWRITE)] = {"overwrite", no_argument, P(WRITE)},
	[OPT_INDEX(OPT_REGION)] = {"region", required_argument, P(WRITE)},
	[OPT_INDEX(OPT_FALLOCATE)] = {"fallocate", no_argument, P(PREPARE)},
	[OPT_INDEX(OPT_FAMILY)] = {"family", required_argument, P(SOCKET)},
	[OPT_INDEX(OPT_MSYNC)] = {"msync", no_argument, P(MMAP)},
	[OPT_INDEX(OPT_MSYNC_EVERY_PAGE)] = {"msync-every-page", no_argument, P(MMAP)},
	[OPT_INDEX(OPT_TOUCH_STRIDE)] = {"touch-stride", required_argument, P(MMAP)},
	[OPT_INDEX(OPT_DIR)] = {"dir", required_argument, P(TREE)},
	[OPT_INDEX(OPT_FILES)] = {"files", required_argument, P(TREE)},
	[OPT_INDEX(OPT_FSYNC)] = {"fsync", no_argument, P(TREE)},
	[OPT_INDEX(OPT_FILL)] = {"fill", required_argument, DATA_PATTERNS},
	[OPT_INDEX(OPT_HOLD_MS)] = {"hold-ms", required_argument, ALL_PATTERNS},
	[OPT_INDEX(OPT_COMM)] = {"comm", required_argument, ALL_PATTERNS},
	[OPT_INDEX(OPT_START_AFTER)] = {"start-after", required_argument, ALL_PATTERNS},
	[OPT_INDEX(OPT_REPEAT)] = {"repeat", required_argument, ALL_PATTERNS},
	[OPT_INDEX(OPT_THREADS)] = {"threads", required_argument,
				    P(WRITE) | P(PIPE) | P(SOCKET) | P(TREE)},
	[OPT_INDEX(OPT_EXPECT_EINVAL)] = {"expect-einval", no_argument, P(WRITE)},
	[OPT_INDEX(OPT_HELP)] = {"help", no_argument, ALL_PATTERNS},
};

#define OPT_BIT(id) (1ull << OPT_INDEX(id))
_Static_assert(OPT__COUNT <= 64, "struct workload.given has a bit per option");

/* Everything the arguments say; read-only once parsed. */
struct workload {
	enum pattern pattern;
	unsigned long long given; /* OPT_BIT of every option on the command line */
	const char *file;
	const char *dir;
	long long count; /* writes, or files for tree */
	long long size;
	long long offset;
	long long region;
	long long fsync_every;
	long long fdatasync_every;
	long long sfr_every;
	int open_flags; /* added to O_WRONLY | O_CREAT */
	enum write_call call;
	int iov;
	bool overwrite;
	bool expect_einval;
	bool fallocate;
	enum family family;
	enum msync_mode msync;
	long long touch_stride;
	bool tree_fsync;
	unsigned char fill;
	long long hold_ms;
	char *comm; /* decoded, owned */
	const char *start_after;
	long long repeat;
	long long threads;
};

struct pattern_spec {
	const char *name;
	void (*run)(const struct workload *wl);
	unsigned long long required; /* OPT_BITs the pattern cannot do without */
};

static const char usage_text[] =
	"Usage: " PROG " PATTERN [OPTIONS]\n"
	"Makes exactly the I/O its arguments describe and prints nothing unless a call fails.\n"
	"Numbers take a K, M or G suffix (powers of 1024).\n"
	"\n"
	"Patterns:\n"
	"  write --file PATH --count N --size S [options below]\n"
	"      open PATH (O_WRONLY|O_CREAT and the flags asked for), make N writes of S bytes,\n"
	"      close it\n"
	"      --syscall CALL       write, pwrite, writev, pwritev or pwritev2 (flags 0); the\n"
	"                           default is write, or pwrite with --offset or --overwrite\n"
	"      --iov N              iovecs per vector call, S split across them (default 1)\n"
	"      --offset O           offset of the first positional write (default 0); write i\n"
	"                           goes to O + i*S\n"
	"      --overwrite          write i goes to O + (i*S mod REGION) instead\n"
	"      --region BYTES       what --overwrite rewrites, a multiple of S (default S)\n"
	"      --fsync-every K      fsync after every K-th write (N/K rounded down calls)\n"
	"      --fdatasync-every K  fdatasync after every K-th write\n"
	"      --sync-file-range-every K\n"
	"                           sync_file_range(fd, 0, 0, WAIT_BEFORE|WRITE|WAIT_AFTER)\n"
	"                           after every K-th write, before that write's fsync if any\n"
	"      --odirect --odsync --osync --append --trunc\n"
	"                           open with O_DIRECT, O_DSYNC, O_SYNC, O_APPEND, O_TRUNC;\n"
	"                           O_DIRECT needs S and O aligned to the device's block size\n"
	"      --expect-einval      every write must fail with EINVAL, as a misaligned O_DIRECT\n"
	"                           write does; exit 1 when one does not\n"
	"      --threads T          split the N writes across T threads sharing the fd; write\n"
	"                           and writev share its offset, positional calls keep the\n"
	"                           layout above; the K-th write process-wide does the sync\n"
	"  prepare --file PATH --size BYTES [--fallocate]\n"
	"      create PATH holding BYTES of data (fallocated blocks with --fallocate), fsync\n"
	"      it and its directory, so that a later overwrite or O_DIRECT run finds its\n"
	"      blocks allocated; run it before, not inside, the traced command\n"
	"  pipe --count N --size S [--threads T]\n"
	"      N writes of S bytes into a pipe; a thread of this process drains it with read()\n"
	"  socket --count N --size S [--family unix|tcp] [--threads T]\n"
	"      N writes of S bytes into an AF_UNIX socketpair (default) or a loopback TCP\n"
	"      connection; a thread of this process reads the other end\n"
	"  mmap --file PATH --size BYTES [--touch-stride B] [--msync | --msync-every-page]\n"
	"      ftruncate PATH to BYTES, map it MAP_SHARED, store one byte at every B-th byte\n"
	"      (default: one per page), then msync(MS_SYNC) the whole map once (--msync),\n"
	"      or each touched page after its last store (--msync-every-page), or not at\n"
	"      all (default); munmap, close; no write calls\n"
	"  sync\n"
	"      call sync() once\n"
	"  syncfs --file PATH\n"
	"      open PATH read-only (a directory will do) and call syncfs() on it once\n"
	"  tree --dir DIR --files N --size S [--fsync] [--threads T]\n"
	"      in DIR, which must exist, create f000000, f000001, ... (O_TRUNC), each with\n"
	"      one write of S bytes, and fsync each with --fsync\n"
	"\n"
	"Common options:\n"
	"  --fill BYTE         value of every data byte, e.g. 0x41 (default 0x5a)\n"
	"  --hold-ms MS        sleep MS after each repetition's I/O, before it closes its files\n"
	"  --comm NAME         set the process name before any I/O, decoding\n"
	"                      \\xHH \\n \\t \\r \\e \\\\; the kernel keeps the first 15 bytes\n"
	"  --start-after PATH  first wait until PATH exists, polling every 10 ms\n"
	"  --repeat R          run the whole pattern R times, each opening its files anew\n"
	"  --help              print this text\n"
	"\n"
	"Exit status: 0 when every call succeeded in full, 1 when one failed, 2 on a usage "
	"error.\n";

/*
 * Threads may fail at once: _exit() avoids exit()'s unsynchronised teardown, and stdio holds
 * nothing to flush, since nothing is printed on success.
 */
static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	_exit(EXIT_FAILURE);
}

/* Like die(), with ": strerror(errno)" after the message, which names the failing call. */
static void __attribute__((noreturn, format(printf, 1, 2))) die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(err));
	va_end(ap);
	_exit(EXIT_FAILURE);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see --help)\n", stderr);
	va_end(ap);
	exit(EXIT_USAGE);
}

static void check_full_write(const char *call, const char *target, ssize_t ret, long long want)
{
	if (ret < 0)
		die_errno("%s %s", call, target);
	if (ret != want)
		die("%s %s: short write, %zd of %lld bytes", call, target, ret, want);
}

static void close_or_die(int fd, const char *what)
{
	if (close(fd))
		die_errno("close %s", what);
}

static void sleep_ms(long long ms)
{
	struct timespec left = {
		.tv_sec = ms / MSEC_PER_SEC,
		.tv_nsec = (ms % MSEC_PER_SEC) * NSEC_PER_MSEC,
	};

	while (nanosleep(&left, &left)) {
		if (errno != EINTR)
			die_errno("nanosleep");
	}
}

static void hold(const struct workload *wl)
{
	if (wl->hold_ms)
		sleep_ms(wl->hold_ms);
}

/* Aligned for O_DIRECT whether or not it is asked for, so no path differs in its buffer. */
static unsigned char *alloc_filled(long long size, unsigned char fill)
{
	void *buf;
	int err = posix_memalign(&buf, BUF_ALIGN, size);

	if (err) {
		errno = err;
		die_errno("posix_memalign %lld bytes", size);
	}
	memset(buf, fill, size);
	return buf;
}

/* ---- threads ---- */

typedef void (*share_fn)(void *ctx, long long first, long long n);

struct share {
	share_fn fn;
	void *ctx;
	long long first;
	long long n;
};

static void *run_share(void *arg)
{
	struct share *s = arg;

	s->fn(s->ctx, s->first, s->n);
	return NULL;
}

/*
 * Hands items [0, total) to `threads` threads in contiguous shares; with one thread the work
 * runs in the caller, so a single-threaded run has no thread the tests must think about.
 */
static void split_across_threads(long long total, long long threads, share_fn fn, void *ctx)
{
	struct share shares[MAX_THREADS];
	pthread_t tids[MAX_THREADS];
	long long base = total / threads, extra = total % threads, next = 0;
	int err;

	if (threads == 1) {
		fn(ctx, 0, total);
		return;
	}
	for (long long t = 0; t < threads; t++) {
		shares[t] = (struct share){fn, ctx, next, base + (t < extra)};
		next += shares[t].n;
		err = pthread_create(&tids[t], NULL, run_share, &shares[t]);
		if (err) {
			errno = err;
			die_errno("pthread_create");
		}
	}
	for (long long t = 0; t < threads; t++) {
		err = pthread_join(tids[t], NULL);
		if (err) {
			errno = err;
			die_errno("pthread_join");
		}
	}
}

/* ---- write, and the writing side of pipe and socket ---- */

struct write_run {
	const struct workload *wl;
	const char *target; /* names the fd in error messages */
	int fd;
	unsigned char *buf;
	struct iovec iov[IOV_MAX];
	atomic_llong done; /* writes completed process-wide, which decides who syncs */
};

/* Splits the buffer into wl->iov consecutive pieces; the first size % iov get one byte more. */
static void split_buffer(struct write_run *run)
{
	const struct workload *wl = run->wl;
	long long piece = wl->size / wl->iov, extra = wl->size % wl->iov;
	unsigned char *next = run->buf;

	for (int i = 0; i < wl->iov; i++) {
		run->iov[i].iov_base = next;
		run->iov[i].iov_len = piece + (i < extra);
		next += run->iov[i].iov_len;
	}
}

static off_t offset_of_write(const struct workload *wl, long long i)
{
	/* i * size mod region, in a form that cannot overflow */
	if (wl->overwrite)
		return wl->offset + (i % (wl->region / wl->size)) * wl->size;
	return wl->offset + i * wl->size;
}

static void write_once(struct write_run *run, long long i)
{
	const struct workload *wl = run->wl;
	ssize_t ret = -1;

	switch (wl->call) {
	case CALL_WRITE:
		ret = write(run->fd, run->buf, wl->size);
		break;
	case CALL_PWRITE:
		ret = pwrite(run->fd, run->buf, wl->size, offset_of_write(wl, i));
		break;
	case CALL_WRITEV:
		ret = writev(run->fd, run->iov, wl->iov);
		break;
	case CALL_PWRITEV:
		ret = pwritev(run->fd, run->iov, wl->iov, offset_of_write(wl, i));
		break;
	case CALL_PWRITEV2:
		ret = pwritev2(run->fd, run->iov, wl->iov, offset_of_write(wl, i), 0);
		break;
	case CALL__COUNT:
		break;
	}
	/* A refused write is then the ground truth, so anything else is the failure. */
	if (wl->expect_einval) {
		if (ret >= 0)
			die("%s %s: wrote %zd bytes, but EINVAL was expected", call_names[wl->call],
			    run->target, ret);
		if (errno != EINVAL)
			die_errno("%s %s (EINVAL was expected)", call_names[wl->call], run->target);
		return;
	}
	if (ret < 0 && errno == EINVAL && (wl->open_flags & O_DIRECT))
		die("%s %s: %s (O_DIRECT needs --size, --offset and each iovec aligned to the "
		    "device's logical block size)",
		    call_names[wl->call], run->target, strerror(errno));
	check_full_write(call_names[wl->call], run->target, ret, wl->size);
}

static void sync_after_write(struct write_run *run)
{
	const struct workload *wl = run->wl;
	long long done = atomic_fetch_add(&run->done, 1) + 1;

	if (wl->sfr_every && done % wl->sfr_every == 0 &&
	    sync_file_range(run->fd, 0, WHOLE_FILE, SYNC_FILE_RANGE_ALL))
		die_errno("sync_file_range %s", run->target);
	if (wl->fsync_every && done % wl->fsync_every == 0 && fsync(run->fd))
		die_errno("fsync %s", run->target);
	if (wl->fdatasync_every && done % wl->fdatasync_every == 0 && fdatasync(run->fd))
		die_errno("fdatasync %s", run->target);
}

static void write_share(void *ctx, long long first, long long n)
{
	struct write_run *run = ctx;

	for (long long i = first; i < first + n; i++) {
		write_once(run, i);
		sync_after_write(run);
	}
}

/* The caller owns fd; the writes of every thread go through the same fd. */
static void write_count_times(const struct workload *wl, int fd, const char *target)
{
	struct write_run *run = calloc(1, sizeof(*run));

	if (!run)
		die_errno("calloc");
	run->wl = wl;
	run->target = target;
	run->fd = fd;
	run->buf = alloc_filled(wl->size, wl->fill);
	atomic_init(&run->done, 0);
	split_buffer(run);
	split_across_threads(wl->count, wl->threads, write_share, run);
	free(run->buf);
	free(run);
}

static void run_write(const struct workload *wl)
{
	int fd = open(wl->file, O_WRONLY | O_CREAT | wl->open_flags, FILE_MODE);

	if (fd < 0 && errno == EINVAL && (wl->open_flags & O_DIRECT))
		die("open %s: %s (the filesystem refuses O_DIRECT)", wl->file, strerror(errno));
	if (fd < 0)
		die_errno("open %s", wl->file);
	write_count_times(wl, fd, wl->file);
	hold(wl);
	close_or_die(fd, wl->file);
}

/* ---- prepare ---- */

static void write_data(int fd, const char *path, long long size, unsigned char fill)
{
	long long chunk = size < PREPARE_CHUNK ? size : PREPARE_CHUNK;
	unsigned char *buf = alloc_filled(chunk, fill);

	for (long long left = size; left > 0; left -= chunk) {
		if (chunk > left)
			chunk = left;
		check_full_write("write", path, write(fd, buf, chunk), chunk);
	}
	free(buf);
}

/* A new file's directory entry is dirty too; flushing it now keeps it out of the traced run. */
static void fsync_parent_dir(const char *path)
{
	char *copy = strdup(path);
	const char *dir;
	int fd;

	if (!copy)
		die_errno("strdup");
	dir = dirname(copy);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		die_errno("open %s", dir);
	if (fsync(fd))
		die_errno("fsync %s", dir);
	close_or_die(fd, dir);
	free(copy);
}

/*
 * Written data is the default, not fallocate: ext4 and xfs mark fallocated extents
 * unwritten, and the first write to them converts the extent, which is metadata I/O the
 * traced overwrite would then show.
 */
static void run_prepare(const struct workload *wl)
{
	int fd = open(wl->file, O_WRONLY | O_CREAT | O_TRUNC, FILE_MODE);

	if (fd < 0)
		die_errno("open %s", wl->file);
	if (wl->fallocate) {
		if (fallocate(fd, 0, 0, wl->size))
			die_errno("fallocate %s", wl->file);
	} else {
		write_data(fd, wl->file, wl->size, wl->fill);
	}
	if (fsync(fd))
		die_errno("fsync %s", wl->file);
	close_or_die(fd, wl->file);
	fsync_parent_dir(wl->file);
}

/* ---- pipe and socket ---- */

struct drainer {
	pthread_t tid;
	int fd;
	const char *what;
};

/* Reads until end of file; reading is all it does, so it adds no writes of its own. */
static void *drain(void *arg)
{
	struct drainer *d = arg;
	static char sink[DRAIN_CHUNK];
	ssize_t n;

	do {
		n = read(d->fd, sink, sizeof(sink));
	} while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0)
		die_errno("read %s", d->what);
	return NULL;
}

static void start_drainer(struct drainer *d, int fd, const char *what)
{
	int err;

	d->fd = fd;
	d->what = what;
	err = pthread_create(&d->tid, NULL, drain, d);
	if (err) {
		errno = err;
		die_errno("pthread_create");
	}
}

static void join_drainer(struct drainer *d)
{
	int err = pthread_join(d->tid, NULL);

	if (err) {
		errno = err;
		die_errno("pthread_join");
	}
}

/* fds[1] is written by the pattern, fds[0] read by the drainer. */
static void stream_through(const struct workload *wl, int fds[2], const char *what)
{
	struct drainer d;

	start_drainer(&d, fds[0], what);
	write_count_times(wl, fds[1], what);
	hold(wl);
	/* Closing the write end is what ends the drainer's read loop. */
	close_or_die(fds[1], what);
	join_drainer(&d);
	close_or_die(fds[0], what);
}

static void run_pipe(const struct workload *wl)
{
	int fds[2];

	if (pipe(fds))
		die_errno("pipe");
	stream_through(wl, fds, "pipe");
}

static void open_unix_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
		die_errno("socketpair AF_UNIX");
}

/* fds[0] is the accepted end, fds[1] the connecting end; the listener is closed again. */
static void open_tcp_pair(int fds[2])
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = 0, /* the kernel picks a free port */
	};
	socklen_t len = sizeof(addr);
	int listener = socket(AF_INET, SOCK_STREAM, 0);

	if (listener < 0)
		die_errno("socket AF_INET");
	if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)))
		die_errno("bind 127.0.0.1");
	if (listen(listener, 1))
		die_errno("listen");
	if (getsockname(listener, (struct sockaddr *)&addr, &len))
		die_errno("getsockname");
	fds[1] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[1] < 0)
		die_errno("socket AF_INET");
	if (connect(fds[1], (struct sockaddr *)&addr, sizeof(addr)))
		die_errno("connect 127.0.0.1:%d", ntohs(addr.sin_port));
	fds[0] = accept(listener, NULL, NULL);
	if (fds[0] < 0)
		die_errno("accept");
	close_or_die(listener, "listening socket");
}

static void run_socket(const struct workload *wl)
{
	int fds[2];

	if (wl->family == FAMILY_TCP) {
		open_tcp_pair(fds);
		stream_through(wl, fds, "tcp socket");
	} else {
		open_unix_pair(fds);
		stream_through(wl, fds, "unix socket");
	}
}

/* ---- mmap ---- */

static void msync_or_die(void *addr, size_t len, const char *path)
{
	if (msync(addr, len, MS_SYNC))
		die_errno("msync %s", path);
}

/* Every store dirties its page; with MSYNC_EVERY_PAGE a page is synced after its last store. */
static void touch_map(const struct workload *wl, unsigned char *map, long long page)
{
	for (long long off = 0; off < wl->size; off += wl->touch_stride) {
		long long next = off + wl->touch_stride;
		long long page_start = off - off % page;
		long long page_len = wl->size - page_start < page ? wl->size - page_start : page;

		map[off] = wl->fill;
		if (wl->msync == MSYNC_EVERY_PAGE &&
		    (next >= wl->size || next / page != off / page))
			msync_or_die(map + page_start, page_len, wl->file);
	}
}

static void run_mmap(const struct workload *wl)
{
	long long page = sysconf(_SC_PAGESIZE);
	unsigned char *map;
	int fd = open(wl->file, O_RDWR | O_CREAT, FILE_MODE);

	if (fd < 0)
		die_errno("open %s", wl->file);
	if (ftruncate(fd, wl->size))
		die_errno("ftruncate %s", wl->file);
	map = mmap(NULL, wl->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die_errno("mmap %s", wl->file);
	touch_map(wl, map, page);
	if (wl->msync == MSYNC_AT_END)
		msync_or_die(map, wl->size, wl->file);
	hold(wl);
	if (munmap(map, wl->size))
		die_errno("munmap %s", wl->file);
	close_or_die(fd, wl->file);
}

/* ---- sync, syncfs ---- */

static void run_sync(const struct workload *wl)
{
	sync();
	hold(wl);
}

static void run_syncfs(const struct workload *wl)
{
	int fd = open(wl->file, O_RDONLY);

	if (fd < 0)
		die_errno("open %s", wl->file);
	if (syncfs(fd))
		die_errno("syncfs %s", wl->file);
	hold(wl);
	close_or_die(fd, wl->file);
}

/* ---- tree ---- */

struct tree_run {
	const struct workload *wl;
	unsigned char *buf;
};

static void create_tree_file(const struct workload *wl, const unsigned char *buf, long long i)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), TREE_NAME_FMT, wl->dir, i) >= (int)sizeof(path))
		die("path of file %lld in %s is longer than PATH_MAX", i, wl->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, FILE_MODE);
	if (fd < 0)
		die_errno("open %s", path);
	check_full_write("write", path, write(fd, buf, wl->size), wl->size);
	if (wl->tree_fsync && fsync(fd))
		die_errno("fsync %s", path);
	close_or_die(fd, path);
}

static void tree_share(void *ctx, long long first, long long n)
{
	struct tree_run *run = ctx;

	for (long long i = first; i < first + n; i++)
		create_tree_file(run->wl, run->buf, i);
}

static void run_tree(const struct workload *wl)
{
	struct tree_run run = {wl, alloc_filled(wl->size, wl->fill)};

	split_across_threads(wl->count, wl->threads, tree_share, &run);
	hold(wl);
	free(run.buf);
}

/* ---- before the I/O ---- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the escapes --help lists, so a test can hand the process a hostile name. */
static char *decode_escapes(const char *arg)
{
	char *out = malloc(strlen(arg) + 1), *o = out;

	if (!out)
		die_errno("malloc");
	for (const char *p = arg; *p; p++) {
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		switch (*++p) {
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'e':
			*o++ = '\x1b';
			break;
		case '\\':
			*o++ = '\\';
			break;
		case 'x': {
			int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);

			if (lo < 0)
				usage_error("--comm: \\x needs two hex digits");
			if (hi == 0 && lo == 0)
				usage_error("--comm: \\x00 would end the name");
			*o++ = (char)(hi * 16 + lo);
			p += 2;
			break;
		}
		case '\0':
			usage_error("--comm: the name ends in a lone backslash");
		default:
			usage_error("--comm: unknown escape \\%c", *p);
		}
	}
	*o = '\0';
	return out;
}

static void set_comm(const char *name)
{
	if (prctl(PR_SET_NAME, name, 0, 0, 0))
		die_errno("prctl PR_SET_NAME");
}

/* Lets a test start writeamp first and then release us; polling reads, never writes. */
static void wait_for_path(const char *path)
{
	while (access(path, F_OK)) {
		if (errno != ENOENT && errno != ENOTDIR)
			die_errno("access %s", path);
		sleep_ms(START_POLL_MS);
	}
}

/* ---- arguments ---- */

static const struct pattern_spec patterns[PAT__COUNT] = {
	[PAT_WRITE] = {"write", run_write,
		       OPT_BIT(OPT_FILE) | OPT_BIT(OPT_COUNT) | OPT_BIT(OPT_SIZE)},
	[PAT_PREPARE] = {"prepare", run_prepare, OPT_BIT(OPT_FILE) | OPT_BIT(OPT_SIZE)},
	[PAT_PIPE] = {"pipe", run_pipe, OPT_BIT(OPT_COUNT) | OPT_BIT(OPT_SIZE)},
	[PAT_SOCKET] = {"socket", run_socket, OPT_BIT(OPT_COUNT) | OPT_BIT(OPT_SIZE)},
	[PAT_MMAP] = {"mmap", run_mmap, OPT_BIT(OPT_FILE) | OPT_BIT(OPT_SIZE)},
	[PAT_SYNC] = {"sync", run_sync, 0},
	[PAT_SYNCFS] = {"syncfs", run_syncfs, OPT_BIT(OPT_FILE)},
	[PAT_TREE] = {"tree", run_tree, OPT_BIT(OPT_DIR) | OPT_BIT(OPT_FILES) | OPT_BIT(OPT_SIZE)},
};

static void __attribute__((noreturn)) print_usage(void)
{
	fputs(usage_text, stdout);
	exit(fflush(stdout) ? EXIT_FAILURE : EXIT_SUCCESS);
}

static int suffix_shift(char c)
{
	switch (c) {
	case '\0':
		return 0;
	case 'k':
	case 'K':
		return 10;
	case 'm':
	case 'M':
		return 20;
	case 'g':
	case 'G':
		return 30;
	default:
		return -1;
	}
}

static long long parse_number(const char *opt, const char *arg, long long min, long long max)
{
	char *end;
	long long value;
	int shift;

	errno = 0;
	value = strtoll(arg, &end, 10);
	if (errno || end == arg || value < 0)
		usage_error("--%s: '%s' is not a number of 0 or more", opt, arg);
	shift = suffix_shift(*end);
	if (shift < 0 || (*end && end[1]))
		usage_error("--%s: '%s' has a suffix other than K, M or G", opt, arg);
	if (value > (max >> shift) || (value << shift) < min)
		usage_error("--%s: %s is outside [%lld, %lld]", opt, arg, min, max);
	return value << shift;
}

static unsigned char parse_byte(const char *arg)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(arg, &end, 0);
	if (errno || end == arg || *end || value < 0 || value > BYTE_MAX)
		usage_error("--fill: '%s' is not a byte value such as 0x41 or 65", arg);
	return (unsigned char)value;
}

static enum write_call parse_call(const char *arg)
{
	for (int c = 0; c < CALL__COUNT; c++) {
		if (!strcmp(arg, call_names[c]))
			return c;
	}
	usage_error("--syscall: '%s' is not write, pwrite, writev, pwritev or pwritev2", arg);
}

static enum family parse_family(const char *arg)
{
	if (!strcmp(arg, "unix"))
		return FAMILY_UNIX;
	if (!strcmp(arg, "tcp"))
		return FAMILY_TCP;
	usage_error("--family: '%s' is not unix or tcp", arg);
}

static enum pattern parse_pattern(const char *arg)
{
	for (int p = 0; p < PAT__COUNT; p++) {
		if (!strcmp(arg, patterns[p].name))
			return p;
	}
	usage_error("unknown pattern '%s'", arg);
}

static void set_defaults(struct workload *wl)
{
	*wl = (struct workload){
		.call = CALL_WRITE,
		.iov = 1,
		.fill = DEFAULT_FILL,
		.repeat = 1,
		.threads = 1,
	};
}

static void apply_option(struct workload *wl, int id, const char *arg)
{
	const char *name = opt_specs[OPT_INDEX(id)].name;

	switch (id) {
	case OPT_FILE:
		wl->file = arg;
		break;
	case OPT_DIR:
		wl->dir = arg;
		break;
	case OPT_COUNT:
	case OPT_FILES:
		wl->count = parse_number(name, arg, 0, MAX_COUNT);
		break;
	case OPT_SIZE:
		wl->size = parse_number(name, arg, 1, MAX_FILE_SIZE);
		break;
	case OPT_FSYNC_EVERY:
		wl->fsync_every = parse_number(name, arg, 1, MAX_COUNT);
		break;
	case OPT_FDATASYNC_EVERY:
		wl->fdatasync_every = parse_number(name, arg, 1, MAX_COUNT);
		break;
	case OPT_SFR_EVERY:
		wl->sfr_every = parse_number(name, arg, 1, MAX_COUNT);
		break;
	case OPT_ODIRECT:
		wl->open_flags |= O_DIRECT;
		break;
	case OPT_ODSYNC:
		wl->open_flags |= O_DSYNC;
		break;
	case OPT_OSYNC:
		wl->open_flags |= O_SYNC;
		break;
	case OPT_APPEND:
		wl->open_flags |= O_APPEND;
		break;
	case OPT_TRUNC:
		wl->open_flags |= O_TRUNC;
		break;
	case OPT_SYSCALL:
		wl->call = parse_call(arg);
		break;
	case OPT_IOV:
		wl->iov = parse_number(name, arg, 1, IOV_MAX);
		break;
	case OPT_OFFSET:
		wl->offset = parse_number(name, arg, 0, MAX_FILE_SIZE);
		break;
	case OPT_OVERWRITE:
		wl->overwrite = true;
		break;
	case OPT_EXPECT_EINVAL:
		wl->expect_einval = true;
		break;
	case OPT_REGION:
		wl->region = parse_number(name, arg, 1, MAX_FILE_SIZE);
		break;
	case OPT_FALLOCATE:
		wl->fallocate = true;
		break;
	case OPT_FAMILY:
		wl->family = parse_family(arg);
		break;
	case OPT_MSYNC:
		wl->msync = MSYNC_AT_END;
		break;
	case OPT_MSYNC_EVERY_PAGE:
		wl->msync = MSYNC_EVERY_PAGE;
		break;
	case OPT_TOUCH_STRIDE:
		wl->touch_stride = parse_number(name, arg, 1, MAX_FILE_SIZE);
		break;
	case OPT_FSYNC:
		wl->tree_fsync = true;
		break;
	case OPT_FILL:
		wl->fill = parse_byte(arg);
		break;
	case OPT_HOLD_MS:
		wl->hold_ms = parse_number(name, arg, 0, MAX_HOLD_MS);
		break;
	case OPT_COMM:
		wl->comm = decode_escapes(arg);
		break;
	case OPT_START_AFTER:
		wl->start_after = arg;
		break;
	case OPT_REPEAT:
		wl->repeat = parse_number(name, arg, 1, MAX_COUNT);
		break;
	case OPT_THREADS:
		wl->threads = parse_number(name, arg, 1, MAX_THREADS);
		break;
	case OPT_HELP:
		print_usage();
	}
}

static bool given(const struct workload *wl, int id)
{
	return wl->given & OPT_BIT(id);
}

static void check_exclusive(const struct workload *wl, int a, int b)
{
	if (given(wl, a) && given(wl, b))
		usage_error("--%s and --%s exclude each other", opt_specs[OPT_INDEX(a)].name,
			    opt_specs[OPT_INDEX(b)].name);
}

static bool is_positional(enum write_call call)
{
	return call == CALL_PWRITE || call == CALL_PWRITEV || call == CALL_PWRITEV2;
}

static bool is_vector(enum write_call call)
{
	return call == CALL_WRITEV || call == CALL_PWRITEV || call == CALL_PWRITEV2;
}

/* Settles the defaults that depend on other options and refuses combinations with no meaning. */
static void check_write_options(struct workload *wl)
{
	bool placed = given(wl, OPT_OFFSET) || wl->overwrite;
	long long span;

	check_exclusive(wl, OPT_FSYNC_EVERY, OPT_FDATASYNC_EVERY);
	check_exclusive(wl, OPT_APPEND, OPT_OFFSET);
	check_exclusive(wl, OPT_APPEND, OPT_OVERWRITE);
	if (placed && !given(wl, OPT_SYSCALL))
		wl->call = CALL_PWRITE;
	if (placed && !is_positional(wl->call))
		usage_error("--offset and --overwrite need pwrite, pwritev or pwritev2");
	if (given(wl, OPT_IOV) && !is_vector(wl->call))
		usage_error("--iov needs --syscall writev, pwritev or pwritev2");
	if (wl->iov > wl->size)
		usage_error("--iov %d is more iovecs than --size %lld has bytes", wl->iov,
			    wl->size);
	if (given(wl, OPT_REGION) && !wl->overwrite)
		usage_error("--region needs --overwrite");
	if (wl->overwrite && !wl->region)
		wl->region = wl->size;
	if (wl->overwrite && wl->region % wl->size)
		usage_error("--region %lld is not a multiple of --size %lld", wl->region, wl->size);
	span = wl->overwrite ? wl->region : wl->size;
	if (!wl->overwrite && __builtin_mul_overflow(wl->count, wl->size, &span))
		usage_error("--count times --size overflows a file offset");
	if (span > MAX_FILE_SIZE - wl->offset)
		usage_error("the writes would end beyond %lld bytes", MAX_FILE_SIZE);
}

static void check_options(struct workload *wl)
{
	const struct pattern_spec *spec = &patterns[wl->pattern];
	unsigned long long missing = spec->required & ~wl->given;

	for (int i = 0; i < OPT__COUNT; i++) {
		if (missing & (1ull << i))
			usage_error("pattern %s needs --%s", spec->name, opt_specs[i].name);
	}
	if (wl->pattern != PAT_MMAP && wl->pattern != PAT_PREPARE && wl->size > MAX_IO_SIZE)
		usage_error("--size %lld is more than one write may be here (%lld)", wl->size,
			    MAX_IO_SIZE);
	check_exclusive(wl, OPT_MSYNC, OPT_MSYNC_EVERY_PAGE);
	if (wl->pattern == PAT_MMAP && !wl->touch_stride)
		wl->touch_stride = sysconf(_SC_PAGESIZE);
	if (wl->pattern == PAT_WRITE)
		check_write_options(wl);
}

static void build_long_options(struct option *out)
{
	for (int i = 0; i < OPT__COUNT; i++)
		out[i] = (struct option){opt_specs[i].name, opt_specs[i].has_arg, NULL,
					 OPT_FIRST + i};
	out[OPT__COUNT] = (struct option){0};
}

/* The pattern comes first; every option after it must be one that pattern takes. */
static void parse_args(int argc, char **argv, struct workload *wl)
{
	struct option longopts[OPT__COUNT + 1];
	int id;

	set_defaults(wl);
	if (argc < 2)
		usage_error("no pattern given");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		print_usage();
	wl->pattern = parse_pattern(argv[1]);
	build_long_options(longopts);
	opterr = 0; /* our own one-line messages instead of getopt's */
	optind = 2;
	while ((id = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (id == '?' && optopt >= OPT_FIRST)
			usage_error("--%s needs an argument", opt_specs[OPT_INDEX(optopt)].name);
		if (id == '?')
			usage_error("unknown option '%s'", argv[optind - 1]);
		if (!(opt_specs[OPT_INDEX(id)].patterns & (1u << wl->pattern)))
			usage_error("--%s does not apply to pattern %s",
				    opt_specs[OPT_INDEX(id)].name, argv[1]);
		wl->given |= OPT_BIT(id);
		apply_option(wl, id, optarg);
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	check_options(wl);
}

int main(int argc, char **argv)
{
	struct workload wl;

	parse_args(argc, argv, &wl);
	/* Before the wait and any I/O, so every traced event already carries the name. */
	if (wl.comm) {
		set_comm(wl.comm);
		free(wl.comm);
	}
	if (wl.start_after)
		wait_for_path(wl.start_after);
	for (long long r = 0; r < wl.repeat; r++)
		patterns[wl.pattern].run(&wl);
	return EXIT_SUCCESS;
}
