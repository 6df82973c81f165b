// SPDX-License-Identifier: GPL-2.0
/* output_text.c: the report for a terminal: tables, totals, losses and histograms. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "cgroups.h"
#include "cli.h"
#include "hist.h"
#include "output.h"
#include "textfmt.h"
#include "sanitize.h"
#include "tracer.h"

#define COMM_COLS 16
#define PATH_COLS 512
#define CMD_COLS  160
static size_t shown(size_t n, int top)
{
	return top > 0 && (size_t)top < n ? (size_t)top : n;
}

static void print_header(FILE *out, const struct wa_report *r, const struct output_options *o)
{
	char cmd[CMD_COLS];

	fprintf(out, "writeamp %s: %s%s%s, %.2f s", WA_VERSION, r->mode, o->title ? " " : "",
		o->title ? o->title : "", r->duration_s);
	if (r->command) {
		fprintf(out, " of `%s", sanitize_column(cmd, sizeof(cmd), r->command[0]));
		for (int i = 1; r->command[i]; i++)
			fprintf(out, " %s", sanitize_column(cmd, sizeof(cmd), r->command[i]));
		fputc('`', out);
		if (r->exit_signal)
			fprintf(out, ", killed by signal %d", r->exit_signal);
		else
			fprintf(out, ", exit status %d", r->exit_status);
	}
	fputc('\n', out);
	if (r->command && !r->interval) {
		char b[FMT_LEN];

		if (r->settle_timed_out)
			fprintf(out,
				"writeback: still %s dirty after waiting %.1f s (--settle): not "
				"in this report\n",
				fmt_bytes(b, r->settle_pending_bytes), r->settle_waited_s);
		else
			fprintf(out,
				"writeback: all of it written back, waited %.1f s after exit\n",
				r->settle_waited_s);
	}
	if (!r->journal_followed)
		fprintf(out, "journal: jbd2 is not in this kernel, so journal commits are not "
			     "followed\n");
}

/* "NAME (RUNTIME ID12, pod NAMESPACE/NAME)", sanitized. */
static const char *describe_container(char *buf, size_t len, const struct wa_cgroup_info *cg)
{
	char name[WA_META_NAME_LEN], raw[3 * WA_META_NAME_LEN + 96];
	const char *rt = runtime_name(cg->meta.runtime);
	int n;

	container_display_name(cg, name, sizeof(name));
	n = snprintf(raw, sizeof(raw), "%s (%s%s%.12s", name, rt, *rt ? " " : "", cg->ident.id);
	if (cg->ident.pod_uid[0] && n > 0 && (size_t)n < sizeof(raw))
		n += snprintf(raw + n, sizeof(raw) - n, ", pod %s/%s",
			      cg->meta.pod_namespace[0] ? cg->meta.pod_namespace : "?",
			      cg->meta.pod_name[0] ? cg->meta.pod_name : cg->ident.pod_uid);
	if (n > 0 && (size_t)n < sizeof(raw))
		snprintf(raw + n, sizeof(raw) - n, ")");
	return sanitize_column(buf, len, raw);
}

