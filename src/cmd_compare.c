// SPDX-License-Identifier: GPL-2.0
/* cmd_compare.c: writeamp compare: two --json reports side by side, ratios and findings. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "json_writer.h"
#include "model.h"
#include "report_file.h"
#include "sanitize.h"

#define PREFIX	  "writeamp: compare: "
#define WHY_LEN	  1024
#define FMT_LEN	  24
#define NAME_COLS 512
#define CMD_COLS  160
#define KIB	  1024.0

enum side { BEFORE, AFTER, NSIDES };

static const char *const side_names[NSIDES] = {"before", "after"};
static const char *const byte_units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};

/* What is compared for each row; amplification is derived from these. */
struct figures {
	uint64_t app_bytes;    /* write.bytes: storage bytes the application wrote */
	uint64_t device_bytes; /* device.write_bytes: bytes charged on the devices */
	uint64_t syncs;	       /* sync.calls */
	unsigned int rows;     /* report entries summed in (processes sharing a comm) */
};

struct pair_row {
	const char *key; /* comm, container name (else id) or path; untrusted, owned by the JSON */
	bool present[NSIDES];
	struct figures side[NSIDES];
};

/* How one kind of report entry is read and matched between the two reports. */
struct table_spec {
	const char *member;	/* the report's array: "processes" */
	const char *omitted;	/* the report's count of entries beyond its --top, or NULL */
	const char *title;	/* "PROCESSES" */
	const char *match_note; /* how rows are matched, for the text output */
	const char *key_header; /* "COMM" */
	const char *json_key;	/* "comm" */
	const char *sync_outer; /* where the sync count sits: "sync"."calls" or "sync_calls" */
	const char *sync_inner; /* NULL for a direct member */
	const char *(*key_of)(const json_t *entry);
};

struct pair_table {
	const struct table_spec *spec;
	struct pair_row *rows;
	size_t n;
	uint64_t report_omitted[NSIDES]; /* entries each report itself left out */
};

/* One report entry on its way into a pair_row. */
struct keyed_entry {
	const char *key;
	enum side side;
	struct figures f;
};

/*
 * A finding is keyed by id, container, comm and file. The container is part of the key
 * because two containers of one image write the same paths (/data/appendonly.aof).
 */
struct finding {
	const char *id, *container, *comm; /* untrusted */
	const char *file[NSIDES];	   /* per side: a rotated file differs; NULL: none */
	const char *severity, *title;	   /* untrusted too: they come from a file */
	json_int_t pid[NSIDES];		   /* -1 where the finding is not on that side */
	bool present[NSIDES];
	bool by_directory; /* matched by a file in the same directory, not by its path */
};

struct findings {
	bool carried[NSIDES]; /* the report has a findings array at all */
	struct finding *v;
	size_t n;
};

struct compare_args {
	const char *files[NSIDES];
	int top; /* rows per table; 0: all */
	bool json;
};

struct comparison {
	const struct compare_args *args;
	json_t *reports[NSIDES];
	struct pair_row totals;
	struct pair_table processes, containers, files;
	struct findings findings;
};

static const char usage_text[] =
	"Usage: writeamp compare BEFORE.json AFTER.json [--top N] [--json]\n"
	"Shows what a change did: two `writeamp report|run --json` reports side by side. For\n"
	"each process (matched by comm; processes sharing a comm are summed), container (by\n"
	"name, else id) and file (by path): app bytes, device bytes, syncs and amplification,\n"
	"before and after, with the ratio after/before (\"-\" where it is undefined, e.g. 0\n"
	"before). Then the totals, and which findings are gone, new or still there: matched\n"
	"by id, container, comm and file, else (for rotating files such as WAL segments) by a\n"
	"file in the same directory.\n"
	"\n"
	"  --top N     rows per table, by device bytes before + after (default 10; 0: all)\n"
	"  --json      print the comparison as one JSON document\n"
	"  -h, --help  print this help\n";

/* --- reading the reports --- */

