/* SPDX-License-Identifier: GPL-2.0 */
/* grouping.h: the process rows summed by container, systemd unit and cgroup. */
#ifndef WRITEAMP_GROUPING_H
#define WRITEAMP_GROUPING_H

#include "model.h"

/*
 * Fills r->containers, r->units and r->cgroups from r->procs, each ordered by device bytes.
 * Call it on the final process rows (after an interval's subtraction). Returns 0 or -ENOMEM.
 */
int report_group(struct wa_report *r);

void report_groups_free(struct wa_report *r);

#endif /* WRITEAMP_GROUPING_H */
