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
	int stack_top;	   /* call paths per process */
};

/* The human-readable report: tables, totals, losses and bpftrace-style histograms. */
void output_text(FILE *out, const struct wa_report *r, const struct output_options *o);

/* The call paths of the heaviest processes (--stacks), for the text report. */
void output_text_stacks(FILE *out, const struct wa_report *r, int proc_top, int stack_top);

struct json_writer;

/* The findings (findings.h) as the report's top-level "findings" array. */
void output_json_findings(struct json_writer *jw, const struct wa_report *r);

/* The FINDINGS section that ends the text report. */
void output_text_findings(FILE *out, const struct wa_report *r);

/* The report as one JSON document (schema version WA_SCHEMA_VERSION, see README.md). */
void output_json(FILE *out, const struct wa_report *r, const struct output_options *o);

/*
 * The call paths as folded stacks, one line per path: "comm;user_root;...;user_leaf;
 * kernel_root_[k];...;kernel_leaf_[k] WEIGHT", the format FlameGraph, speedscope and Grafana
 * read. Paths of weight 0 are left out. Returns 0, or -1 with errno set.
 */
int output_folded(FILE *out, const struct wa_report *r, enum wa_weight weight);

/*
 * One frame as the folded format needs it: ';' separates frames, so it becomes ':', and
 * control characters become '?'; kernel frames get "_[k]". Spaces stay: only the last space
 * on a line separates the weight. Returns dst, always NUL-terminated.
 */
char *folded_frame(char *dst, size_t len, const char *name, bool kernel);

/* The call paths as a flame graph in one SVG document. Returns 0, or -1 with errno set. */
int output_svg(FILE *out, const struct wa_report *r, enum wa_weight weight);

#endif /* WRITEAMP_OUTPUT_H */
