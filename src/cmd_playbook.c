// SPDX-License-Identifier: GPL-2.0
/* cmd_playbook.c: writeamp playbook: the steps, scripts and commands to confirm a diagnosis. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "cgroups.h"
#include "cli.h"
#include "commands.h"
#include "container_id.h"
#include "container_meta.h"
#include "playbook_scripts.h"
#include "sanitize.h"

#define PREFIX	       "writeamp: playbook: "
#define COMM_MAX       15 /* TASK_COMM_LEN - 1: the kernel keeps no more of a name */
#define MAX_CGROUPS    32 /* the container's cgroup and those under it, in the filter */
#define MAX_PIDS       16 /* running processes named in perf and strace commands */
#define CGROUP_DEPTH   8
#define TEXT_LEN       1024
#define WHY_LEN	       1024
#define SHORT_ID       12
#define DIR_MODE       0755
#define DURATION_S     30
#define PERF_SECONDS   10
#define TEXT_WIDTH     92
#define INDENT	       "    "
#define DEBUGFS	       "/sys/kernel/debug"
#define SYNC_SYSCALLS  "fsync,fdatasync,sync_file_range"
#define WRITE_SYSCALLS "write,pwrite64,writev,pwritev,pwritev2"
/* What the perf stacks step records, the same for every kind of target. */
#define PERF_WRITE_SYNC_EVENTS                                           \
	"-e syscalls:sys_enter_write -e syscalls:sys_enter_pwrite64 -e " \
	"syscalls:sys_enter_fsync -e syscalls:sys_enter_fdatasync"

enum target_kind { BY_PID, BY_CONTAINER, BY_COMM };

struct playbook_args {
	enum target_kind kind;
	int ntargets;
	const char *value; /* the target as given */
	const char *script_dir;
};

/* The target, resolved; every string here is terminal-safe unless it says raw. */
struct target {
	enum target_kind kind;
	pid_t pid;		    /* BY_PID: the thread group id */
	char comm[COMM_MAX + 1];    /* raw: BY_PID: its comm; BY_COMM: the name */
	char cgroup_path[PATH_MAX]; /* BY_CONTAINER: raw, relative to the v2 root */
	unsigned long long cgroup_ids[MAX_CGROUPS];
	size_t ncgroups;
	bool cgroups_cut;     /* more cgroups than MAX_CGROUPS */
	pid_t pids[MAX_PIDS]; /* running processes of the target */
	size_t npids;
	bool pids_cut;
	char description[TEXT_LEN];
	char label[TEXT_LEN];
	char predicate[TEXT_LEN]; /* bpftrace */
	char scope_note[TEXT_LEN];
	char writeamp_filter[TEXT_LEN]; /* shell words for writeamp report */
	char notice[TEXT_LEN];		/* said before the steps, or "" */
};

static const char usage_text[] =
	"Usage: writeamp playbook (-p PID | --container NAME | --comm NAME) [--script-dir DIR]\n"
	"Prints numbered steps to confirm write amplification by one target and find its\n"
	"cause: the writeamp commands to measure and drill down, bpftrace scripts already\n"
	"filtered to the target (tracepoints only), and perf and strace commands.\n"
	"\n"
	"  -p, --pid PID         a process (and its threads)\n"
	"      --container NAME  a running container, by name or id prefix\n"
	"  -c, --comm NAME       processes by name, running now or later (15 bytes at most)\n"
	"      --script-dir DIR  write the bpftrace scripts into DIR (created if missing) as\n"
	"                        NAME.bt; without it they are printed at the end\n"
	"  -h, --help            print this help\n";

#define usage_error(...) cli_usage_error("playbook", __VA_ARGS__)

static int __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs(PREFIX, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

/* --- quoting --- */

static bool is_shell_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("._/-:=@+,%", c);
}

static bool is_printable_ascii(unsigned char c)
{
	return c >= ' ' && c <= '~';
}

/*
 * One shell word for @src that is also safe to print: as is when plain, in '...' when only
 * printable ASCII, else in bash's $'...' with \xHH escapes, so that no byte reaches the
 * terminal raw and the pasted word still means @src.
 */