static const char *process_key(const json_t *entry)
{
	return report_str(entry, "comm");
}

/* Containers are matched by name, which survives a restart; the id does not. */
static const char *container_key(const json_t *entry)
{
	const char *name = report_str(entry, "name");

	return name && *name ? name : report_str(entry, "id");
}

static const char *file_key(const json_t *entry)
{
	return report_str(entry, "path");
}

static const struct table_spec process_spec = {
	.member = "processes",
	.omitted = "processes_omitted",
	.title = "PROCESSES",
	.match_note = "matched by comm: pids differ between runs, and processes sharing a comm "
		      "are summed",
	.key_header = "COMM",
	.json_key = "comm",
	.sync_outer = "sync",
	.sync_inner = "calls",
	.key_of = process_key,
};

static const struct table_spec container_spec = {
	.member = "containers",
	.title = "CONTAINERS",
	.match_note = "matched by name, else by id",
	.key_header = "CONTAINER",
	.json_key = "name",
	.sync_outer = "sync",
	.sync_inner = "calls",
	.key_of = container_key,
};

static const struct table_spec file_spec = {
	.member = "files",
	.omitted = "files_omitted",
	.title = "FILES",
	.match_note = "matched by path",
	.key_header = "PATH",
	.json_key = "path",
	.sync_outer = "sync_calls",
	.key_of = file_key,
};

static struct figures read_figures(const json_t *entry, const struct table_spec *spec)
{
	return (struct figures){
		.app_bytes = report_u64(entry, "write", "bytes"),
		.device_bytes = report_u64(entry, "device", "write_bytes"),
		.syncs = report_u64(entry, spec->sync_outer, spec->sync_inner),
		.rows = 1,
	};
}

static void add_figures(struct figures *to, const struct figures *f)
{
	to->app_bytes += f->app_bytes;
	to->device_bytes += f->device_bytes;
	to->syncs += f->syncs;
	to->rows += f->rows;
}

static int compare_entry_keys(const void *a, const void *b)
{
	const struct keyed_entry *x = a, *y = b;

	return strcmp(x->key, y->key);
}

static uint64_t device_sum(const struct pair_row *row)
{
	return row->side[BEFORE].device_bytes + row->side[AFTER].device_bytes;
}

