// SPDX-License-Identifier: GPL-2.0
/* cgroups.c: cgroup v2 ids named by path and container; the --container and --cgroup filters. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>

#include "cgroups.h"
#include "sanitize.h"

#define MOUNTINFO  "/proc/self/mountinfo"
#define WALK_DEPTH 32 /* deeper than any runtime nests; bounds the walk on a hostile tree */
#define SHORT_ID   12

struct wa_cgroups {
	char *root;
	void *by_id;		     /* tsearch tree of struct wa_cgroup_info */
	struct wa_cgroup_info **all; /* the same records, for iteration */
	size_t nall;
	size_t cap;
};

/* A container found in the hierarchy, for matching --container. */
struct container_dir {
	char *path; /* the outermost cgroup of the container */
	struct wa_cgroup_identity ident;
	struct wa_container_meta meta;
};

struct container_list {
	struct container_dir *v;
	size_t n;
};

static int compare_ids(const void *a, const void *b)
{
	const struct wa_cgroup_info *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The mount point of cgroup2 in a mountinfo line, or NULL; @line is modified. */
static char *cgroup2_mount_point(char *line)
{
	char *sep = strstr(line, " - "), *dir, *save = NULL;

	if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
		return NULL;
	*sep = '\0';
	strtok_r(line, " ", &save);
	for (int field = 1; field < 5; field++) {
		dir = strtok_r(NULL, " ", &save);
		if (!dir)
			return NULL;
	}
	return dir; /* mount points with spaces are escaped as \040: none of ours */
}

static char *find_v2_root(void)
{
	FILE *f = fopen(MOUNTINFO, "re");
	char *line = NULL, *best = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	while (getline(&line, &cap, f) > 0) {
		char *dir = cgroup2_mount_point(line);

		if (!dir)
			continue;
		/* The host's usual places win over a cgroup2 mounted anywhere else. */
		if (!best || !strcmp(dir, "/sys/fs/cgroup") ||
		    (!strcmp(dir, "/sys/fs/cgroup/unified") && strcmp(best, "/sys/fs/cgroup"))) {
			free(best);
			best = strdup(dir);
		}
	}
	free(line);
	fclose(f);
	return best;
}

struct wa_cgroups *cgroups_new(void)
{
	struct wa_cgroups *cg = calloc(1, sizeof(*cg));

	if (cg)
		cg->root = find_v2_root();
	return cg;
}

static void free_info(void *p)
{
	struct wa_cgroup_info *info = p;

	free(info->path);
	free(info);
}

void cgroups_free(struct wa_cgroups *cg)
{
	if (!cg)
		return;
	tdestroy(cg->by_id, free_info);
	free(cg->all);
	free(cg->root);
	free(cg);
}

const char *cgroups_root(const struct wa_cgroups *cg)
{
	return cg->root;
}

static struct wa_cgroup_info *find_info(struct wa_cgroups *cg, __u64 id)
{
	struct wa_cgroup_info probe = {.id = id};
	void *hit = tfind(&probe, &cg->by_id, compare_ids);

	return hit ? *(struct wa_cgroup_info **)hit : NULL;
}

static struct wa_cgroup_info *add_info(struct wa_cgroups *cg, __u64 id)
{
	struct wa_cgroup_info *info;

	if (cg->nall == cg->cap) {
		size_t cap = cg->cap ? 2 * cg->cap : 64;
		struct wa_cgroup_info **grown = realloc(cg->all, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		cg->all = grown;
		cg->cap = cap;
	}
	info = calloc(1, sizeof(*info));
	if (!info)
		return NULL;
	info->id = id;
	if (!tsearch(info, &cg->by_id, compare_ids)) {
		free(info);
		return NULL;
	}
	cg->all[cg->nall++] = info;
	return info;
}

/* A container's names are read once, even when it has several cgroups. */
static bool copy_known_meta(struct wa_cgroups *cg, struct wa_cgroup_info *info)
{
	for (size_t i = 0; i < cg->nall; i++) {
		const struct wa_cgroup_info *other = cg->all[i];

		if (other != info && other->in_container && other->meta.name[0] &&
		    !strcmp(other->ident.id, info->ident.id)) {
			info->meta = other->meta;
			return true;
		}
	}
	return false;
}

/* Identifies @info from its path, or from its leaf name once the path is gone. */
static void identify(struct wa_cgroups *cg, struct wa_cgroup_info *info)
{
	char from_leaf[WA_CGROUP_LEAF_LEN + 1];
	const char *path = info->path;

	if (!path) {
		snprintf(from_leaf, sizeof(from_leaf), "/%s", info->leaf);
		path = from_leaf;
	}
	info->in_container =
		cgroup_identify(path, &info->ident) && info->ident.id[0] && !info->ident.conmon;
	info->meta.runtime = info->ident.runtime;
	if (info->in_container && !copy_known_meta(cg, info))
		container_meta_lookup("", &info->ident, &info->meta);
}

/* Calls @visit for every cgroup directory under @dirfd, depth first. */
typedef void (*visit_fn)(void *ctx, const char *path, ino_t ino);

static void walk_dir(int fd_of_dir, char *path, size_t len, int depth, visit_fn visit, void *ctx)
{
	DIR *d = fdopendir(fd_of_dir);
	struct dirent *e;

	if (!d) {
		close(fd_of_dir);
		return;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		int fd;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (len + 1 + n >= PATH_MAX)
			continue;
		path[len] = '/';
		memcpy(path + len + 1, e->d_name, n + 1);
		visit(ctx, path, e->d_ino);
		if (depth < WALK_DEPTH) {
			fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd >= 0)
				walk_dir(fd, path, len + 1 + n, depth + 1, visit, ctx);
		}
		path[len] = '\0';
	}
	closedir(d);
}

static void walk(struct wa_cgroups *cg, visit_fn visit, void *ctx)
{
	char path[PATH_MAX] = "";
	struct stat st;
	int fd;

	if (!cg->root)
		return;
	fd = open(cg->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (!fstat(fd, &st))
		visit(ctx, "/", st.st_ino);
	walk_dir(fd, path, 0, 0, visit, ctx);
}

struct learn_walk {
	struct wa_cgroups *cg;
	size_t pending; /* records still without a path */
};

static void learn_path(void *ctx, const char *path, ino_t ino)
{
	struct learn_walk *w = ctx;
	struct wa_cgroup_info *info;

	if (!w->pending)
		return;
	info = find_info(w->cg, ino);
	if (info && !info->path) {
		info->path = strdup(path);
		w->pending--;
	}
}

/* Adds the ids that are new in the kernel's map; returns how many were added. */
static size_t add_new_ids(struct wa_cgroups *cg, int fd)
{
	__u64 key, next, *prev = NULL;
	struct wa_cgroup_info *info;
	struct wa_cgroup_seen seen;
	size_t added = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (find_info(cg, key) || bpf_map_lookup_elem(fd, &key, &seen))
			continue;
		info = add_info(cg, key);

		if (!info)
			break;
		memcpy(info->leaf, seen.leaf, sizeof(info->leaf));
		info->leaf[sizeof(info->leaf) - 1] = '\0';
		added++;
	}
	return added;
}

void cgroups_learn(struct wa_cgroups *cg, int cgroups_seen_fd)
{
	size_t first = cg->nall, added = add_new_ids(cg, cgroups_seen_fd);
	struct learn_walk w = {.cg = cg, .pending = added};

	if (!added)
		return;
	walk(cg, learn_path, &w);
	for (size_t i = first; i < cg->nall; i++)
		identify(cg, cg->all[i]);
}

const struct wa_cgroup_info *cgroups_info(struct wa_cgroups *cg, __u64 id)
{
	static struct wa_cgroup_info unknown;
	struct wa_cgroup_info *info = find_info(cg, id);

	if (info)
		return info;
	info = add_info(cg, id);
	if (!info) {
		unknown.id = id;
		return &unknown;
	}
	identify(cg, info);
	return info;
}

const char *container_display_name(const struct wa_cgroup_info *info, char *buf, size_t len)
{
	if (info->meta.name[0])
		snprintf(buf, len, "%s", info->meta.name);
	else
		snprintf(buf, len, "%.*s", SHORT_ID, info->ident.id);
	return buf;
}

/* --- filters --- */

static void list_container(void *ctx, const char *path, ino_t ino)
{
	struct container_list *l = ctx;
	struct wa_cgroup_identity ident;
	struct container_dir *grown;

	if (!cgroup_identify(path, &ident) || !ident.id[0] || ident.conmon)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].ident.id, ident.id))
			return; /* depth first: the first path seen is the outermost */
	grown = realloc(l->v, (l->n + 1) * sizeof(*grown));
	if (!grown)
		return;
	l->v = grown;
	l->v[l->n] = (struct container_dir){.path = strdup(path), .ident = ident};
	container_meta_lookup("", &ident, &l->v[l->n].meta);
	l->n++;
}

