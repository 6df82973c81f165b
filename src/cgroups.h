/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cgroups.h: the cgroup v2 hierarchy as writeamp sees it: cgroup ids named by path, container
 * and systemd unit, and the --container and --cgroup filters turned into cgroup directories.
 */
#ifndef WRITEAMP_CGROUPS_H
#define WRITEAMP_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "cli.h"
#include "container_id.h"
#include "container_meta.h"
#include "writeamp.h"

struct wa_cgroup_info {
	__u64 id;
	char *path; /* relative to the v2 root ("/libpod_parent/libpod-ID"); NULL if never found */
	char leaf[WA_CGROUP_LEAF_LEN]; /* the kernel's name for it, kept in case it is removed */
	bool in_container;	       /* a container's own processes, not its runtime's monitor */
	struct wa_cgroup_identity ident;
	struct wa_container_meta meta;
};

struct wa_cgroups;

/* Finds the cgroup v2 hierarchy (at /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts). */
struct wa_cgroups *cgroups_new(void);
void cgroups_free(struct wa_cgroups *cg);

/* The mount point of the v2 hierarchy, or NULL where there is none. */
const char *cgroups_root(const struct wa_cgroups *cg);

/*
 * Names every cgroup the kernel has put in the cgroups_seen map since the last call, while
 * it still exists: its path, container and the runtime's metadata are read once and kept.
 * Cheap when nothing is new; meant to be called about once a second and before each report.
 */
void cgroups_learn(struct wa_cgroups *cg, int cgroups_seen_fd);

/* What is known of cgroup @id; a bare record (no path) for one never learnt. Never NULL. */
const struct wa_cgroup_info *cgroups_info(struct wa_cgroups *cg, __u64 id);

/*
 * Opens the cgroup directories that --container and --cgroup select, at most
 * WA_MAX_CGROUP_FILTERS of them, into @fds. A filter that matches nothing, or matches more
 * than one container, is an error. Returns the number of fds, or -1 with a one-line @why.
 */
int cgroups_open_filters(struct wa_cgroups *cg, const struct wa_options *opts, int *fds, char *why,
			 size_t len);

/*
 * Where the v2 cgroup directory @fd sits in the kernel's tree: its id (the kernfs id, which is
 * the directory's inode number) and its depth below the root cgroup. False when the depth cannot
 * be known, as in a cgroup namespace whose mount shows only part of the tree.
 */
bool cgroup_dir_place(int fd, __u64 *id, __u32 *level);

/* The display name of a container: its name from metadata, else the short id. */
const char *container_display_name(const struct wa_cgroup_info *info, char *buf, size_t len);

#endif /* WRITEAMP_CGROUPS_H */