static void print_proc_detail(FILE *out, const struct wa_proc_row *p)
{
	const struct wa_figures *f = &p->f;
	char a[FMT_LEN], b[FMT_LEN], c[FMT_LEN], d[FMT_LEN], cmd[CMD_COLS];
	__u64 ns_calls = figures_nonstorage_calls(f);

	if (figures_device_bytes(f) || f->dev.flushes)
		fprintf(out,
			"           device: data %s, metadata %s, journal %s, flushes %llu, "
			"forced by it %s\n",
			fmt_bytes(a, f->dev.bytes[WA_CHARGE_DATA]),
			fmt_bytes(b, f->dev.bytes[WA_CHARGE_METADATA]),
			fmt_bytes(c, f->dev.bytes[WA_CHARGE_JOURNAL]),
			(unsigned long long)f->dev.flushes, fmt_bytes(d, f->dev.forced_bytes));
	if (ns_calls) {
		bool first = true;

		fprintf(out, "           not storage: %llu writes of %s (",
			(unsigned long long)ns_calls, fmt_bytes(a, figures_nonstorage_bytes(f)));
		for (int i = 0; i < WA_FD__COUNT; i++) {
			if (!f->ns_calls[i])
				continue;
			fprintf(out, "%s%s %llu", first ? "" : ", ", fd_class_id(i),
				(unsigned long long)f->ns_calls[i]);
			first = false;
		}
		fprintf(out, "), left out of the amplification\n");
	}
	if (f->opens_sync || f->opens_dsync || f->opens_direct)
		fprintf(out, "           opens: O_SYNC %llu, O_DSYNC %llu, O_DIRECT %llu\n",
			(unsigned long long)f->opens_sync, (unsigned long long)f->opens_dsync,
			(unsigned long long)f->opens_direct);
	if (f->commits_forced)
		fprintf(out, "           journal commits forced by its syncs: %llu\n",
			(unsigned long long)f->commits_forced);
	if (p->cmdline)
		fprintf(out, "           cmd: %s\n", sanitize_column(cmd, sizeof(cmd), p->cmdline));
	if (p->cgroup && p->cgroup->in_container)
		fprintf(out, "           container: %s\n",
			describe_container(cmd, sizeof(cmd), p->cgroup));
}

static void print_processes(FILE *out, const struct wa_report *r, const struct output_options *o)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nprocs; i++)
		n += figures_any(&r->procs[i].f);
	fprintf(out, "\nPROCESSES, by device bytes charged (%zu of %zu)\n", shown(n, o->top), n);
	if (!n)
		return;
	fprintf(out, "%7s %-16s %8s %10s %6s %6s %7s %10s %10s %9s %9s\n", "PID", "COMM", "WRITES",
		"APP BYTES", "AVG", "SMALL", "SYNCS", "DIRTIED", "DEVICE", "AMP", "PAGE-AMP");
	for (size_t i = 0, printed = 0; i < r->nprocs && printed < shown(n, o->top); i++) {
		const struct wa_proc_row *p = &r->procs[i];
		const struct wa_figures *f = &p->f;
		char comm[COMM_COLS * 2], pid[16], a[FMT_LEN], b[FMT_LEN], c[FMT_LEN], d[FMT_LEN],
			e[FMT_LEN], g[FMT_LEN], h[FMT_LEN];

		if (!figures_any(f))
			continue;
		printed++;
		if (p->overflow)
			snprintf(pid, sizeof(pid), "-");
		else
			snprintf(pid, sizeof(pid), "%u", p->pid);
		fprintf(out, "%7s %-16s %8llu %10s %6s %6s %7llu %10s %10s %9s %9s\n", pid,
			sanitize_column(comm, sizeof(comm), p->comm),
			(unsigned long long)f->write_calls, fmt_bytes(a, f->write_bytes),
			fmt_avg(b, figures_avg_write(f)),
			fmt_percent(c, f->small_calls, f->write_calls),
			(unsigned long long)figures_sync_calls(f), fmt_bytes(d, f->dirtied_bytes),
			fmt_bytes(e, figures_device_bytes(f)),
			fmt_ratio(g, figures_amplification(f)),
			fmt_ratio(h, figures_page_amplification(f)));
		print_proc_detail(out, p);
	}
}

static void print_group_header(FILE *out, const char *what)
{
	fprintf(out, "%6s %8s %10s %6s %7s %10s %10s %9s  %s\n", "PROCS", "WRITES", "APP BYTES",
		"AVG", "SYNCS", "DIRTIED", "DEVICE", "AMP", what);
}

static void print_group_row(FILE *out, const struct wa_group_row *g, const char *name)
{
	const struct wa_figures *f = &g->f;
	char a[FMT_LEN], b[FMT_LEN], d[FMT_LEN], e[FMT_LEN], h[FMT_LEN];

	fprintf(out, "%6zu %8llu %10s %6s %7llu %10s %10s %9s  %s\n", g->npids,
		(unsigned long long)f->write_calls, fmt_bytes(a, f->write_bytes),
		fmt_avg(b, figures_avg_write(f)), (unsigned long long)figures_sync_calls(f),
		fmt_bytes(d, f->dirtied_bytes), fmt_bytes(e, figures_device_bytes(f)),
		fmt_ratio(h, figures_amplification(f)), name);
}

