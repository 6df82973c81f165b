// SPDX-License-Identifier: GPL-2.0
/* writeloop.c: the loop bench.sh times: small write() calls to a page-cached file, in ns/write. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG		  "writeloop"
#define DEFAULT_FILE	  "/var/tmp/writeamp-bench.dat"
#define DEFAULT_COUNT	  2000000LL
#define DEFAULT_SIZE	  48
#define MAX_SIZE	  (1 << 20)
#define NO_CPU		  -1
#define FILE_MODE	  0644
#define FILL_BYTE	  'w'
#define EXIT_USAGE	  2
#define NSEC_PER_SEC	  1000000000.0
/*
 * One lseek back to 0 every REWIND_EVERY writes keeps the file at REWIND_EVERY * size bytes
 * (3 MiB at 48 bytes), so it stays in the page cache and the loop never waits for the disk;
 * the lseek costs 1/65536 of a syscall per write, far below the noise.
 */
#define REWIND_EVERY	  65536
#define CLOCK_CHECK_EVERY 4096 /* --seconds reads the clock this often, not on every write */

struct env {
	const char *file;
	long long count;
	double seconds; /* 0: run --count writes instead */
	long size;
	int cpu;
};

struct loop {
	int fd;
	const char *path;
	const char *buf;
	size_t size;
	long long since_rewind;
};

static const char usage_text[] =
	"Usage: " PROG " [--count N | --seconds S] [--size B] [--file PATH] [--cpu C]\n"
	"Times write() calls to a page-cached file and prints the nanoseconds per write.\n"
	"  --count N    writes to time (default 2000000)\n"
	"  --seconds S  write for S seconds instead\n"
	"  --size B     bytes per write (default 48)\n"
	"  --file PATH  the file, rewound every 65536 writes (default " DEFAULT_FILE ")\n"
	"  --cpu C      pin the loop to CPU C\n";

static void __attribute__((noreturn)) die_errno(const char *call, const char *what)
{
	fprintf(stderr, PROG ": %s %s: %s\n", call, what, strerror(errno));
	exit(EXIT_FAILURE);
}

static void __attribute__((noreturn)) usage_error(const char *opt, const char *arg)
{
	fprintf(stderr, PROG ": --%s: '%s' is not valid (see --help)\n", opt, arg);
	exit(EXIT_USAGE);
}

static long long parse_count(const char *opt, const char *arg, long long min, long long max)
{
	char *end;
	long long value;

	errno = 0;
	value = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || value < min || value > max)
		usage_error(opt, arg);
	return value;
}

static double parse_seconds(const char *arg)
{
	char *end;
	double value;

	errno = 0;
	value = strtod(arg, &end);
	if (errno || end == arg || *end || !(value > 0))
		usage_error("seconds", arg);
	return value;
}

static void parse_args(int argc, char **argv, struct env *env)
{
	enum { OPT_COUNT = 256, OPT_FILE, OPT_SECONDS, OPT_SIZE, OPT_CPU, OPT_HELP };
	static const struct option longopts[] = {
		{"count", required_argument, NULL, OPT_COUNT},
		{"file", required_argument, NULL, OPT_FILE},
		{"seconds", required_argument, NULL, OPT_SECONDS},
		{"size", required_argument, NULL, OPT_SIZE},
		{"cpu", required_argument, NULL, OPT_CPU},
		{"help", no_argument, NULL, OPT_HELP},
		{0},
	};
	int opt;

	*env = (struct env){DEFAULT_FILE, DEFAULT_COUNT, 0, DEFAULT_SIZE, NO_CPU};
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_COUNT:
			env->count = parse_count("count", optarg, 1, LLONG_MAX);
			break;
		case OPT_FILE:
			env->file = optarg;
			break;
		case OPT_SECONDS:
			env->seconds = parse_seconds(optarg);
			break;
		case OPT_SIZE:
			env->size = parse_count("size", optarg, 1, MAX_SIZE);
			break;
		case OPT_CPU:
			env->cpu = parse_count("cpu", optarg, 0, CPU_SETSIZE - 1);
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			exit(EXIT_SUCCESS);
		default: /* getopt_long has said what was wrong */
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		exit(EXIT_USAGE);
	}
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;
	char name[16];

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		snprintf(name, sizeof(name), "CPU %d", cpu);
		die_errno("sched_setaffinity", name);
	}
}

static double now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die_errno("clock_gettime", "CLOCK_MONOTONIC");
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void write_once(struct loop *l)
{
	ssize_t ret = write(l->fd, l->buf, l->size);

	if (ret < 0)
		die_errno("write", l->path);
	if ((size_t)ret != l->size) {
		fprintf(stderr, PROG ": write %s: short write, %zd of %zu bytes\n", l->path, ret,
			l->size);
		exit(EXIT_FAILURE);
	}
}

static void write_n(struct loop *l, long long n)
{
	for (long long i = 0; i < n; i++) {
		if (l->since_rewind == REWIND_EVERY) {
			if (lseek(l->fd, 0, SEEK_SET) < 0)
				die_errno("lseek", l->path);
			l->since_rewind = 0;
		}
		write_once(l);
		l->since_rewind++;
	}
}

/* Returns the writes made, at least `seconds` worth. */
static long long write_for(struct loop *l, double seconds, double start)
{
	double deadline = start + seconds * NSEC_PER_SEC;
	long long done = 0;

	do {
		write_n(l, CLOCK_CHECK_EVERY);
		done += CLOCK_CHECK_EVERY;
	} while (now_ns() < deadline);
	return done;
}

int main(int argc, char **argv)
{
	struct env env;
	struct loop l;
	double start, elapsed;
	long long done;
	char *buf;

	parse_args(argc, argv, &env);
	if (env.cpu != NO_CPU)
		pin_to_cpu(env.cpu);
	buf = malloc(env.size);
	if (!buf)
		die_errno("malloc", "buffer");
	memset(buf, FILL_BYTE, env.size);
	l = (struct loop){.path = env.file, .buf = buf, .size = env.size};
	l.fd = open(env.file, O_WRONLY | O_CREAT | O_TRUNC, FILE_MODE);
	if (l.fd < 0)
		die_errno("open", env.file);
	/*
	 * One untimed pass first: it allocates the file's pages and blocks, so that the timed
	 * loop, like every later pass, overwrites pages already in the cache.
	 */
	write_n(&l, REWIND_EVERY);
	start = now_ns();
	if (env.seconds > 0) {
		done = write_for(&l, env.seconds, start);
	} else {
		write_n(&l, env.count);
		done = env.count;
	}
	elapsed = now_ns() - start;
	if (close(l.fd))
		die_errno("close", env.file);
	free(buf);
	printf("%.1f\n", elapsed / done);
	return fflush(stdout) ? EXIT_FAILURE : EXIT_SUCCESS;
}