/* Heaviest first; equal weights by key, so that the order does not depend on qsort. */
static int compare_rows(const void *a, const void *b)
{
	const struct pair_row *x = a, *y = b;
	uint64_t wx = device_sum(x), wy = device_sum(y);

	if (wx != wy)
		return wx > wy ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* The entries of both reports in one array, each with its key and side. */
static struct keyed_entry *collect_entries(json_t *const reports[NSIDES],
					   const struct table_spec *spec, size_t *n)
{
	size_t total = 0, i = 0;
	struct keyed_entry *v;

	for (int s = 0; s < NSIDES; s++)
		total += json_array_size(json_object_get(reports[s], spec->member));
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (int s = 0; s < NSIDES; s++) {
		const json_t *entry;
		size_t index;

		json_array_foreach(json_object_get(reports[s], spec->member), index, entry)
		{
			const char *key = spec->key_of(entry);

			v[i++] = (struct keyed_entry){key ? key : "", s, read_figures(entry, spec)};
		}
	}
	*n = i;
	return v;
}

/* Sorting by key brings the entries that match (within and across reports) together. */
static int build_table(struct pair_table *t, json_t *const reports[NSIDES],
		       const struct table_spec *spec)
{
	size_t n, i = 0;
	struct keyed_entry *entries = collect_entries(reports, spec, &n);

	t->spec = spec;
	if (!entries)
		return -1;
	qsort(entries, n, sizeof(*entries), compare_entry_keys);
	t->rows = calloc(n ? n : 1, sizeof(*t->rows));
	if (!t->rows) {
		free(entries);
		return -1;
	}
	while (i < n) {
		struct pair_row *row = &t->rows[t->n++];

		row->key = entries[i].key;
		for (; i < n && !strcmp(entries[i].key, row->key); i++) {
			row->present[entries[i].side] = true;
			add_figures(&row->side[entries[i].side], &entries[i].f);
		}
	}
	free(entries);
	qsort(t->rows, t->n, sizeof(*t->rows), compare_rows);
	for (int s = 0; s < NSIDES; s++)
		if (spec->omitted)
			t->report_omitted[s] = report_u64(reports[s], spec->omitted, NULL);
	return 0;
}

static void build_totals(struct pair_row *row, json_t *const reports[NSIDES])
{
	static const struct table_spec totals_spec = {.sync_outer = "sync", .sync_inner = "calls"};

	row->key = "all";
	for (int s = 0; s < NSIDES; s++) {
		row->present[s] = true;
		row->side[s] = read_figures(json_object_get(reports[s], "totals"), &totals_spec);
	}
}

/* --- findings --- */

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* The file a finding is keyed by: that of the first report it is in. */
static const char *key_file(const struct finding *f)
{
	return f->present[BEFORE] ? f->file[BEFORE] : f->file[AFTER];
}

/* Everything but the file: what a directory match must share. */
static int compare_finding_owners(const struct finding *x, const struct finding *y)
{
	int c = strcmp(or_empty(x->id), or_empty(y->id));

	if (!c)
		c = strcmp(or_empty(x->container), or_empty(y->container));
	if (!c)
		c = strcmp(or_empty(x->comm), or_empty(y->comm));
	return c;
}

static int compare_findings(const struct finding *x, const struct finding *y)
{
	int c = compare_finding_owners(x, y);

	return c ? c : strcmp(or_empty(key_file(x)), or_empty(key_file(y)));
}

static int compare_findings_qsort(const void *a, const void *b)
{
	return compare_findings(a, b);
}

static struct finding read_finding(const json_t *entry, enum side s)
{
	const json_t *target = json_object_get(entry, "target");
	const json_t *pid = json_object_get(target, "pid");
	struct finding f = {
		.id = report_str(entry, "id"),
		.container = report_str(target, "container"),
		.comm = report_str(target, "comm"),
		.severity = report_str(entry, "severity"),
		.title = report_str(entry, "title"),
		.pid = {-1, -1},
	};

	f.present[s] = true;
	f.file[s] = report_str(target, "file");
	f.pid[s] = json_is_integer(pid) ? json_integer_value(pid) : -1;
	return f;
}

/* Folds @from into @into: the same finding, seen in the other report (or twice in one). */
static void merge_finding(struct finding *into, const struct finding *from)
{
	for (int s = 0; s < NSIDES; s++) {
		if (!from->present[s] || into->present[s])
			continue;
		into->present[s] = true;
		into->pid[s] = from->pid[s];
		into->file[s] = from->file[s];
	}
	if (!into->severity)
		into->severity = from->severity;
	if (!into->title)
		into->title = from->title;
}

/* The length of @path's directory part including its last '/'; 0 when it has none. */
static size_t directory_len(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? (size_t)(slash - path) + 1 : 0;
}

/* Unresolved paths ("vda:inode 12") have no directory, so they never match this way. */
static bool same_directory(const char *a, const char *b)
{
	size_t n = directory_len(a);

	return n && n == directory_len(b) && !memcmp(a, b, n);
}

static bool only_in(const struct finding *f, enum side s)
{
	return f->present[s] && !f->present[s == BEFORE ? AFTER : BEFORE];
}

/* Pairs each finding only before with the first one only after on a file of its directory. */
static void pair_by_directory(struct finding *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!only_in(&v[i], BEFORE))
			continue;
		for (size_t j = 0; j < n; j++) {
			if (!only_in(&v[j], AFTER) ||
			    !same_directory(v[i].file[BEFORE], v[j].file[AFTER]))
				continue;
			merge_finding(&v[i], &v[j]);
			v[i].by_directory = true;
			v[j].present[AFTER] = false; /* folded into v[i]: dropped below */
			break;
		}
	}
}

