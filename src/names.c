// SPDX-License-Identifier: GPL-2.0
/* names.c: file paths by file handle, device names from sysfs, command lines from /proc. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cli.h"
#include "names.h"
#include "sanitize.h"
#include "writeamp.h"

#define MOUNTINFO	 "/proc/self/mountinfo"
#define FILEID_INO32_GEN 1 /* include/linux/exportfs.h: {u32 ino, u32 generation} */
#define CMDLINE_MAX	 4096
#define LIBRARIES_MAX	 4096
#define KEY_CMDLINE	 UINT64_MAX /* the first key word of a process's cmdline entry */
#define KEY_LIBRARIES	 (UINT64_MAX - 1)
#define NAME_MAX_LEN	 512

struct mount_entry {
	__u32 dev;
	char *dir;
	int fd; /* opened on first use, -1 before */
};

/* A cached name, keyed by whatever identifies it (file: dev/ino/generation; pid: pid/start). */
struct name_entry {
	__u64 key[3];
	char *name;
	unsigned int epoch; /* the namer's epoch when a process's name was read */
};

/* A name replaced by a newer one; report rows may still point at it. */
struct retired_name {
	struct retired_name *next;
	char *name;
};

struct wa_namer {
	struct mount_entry *mounts;
	size_t nmounts;
	bool mounts_read;
	void *names; /* tsearch tree of struct name_entry */
	struct retired_name *retired;
	unsigned int epoch; /* see namer_refresh() */
	long clock_ticks;
};

static int compare_entries(const void *a, const void *b)
{
	const struct name_entry *x = a, *y = b;

	return memcmp(x->key, y->key, sizeof(x->key));
}

static void free_entry(void *p)
{
	struct name_entry *e = p;

	free(e->name);
	free(e);
}

struct wa_namer *namer_new(void)
{
	struct wa_namer *n = calloc(1, sizeof(*n));

	if (n)
		n->clock_ticks = sysconf(_SC_CLK_TCK);
	return n;
}

void namer_free(struct wa_namer *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nmounts; i++) {
		free(n->mounts[i].dir);
		if (n->mounts[i].fd >= 0)
			close(n->mounts[i].fd);
	}
	free(n->mounts);
	tdestroy(n->names, free_entry);
	while (n->retired) {
		struct retired_name *r = n->retired;

		n->retired = r->next;
		free(r->name);
		free(r);
	}
	free(n);
}

void namer_refresh(struct wa_namer *n)
{
	n->epoch++;
}

static struct name_entry *find_entry(struct wa_namer *n, const __u64 key[3])
{
	struct name_entry probe;
	void *hit;

	memcpy(probe.key, key, sizeof(probe.key));
	hit = tfind(&probe, &n->names, compare_entries);
	return hit ? *(struct name_entry **)hit : NULL;
}

/* Gives @e the newer @name; the old one lives on until the namer is freed. */
static void replace_name(struct wa_namer *n, struct name_entry *e, char *name)
{
	struct retired_name *r = malloc(sizeof(*r));

	if (!r) {
		free(name);
		return;
	}
	r->name = e->name;
	r->next = n->retired;
	n->retired = r;
	e->name = name;
	e->epoch = n->epoch;
}

/* Returns the cached name, or NULL. */
static const char *cached(struct wa_namer *n, const __u64 key[3])
{
	struct name_entry *e = find_entry(n, key);

	return e ? e->name : NULL;
}

/* Takes ownership of `name`; returns it (or a fallback if memory ran out). */
static const char *remember(struct wa_namer *n, const __u64 key[3], char *name)
{
	struct name_entry *e = malloc(sizeof(*e));
	void *slot;

	if (!e || !name) {
		free(e);
		free(name);
		return "?";
	}
	memcpy(e->key, key, sizeof(e->key));
	e->name = name;
	e->epoch = n->epoch;
	slot = tsearch(e, &n->names, compare_entries);
	if (!slot || *(struct name_entry **)slot != e) {
		free_entry(e);
		return slot ? (*(struct name_entry **)slot)->name : "?";
	}
	return name;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* Prefers the mount of a filesystem's root, since a bind mount of a subdirectory may hide files. */
static void add_mount(struct wa_namer *n, __u32 dev, const char *root, const char *dir)
{
	for (size_t i = 0; i < n->nmounts; i++)
		if (n->mounts[i].dev == dev) {
			if (strcmp(root, "/"))
				return;
			free(n->mounts[i].dir);
			n->mounts[i].dir = strdup(dir);
			return;
		}
	struct mount_entry *grown = realloc(n->mounts, (n->nmounts + 1) * sizeof(*grown));

	if (!grown)
		return;
	n->mounts = grown;
	n->mounts[n->nmounts++] = (struct mount_entry){.dev = dev, .dir = strdup(dir), .fd = -1};
}

/*
 * mountinfo omits mounts that lie outside our root, so under chroot the filesystem holding the
 * root has no line; our root directory itself serves as the mount fd then.
 */
static void add_own_root(struct wa_namer *n)
{
	struct stat st;
	__u32 dev;

	if (stat("/", &st))
		return;
	dev = WA_MKDEV(major(st.st_dev), minor(st.st_dev));
	for (size_t i = 0; i < n->nmounts; i++)
		if (n->mounts[i].dev == dev)
			return;
	add_mount(n, dev, "/", "/");
}

static void read_mounts(struct wa_namer *n)
{
	FILE *f = fopen(MOUNTINFO, "re");
	char *line = NULL;
	size_t cap = 0;

	n->mounts_read = true;
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		unsigned int major, minor;
		char root[PATH_MAX], dir[PATH_MAX];

		if (sscanf(line, "%*u %*u %u:%u %4095s %4095s", &major, &minor, root, dir) != 4)
			continue;
		unescape_octal(root);
		unescape_octal(dir);
		add_mount(n, WA_MKDEV(major, minor), root, dir);
	}
	free(line);
	fclose(f);
	add_own_root(n);
}

