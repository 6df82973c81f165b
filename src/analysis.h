/* SPDX-License-Identifier: GPL-2.0 */
/* analysis.h: the figures derived from the counters, and ordering and differencing of reports. */
#ifndef WRITEAMP_ANALYSIS_H
#define WRITEAMP_ANALYSIS_H

#include <stdbool.h>

#include "cli.h"
#include "model.h"

/* Adds every counter of b to a. */
void figures_add(struct wa_figures *a, const struct wa_figures *b);

/* Subtracts b from a counter by counter, stopping at zero (a counter never goes back). */
void figures_subtract(struct wa_figures *a, const struct wa_figures *b);

/* Device bytes charged: data, metadata and journal. */
__u64 charge_bytes(const struct wa_device_charge *c);

__u64 figures_device_bytes(const struct wa_figures *f);
__u64 figures_sync_calls(const struct wa_figures *f);
__u64 figures_nonstorage_calls(const struct wa_figures *f);
__u64 figures_nonstorage_bytes(const struct wa_figures *f);

/* Whether a row has anything to show. */
bool figures_any(const struct wa_figures *f);

/* Device bytes charged / storage bytes written; NAN when nothing was written. */
double amplification(__u64 device_bytes, __u64 app_bytes);
double figures_amplification(const struct wa_figures *f);

/* Page-cache bytes dirtied / storage bytes written; NAN when nothing was written. */
double figures_page_amplification(const struct wa_figures *f);

/* Bytes per storage write; NAN without writes. */
double figures_avg_write(const struct wa_figures *f);

/* fsync, fdatasync, sync_file_range, msync, sync and syncfs per storage write; NAN without writes.
 */
double figures_syncs_per_write(const struct wa_figures *f);

__u64 file_device_bytes(const struct wa_file_row *f);

/* Regular files and block devices are storage; sockets, pipes, ttys and the rest are not. */
bool fd_class_is_storage(__u32 fd_class);

/* Orders rows by device bytes, the heaviest first. */
void report_sort(struct wa_report *r);

/*
 * Turns cumulative report `cur` into the report of the interval since `prev`, row by row;
 * rows left with nothing are dropped. Both reports must come from the same trace.
 */
void report_subtract(struct wa_report *cur, const struct wa_report *prev);

/* The call paths of a process (rows are sorted by pid), heaviest first; NULL if none. */
const struct wa_stack_row *report_stacks_of(const struct wa_report *r, __u32 pid, size_t *n);

__u64 stack_device_bytes(const struct wa_stack_weights *w);

/* A path's weight as --weight selects it. */
__u64 stack_weight(const struct wa_stack_weights *w, enum wa_weight which);

/* "app bytes", "device bytes", "syncs" or "calls". */
const char *weight_name(enum wa_weight which);

/* A short id and a sentence for each reason I/O was not attributed. */
const char *unattributed_id(enum wa_unattributed why);
const char *unattributed_text(enum wa_unattributed why);
const char *loss_id(enum wa_loss what);
const char *fd_class_id(enum wa_fd_class c);
const char *sync_kind_id(enum wa_sync_kind k);

#endif /* WRITEAMP_ANALYSIS_H */