/*
 * Rotating files (PostgreSQL's WAL segments, redis's appendonly.aof.N.incr.aof) give the
 * same finding on another file after the change: a finding gone from one file of a
 * directory and new on another file of it, for the same id, container and comm, is one
 * finding still there. Each pairs at most once, first with first in path order. @v is
 * sorted, so the findings of one id, container and comm are next to each other.
 */
static void match_by_directory(struct finding *v, size_t n)
{
	size_t end;

	for (size_t start = 0; start < n; start = end) {
		for (end = start + 1; end < n && !compare_finding_owners(&v[start], &v[end]); end++)
			continue;
		pair_by_directory(v + start, end - start);
	}
}

static size_t drop_folded(struct finding *v, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].present[BEFORE] || v[i].present[AFTER])
			v[out++] = v[i];
	return out;
}

/* Sorting brings the findings of one key (within and across reports) together. */
static size_t merge_exact(struct finding *v, size_t n)
{
	size_t out = 0;

	qsort(v, n, sizeof(*v), compare_findings_qsort);
	for (size_t i = 0; i < n; i++) {
		if (out && !compare_findings(&v[out - 1], &v[i]))
			merge_finding(&v[out - 1], &v[i]);
		else
			v[out++] = v[i];
	}
	return out;
}

static int build_findings(struct findings *fs, json_t *const reports[NSIDES])
{
	size_t total = 0, n = 0;
	struct finding *v;

	for (int s = 0; s < NSIDES; s++) {
		const json_t *array = json_object_get(reports[s], "findings");

		fs->carried[s] = json_is_array(array);
		total += json_array_size(array);
	}
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		return -1;
	for (int s = 0; s < NSIDES; s++) {
		const json_t *entry;
		size_t index;

		/* report_file_load() has checked that each entry is a finding object */
		json_array_foreach(json_object_get(reports[s], "findings"), index, entry)
		{
			v[n++] = read_finding(entry, s);
		}
	}
	n = merge_exact(v, n);
	match_by_directory(v, n);
	fs->v = v;
	fs->n = drop_folded(v, n);
	return 0;
}

enum finding_status { GONE, STILL, NEW, NSTATUS };

static const char *const status_text[NSTATUS] = {"gone", "still there", "new"};
static const char *const status_json[NSTATUS] = {"gone", "still_there", "new"};

static enum finding_status status_of(const struct finding *f)
{
	if (f->present[BEFORE] && f->present[AFTER])
		return STILL;
	return f->present[BEFORE] ? GONE : NEW;
}

static size_t count_status(const struct findings *fs, enum finding_status st)
{
	size_t n = 0;

	for (size_t i = 0; i < fs->n; i++)
		n += status_of(&fs->v[i]) == st;
	return n;
}

/* --- figures derived for display --- */

static double ratio(uint64_t num, uint64_t den)
{
	return den ? (double)num / (double)den : NAN;
}

static double amplification(const struct figures *f)
{
	return ratio(f->device_bytes, f->app_bytes);
}

/* after / before; undefined when either side is missing or before is 0. */
static double change(const struct pair_row *row, double before, double after)
{
	if (!row->present[BEFORE] || !row->present[AFTER] || before == 0 || isnan(before) ||
	    isnan(after))
		return NAN;
	return after / before;
}

enum metric { APP, DEVICE, SYNCS, AMP, NMETRICS };

static const char *const metric_json[NMETRICS] = {"app_bytes", "device_bytes", "syncs",
						  "amplification"};

static double metric_value(const struct figures *f, enum metric m)
{
	switch (m) {
	case APP:
		return (double)f->app_bytes;
	case DEVICE:
		return (double)f->device_bytes;
	case SYNCS:
		return (double)f->syncs;
	default:
		return amplification(f);
	}
}

static double metric_change(const struct pair_row *row, enum metric m)
{
	return change(row, metric_value(&row->side[BEFORE], m), metric_value(&row->side[AFTER], m));
}