static void free_containers(struct container_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
}

static bool is_hex_prefix(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool container_matches(const struct container_dir *c, const char *want)
{
	if (!strcmp(c->meta.name, want))
		return true;
	return is_hex_prefix(want) && !strncmp(c->ident.id, want, strlen(want));
}

static bool is_cgroup2_dir(int fd)
{
	struct statfs sfs;

	return !fstatfs(fd, &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

static int open_v2_dir(const char *path, char *why, size_t len, const char *what)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char shown[256];

	if (fd < 0) {
		snprintf(why, len, "%s: no cgroup at %s", what,
			 sanitize_column(shown, sizeof(shown), path));
		return -1;
	}
	if (!is_cgroup2_dir(fd)) {
		close(fd);
		snprintf(why, len, "%s: %s is not in the cgroup v2 hierarchy", what,
			 sanitize_column(shown, sizeof(shown), path));
		return -1;
	}
	return fd;
}

static int open_container(struct wa_cgroups *cg, const struct container_list *l, const char *want,
			  char *why, size_t len)
{
	const struct container_dir *hit = NULL;
	char shown[256], path[PATH_MAX];

	sanitize_column(shown, sizeof(shown), want);
	for (size_t i = 0; i < l->n; i++) {
		if (!container_matches(&l->v[i], want))
			continue;
		if (hit) {
			snprintf(why, len,
				 "--container '%s' matches more than one container (%.12s and "
				 "%.12s): give more of the id",
				 shown, hit->ident.id, l->v[i].ident.id);
			return -1;
		}
		hit = &l->v[i];
	}
	if (!hit) {
		snprintf(why, len,
			 "--container '%s': no running container has that name or id (%zu "
			 "running; a container is found by its cgroups, so it must be running)",
			 shown, l->n);
		return -1;
	}
	snprintf(path, sizeof(path), "%s%s", cg->root, hit->path);
	return open_v2_dir(path, why, len, "--container");
}

static int open_cgroup(struct wa_cgroups *cg, const char *want, char *why, size_t len)
{
	size_t rootlen = strlen(cg->root);
	char path[PATH_MAX];

	/* A path into /sys is taken as it is, so that a v1 directory gets the v1 error. */
	if ((!strncmp(want, cg->root, rootlen) && (want[rootlen] == '/' || !want[rootlen])) ||
	    !strncmp(want, "/sys/", 5))
		snprintf(path, sizeof(path), "%s", want);
	else
		snprintf(path, sizeof(path), "%s%s%s", cg->root, *want == '/' ? "" : "/", want);
	return open_v2_dir(path, why, len, "--cgroup");
}

#define CGROUP_ROOT_ID	 1 /* the root cgroup's kernfs id */
#define CGROUP_MAX_DEPTH 64

bool cgroup_dir_place(int fd, __u64 *id, __u32 *level)
{
	struct stat st;
	int dir = dup(fd);
	bool found = false;

	if (dir < 0 || fstat(dir, &st))
		goto out;
	*id = st.st_ino;
	for (__u32 depth = 0; depth < CGROUP_MAX_DEPTH; depth++) {
		int up;

		if (st.st_ino == CGROUP_ROOT_ID) {
			*level = depth;
			found = true;
			break;
		}
		up = openat(dir, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(dir);
		dir = up;
		/* The mount's top ends the walk: ".." of it is a directory of another filesystem.
		 */
		if (dir < 0 || fstat(dir, &st) || !is_cgroup2_dir(dir))
			break;
	}
out:
	if (dir >= 0)
		close(dir);
	return found;
}

int cgroups_open_filters(struct wa_cgroups *cg, const struct wa_options *opts, int *fds, char *why,
			 size_t len)
{
	struct container_list containers = {};
	int n = 0, fd;

	if (!opts->ncontainers && !opts->ncgroups)
		return 0;
	if (!cg->root) {
		snprintf(why, len,
			 "--container and --cgroup need the cgroup v2 hierarchy, and "
			 "none is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)");
		return -1;
	}
	if (opts->ncontainers)
		walk(cg, list_container, &containers);
	for (int i = 0; i < opts->ncontainers + opts->ncgroups; i++) {
		if (n == WA_MAX_CGROUP_FILTERS) {
			snprintf(why, len, "at most %d --container and --cgroup filters",
				 WA_MAX_CGROUP_FILTERS);
			goto fail;
		}
		fd = i < opts->ncontainers
			     ? open_container(cg, &containers, opts->containers[i], why, len)
			     : open_cgroup(cg, opts->cgroups[i - opts->ncontainers], why, len);
		if (fd < 0)
			goto fail;
		fds[n++] = fd;
	}
	free_containers(&containers);
	return n;
fail:
	while (n > 0)
		close(fds[--n]);
	free_containers(&containers);
	return -1;
}
