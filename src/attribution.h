/* SPDX-License-Identifier: GPL-2.0 */
/*
 * attribution.h: turning a snapshot of the kernel's tables into the report's rows: each
 * figure under the process, file or device it belongs to, with names resolved.
 */
#ifndef WRITEAMP_ATTRIBUTION_H
#define WRITEAMP_ATTRIBUTION_H

#include "model.h"
#include "names.h"
#include "snapshot.h"

/*
 * Fills the rows and sums of *r from the snapshot; the caller sets the other fields. Strings
 * are owned by the namer, which must outlive the report. Returns 0 or -ENOMEM.
 */
struct wa_cgroups;

int attribution_build(struct wa_report *r, const struct wa_snapshot *s, struct wa_namer *n,
		      struct wa_cgroups *cg);

/* Frees the rows of a report built by attribution_build; safe on a zeroed report. */
void attribution_free(struct wa_report *r);

#endif /* WRITEAMP_ATTRIBUTION_H */