/* Containers, then the processes in none by their systemd unit, so that all of it adds up. */
static void print_containers(FILE *out, const struct wa_report *r, const struct output_options *o)
{
	char name[PATH_COLS], unit[PATH_COLS];

	fprintf(out, "\nCONTAINERS, by device bytes charged (%zu of %zu; then the host by unit)\n",
		shown(r->ncontainers, o->top), r->ncontainers);
	print_group_header(out, "CONTAINER (RUNTIME ID) / HOST UNIT");
	for (size_t i = 0; i < shown(r->ncontainers, o->top); i++)
		print_group_row(out, &r->containers[i],
				describe_container(name, sizeof(name), r->containers[i].cgroup));
	for (size_t i = 0; i < shown(r->nunits, o->top); i++) {
		char label[PATH_COLS + 8];

		snprintf(label, sizeof(label), "host: %s",
			 sanitize_column(unit, sizeof(unit), r->units[i].unit));
		print_group_row(out, &r->units[i], label);
	}
	if (r->nunits > shown(r->nunits, o->top))
		fprintf(out, "   (%zu more host units)\n", r->nunits - shown(r->nunits, o->top));
}

static void print_cgroups(FILE *out, const struct wa_report *r, const struct output_options *o)
{
	char path[PATH_COLS];

	fprintf(out, "\nCGROUPS, by device bytes charged (%zu of %zu)\n",
		shown(r->ncgroups, o->top), r->ncgroups);
	print_group_header(out, "CGROUP");
	for (size_t i = 0; i < shown(r->ncgroups, o->top); i++) {
		const struct wa_cgroup_info *cg = r->cgroups[i].cgroup;
		char raw[PATH_COLS];

		if (cg->path)
			snprintf(raw, sizeof(raw), "%s", cg->path);
		else
			snprintf(raw, sizeof(raw), "[gone] %s", cg->leaf);
		print_group_row(out, &r->cgroups[i], sanitize_column(path, sizeof(path), raw));
	}
}

static void print_unattributed(FILE *out, const struct wa_report *r)
{
	if (!r->nunattributed)
		return;
	fprintf(out, "\nNOT ATTRIBUTED TO A PROCESS (rows of their own, none dropped)\n");
	fprintf(out, "   %-10s %10s %8s  %s\n", "DEVICE", "BYTES", "FLUSHES", "REASON");
	for (size_t i = 0; i < r->nunattributed; i++) {
		const struct wa_unattributed_row *u = &r->unattributed[i];
		char b[FMT_LEN], dev[WA_DEVNAME_LEN * 2];

		fprintf(out, "   %-10s %10s %8llu  %s: %s\n",
			sanitize_column(dev, sizeof(dev), u->device), fmt_bytes(b, u->bytes),
			(unsigned long long)u->flushes, unattributed_id(u->reason),
			unattributed_text(u->reason));
	}
}

static void print_files(FILE *out, const struct wa_report *r, const struct output_options *o)
{
	fprintf(out, "\nFILES, by device bytes (%zu of %zu)\n", shown(r->nfiles, o->top),
		r->nfiles);
	if (!r->nfiles)
		return;
	fprintf(out, "%10s %10s %8s %10s %6s %9s  %-24s %s\n", "DEVICE", "APP BYTES", "WRITES",
		"DIRTIED", "SYNCS", "AMP", "WRITER", "PATH");
	for (size_t i = 0; i < shown(r->nfiles, o->top); i++) {
		const struct wa_file_row *f = &r->files[i];
		char a[FMT_LEN], b[FMT_LEN], c[FMT_LEN], d[FMT_LEN], writer[64],
			comm[COMM_COLS * 2], path[PATH_COLS];

		if (f->writer_pid)
			snprintf(writer, sizeof(writer), "%u %s%s", f->writer_pid,
				 sanitize_column(comm, sizeof(comm), f->writer_comm),
				 f->shared ? " (+more)" : "");
		else
			snprintf(writer, sizeof(writer), "[kernel]");
		fprintf(out, "%10s %10s %8llu %10s %6llu %9s  %-24s %s\n",
			fmt_bytes(a, file_device_bytes(f)), fmt_bytes(b, f->write_bytes),
			(unsigned long long)f->write_calls, fmt_bytes(c, f->dirtied_bytes),
			(unsigned long long)f->sync_calls,
			fmt_ratio(d, amplification(file_device_bytes(f), f->write_bytes)), writer,
			sanitize_column(path, sizeof(path), f->path));
	}
}

