// SPDX-License-Identifier: GPL-2.0
/*
 * output_text_stacks.c: the text report's call paths: per process, the functions with the
 * bytes of every path through them (like `perf report --children`, in bytes), then the
 * heaviest paths frame by frame.
 */
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "output.h"
#include "sanitize.h"
#include "textfmt.h"

#define FUNCTIONS_SHOWN 8
#define NAME_COLS	96

/* What every path through a function adds up to. */
struct function_total {
	const char *name; /* interned: equal names are equal pointers */
	bool kernel;
	struct wa_stack_weights w;
};

static void weights_add(struct wa_stack_weights *a, const struct wa_stack_weights *b)
{
	__u64 *x = (__u64 *)a;
	const __u64 *y = (const __u64 *)b;

	for (size_t i = 0; i < sizeof(*a) / sizeof(__u64); i++)
		x[i] += y[i];
}

static bool seen_earlier(const struct wa_stack_row *row, size_t f)
{
	for (size_t i = 0; i < f; i++)
		if (row->frames[i].name == row->frames[f].name)
			return true;
	return false;
}

static int heavier_function(const void *a, const void *b)
{
	const struct function_total *x = a, *y = b;
	__u64 dx = stack_device_bytes(&x->w), dy = stack_device_bytes(&y->w);

	if (dx != dy)
		return dx > dy ? -1 : 1;
	if (x->w.app_bytes != y->w.app_bytes)
		return x->w.app_bytes > y->w.app_bytes ? -1 : 1;
	return x->w.syncs > y->w.syncs ? -1 : x->w.syncs < y->w.syncs;
}

/* Frames every path of the process starts with: shown once, not in each path. */
static size_t common_root(const struct wa_stack_row *rows, size_t n)
{
	size_t k = rows[0].nframes;

	for (size_t r = 1; r < n; r++) {
		size_t same = 0;

		while (same < k && same < rows[r].nframes &&
		       rows[r].frames[same].name == rows[0].frames[same].name)
			same++;
		k = same;
	}
	/* Keep at least the leaf of every path. */
	for (size_t r = 0; r < n; r++)
		if (k >= rows[r].nframes)
			k = rows[r].nframes - 1;
	return k;
}

/*
 * Inclusive totals per user function below the common root; a function twice on one path
 * (recursion) counts once.
 */
static size_t function_totals(const struct wa_stack_row *rows, size_t n, size_t root,
			      struct function_total **out)
{
	size_t cap = 0, count = 0;
	struct function_total *t = NULL;

	for (size_t r = 0; r < n; r++)
		cap += rows[r].nframes;
	t = calloc(cap + 1, sizeof(*t));
	for (size_t r = 0; r < n && t; r++)
		for (size_t f = root; f < rows[r].nframes; f++) {
			size_t i = 0;

			/* The code to change is the caller's: kernel frames are in the paths. */
			if (rows[r].frames[f].kernel || seen_earlier(&rows[r], f))
				continue;
			while (i < count && t[i].name != rows[r].frames[f].name)
				i++;
			if (i == count) {
				t[count].name = rows[r].frames[f].name;
				t[count].kernel = rows[r].frames[f].kernel;
				count++;
			}
			weights_add(&t[i].w, &rows[r].w);
		}
	if (t)
		qsort(t, count, sizeof(*t), heavier_function);
	*out = t;
	return t ? count : 0;
}

static void print_weights(FILE *out, const struct wa_stack_weights *w, __u64 dev_total)
{
	char a[FMT_LEN], b[FMT_LEN], c[FMT_LEN], d[FMT_LEN], e[FMT_LEN], pct[FMT_LEN];

	fprintf(out,
		"device %9s %4s (data %s, journal %s, meta %s, flushes %llu)  app %s  syncs "
		"%llu  writes %llu\n",
		fmt_bytes(a, stack_device_bytes(w)),
		fmt_percent(pct, stack_device_bytes(w), dev_total),
		fmt_bytes(b, w->bytes[WA_CHARGE_DATA]), fmt_bytes(c, w->bytes[WA_CHARGE_JOURNAL]),
		fmt_bytes(d, w->bytes[WA_CHARGE_METADATA]), (unsigned long long)w->flushes,
		fmt_bytes(e, w->app_bytes), (unsigned long long)w->syncs,
		(unsigned long long)w->calls);
}

/* A function every path goes through (main, say) says nothing about where the bytes go. */
static bool on_every_path(const struct wa_stack_weights *w, const struct wa_stack_weights *all)
{
	return stack_device_bytes(w) == stack_device_bytes(all) && w->app_bytes == all->app_bytes &&
	       w->syncs == all->syncs && w->calls == all->calls;
}