static int mount_fd(struct wa_namer *n, __u32 dev)
{
	if (!n->mounts_read)
		read_mounts(n);
	for (size_t i = 0; i < n->nmounts; i++) {
		struct mount_entry *m = &n->mounts[i];

		if (m->dev != dev)
			continue;
		if (m->fd < 0 && m->dir)
			m->fd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return m->fd;
	}
	return -1;
}

int namer_open_file(struct wa_namer *n, __u32 dev, __u64 ino, __u32 generation, int flags)
{
	struct {
		struct file_handle fh;
		__u32 id[2];
	} h = {.fh = {.handle_bytes = sizeof(h.id), .handle_type = FILEID_INO32_GEN}};
	int mfd = mount_fd(n, dev), fd;

	if (mfd < 0)
		return -ENOENT;
	if (ino > UINT32_MAX)
		return -EOPNOTSUPP;
	h.id[0] = (__u32)ino;
	h.id[1] = generation;
	fd = open_by_handle_at(mfd, &h.fh, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static char *path_of_fd(int fd)
{
	char link[64], target[PATH_MAX];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	len = readlink(link, target, sizeof(target) - 1);
	if (len < 0)
		return NULL;
	target[len] = '\0';
	return strdup(target);
}

static char *fallback_name(__u32 dev, __u64 ino, const char *leaf)
{
	char devname[WA_NAME_LEN], *out = NULL;

	device_name(dev, devname, sizeof(devname));
	if (leaf && *leaf) {
		if (asprintf(&out, "%s:%s (deleted or not found)", devname, leaf) < 0)
			out = NULL;
	} else if (asprintf(&out, "%s:inode %llu", devname, (unsigned long long)ino) < 0) {
		out = NULL;
	}
	return out;
}

const char *namer_file_path(struct wa_namer *n, __u32 dev, __u64 ino, __u32 generation, __u32 mode,
			    __u32 rdev, const char *leaf)
{
	__u64 key[3] = {dev, ino, generation};
	const char *hit = cached(n, key);
	char *name = NULL;
	int fd;

	if (hit)
		return hit;
	if (S_ISBLK(mode)) {
		char devname[WA_NAME_LEN];

		if (asprintf(&name, "/dev/%s", device_name(rdev, devname, sizeof(devname))) < 0)
			name = NULL;
		return remember(n, key, name);
	}
	fd = namer_open_file(n, dev, ino, generation, O_PATH);
	if (fd >= 0) {
		name = path_of_fd(fd);
		close(fd);
	}
	if (!name)
		name = fallback_name(dev, ino, leaf);
	return remember(n, key, name);
}

static bool read_small_file(const char *path, char *buf, size_t len, size_t *got)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return false;
	r = read(fd, buf, len - 1);
	close(fd);
	if (r < 0)
		return false;
	buf[r] = '\0';
	if (got)
		*got = (size_t)r;
	return true;
}

/* /proc/PID/stat's 22nd field is the start time in clock ticks; it tells a reused pid apart. */
static bool process_started_at(pid_t pid, __u64 start_ns, long ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long start;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!read_small_file(path, buf, sizeof(buf), NULL))
		return false;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			 "%*d %*d %*d %llu",
			 &start) != 1)
		return false;
	return ticks <= 0 || start == start_ns / (1000000000ULL / (unsigned long long)ticks);
}

/* The command line of a live process, NULs as spaces; NULL if it is gone or has none. */
static char *read_cmdline(struct wa_namer *n, pid_t pid, __u64 start_ns)
{
	char path[64], buf[CMDLINE_MAX];
	size_t got = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	if (!process_started_at(pid, start_ns, n->clock_ticks) ||
	    !read_small_file(path, buf, sizeof(buf), &got) || got == 0)
		return NULL;
	for (size_t i = 0; i + 1 < got; i++)
		if (!buf[i])
			buf[i] = ' ';
	/* A process that rewrites its title (redis, postgres) pads it with spaces. */
	while (got > 0 && (buf[got - 1] == ' ' || !buf[got - 1]))
		buf[--got] = '\0';
	return got ? strdup(buf) : NULL;
}

