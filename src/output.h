/* SPDX-License-Identifier: GPL-2.0 */
/* output.h: the report's output formats; each reads only the report model. */
#ifndef WRITEAMP_OUTPUT_H
#define WRITEAMP_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "cli.h"
#include "model.h"

struct output_options {
	int top;	   /* rows of processes and files; 0: all */
	int hist_top;	   /* processes whose histograms are printed */
	const char *title; /* e.g. "interval 3" or NULL */
	enum wa_view view; /* the text report's main table */
};

/* The human-readable report: tables, totals, losses and bpftrace-style histograms. */
void output_text(FILE *out, const struct wa_report *r, const struct output_options *o);

/* The report as one JSON document (schema version WA_SCHEMA_VERSION, see README.md). */
void output_json(FILE *out, const struct wa_report *r, const struct output_options *o);

#endif /* WRITEAMP_OUTPUT_H */