static const char *shell_word(char *dst, size_t cap, const char *src)
{
	bool plain = *src, printable = true;
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		plain &= is_shell_plain(*p);
		printable &= is_printable_ascii(*p);
	}
	if (plain) {
		snprintf(dst, cap, "%s", src);
		return dst;
	}
	n += snprintf(dst + n, cap - n, printable ? "'" : "$'");
	for (const unsigned char *p = (const unsigned char *)src; *p && n + 8 < cap; p++) {
		if (*p == '\'')
			n += snprintf(dst + n, cap - n, printable ? "'\\''" : "\\'");
		else if (*p == '\\' && !printable)
			n += snprintf(dst + n, cap - n, "\\\\");
		else if (is_printable_ascii(*p))
			dst[n++] = (char)*p;
		else
			n += snprintf(dst + n, cap - n, "\\x%02x", *p);
	}
	snprintf(dst + n, cap - n, "'");
	return dst;
}

/* --- the target --- */

/* The thread group of @tid (so that a thread's id finds its process), or -1. */
static pid_t thread_group_of(pid_t tid)
{
	char path[64], line[256];
	pid_t tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

/*
 * The comm of @pid, which may itself hold a newline: the whole of /proc/PID/comm but the one
 * newline the kernel ends it with. Returns false when the process is gone.
 */
static bool read_comm(pid_t pid, char *buf, size_t cap)
{
	char path[64], text[COMM_MAX + 2];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	if (!n)
		return false;
	if (text[n - 1] == '\n')
		n--;
	text[n] = '\0';
	snprintf(buf, cap, "%s", text);
	return true;
}

static void comm_of(pid_t pid, char *buf, size_t cap)
{
	if (!read_comm(pid, buf, cap))
		snprintf(buf, cap, "?");
}

static void add_pid(struct target *t, pid_t pid)
{
	if (t->npids == MAX_PIDS)
		t->pids_cut = true;
	else
		t->pids[t->npids++] = pid;
}

static int resolve_pid(struct target *t, const char *value)
{
	char *end, name[COMM_MAX * SANITIZE_MAX_EXPANSION + 1];
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v <= 0 || v > INT_MAX)
		return usage_error("-p: '%s' is not a process id",
				   sanitize_column(t->description, sizeof(t->description), value));
	t->pid = thread_group_of((pid_t)v);
	if (t->pid < 0)
		return fail("no process with pid %ld", v);
	if (t->pid != v)
		snprintf(t->notice, sizeof(t->notice),
			 "pid %ld is a thread of process %d: the steps follow the process.", v,
			 t->pid);
	comm_of(t->pid, t->comm, sizeof(t->comm));
	add_pid(t, t->pid);
	snprintf(t->description, sizeof(t->description), "pid %d (%s)", t->pid,
		 sanitize_column(name, sizeof(name), t->comm));
	snprintf(t->label, sizeof(t->label), "%s", t->description);
	snprintf(t->predicate, sizeof(t->predicate), "pid == %d", t->pid);
	snprintf(t->scope_note, sizeof(t->scope_note),
		 "The filter matches the process and its threads (bpftrace's pid is the thread "
		 "group id), not children it starts later.");
	snprintf(t->writeamp_filter, sizeof(t->writeamp_filter), "-p %d", t->pid);
	return 0;
}

static void find_processes_named(struct target *t)
{
	DIR *d = opendir("/proc");
	char comm[COMM_MAX + 2];
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end || pid <= 0)
			continue;
		if (read_comm((pid_t)pid, comm, sizeof(comm)) && !strcmp(comm, t->comm))
			add_pid(t, (pid_t)pid);
	}
	closedir(d);
}

static int resolve_comm(struct target *t, const char *value)
{
	char literal[PB_LITERAL_MAX * 4 + 1], name[COMM_MAX * SANITIZE_MAX_EXPANSION + 1],
		word[TEXT_LEN / 2];

	if (!*value)
		return usage_error("--comm: the name is empty");
	if (strlen(value) > COMM_MAX)
		return usage_error("--comm: '%s' is longer than the %d bytes the kernel keeps of a "
				   "name; give its first %d bytes",
				   sanitize_column(t->description, sizeof(t->description), value),
				   COMM_MAX, COMM_MAX);
	snprintf(t->comm, sizeof(t->comm), "%s", value);
	pb_bpftrace_literal(literal, sizeof(literal), t->comm);
	sanitize_column(name, sizeof(name), t->comm);
	find_processes_named(t);
	if (!t->npids)
		snprintf(t->notice, sizeof(t->notice),
			 "No process is named %s now: the steps catch it once it runs (perf and "
			 "strace need it running).",
			 name);
	snprintf(t->description, sizeof(t->description), "comm %s", name);
	snprintf(t->label, sizeof(t->label), "%s", t->description);
	snprintf(t->predicate, sizeof(t->predicate), "comm == \"%s\"", literal);
	snprintf(t->scope_note, sizeof(t->scope_note),
		 "The filter matches every thread named so, whatever its process: a thread "
		 "that renames itself drops out.");
	snprintf(t->writeamp_filter, sizeof(t->writeamp_filter), "-c %s",
		 shell_word(word, sizeof(word), t->comm));
	return 0;
}