static void print_functions(FILE *out, const struct wa_stack_row *rows, size_t n, size_t root,
			    const struct wa_stack_weights *all)
{
	struct function_total *t;
	size_t count = function_totals(rows, n, root, &t), shown = 0;
	char a[FMT_LEN], b[FMT_LEN], p1[FMT_LEN], p2[FMT_LEN], name[NAME_COLS];
	__u64 dev_total = stack_device_bytes(all);

	fprintf(out, "    %-10s %5s  %-10s %5s  %7s  user function (all paths through it)\n",
		"DEVICE", "%", "APP", "%", "SYNCS");
	for (size_t i = 0; i < count && shown < FUNCTIONS_SHOWN; i++) {
		if (on_every_path(&t[i].w, all))
			continue;
		fprintf(out, "    %-10s %5s  %-10s %5s  %7llu  %s%s\n",
			fmt_bytes(a, stack_device_bytes(&t[i].w)),
			fmt_percent(p1, stack_device_bytes(&t[i].w), dev_total),
			fmt_bytes(b, t[i].w.app_bytes),
			fmt_percent(p2, t[i].w.app_bytes, all->app_bytes),
			(unsigned long long)t[i].w.syncs,
			sanitize_column(name, sizeof(name), t[i].name), t[i].kernel ? " [k]" : "");
		shown++;
	}
	free(t);
}

static void print_root(FILE *out, const struct wa_stack_row *row, size_t root)
{
	char name[NAME_COLS];

	if (!root)
		return;
	fprintf(out, "    every path starts");
	for (size_t f = 0; f < root; f++)
		fprintf(out, "%s%s%s", f ? " > " : " ",
			sanitize_column(name, sizeof(name), row->frames[f].name),
			row->frames[f].kernel ? " [k]" : "");
	fprintf(out, "\n");
}

/* One path below the common root, leaf first, as perf prints a call chain. */
static void print_path(FILE *out, const struct wa_stack_row *row, size_t root, size_t rank,
		       __u64 dev_total)
{
	char name[NAME_COLS];

	fprintf(out, "    #%zu %s", rank, row->estimated ? "~" : " ");
	print_weights(out, &row->w, dev_total);
	for (size_t f = row->nframes; f > root; f--)
		fprintf(out, "          %s%s\n",
			sanitize_column(name, sizeof(name), row->frames[f - 1].name),
			row->frames[f - 1].kernel ? " [k]" : "");
}

static void print_rest(FILE *out, const struct wa_stack_row *rows, size_t n, size_t from,
		       __u64 dev_total)
{
	struct wa_stack_weights rest = {0};

	if (from >= n)
		return;
	for (size_t i = from; i < n; i++)
		weights_add(&rest, &rows[i].w);
	fprintf(out, "    +%zu other paths: ", n - from);
	print_weights(out, &rest, dev_total);
}

static void print_process_paths(FILE *out, const struct wa_report *r, const struct wa_proc_row *p,
				int stack_top)
{
	size_t n;
	const struct wa_stack_row *rows = report_stacks_of(r, p->pid, &n);
	struct wa_stack_weights all = {0};
	char comm[NAME_COLS];
	size_t root;

	if (!n)
		return;
	root = common_root(rows, n);
	for (size_t i = 0; i < n; i++)
		weights_add(&all, &rows[i].w);
	fprintf(out, "\n  %s [%u]: %zu call paths\n", sanitize_column(comm, sizeof(comm), p->comm),
		p->pid, n);
	print_root(out, &rows[0], root);
	print_functions(out, rows, n, root, &all);
	for (size_t i = 0; i < n && i < (size_t)stack_top; i++)
		print_path(out, &rows[i], root, i + 1, stack_device_bytes(&all));
	print_rest(out, rows, n, (size_t)stack_top, stack_device_bytes(&all));
}

static void print_stack_summary(FILE *out, const struct wa_stack_info *si)
{
	if (si->unwind == WA_UNWIND_FP)
		fprintf(out, "frame-pointer unwinding");
	else
		fprintf(out,
			"DWARF unwinding of %llu samples (1 in %u calls, %u-byte copies): %llu "
			"truncated, %llu dropped, %llu call sites unsampled",
			(unsigned long long)si->samples, si->sample_period, si->copy_bytes,
			(unsigned long long)si->samples_truncated,
			(unsigned long long)si->samples_dropped,
			(unsigned long long)si->paths_unsampled);
	fprintf(out, "; %llu of %llu frames unsymbolized",
		(unsigned long long)si->frames_unsymbolized, (unsigned long long)si->frames);
	if (si->processes_unmapped)
		fprintf(out, "; %llu processes gone before their maps were read",
			(unsigned long long)si->processes_unmapped);
	fprintf(out, "\n");
}

void output_text_stacks(FILE *out, const struct wa_report *r, int proc_top, int stack_top)
{
	size_t shown = 0;

	if (!r->stack_info.enabled)
		return;
	fprintf(out, "\nCALL PATHS  (user frames, then kernel [k]; ~ marks paths shared out by "
		     "samples)\n  ");
	print_stack_summary(out, &r->stack_info);
	for (size_t i = 0; i < r->nprocs; i++) {
		if (proc_top > 0 && shown >= (size_t)proc_top)
			break;
		if (!r->procs[i].overflow && figures_any(&r->procs[i].f)) {
			print_process_paths(out, r, &r->procs[i], stack_top);
			shown++;
		}
	}
}