/* --- text output --- */

static const char *fmt_bytes(char *buf, uint64_t n)
{
	double v = (double)n / KIB;
	size_t unit = 0;

	if (n < KIB) {
		snprintf(buf, FMT_LEN, "%llu B", (unsigned long long)n);
		return buf;
	}
	while (v >= KIB && unit + 1 < sizeof(byte_units) / sizeof(byte_units[0])) {
		v /= KIB;
		unit++;
	}
	snprintf(buf, FMT_LEN, "%.1f %s", v, byte_units[unit]);
	return buf;
}

/* Three significant digits, so that a 100-fold improvement does not print as 0.0x. */
static const char *fmt_factor(char *buf, double v)
{
	if (isnan(v))
		snprintf(buf, FMT_LEN, "-");
	else if (v >= 100)
		snprintf(buf, FMT_LEN, "%.0fx", v);
	else
		snprintf(buf, FMT_LEN, "%#.3gx", v);
	return buf;
}

static const char *fmt_count(char *buf, uint64_t n)
{
	snprintf(buf, FMT_LEN, "%llu", (unsigned long long)n);
	return buf;
}

static const char *fmt_side(char *buf, const struct pair_row *row, enum side s, enum metric m)
{
	const struct figures *f = &row->side[s];

	if (!row->present[s])
		return "-";
	switch (m) {
	case APP:
		return fmt_bytes(buf, f->app_bytes);
	case DEVICE:
		return fmt_bytes(buf, f->device_bytes);
	case SYNCS:
		return fmt_count(buf, f->syncs);
	default:
		return fmt_factor(buf, amplification(f));
	}
}

static void print_columns_header(FILE *out, const char *key_header)
{
	fprintf(out, "%11s %11s %8s  %11s %11s %8s  %9s %9s %8s  %9s %9s %8s", "APP BEFORE",
		"APP AFTER", "RATIO", "DEV BEFORE", "DEV AFTER", "RATIO", "SYNCS BEF", "SYNCS AFT",
		"RATIO", "AMP BEF", "AMP AFT", "RATIO");
	fprintf(out, "%s%s\n", *key_header ? "  " : "", key_header);
}

static void print_row(FILE *out, const struct pair_row *row)
{
	static const int widths[NMETRICS] = {11, 11, 9, 9};
	char name[NAME_COLS], b[FMT_LEN], a[FMT_LEN], r[FMT_LEN];

	for (int m = 0; m < NMETRICS; m++)
		fprintf(out, "%*s %*s %8s  ", widths[m], fmt_side(b, row, BEFORE, m), widths[m],
			fmt_side(a, row, AFTER, m), fmt_factor(r, metric_change(row, m)));
	fprintf(out, "%s\n", sanitize_column(name, sizeof(name), row->key));
}

static size_t shown_rows(size_t n, int top)
{
	return top > 0 && (size_t)top < n ? (size_t)top : n;
}

/* A "-" may only mean that a report cut the row off with its own --top: say so. */
static void print_report_omissions(FILE *out, const struct pair_table *t,
				   const struct compare_args *args)
{
	char shown[NAME_COLS];

	for (int s = 0; s < NSIDES; s++)
		if (t->report_omitted[s])
			fprintf(out,
				"  note: %s leaves out %llu %s beyond its --top; a \"-\" may be "
				"one of them\n",
				sanitize_column(shown, sizeof(shown), args->files[s]),
				(unsigned long long)t->report_omitted[s], t->spec->member);
}

static void print_table(FILE *out, const struct pair_table *t, const struct compare_args *args)
{
	size_t n = shown_rows(t->n, args->top);

	fprintf(out, "\n%s, by device bytes before + after (%zu of %zu; %s)\n", t->spec->title, n,
		t->n, t->spec->match_note);
	print_report_omissions(out, t, args);
	print_columns_header(out, t->spec->key_header);
	for (size_t i = 0; i < n; i++)
		print_row(out, &t->rows[i]);
}