static void print_devices(FILE *out, const struct wa_report *r)
{
	fprintf(out, "\nDEVICES\n");
	if (!r->ndevs)
		return;
	fprintf(out, "   %-10s %8s %10s %7s %6s %10s %10s %10s %8s %9s\n", "DEVICE", "BIOS",
		"WRITTEN", "FLUSHES", "FUA", "CHARGED", "NOT ATTR.", "DISCARDED", "REQUESTS",
		"AVG REQ");
	for (size_t i = 0; i < r->ndevs; i++) {
		const struct wa_dev_stats *s = &r->devs[i].s;
		__u64 charged = 0, unattr = 0;
		char a[FMT_LEN], b[FMT_LEN], c[FMT_LEN], d[FMT_LEN], e[FMT_LEN],
			dev[WA_DEVNAME_LEN * 2];

		for (int k = 0; k < WA_CHARGE__COUNT; k++)
			charged += s->charged_bytes[k];
		for (int k = 0; k < WA_UNATTR__COUNT; k++)
			unattr += s->unattributed_bytes[k];
		fprintf(out, "   %-10s %8llu %10s %7llu %6llu %10s %10s %10s %8llu %9s\n",
			sanitize_column(dev, sizeof(dev), r->devs[i].name),
			(unsigned long long)s->write_bios, fmt_bytes(a, s->write_bytes),
			(unsigned long long)s->flush_bios, (unsigned long long)s->fua_bios,
			fmt_bytes(b, charged), fmt_bytes(c, unattr), fmt_bytes(d, s->discard_bytes),
			(unsigned long long)s->rq_writes,
			s->rq_writes ? fmt_bytes(e, s->rq_write_bytes / s->rq_writes) : "-");
	}
}

static void print_losses(FILE *out, const struct wa_report *r)
{
	__u64 total = 0;

	for (int i = 0; i < WA_LOSS__COUNT; i++)
		total += r->losses[i];
	if (!total) {
		fprintf(out, "   lost            nothing: no event dropped, no table full\n");
	} else {
		fprintf(out, "   lost            %llu events:", (unsigned long long)total);
		for (int i = 0; i < WA_LOSS__COUNT; i++)
			if (r->losses[i])
				fprintf(out, " %s %llu", loss_id(i),
					(unsigned long long)r->losses[i]);
		fputc('\n', out);
	}
	if (r->journal_in_flight_bytes) {
		char b[FMT_LEN];

		fprintf(out, "   in flight       %s of journal commits not yet ended\n",
			fmt_bytes(b, r->journal_in_flight_bytes));
	}
}