static void add_cgroup_procs(struct target *t, int dirfd)
{
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
	int pid;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fscanf(f, "%d", &pid) == 1)
		add_pid(t, pid);
	fclose(f);
}

/* The cgroup under @dirfd and those below it: a container may nest cgroups of its own. */
static void add_cgroup_tree(struct target *t, int fd, int depth)
{
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (fstat(fd, &st)) {
		close(fd);
		return;
	}
	if (t->ncgroups == MAX_CGROUPS)
		t->cgroups_cut = true;
	else
		t->cgroup_ids[t->ncgroups++] = st.st_ino; /* a v2 cgroup's id is its inode */
	add_cgroup_procs(t, fd);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) && depth < CGROUP_DEPTH) {
		int child;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		child = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (child >= 0)
			add_cgroup_tree(t, child, depth + 1);
	}
	closedir(d);
}

/* The directory that cgroups_open_filters() opened, relative to the v2 root. */
static bool cgroup_path_of(int fd, const char *root, char *buf, size_t cap)
{
	char link[64], abs[PATH_MAX];
	size_t rootlen = strlen(root);
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, abs, sizeof(abs) - 1);
	if (n < 0)
		return false;
	abs[n] = '\0';
	if (strncmp(abs, root, rootlen))
		return false;
	snprintf(buf, cap, "%s", abs[rootlen] ? abs + rootlen : "/");
	return true;
}

static int describe_container(struct target *t, const char *value)
{
	char name[WA_META_NAME_LEN * SANITIZE_MAX_EXPANSION], path[TEXT_LEN / 2];
	char word[TEXT_LEN / 2], ids[TEXT_LEN / 2] = "";
	struct wa_cgroup_identity ident = {};
	struct wa_container_meta meta = {};

	cgroup_identify(t->cgroup_path, &ident);
	container_meta_lookup("", &ident, &meta);
	snprintf(t->description, sizeof(t->description), "container %s (id %.*s, cgroup %s)",
		 sanitize_column(name, sizeof(name), meta.name[0] ? meta.name : value), SHORT_ID,
		 ident.id, sanitize_column(path, sizeof(path), t->cgroup_path));
	snprintf(t->label, sizeof(t->label), "container %.*s", PB_LITERAL_MAX, name);
	/* An empty or cut filter would make every script fail to parse: better no playbook. */
	if (!t->ncgroups)
		return fail("cannot read the cgroup of %s", t->description);
	if (!pb_cgroup_predicate(t->predicate, sizeof(t->predicate), t->cgroup_ids, t->ncgroups))
		return fail(
			"the bpftrace filter for the %zu cgroups of %s is longer than %zu bytes",
			t->ncgroups, t->description, sizeof(t->predicate) - 1);
	if (t->ncgroups > 1)
		snprintf(ids, sizeof(ids), " and the %zu below it", t->ncgroups - 1);
	snprintf(t->scope_note, sizeof(t->scope_note),
		 "The filter matches the tasks in its cgroup v2 (bpftrace's cgroup is the v2 id, "
		 "the inode of the cgroup's directory)%s%s.",
		 ids, t->cgroups_cut ? "; more cgroups lie below it than the filter holds" : "");
	snprintf(t->writeamp_filter, sizeof(t->writeamp_filter), "--container %s",
		 shell_word(word, sizeof(word), value));
	return 0;
}