static void print_report_line(FILE *out, const json_t *report, const char *file, enum side s)
{
	const json_t *command = json_object_get(json_object_get(report, "run"), "command");
	char shown[NAME_COLS], word[CMD_COLS];
	const json_t *arg;
	size_t i;

	fprintf(out, "%-7s %s: %s, %.2f s", side_names[s],
		sanitize_column(shown, sizeof(shown), file),
		sanitize_column(word, sizeof(word), report_str(report, "mode")),
		json_number_value(json_object_get(report, "duration_s")));
	if (json_array_size(command)) {
		fputs(" of `", out);
		json_array_foreach(command, i, arg)
		{
			fprintf(out, "%s%s", i ? " " : "",
				sanitize_column(word, sizeof(word), json_string_value(arg)));
		}
		fputc('`', out);
	}
	fputc('\n', out);
}

static void print_finding(FILE *out, const struct finding *f)
{
	char id[NAME_COLS], comm[NAME_COLS], file[NAME_COLS], container[NAME_COLS];
	char severity[NAME_COLS], after_file[NAME_COLS];

	fprintf(out, "  %-12s %-7s %-28s %-16s %s", status_text[status_of(f)],
		sanitize_column(severity, sizeof(severity), f->severity),
		sanitize_column(id, sizeof(id), f->id),
		sanitize_column(comm, sizeof(comm), f->comm),
		sanitize_column(file, sizeof(file), key_file(f)));
	if (f->by_directory)
		fprintf(out, " -> %s (same directory)",
			sanitize_column(after_file, sizeof(after_file), f->file[AFTER]));
	if (f->container)
		fprintf(out, "  container %s",
			sanitize_column(container, sizeof(container), f->container));
	fputc('\n', out);
}

static void print_findings(FILE *out, const struct findings *fs, const struct compare_args *args)
{
	char shown[NAME_COLS];

	if (!fs->carried[BEFORE] && !fs->carried[AFTER]) {
		fprintf(out, "\nFINDINGS: neither report carries findings\n");
		return;
	}
	fprintf(out,
		"\nFINDINGS, matched by id, container, comm and file (else a file in the same "
		"directory): %zu gone, %zu still there, %zu new\n",
		count_status(fs, GONE), count_status(fs, STILL), count_status(fs, NEW));
	for (int s = 0; s < NSIDES; s++)
		if (!fs->carried[s])
			fprintf(out,
				"  note: %s carries no findings (an older writeamp?), so every "
				"finding of the other shows as %s\n",
				sanitize_column(shown, sizeof(shown), args->files[s]),
				s == BEFORE ? "new" : "gone");
	for (int st = 0; st < NSTATUS; st++)
		for (size_t i = 0; i < fs->n; i++)
			if (status_of(&fs->v[i]) == (enum finding_status)st)
				print_finding(out, &fs->v[i]);
}

static void print_text(FILE *out, const struct comparison *c)
{
	fprintf(out, "writeamp compare (RATIO is after / before; \"-\" where undefined)\n");
	for (int s = 0; s < NSIDES; s++)
		print_report_line(out, c->reports[s], c->args->files[s], s);
	fprintf(out, "\nTOTALS\n");
	print_columns_header(out, "");
	print_row(out, &c->totals);
	print_table(out, &c->processes, c->args);
	if (c->containers.n)
		print_table(out, &c->containers, c->args);
	print_table(out, &c->files, c->args);
	print_findings(out, &c->findings, c->args);
}

/* --- JSON output --- */

static void json_number_or_null(struct json_writer *jw, const char *key, double v)
{
	if (isnan(v))
		jw_kv_null(jw, key);
	else
		jw_kv_double(jw, key, v);
}

static void json_figures(struct json_writer *jw, const struct pair_row *row, enum side s)
{
	const struct figures *f = &row->side[s];

	jw_key(jw, side_names[s]);
	if (!row->present[s]) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	jw_kv_u64(jw, "app_bytes", f->app_bytes);
	jw_kv_u64(jw, "device_bytes", f->device_bytes);
	jw_kv_u64(jw, "syncs", f->syncs);
	json_number_or_null(jw, "amplification", amplification(f));
	jw_kv_u64(jw, "entries", f->rows);
	jw_end_object(jw);
}

