/* SPDX-License-Identifier: GPL-2.0 */
/*
 * procmaps.h: the address spaces of traced processes, read from /proc/PID/maps on first sight
 * with their ELF files opened at once, so that stacks still symbolize after the process exits.
 */
#ifndef WRITEAMP_PROCMAPS_H
#define WRITEAMP_PROCMAPS_H

#include <stdbool.h>
#include <linux/types.h>
#include <elfutils/libdwfl.h>

struct wa_procmaps;

struct wa_addrspace {
	__u32 tgid;
	Dwfl *dwfl;    /* NULL when the maps could not be read: the process had gone */
	bool attached; /* the unwinder's callbacks are attached to dwfl */
	void *unwind;  /* the sample being unwound, for the unwinder's callbacks */
};

struct wa_procmaps *procmaps_new(void);
void procmaps_free(struct wa_procmaps *pm);

/*
 * The address space of tgid, read now if it was not seen before. Returns NULL only if memory
 * ran out or the cache is full (procmaps_dropped counts those); a process that had already
 * gone gets an entry with a NULL dwfl, so that it is not tried again.
 */
struct wa_addrspace *procmaps_get(struct wa_procmaps *pm, __u32 tgid);

/* The address space of tgid if it was read before, else NULL; never reads /proc. */
struct wa_addrspace *procmaps_find(struct wa_procmaps *pm, __u32 tgid);

/* Rereads the maps of a live process, e.g. after a dlopen() left an address unmapped. */
void procmaps_refresh(struct wa_procmaps *pm, struct wa_addrspace *as);

/* Processes not cached because the cache was full. */
__u64 procmaps_dropped(const struct wa_procmaps *pm);

#endif /* WRITEAMP_PROCMAPS_H */
