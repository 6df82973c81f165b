// SPDX-License-Identifier: GPL-2.0
/*
 * output_text_findings.c: the FINDINGS section that ends the text report: what is wrong, who
 * does it, the figures that show it against their thresholds, what a fix saves, what to change.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "findings.h"
#include "model.h"
#include "output.h"
#include "sanitize.h"
#include "textfmt.h"

#define NAME_COLS 256
#define WRAP_COLS 92
#define INDENT	  "       "

static const char *fmt_value(char *buf, size_t len, double v, const char *unit)
{
	if (!strcmp(unit, "bytes") && v >= 1024)
		return fmt_bytes(buf, (__u64)v);
	if (!strcmp(unit, "bytes"))
		snprintf(buf, len, "%.0f B", v);
	else if (!strcmp(unit, "ratio"))
		snprintf(buf, len, v >= 100 ? "%.0f" : "%.2f", v);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

/* "label: text" wrapped at WRAP_COLS, continuation lines under the text. */
static void print_wrapped(FILE *out, const char *label, const char *text)
{
	size_t col = fprintf(out, INDENT "%s", label);
	const char *p = text;

	while (*p) {
		size_t word = strcspn(p, " ");

		if (col + word + 1 > WRAP_COLS && col > strlen(INDENT) + strlen(label)) {
			fprintf(out, "\n" INDENT "%*s", (int)strlen(label), "");
			col = strlen(INDENT) + strlen(label);
		} else if (p != text) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, word, out);
		col += word;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void print_evidence(FILE *out, const struct wa_finding *f)
{
	char line[1024], v[FMT_LEN + 8], t[FMT_LEN + 8];
	size_t n = 0;

	for (size_t i = 0; i < f->nevidence && n < sizeof(line); i++) {
		const struct wa_evidence *e = &f->evidence[i];

		n += snprintf(line + n, sizeof(line) - n, "%s%s %s (%s %s)", i ? ", " : "", e->name,
			      fmt_value(v, sizeof(v), e->value, e->unit), e->op,
			      fmt_value(t, sizeof(t), e->threshold, e->unit));
	}
	print_wrapped(out, "evidence: ", line);
}

static void print_finding(FILE *out, size_t rank, const struct wa_finding *f)
{
	char comm[NAME_COLS], file[NAME_COLS], ctr[NAME_COLS], a[FMT_LEN], b[FMT_LEN];
	char line[1024];

	fprintf(out, "\n  %zu. [%s] %s: %s\n", rank, f->severity, f->id, f->title);
	fprintf(out, INDENT "who: %s [%u]", sanitize_column(comm, sizeof(comm), f->comm), f->pid);
	if (f->processes > 1)
		fprintf(out, " and %u more processes of that name", f->processes - 1);
	if (f->container)
		fprintf(out, " in container %s", sanitize_column(ctr, sizeof(ctr), f->container));
	if (f->software)
		fprintf(out, " (%s)", f->software);
	fprintf(out, "\n");
	if (f->file)
		fprintf(out, INDENT "file: %s\n", sanitize_column(file, sizeof(file), f->file));
	print_evidence(out, f);
	/* Some patterns cost syscalls or copies, not device bytes; their advice says so. */
	if (!f->stake_bytes)
		fprintf(out, INDENT "saving: none on the device: no device bytes are behind it\n");
	else if (!f->saving_bytes)
		fprintf(out, INDENT "saving: none on the device, of the %s behind it\n",
			fmt_bytes(b, f->stake_bytes));
	else
		fprintf(out, INDENT "saving: about %s of the %s of device bytes behind it\n",
			fmt_bytes(a, f->saving_bytes), fmt_bytes(b, f->stake_bytes));
	print_wrapped(out, "change: ", f->advice);
	if (f->software_advice) {
		const struct wa_software_advice *sa = f->software_advice;

		snprintf(line, sizeof(line), "set %s. Trade-off: %s.", sa->change, sa->tradeoff);
		snprintf(a, sizeof(a), "%s: ", sa->software);
		print_wrapped(out, a, line);
	}
}

void output_text_findings(FILE *out, const struct wa_report *r)
{
	fprintf(out, "\nFINDINGS, by device bytes at stake (%zu)\n", r->nfindings);
	if (!r->nfindings) {
		fprintf(out,
			"  none: no pattern crossed its thresholds (see README.md, Findings)\n");
		return;
	}
	for (size_t i = 0; i < r->nfindings; i++)
		print_finding(out, i + 1, &r->findings[i]);
}