static void json_pair(struct json_writer *jw, const char *key_name, const struct pair_row *row)
{
	jw_start_object(jw);
	if (key_name)
		jw_kv_string(jw, key_name, row->key);
	for (int s = 0; s < NSIDES; s++)
		json_figures(jw, row, s);
	jw_key(jw, "ratio");
	jw_start_object(jw);
	for (int m = 0; m < NMETRICS; m++)
		json_number_or_null(jw, metric_json[m], metric_change(row, m));
	jw_end_object(jw);
	jw_end_object(jw);
}

static void json_table(struct json_writer *jw, const struct pair_table *t, int top)
{
	size_t n = shown_rows(t->n, top);
	char omitted[64];

	jw_key(jw, t->spec->member);
	jw_start_array(jw);
	for (size_t i = 0; i < n; i++)
		json_pair(jw, t->spec->json_key, &t->rows[i]);
	jw_end_array(jw);
	snprintf(omitted, sizeof(omitted), "%s_omitted", t->spec->member);
	jw_kv_u64(jw, omitted, t->n - n);
}

static void json_report_info(struct json_writer *jw, const struct comparison *c, enum side s)
{
	const json_t *r = c->reports[s];

	jw_key(jw, side_names[s]);
	jw_start_object(jw);
	jw_kv_string(jw, "file", c->args->files[s]);
	jw_kv_string(jw, "tool", report_str(r, "tool"));
	jw_kv_string(jw, "mode", report_str(r, "mode"));
	jw_kv_double(jw, "duration_s", json_number_value(json_object_get(r, "duration_s")));
	jw_kv_u64(jw, "processes_omitted", c->processes.report_omitted[s]);
	jw_kv_u64(jw, "files_omitted", c->files.report_omitted[s]);
	jw_end_object(jw);
}

static void json_finding(struct json_writer *jw, const struct finding *f)
{
	jw_start_object(jw);
	jw_kv_string(jw, "id", f->id);
	jw_kv_string(jw, "severity", f->severity);
	jw_kv_string(jw, "title", f->title);
	jw_kv_string(jw, "container", f->container);
	jw_kv_string(jw, "comm", f->comm);
	jw_kv_string(jw, "file", key_file(f));
	for (int s = 0; s < NSIDES; s++) {
		char key[16];

		snprintf(key, sizeof(key), "%s_pid", side_names[s]);
		if (f->pid[s] >= 0)
			jw_kv_i64(jw, key, f->pid[s]);
		else
			jw_kv_null(jw, key);
		snprintf(key, sizeof(key), "%s_file", side_names[s]);
		jw_kv_string(jw, key, f->present[s] ? f->file[s] : NULL);
	}
	if (status_of(f) == STILL)
		jw_kv_string(jw, "matched_by", f->by_directory ? "directory" : "file");
	else
		jw_kv_null(jw, "matched_by");
	jw_end_object(jw);
}

static void json_findings(struct json_writer *jw, const struct findings *fs)
{
	jw_key(jw, "findings");
	if (!fs->carried[BEFORE] && !fs->carried[AFTER]) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	jw_kv_bool(jw, "before_carries_findings", fs->carried[BEFORE]);
	jw_kv_bool(jw, "after_carries_findings", fs->carried[AFTER]);
	for (int st = 0; st < NSTATUS; st++) {
		jw_key(jw, status_json[st]);
		jw_start_array(jw);
		for (size_t i = 0; i < fs->n; i++)
			if (status_of(&fs->v[i]) == (enum finding_status)st)
				json_finding(jw, &fs->v[i]);
		jw_end_array(jw);
	}
	jw_end_object(jw);
}