static int resolve_container(struct target *t, const char *value)
{
	struct wa_options filter = {.containers = {value}, .ncontainers = 1};
	struct wa_cgroups *cg = cgroups_new();
	char why[WHY_LEN];
	int fd, rc = 0;

	if (!cg)
		return fail("out of memory");
	if (cgroups_open_filters(cg, &filter, &fd, why, sizeof(why)) != 1) {
		rc = fail("%s", why);
		goto out;
	}
	if (!cgroup_path_of(fd, cgroups_root(cg), t->cgroup_path, sizeof(t->cgroup_path))) {
		close(fd);
		rc = fail("cannot find the cgroup of container '%s'",
			  sanitize_column(why, sizeof(why), value));
		goto out;
	}
	add_cgroup_tree(t, fd, 0);
	rc = describe_container(t, value);
out:
	cgroups_free(cg);
	return rc;
}

static int resolve_target(struct target *t, const struct playbook_args *a)
{
	t->kind = a->kind;
	switch (a->kind) {
	case BY_PID:
		return resolve_pid(t, a->value);
	case BY_COMM:
		return resolve_comm(t, a->value);
	default:
		return resolve_container(t, a->value);
	}
}

/* --- scripts on disk --- */

static int make_dirs(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, DIR_MODE) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, DIR_MODE) && errno != EEXIST)
		return -1;
	return 0;
}

static int write_script_file(const char *dir, const struct pb_script *s, const struct target *t)
{
	const struct pb_target pt = {t->description, t->label, t->predicate, t->scope_note};
	char path[PATH_MAX], shown[PATH_MAX];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, s->name);
	f = fopen(path, "we");
	if (!f)
		return fail("%s: %s", sanitize_column(shown, sizeof(shown), path), strerror(errno));
	pb_write_script(f, s, &pt);
	err = ferror(f);
	if (fclose(f) || err)
		return fail("writing %s failed", sanitize_column(shown, sizeof(shown), path));
	return 0;
}

static int write_scripts(const char *dir, const struct target *t)
{
	char shown[PATH_MAX];
	struct stat st;

	sanitize_column(shown, sizeof(shown), dir);
	if (make_dirs(dir) || stat(dir, &st))
		return fail("--script-dir %s: %s", shown, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail("--script-dir %s: not a directory", shown);
	for (size_t i = 0; i < pb_nscripts; i++)
		if (write_script_file(dir, &pb_scripts[i], t))
			return 1;
	return 0;
}

/* --- the playbook --- */

struct steps {
	FILE *out;
	int n;
};

static void __attribute__((format(printf, 2, 3))) step(struct steps *s, const char *fmt, ...)
{
	char text[TEXT_LEN * 4], number[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(number, sizeof(number), "%2d. ", ++s->n);
	fputc('\n', s->out);
	pb_write_wrapped(s->out, number, INDENT, text, TEXT_WIDTH);
}

static void __attribute__((format(printf, 2, 3))) command(struct steps *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("      ", s->out);
	vfprintf(s->out, fmt, ap);
	fputc('\n', s->out);
	va_end(ap);
}

static bool debugfs_mounted(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX], *sep = strstr(line, " - ");

		found = sep && !strncmp(sep + 3, "debugfs ", 8) &&
			sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && !strcmp(mnt, DEBUGFS);
	}
	free(line);
	fclose(f);
	return found;
}

/* "1234,5678": the running processes, for perf's and strace's pid options. */
static const char *pid_list(const struct target *t, char *buf, size_t cap, const char *sep)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < t->npids && n < cap; i++)
		n += snprintf(buf + n, cap - n, "%s%d", i ? sep : "", t->pids[i]);
	return buf;
}

static void writeamp_steps(struct steps *s, const struct target *t)
{
	const char *f = t->writeamp_filter;

	step(s, "Confirm: measure the target for %d seconds%s.", DURATION_S,
	     t->kind == BY_PID ? " (writeamp -p also follows the children it starts)" : "");
	command(s, "writeamp report %s -d %d", f, DURATION_S);
	step(s, "Drill down: the amplification per file, heaviest first.");
	command(s, "writeamp report %s -d %d --by file", f, DURATION_S);
	step(s, "Find the code paths behind the writes and the syncs.");
	command(s, "writeamp report %s -d %d --stacks", f, DURATION_S);
	step(s, "Keep a baseline, make the change, measure the same way again, and compare:");
	command(s, "writeamp report %s -d %d --json > before.json", f, DURATION_S);
	if (t->kind == BY_PID)
		command(s, "# after the change (a restarted process has a new pid):");
	else
		command(s, "# after the change:");
	command(s, "writeamp report %s -d %d --json > after.json",
		t->kind == BY_PID ? "-p NEW_PID" : f, DURATION_S);
	command(s, "writeamp compare before.json after.json");
}

