// SPDX-License-Identifier: GPL-2.0
/* procmaps.c: per-process libdwfl sessions, built from /proc/PID/maps at first sight. */
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "procmaps.h"

/* Each cached process holds its ELF files open; past this many, new ones are counted instead. */
#define PROCMAPS_MAX 4096

struct wa_procmaps {
	void *tree; /* tsearch tree of struct wa_addrspace *, by tgid */
	size_t n;
	__u64 dropped;
};

/*
 * libdwfl's find_elf callback cannot be given the process, so the root to open files under
 * is set here while one process's modules are being opened (all within procmaps_get). It is
 * a directory fd taken before the maps are read: unlike the path /proc/PID/root, it still
 * leads to the files once a short-lived process has exited.
 */
static int opening_root = -1;

static int compare_tgid(const void *a, const void *b)
{
	const struct wa_addrspace *x = a, *y = b;

	return x->tgid < y->tgid ? -1 : x->tgid > y->tgid;
}

/* path, absolute inside the process's root, with its symlinks resolved inside it too. */
static int open_in_root(int root, const char *path)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
	long fd = syscall(SYS_openat2, root, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		fd = openat(root, path + 1, O_RDONLY | O_CLOEXEC);
	return (int)fd;
}

/* Opens a module's file through /proc/PID/root, so that container binaries are found too. */
static int find_elf_under_root(Dwfl_Module *mod, void **userdata, const char *modname,
			       Dwarf_Addr base, char **file_name, Elf **elfp)
{
	int fd;

	*elfp = NULL;
	if (!modname || modname[0] != '/' || opening_root < 0)
		return -1; /* [vdso], [heap] and anonymous memory have no file */
	fd = open_in_root(opening_root, modname);
	if (fd < 0)
		return -1;
	*elfp = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!*elfp) {
		close(fd);
		return -1;
	}
	*file_name = strdup(modname);
	return fd;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = find_elf_under_root,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

static int open_module_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			   void *arg)
{
	Dwarf_Addr bias;

	dwfl_module_getelf(mod, &bias);
	return DWARF_CB_OK;
}

static void close_opening_root(void)
{
	if (opening_root >= 0)
		close(opening_root);
	opening_root = -1;
}

/* Reports every file mapping of the process and opens its ELF file while the process lives. */
static Dwfl *load_dwfl(__u32 tgid)
{
	char path[64];
	Dwfl *dwfl;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%u/root", tgid);
	opening_root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%u/maps", tgid);
	maps = opening_root >= 0 ? fopen(path, "re") : NULL;
	dwfl = maps ? dwfl_begin(&callbacks) : NULL;
	if (!dwfl) {
		if (maps)
			fclose(maps);
		close_opening_root();
		return NULL;
	}
	dwfl_report_begin(dwfl);
	if (dwfl_linux_proc_maps_report(dwfl, maps) != 0 ||
	    dwfl_report_end(dwfl, NULL, NULL) != 0) {
		fclose(maps);
		dwfl_end(dwfl);
		close_opening_root();
		return NULL;
	}
	fclose(maps);
	dwfl_getmodules(dwfl, open_module_elf, NULL, 0);
	close_opening_root();
	return dwfl;
}

struct wa_procmaps *procmaps_new(void)
{
	return calloc(1, sizeof(struct wa_procmaps));
}

static void free_addrspace(void *node)
{
	struct wa_addrspace *as = node;

	if (as->dwfl)
		dwfl_end(as->dwfl);
	free(as);
}

void procmaps_free(struct wa_procmaps *pm)
{
	if (!pm)
		return;
	tdestroy(pm->tree, free_addrspace);
	free(pm);
}

struct wa_addrspace *procmaps_find(struct wa_procmaps *pm, __u32 tgid)
{
	struct wa_addrspace key = {.tgid = tgid};
	void *found = tfind(&key, &pm->tree, compare_tgid);

	return found ? *(struct wa_addrspace **)found : NULL;
}

struct wa_addrspace *procmaps_get(struct wa_procmaps *pm, __u32 tgid)
{
	struct wa_addrspace *as = procmaps_find(pm, tgid);

	if (as)
		return as;
	if (pm->n >= PROCMAPS_MAX) {
		pm->dropped++;
		return NULL;
	}
	as = calloc(1, sizeof(*as));
	if (!as)
		return NULL;
	as->tgid = tgid;
	as->dwfl = load_dwfl(tgid);
	if (!tsearch(as, &pm->tree, compare_tgid)) {
		free_addrspace(as);
		return NULL;
	}
	pm->n++;
	return as;
}

static int count_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			void *arg)
{
	(void)mod, (void)userdata, (void)name, (void)start;
	++*(size_t *)arg;
	return DWARF_CB_OK;
}

void procmaps_refresh(struct wa_procmaps *pm, struct wa_addrspace *as)
{
	Dwfl *fresh = load_dwfl(as->tgid);
	size_t modules = 0;

	if (fresh)
		dwfl_getmodules(fresh, count_module, &modules, 0);
	/* A process that has exited leaves an empty map: keep what was read while it lived. */
	if (!modules) {
		if (fresh)
			dwfl_end(fresh);
		return;
	}
	if (as->dwfl)
		dwfl_end(as->dwfl);
	as->dwfl = fresh;
	as->attached = false;
}

__u64 procmaps_dropped(const struct wa_procmaps *pm)
{
	return pm->dropped;
}