static bool print_json(FILE *out, const struct comparison *c)
{
	struct json_writer *jw = jw_new(out, true);
	bool ok;

	jw_start_object(jw);
	jw_kv_u64(jw, "version", WA_SCHEMA_VERSION);
	jw_kv_string(jw, "tool", "writeamp " WA_VERSION);
	jw_kv_string(jw, "mode", "compare");
	for (int s = 0; s < NSIDES; s++)
		json_report_info(jw, c, s);
	jw_key(jw, "totals");
	json_pair(jw, NULL, &c->totals);
	json_table(jw, &c->processes, c->args->top);
	json_table(jw, &c->containers, c->args->top);
	json_table(jw, &c->files, c->args->top);
	json_findings(jw, &c->findings);
	jw_end_object(jw);
	ok = jw_ok(jw);
	jw_free(jw);
	return ok;
}

/* --- the command --- */

#define usage_error(...) cli_usage_error("compare", __VA_ARGS__)

static bool parse_top(const char *text, int *top)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < 0 || v > INT_MAX)
		return false;
	*top = (int)v;
	return true;
}

enum { OPT_TOP = 256, OPT_JSON };

static const struct option long_options[] = {
	{"top", required_argument, NULL, OPT_TOP},
	{"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Returns -1 to go on, else the exit status (help printed, or a usage error reported). */
static int parse_args(int argc, char **argv, struct compare_args *args)
{
	char shown[NAME_COLS];
	int c;

	*args = (struct compare_args){.top = WA_DEFAULT_TOP};
	optind = 0; /* getopt's state is global: the main command line was parsed with it */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_TOP:
			if (!parse_top(optarg, &args->top))
				return usage_error("--top: '%s' is not a number of 0 or more",
						   sanitize_column(shown, sizeof(shown), optarg));
			break;
		case OPT_JSON:
			args->json = true;
			break;
		default: /* -h, a missing argument or an unknown option */
			return cli_getopt_end("compare", c, usage_text, argv[optind - 1]);
		}
	}
	if (argc - optind != NSIDES)
		return usage_error("expected two reports, BEFORE.json and AFTER.json");
	args->files[BEFORE] = argv[optind];
	args->files[AFTER] = argv[optind + 1];
	return -1;
}

static void free_comparison(struct comparison *c)
{
	for (int s = 0; s < NSIDES; s++)
		json_decref(c->reports[s]);
	free(c->processes.rows);
	free(c->containers.rows);
	free(c->files.rows);
	free(c->findings.v);
}

static int load_reports(struct comparison *c)
{
	char why[WHY_LEN];

	for (int s = 0; s < NSIDES; s++) {
		c->reports[s] = report_file_load(c->args->files[s], why, sizeof(why));
		if (!c->reports[s]) {
			fprintf(stderr, PREFIX "%s\n", why);
			return -1;
		}
	}
	return 0;
}

static int build_comparison(struct comparison *c)
{
	build_totals(&c->totals, c->reports);
	if (build_table(&c->processes, c->reports, &process_spec) ||
	    build_table(&c->containers, c->reports, &container_spec) ||
	    build_table(&c->files, c->reports, &file_spec) ||
	    build_findings(&c->findings, c->reports)) {
		fprintf(stderr, PREFIX "out of memory\n");
		return -1;
	}
	return 0;
}

int cmd_compare(const struct wa_options *opts)
{
	struct compare_args args;
	struct comparison c = {.args = &args};
	int status = parse_args(opts->sub_argc, opts->sub_argv, &args);
	bool ok;

	if (status >= 0)
		return status;
	if (load_reports(&c) || build_comparison(&c)) {
		free_comparison(&c);
		return 1;
	}
	if (args.json) {
		ok = print_json(stdout, &c);
	} else {
		print_text(stdout, &c);
		ok = true;
	}
	ok = !fflush(stdout) && !ferror(stdout) && ok;
	if (!ok)
		fprintf(stderr, PREFIX "writing the comparison failed: %s\n", strerror(errno));
	free_comparison(&c);
	return ok ? 0 : 1;
}