static void script_path(char *buf, size_t cap, const char *dir, const struct pb_script *sc)
{
	char path[PATH_MAX];

	if (!dir) {
		snprintf(buf, cap, "%s", sc->name);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, sc->name);
	shell_word(buf, cap, path);
}

static void bpftrace_steps(struct steps *s, const struct target *t, const char *dir)
{
	char shown[PATH_MAX * 4], path[PATH_MAX * 4], where[PATH_MAX * 4 + 64];

	step(s, "Mount debugfs: bpftrace 0.17 finds tracepoints through it (%s).",
	     debugfs_mounted() ? "it is mounted now" : "it is not mounted now");
	command(s, "mount -t debugfs none " DEBUGFS);
	if (dir)
		snprintf(where, sizeof(where), "They are in %s.",
			 shell_word(shown, sizeof(shown), dir));
	else
		snprintf(where, sizeof(where),
			 "They are printed at the end: paste each block to "
			 "save it.");
	step(s,
	     "Cross-check with bpftrace. The scripts use tracepoints only (no kprobes) and match "
	     "%s. %s %s Run each while the target works, stop it with Ctrl-C, and compare its "
	     "counters (\"@name: value\") with writeamp's --json figures:",
	     t->description, t->scope_note, where);
	for (size_t i = 0; i < pb_nscripts; i++) {
		const struct pb_script *sc = &pb_scripts[i];
		char item[TEXT_LEN], letter[8];

		snprintf(item, sizeof(item), "%s: %s. Compare: %s.", sc->name, sc->measures,
			 sc->compare);
		snprintf(letter, sizeof(letter), "    %c. ", (int)('a' + i));
		pb_write_wrapped(s->out, letter, INDENT "   ", item, TEXT_WIDTH);
		script_path(path, sizeof(path), dir, sc);
		command(s, "   bpftrace %s", path);
	}
}

static void perf_block_step(struct steps *s, const struct target *t, const char *pids)
{
	char word[TEXT_LEN / 2];

	step(s,
	     "Record the block requests with their kernel call paths for %d seconds, then "
	     "look at the target's share:",
	     PERF_SECONDS);
	if (t->kind == BY_CONTAINER) {
		command(s, "perf record -g -a -e block:block_rq_issue -G %s -- sleep %d",
			shell_word(word, sizeof(word), t->cgroup_path), PERF_SECONDS);
		command(s, "perf report --stdio --no-children");
		return;
	}
	command(s, "perf record -g -e block:block_rq_issue -a -- sleep %d", PERF_SECONDS);
	if (t->kind == BY_PID)
		command(s, "perf report --stdio --no-children --pid %s", pids);
	else
		command(s, "perf report --stdio --no-children --comms %s",
			shell_word(word, sizeof(word), t->comm));
}

static void perf_stacks_step(struct steps *s, const struct target *t, const char *pids)
{
	char word[TEXT_LEN / 2];

	step(s, "Record the user call paths of its writes and syncs. Debian's binaries have no "
		"frame pointers, so unwind with DWARF:");
	/* One -G after the events applies the cgroup to each of them. */
	if (t->kind == BY_CONTAINER)
		command(s,
			"perf record --call-graph dwarf,16384 -a " PERF_WRITE_SYNC_EVENTS
			" -G %s -- sleep %d",
			shell_word(word, sizeof(word), t->cgroup_path), PERF_SECONDS);
	else if (*pids)
		command(s,
			"perf record --call-graph dwarf,16384 " PERF_WRITE_SYNC_EVENTS
			" -p %s -- sleep %d",
			pids, PERF_SECONDS);
	else
		command(s,
			"perf record --call-graph dwarf,16384 -a " PERF_WRITE_SYNC_EVENTS
			" -- sleep %d",
			PERF_SECONDS);
	command(s, "perf report --stdio --no-children%s%s", t->kind == BY_COMM ? " --comms " : "",
		t->kind == BY_COMM ? shell_word(word, sizeof(word), t->comm) : "");
}