static void print_totals(FILE *out, const struct wa_report *r)
{
	const struct wa_figures *t = &r->totals;
	char a[FMT_LEN], b[FMT_LEN], c[FMT_LEN], d[FMT_LEN];
	__u64 charged = figures_device_bytes(t);

	fprintf(out, "\nTOTALS\n");
	fprintf(out, "   storage writes  %llu calls, %s (average %s B, %s under 512 B)\n",
		(unsigned long long)t->write_calls, fmt_bytes(a, t->write_bytes),
		fmt_avg(b, figures_avg_write(t)), fmt_percent(c, t->small_calls, t->write_calls));
	fprintf(out,
		"   not storage     %llu calls, %s (sockets, pipes, ttys: not counted as "
		"storage)\n",
		(unsigned long long)figures_nonstorage_calls(t),
		fmt_bytes(a, figures_nonstorage_bytes(t)));
	fprintf(out,
		"   syncs           %llu (fsync %llu, fdatasync %llu, other %llu), %.2f per "
		"write\n",
		(unsigned long long)figures_sync_calls(t),
		(unsigned long long)t->sync_calls[WA_SYNC_FSYNC],
		(unsigned long long)t->sync_calls[WA_SYNC_FDATASYNC],
		(unsigned long long)(figures_sync_calls(t) - t->sync_calls[WA_SYNC_FSYNC] -
				     t->sync_calls[WA_SYNC_FDATASYNC]),
		isnan(figures_syncs_per_write(t)) ? 0.0 : figures_syncs_per_write(t));
	fprintf(out, "   dirtied         %s in %llu pages, page amplification %s\n",
		fmt_bytes(a, t->dirtied_bytes), (unsigned long long)t->dirtied_pages,
		fmt_ratio(b, figures_page_amplification(t)));
	fprintf(out,
		"   device          %s charged to processes (data %s, journal %s, metadata "
		"%s)\n",
		fmt_bytes(a, charged), fmt_bytes(b, t->dev.bytes[WA_CHARGE_DATA]),
		fmt_bytes(c, t->dev.bytes[WA_CHARGE_JOURNAL]),
		fmt_bytes(d, t->dev.bytes[WA_CHARGE_METADATA]));
	fprintf(out, "                   + %s not attributed, %llu flushes charged\n",
		fmt_bytes(a, r->unattributed_bytes), (unsigned long long)t->dev.flushes);
	if (r->ignored_bytes)
		fprintf(out,
			"                   (%s more on these devices outside the selection)\n",
			fmt_bytes(a, r->ignored_bytes));
	fprintf(out, "   amplification   %s (device bytes charged / storage bytes written)\n",
		fmt_ratio(a, figures_amplification(t)));
	print_losses(out, r);
}

static void print_hist(FILE *out, const char *name, const char *who, const struct wa_hist *h)
{
	bool any = false;

	for (int i = 0; i < WA_HIST_SLOTS; i++)
		any |= h->slot[i] != 0;
	if (!any)
		return;
	fprintf(out, "\n@%s[%s]:\n", name, who);
	hist_print(out, h);
}

static void print_histograms(FILE *out, const struct wa_report *r, const struct output_options *o)
{
	for (size_t i = 0, done = 0; i < r->nprocs && (int)done < o->hist_top; i++) {
		const struct wa_proc_row *p = &r->procs[i];
		char comm[COMM_COLS * 2], who[64];

		if (!p->f.write_calls && !figures_sync_calls(&p->f))
			continue;
		done++;
		snprintf(who, sizeof(who), "%s, %u", sanitize_column(comm, sizeof(comm), p->comm),
			 p->pid);
		print_hist(out, "write_bytes", who, &p->f.write_size);
		print_hist(out, "sync_latency_us", who, &p->f.sync_latency_us);
	}
	if (o->hist_top <= 0)
		return;
	for (size_t i = 0; i < r->ndevs; i++) {
		char dev[WA_DEVNAME_LEN * 2];

		sanitize_column(dev, sizeof(dev), r->devs[i].name);
		print_hist(out, "request_bytes", dev, &r->devs[i].s.rq_size);
		print_hist(out, "request_latency_us", dev, &r->devs[i].s.rq_latency_us);
	}
}

void output_text(FILE *out, const struct wa_report *r, const struct output_options *o)
{
	enum wa_view view = o->view;

	if (view == WA_BY_AUTO)
		view = r->ncontainers ? WA_BY_CONTAINER : WA_BY_PROCESS;
	print_header(out, r, o);
	if (view == WA_BY_CONTAINER)
		print_containers(out, r, o);
	else if (view == WA_BY_CGROUP)
		print_cgroups(out, r, o);
	if (view != WA_BY_FILE && (o->view == WA_BY_AUTO || view == WA_BY_PROCESS))
		print_processes(out, r, o);
	print_unattributed(out, r);
	if (view == WA_BY_FILE || o->view == WA_BY_AUTO || view == WA_BY_PROCESS)
		print_files(out, r, o);
	print_devices(out, r);
	print_totals(out, r);
	print_histograms(out, r, o);
	output_text_stacks(out, r, o->top, o->stack_top);
	output_text_findings(out, r);
	fflush(out);
}