/* Whether the space-separated @list already holds the word of @n bytes at @word. */
static bool holds_word(const char *list, const char *word, size_t n)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, " ");

		if (len == n && !strncmp(p, word, n))
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

/* "libz.so", "libz.so.1.2.13": ".so" ends the name or is followed by a version. */
static bool is_shared_object(const char *name, size_t n)
{
	for (const char *so = strstr(name, ".so"); so && so + 3 <= name + n;
	     so = strstr(so + 1, ".so"))
		if (so + 3 == name + n || so[3] == '.')
			return true;
	return false;
}

/* Appends the base name of a maps line's path if it is a shared object not listed yet. */
static void add_mapped_library(char *list, size_t cap, const char *line)
{
	const char *path = strchr(line, '/'), *base;
	size_t n, used = strlen(list);

	if (!path)
		return;
	base = strrchr(path, '/') + 1;
	n = strcspn(base, " \n");
	if (!is_shared_object(base, n) || holds_word(list, base, n) || used + n + 2 > cap)
		return;
	snprintf(list + used, cap - used, "%s%.*s", used ? " " : "", (int)n, base);
}

/* The libraries of a live process; NULL if it is gone (an empty list says nothing then). */
static char *read_libraries(struct wa_namer *n, pid_t pid, __u64 start_ns)
{
	char path[64], line[PATH_MAX + 256], list[LIBRARIES_MAX] = "";
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	if (!process_started_at(pid, start_ns, n->clock_ticks))
		return NULL;
	maps = fopen(path, "re");
	if (!maps)
		return NULL;
	while (fgets(line, sizeof(line), maps))
		add_mapped_library(list, sizeof(list), line);
	fclose(maps);
	if (!*list && !process_started_at(pid, start_ns, n->clock_ticks))
		return NULL;
	return strdup(list);
}

typedef char *(*process_reader)(struct wa_namer *n, pid_t pid, __u64 start_ns);

/*
 * A process's name is kept for after it exits, but read again while it lives when it was
 * read before the last namer_refresh() or when @fresh asks: an exec changes its command line
 * and a dlopen its libraries. Unreadable now, the last name read stands.
 */
static const char *process_name(struct wa_namer *n, __u64 kind, pid_t pid, __u64 start_ns,
				bool fresh, process_reader read)
{
	__u64 key[3] = {kind, (__u64)pid, start_ns};
	struct name_entry *e = find_entry(n, key);
	char *name;

	if (!e || fresh || e->epoch != n->epoch) {
		name = read(n, pid, start_ns);
		if (name && e)
			replace_name(n, e, name);
		else if (name)
			return remember(n, key, name);
	}
	return e ? e->name : NULL;
}

const char *namer_cmdline(struct wa_namer *n, pid_t pid, __u64 start_ns)
{
	return process_name(n, KEY_CMDLINE, pid, start_ns, false, read_cmdline);
}

const char *namer_libraries(struct wa_namer *n, pid_t pid, __u64 start_ns)
{
	return process_name(n, KEY_LIBRARIES, pid, start_ns, false, read_libraries);
}

void namer_reread_process(struct wa_namer *n, pid_t pid, __u64 start_ns)
{
	process_name(n, KEY_CMDLINE, pid, start_ns, true, read_cmdline);
	process_name(n, KEY_LIBRARIES, pid, start_ns, true, read_libraries);
}

const char *device_name(__u32 dev, char *buf, size_t len)
{
	char path[128], uevent[1024], *p;

	snprintf(buf, len, "%u:%u", WA_DEV_MAJOR(dev), WA_DEV_MINOR(dev));
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", WA_DEV_MAJOR(dev),
		 WA_DEV_MINOR(dev));
	if (!read_small_file(path, uevent, sizeof(uevent), NULL))
		return buf;
	p = strstr(uevent, "DEVNAME=");
	if (p) {
		p += strlen("DEVNAME=");
		snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	}
	return buf;
}

int device_resolve(const char *arg, __u32 *dev, char *why, size_t len)
{
	const char *name = strncmp(arg, "/dev/", 5) ? arg : arg + 5;
	unsigned int major, minor;
	char path[NAME_MAX_LEN], text[64], shown[128];

	sanitize_column(shown, sizeof(shown), arg);
	if (cli_parse_majmin(name, &major, &minor)) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major, minor);
	} else {
		if (strchr(name, '/') || !*name) {
			snprintf(why, len, "--dev: '%s' is not a block device name or MAJ:MIN",
				 shown);
			return -1;
		}
		snprintf(path, sizeof(path), "/sys/class/block/%s/dev", name);
		if (!read_small_file(path, text, sizeof(text), NULL) ||
		    !cli_parse_majmin(strtok(text, "\n"), &major, &minor)) {
			snprintf(why, len,
				 "--dev: no block device named '%s' (see /sys/class/block)", shown);
			return -1;
		}
	}
	if (access(path, F_OK)) {
		snprintf(why, len, "--dev: no block device %u:%u (see /sys/dev/block)", major,
			 minor);
		return -1;
	}
	*dev = WA_MKDEV(major, minor);
	return 0;
}