static void syscall_count_step(struct steps *s, const struct target *t, const char *pids)
{
	char strace_pids[TEXT_LEN];

	if (!*pids)
		return;
	step(s,
	     "Count the syscalls one by one%s. perf trace costs little; strace stops the "
	     "process at every syscall and slows it down many times over, so keep it short:",
	     t->pids_cut ? " (of the first processes found)" : "");
	command(s, "perf trace -s -p %s -e " WRITE_SYSCALLS "," SYNC_SYSCALLS " -- sleep %d", pids,
		PERF_SECONDS);
	command(s, "strace -f -c -e trace=" WRITE_SYSCALLS "," SYNC_SYSCALLS " -p %s",
		pid_list(t, strace_pids, sizeof(strace_pids), " -p "));
}

static void print_scripts(FILE *out, const struct target *t)
{
	const struct pb_target pt = {t->description, t->label, t->predicate, t->scope_note};

	fprintf(out, "\nSCRIPTS (each block from cat to EOF saves one)\n");
	for (size_t i = 0; i < pb_nscripts; i++) {
		fprintf(out, "\ncat > %s <<'EOF'\n", pb_scripts[i].name);
		pb_write_script(out, &pb_scripts[i], &pt);
		fprintf(out, "EOF\n");
	}
}

static void print_playbook(FILE *out, const struct target *t, const char *dir)
{
	struct steps s = {out, 0};
	char pids[TEXT_LEN];

	pid_list(t, pids, sizeof(pids), ",");
	fprintf(out, "writeamp playbook: %s\n", t->description);
	pb_write_wrapped(out, "", "",
			 "Steps to confirm write amplification by this target and find its cause: "
			 "writeamp first, then the same questions asked with bpftrace, perf and "
			 "strace.",
			 TEXT_WIDTH);
	if (*t->notice)
		pb_write_wrapped(out, "", "", t->notice, TEXT_WIDTH);
	writeamp_steps(&s, t);
	bpftrace_steps(&s, t, dir);
	perf_block_step(&s, t, pids);
	perf_stacks_step(&s, t, pids);
	syscall_count_step(&s, t, pids);
	if (!dir)
		print_scripts(out, t);
}

/* --- the command --- */

enum { OPT_CONTAINER = 256, OPT_SCRIPT_DIR };

static const struct option long_options[] = {
	{"pid", required_argument, NULL, 'p'},
	{"container", required_argument, NULL, OPT_CONTAINER},
	{"comm", required_argument, NULL, 'c'},
	{"script-dir", required_argument, NULL, OPT_SCRIPT_DIR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static void set_target(struct playbook_args *a, enum target_kind kind, const char *value)
{
	a->kind = kind;
	a->value = value;
	a->ntargets++;
}

/* Returns -1 to go on, else the exit status (help printed, or a usage error reported). */
static int parse_args(int argc, char **argv, struct playbook_args *a)
{
	char shown[TEXT_LEN];
	int c;

	*a = (struct playbook_args){0};
	optind = 0; /* getopt's state is global: the main command line was parsed with it */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:c:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			set_target(a, BY_PID, optarg);
			break;
		case 'c':
			set_target(a, BY_COMM, optarg);
			break;
		case OPT_CONTAINER:
			set_target(a, BY_CONTAINER, optarg);
			break;
		case OPT_SCRIPT_DIR:
			a->script_dir = optarg;
			break;
		default: /* -h, a missing argument or an unknown option */
			return cli_getopt_end("playbook", c, usage_text, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'",
				   sanitize_column(shown, sizeof(shown), argv[optind]));
	if (a->ntargets != 1)
		return usage_error("%s: -p PID, --container NAME or --comm NAME",
				   a->ntargets ? "give one target only" : "a target is needed");
	if (a->script_dir && !*a->script_dir)
		return usage_error("--script-dir: the directory name is empty");
	return -1;
}

int cmd_playbook(const struct wa_options *opts)
{
	struct playbook_args args;
	struct target *t;
	int status = parse_args(opts->sub_argc, opts->sub_argv, &args);

	if (status >= 0)
		return status;
	t = calloc(1, sizeof(*t));
	if (!t)
		return fail("out of memory");
	status = resolve_target(t, &args);
	if (!status && args.script_dir)
		status = write_scripts(args.script_dir, t);
	if (!status) {
		print_playbook(stdout, t, args.script_dir);
		if (fflush(stdout) || ferror(stdout))
			status = fail("writing the playbook failed: %s", strerror(errno));
	}
	free(t);
	return status;
}
