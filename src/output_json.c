// SPDX-License-Identifier: GPL-2.0
/* output_json.c: the report as one JSON document; the schema is documented in README.md. */
#include <math.h>

#include "analysis.h"
#include "cgroups.h"
#include "cli.h"
#include "hist.h"
#include "json_writer.h"
#include "output.h"
#include "tracer.h"

static void json_ratio(struct json_writer *jw, const char *key, double v)
{
	if (isnan(v))
		jw_kv_null(jw, key);
	else
		jw_kv_double(jw, key, v);
}

/* Non-empty slots as {"min": lo, "max": hi, "count": n}; the open last slot has max null. */
static void json_hist(struct json_writer *jw, const char *key, const struct wa_hist *h)
{
	jw_key(jw, key);
	jw_start_array(jw);
	for (unsigned int i = 0; i < WA_HIST_SLOTS; i++) {
		if (!h->slot[i])
			continue;
		jw_start_object(jw);
		jw_kv_u64(jw, "min", hist_slot_min(i));
		if (i == HIST_OPEN_SLOT)
			jw_kv_null(jw, "max");
		else
			jw_kv_u64(jw, "max", i ? hist_slot_min(i + 1) : 1);
		jw_kv_u64(jw, "count", h->slot[i]);
		jw_end_object(jw);
	}
	jw_end_array(jw);
}

/* The parts of a charge; the caller writes "write_bytes", which differs for files. */
static void json_charge_parts(struct json_writer *jw, const struct wa_device_charge *c)
{
	jw_kv_u64(jw, "data_bytes", c->bytes[WA_CHARGE_DATA]);
	jw_kv_u64(jw, "journal_bytes", c->bytes[WA_CHARGE_JOURNAL]);
	jw_kv_u64(jw, "metadata_bytes", c->bytes[WA_CHARGE_METADATA]);
	jw_kv_u64(jw, "flush_requests", c->flushes);
	jw_kv_u64(jw, "fua_requests", c->fua);
	jw_kv_u64(jw, "forced_bytes", c->forced_bytes);
	jw_kv_u64(jw, "direct_bytes", c->direct_bytes);
}

static void json_writes(struct json_writer *jw, const struct wa_figures *f)
{
	jw_key(jw, "write");
	jw_start_object(jw);
	jw_kv_u64(jw, "calls", f->write_calls);
	jw_kv_u64(jw, "bytes", f->write_bytes);
	jw_kv_u64(jw, "requested_bytes", f->write_requested);
	jw_kv_u64(jw, "errors", f->write_errors);
	jw_kv_u64(jw, "small_calls", f->small_calls);
	jw_kv_u64(jw, "subpage_calls", f->subpage_calls);
	json_ratio(jw, "avg_bytes", figures_avg_write(f));
	json_hist(jw, "size_hist", &f->write_size);
	jw_end_object(jw);

	jw_key(jw, "nonstorage");
	jw_start_object(jw);
	jw_kv_u64(jw, "calls", figures_nonstorage_calls(f));
	jw_kv_u64(jw, "bytes", figures_nonstorage_bytes(f));
	jw_kv_u64(jw, "errors", f->ns_errors);
	jw_key(jw, "by_class");
	jw_start_object(jw);
	for (int c = 0; c < WA_FD__COUNT; c++) {
		if (fd_class_is_storage(c))
			continue;
		jw_key(jw, fd_class_id(c));
		jw_start_object(jw);
		jw_kv_u64(jw, "calls", f->ns_calls[c]);
		jw_kv_u64(jw, "bytes", f->ns_bytes[c]);
		jw_end_object(jw);
	}
	jw_end_object(jw);
	jw_end_object(jw);
}

static void json_syncs(struct json_writer *jw, const struct wa_figures *f)
{
	jw_key(jw, "sync");
	jw_start_object(jw);
	for (int k = 0; k < WA_SYNC__COUNT; k++)
		jw_kv_u64(jw, sync_kind_id(k), f->sync_calls[k]);
	jw_kv_u64(jw, "calls", figures_sync_calls(f));
	jw_kv_u64(jw, "errors", f->sync_errors);
	jw_kv_u64(jw, "commits_forced", f->commits_forced);
	json_hist(jw, "latency_us_hist", &f->sync_latency_us);
	jw_end_object(jw);

	jw_key(jw, "opens");
	jw_start_object(jw);
	jw_kv_u64(jw, "sync", f->opens_sync);
	jw_kv_u64(jw, "dsync", f->opens_dsync);
	jw_kv_u64(jw, "direct", f->opens_direct);
	jw_end_object(jw);
}

/* The members every process and the totals have. */
static void json_figures(struct json_writer *jw, const struct wa_figures *f)
{
	json_writes(jw, f);
	json_syncs(jw, f);
	jw_kv_u64(jw, "dirtied_pages", f->dirtied_pages);
	jw_kv_u64(jw, "dirtied_bytes", f->dirtied_bytes);
	jw_kv_u64(jw, "metadata_dirtied_bytes", f->meta_dirtied_bytes);
	jw_key(jw, "device");
	jw_start_object(jw);
	jw_kv_u64(jw, "write_bytes", figures_device_bytes(f));
	json_charge_parts(jw, &f->dev);
	jw_end_object(jw);
	json_ratio(jw, "amplification", figures_amplification(f));
	json_ratio(jw, "page_amplification", figures_page_amplification(f));
	json_ratio(jw, "syncs_per_write", figures_syncs_per_write(f));
}

static size_t limit(size_t n, int top)
{
	return top > 0 && (size_t)top < n ? (size_t)top : n;
}

static void json_pod(struct json_writer *jw, const struct wa_cgroup_info *cg)
{
	jw_key(jw, "pod");
	if (!cg->ident.pod_uid[0]) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	jw_kv_string(jw, "uid", cg->ident.pod_uid);
	jw_kv_string_or_null(jw, "name", cg->meta.pod_name);
	jw_kv_string_or_null(jw, "namespace", cg->meta.pod_namespace);
	jw_kv_string_or_null(jw, "qos", qos_name(cg->ident.qos));
	jw_end_object(jw);
}

/* The members that name a container, wherever one is mentioned. */
static void json_container_names(struct json_writer *jw, const struct wa_cgroup_info *cg)
{
	jw_kv_string(jw, "id", cg->ident.id);
	jw_kv_string_or_null(jw, "name", cg->meta.name);
	jw_kv_string_or_null(jw, "runtime", runtime_name(cg->meta.runtime));
	jw_kv_string_or_null(jw, "image", cg->meta.image);
	json_pod(jw, cg);
}

static void json_process_cgroup(struct json_writer *jw, const struct wa_proc_row *p)
{
	jw_key(jw, "container");
	if (p->cgroup && p->cgroup->in_container) {
		jw_start_object(jw);
		json_container_names(jw, p->cgroup);
		jw_end_object(jw);
	} else {
		jw_null(jw);
	}
	jw_key(jw, "cgroup");
	if (!p->cgroup) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	jw_kv_u64(jw, "id", p->cgroup_id);
	jw_kv_string(jw, "path", p->cgroup->path);
	jw_kv_string_or_null(jw, "unit", p->cgroup->in_container ? NULL : p->cgroup->ident.unit);
	jw_end_object(jw);
}

static void json_pids(struct json_writer *jw, const struct wa_group_row *g)
{
	jw_key(jw, "pids");
	jw_start_array(jw);
	for (size_t i = 0; i < g->npids; i++)
		jw_u64(jw, g->pids[i]);
	jw_end_array(jw);
	jw_kv_u64(jw, "processes", g->npids);
}

static void json_containers(struct json_writer *jw, const struct wa_report *r)
{
	jw_key(jw, "containers");
	jw_start_array(jw);
	for (size_t i = 0; i < r->ncontainers; i++) {
		const struct wa_group_row *g = &r->containers[i];

		jw_start_object(jw);
		json_container_names(jw, g->cgroup);
		jw_kv_string(jw, "cgroup_path", g->cgroup->path);
		json_pids(jw, g);
		json_figures(jw, &g->f);
		jw_end_object(jw);
	}
	jw_end_array(jw);
}

static void json_cgroups(struct json_writer *jw, const struct wa_report *r)
{
	jw_key(jw, "cgroups");
	jw_start_array(jw);
	for (size_t i = 0; i < r->ncgroups; i++) {
		const struct wa_group_row *g = &r->cgroups[i];
		const struct wa_cgroup_info *cg = g->cgroup;

		jw_start_object(jw);
		jw_kv_u64(jw, "id", cg->id);
		jw_kv_string(jw, "path", cg->path);
		jw_kv_string_or_null(jw, "unit", cg->in_container ? NULL : cg->ident.unit);
		jw_kv_string_or_null(jw, "container_id", cg->in_container ? cg->ident.id : NULL);
		json_pids(jw, g);
		json_figures(jw, &g->f);
		jw_end_object(jw);
	}
	jw_end_array(jw);
}

static void json_stack_weights(struct json_writer *jw, const struct wa_stack_weights *w)
{
	jw_kv_u64(jw, "calls", w->calls);
	jw_kv_u64(jw, "app_bytes", w->app_bytes);
	jw_kv_u64(jw, "syncs", w->syncs);
	jw_key(jw, "device");
	jw_start_object(jw);
	jw_kv_u64(jw, "write_bytes", stack_device_bytes(w));
	jw_kv_u64(jw, "data_bytes", w->bytes[WA_CHARGE_DATA]);
	jw_kv_u64(jw, "journal_bytes", w->bytes[WA_CHARGE_JOURNAL]);
	jw_kv_u64(jw, "metadata_bytes", w->bytes[WA_CHARGE_METADATA]);
	jw_kv_u64(jw, "flush_requests", w->flushes);
	jw_end_object(jw);
}

/* Every path of the process; frames from the outermost user frame to the kernel leaf. */
static void json_process_stacks(struct json_writer *jw, const struct wa_report *r, __u32 pid)
{
	size_t n;
	const struct wa_stack_row *rows = report_stacks_of(r, pid, &n);

	if (!r->stack_info.enabled)
		return;
	jw_key(jw, "stacks");
	jw_start_array(jw);
	for (size_t i = 0; i < n; i++) {
		jw_start_object(jw);
		jw_key(jw, "frames");
		jw_start_array(jw);
		for (size_t f = 0; f < rows[i].nframes; f++) {
			jw_start_object(jw);
			jw_kv_string(jw, "name", rows[i].frames[f].name);
			jw_kv_bool(jw, "kernel", rows[i].frames[f].kernel);
			jw_kv_bool(jw, "symbolized", rows[i].frames[f].known);
			jw_end_object(jw);
		}
		jw_end_array(jw);
		json_stack_weights(jw, &rows[i].w);
		jw_kv_u64(jw, "samples", rows[i].samples);
		jw_kv_bool(jw, "estimated", rows[i].estimated);
		jw_end_object(jw);
	}
	jw_end_array(jw);
}

static void json_stack_summary(struct json_writer *jw, const struct wa_report *r)
{
	const struct wa_stack_info *si = &r->stack_info;

	if (!si->enabled) {
		jw_kv_null(jw, "stack_summary");
		return;
	}
	jw_key(jw, "stack_summary");
	jw_start_object(jw);
	jw_kv_string(jw, "unwind", si->unwind == WA_UNWIND_FP ? "fp" : "dwarf");
	jw_kv_u64(jw, "sample_period", si->sample_period);
	jw_kv_u64(jw, "copy_bytes", si->copy_bytes);
	jw_kv_u64(jw, "samples", si->samples);
	jw_kv_u64(jw, "samples_truncated", si->samples_truncated);
	jw_kv_u64(jw, "samples_dropped", si->samples_dropped);
	jw_kv_u64(jw, "paths", r->nstacks);
	jw_kv_u64(jw, "paths_unsampled", si->paths_unsampled);
	jw_kv_u64(jw, "frames", si->frames);
	jw_kv_u64(jw, "frames_unsymbolized", si->frames_unsymbolized);
	jw_kv_u64(jw, "processes_unmapped", si->processes_unmapped);
	jw_end_object(jw);
}

static void json_processes(struct json_writer *jw, const struct wa_report *r,
			   const struct output_options *o, size_t *omitted)
{
	size_t printed = 0, active = 0;

	jw_key(jw, "processes");
	jw_start_array(jw);
	for (size_t i = 0; i < r->nprocs; i++) {
		const struct wa_proc_row *p = &r->procs[i];

		if (!figures_any(&p->f))
			continue;
		active++;
		if (o->top > 0 && printed >= (size_t)o->top)
			continue;
		printed++;
		jw_start_object(jw);
		if (p->overflow)
			jw_kv_null(jw, "pid");
		else
			jw_kv_u64(jw, "pid", p->pid);
		jw_kv_u64(jw, "ppid", p->ppid);
		jw_kv_string(jw, "comm", p->comm);
		jw_kv_string(jw, "cmdline", p->cmdline);
		jw_kv_bool(jw, "exited", p->exited);
		jw_kv_bool(jw, "overflow", p->overflow);
		json_process_cgroup(jw, p);
		json_figures(jw, &p->f);
		json_process_stacks(jw, r, p->pid);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	*omitted = active - printed;
}

static void json_unattributed(struct json_writer *jw, const struct wa_report *r)
{
	jw_key(jw, "unattributed");
	jw_start_array(jw);
	for (size_t i = 0; i < r->nunattributed; i++) {
		const struct wa_unattributed_row *u = &r->unattributed[i];

		jw_start_object(jw);
		jw_kv_string(jw, "device", u->device);
		jw_kv_string(jw, "reason", unattributed_id(u->reason));
		jw_kv_string(jw, "description", unattributed_text(u->reason));
		jw_kv_u64(jw, "write_bytes", u->bytes);
		jw_kv_u64(jw, "flush_requests", u->flushes);
		jw_end_object(jw);
	}
	jw_end_array(jw);
}

static void json_files(struct json_writer *jw, const struct wa_report *r,
		       const struct output_options *o)
{
	jw_key(jw, "files");
	jw_start_array(jw);
	for (size_t i = 0; i < limit(r->nfiles, o->top); i++) {
		const struct wa_file_row *f = &r->files[i];

		jw_start_object(jw);
		jw_kv_string(jw, "path", f->path);
		jw_kv_string(jw, "device_name", f->device);
		jw_kv_u64(jw, "inode", f->key.ino);
		jw_kv_bool(jw, "block_device", f->is_bdev);
		if (f->writer_pid)
			jw_kv_u64(jw, "pid", f->writer_pid);
		else
			jw_kv_null(jw, "pid");
		jw_kv_string(jw, "comm", f->writer_pid ? f->writer_comm : NULL);
		jw_kv_bool(jw, "shared", f->shared);
		if (f->forcer_pid)
			jw_kv_u64(jw, "forcer_pid", f->forcer_pid);
		else
			jw_kv_null(jw, "forcer_pid");
		jw_key(jw, "write");
		jw_start_object(jw);
		jw_kv_u64(jw, "calls", f->write_calls);
		jw_kv_u64(jw, "bytes", f->write_bytes);
		jw_end_object(jw);
		jw_kv_u64(jw, "dirtied_bytes", f->dirtied_bytes);
		jw_kv_u64(jw, "sync_calls", f->sync_calls);
		jw_key(jw, "device");
		jw_start_object(jw);
		jw_kv_u64(jw, "write_bytes", file_device_bytes(f));
		json_charge_parts(jw, &f->charged);
		jw_kv_u64(jw, "charged_bytes", charge_bytes(&f->charged));
		jw_kv_u64(jw, "unattributed_bytes", f->unattributed_bytes);
		jw_end_object(jw);
		json_ratio(jw, "amplification",
			   amplification(file_device_bytes(f), f->write_bytes));
		jw_end_object(jw);
	}
	jw_end_array(jw);
}

static void json_device(struct json_writer *jw, const struct wa_dev_row *d)
{
	const struct wa_dev_stats *s = &d->s;
	__u64 unattributed = 0;

	for (int k = 0; k < WA_UNATTR__COUNT; k++)
		unattributed += s->unattributed_bytes[k];
	jw_start_object(jw);
	jw_kv_string(jw, "name", d->name);
	jw_kv_u64(jw, "major", WA_DEV_MAJOR(d->dev));
	jw_kv_u64(jw, "minor", WA_DEV_MINOR(d->dev));
	jw_kv_u64(jw, "write_bytes", s->write_bytes);
	jw_kv_u64(jw, "write_bios", s->write_bios);
	jw_kv_u64(jw, "flush_requests", s->flush_bios);
	jw_kv_u64(jw, "fua_requests", s->fua_bios);
	jw_kv_u64(jw, "meta_bios", s->meta_bios);
	jw_kv_u64(jw, "sync_bios", s->sync_bios);
	jw_kv_u64(jw, "discard_bytes", s->discard_bytes);
	jw_kv_u64(jw, "write_zeroes_bytes", s->zeroes_bytes);
	jw_key(jw, "charged");
	jw_start_object(jw);
	jw_kv_u64(jw, "data_bytes", s->charged_bytes[WA_CHARGE_DATA]);
	jw_kv_u64(jw, "journal_bytes", s->charged_bytes[WA_CHARGE_JOURNAL]);
	jw_kv_u64(jw, "metadata_bytes", s->charged_bytes[WA_CHARGE_METADATA]);
	jw_kv_u64(jw, "flush_requests", s->charged_flushes);
	jw_end_object(jw);
	jw_kv_u64(jw, "unattributed_bytes", unattributed);
	jw_kv_u64(jw, "ignored_bytes", s->ignored_bytes);
	jw_key(jw, "requests");
	jw_start_object(jw);
	jw_kv_u64(jw, "writes", s->rq_writes);
	jw_kv_u64(jw, "write_bytes", s->rq_write_bytes);
	jw_kv_u64(jw, "flushes", s->rq_flushes);
	json_hist(jw, "size_hist", &s->rq_size);
	json_hist(jw, "latency_us_hist", &s->rq_latency_us);
	jw_end_object(jw);
	jw_end_object(jw);
}

static void json_totals(struct json_writer *jw, const struct wa_report *r)
{
	jw_key(jw, "totals");
	jw_start_object(jw);
	json_figures(jw, &r->totals);
	jw_kv_u64(jw, "unattributed_bytes", r->unattributed_bytes);
	jw_kv_u64(jw, "unattributed_flush_requests", r->unattributed_flushes);
	jw_kv_u64(jw, "ignored_bytes", r->ignored_bytes);
	jw_kv_u64(jw, "device_write_bytes", r->device_write_bytes);
	jw_end_object(jw);
}

static void json_loss(struct json_writer *jw, const struct wa_report *r)
{
	__u64 total = 0;

	for (int i = 0; i < WA_LOSS__COUNT; i++)
		total += r->losses[i];
	jw_key(jw, "loss");
	jw_start_object(jw);
	jw_kv_u64(jw, "events", total);
	for (int i = 0; i < WA_LOSS__COUNT; i++)
		jw_kv_u64(jw, loss_id(i), r->losses[i]);
	jw_kv_u64(jw, "journal_in_flight_bytes", r->journal_in_flight_bytes);
	jw_end_object(jw);
}

static void json_strings(struct json_writer *jw, const char *key, const char *const *v, int n)
{
	jw_key(jw, key);
	jw_start_array(jw);
	for (int i = 0; i < n; i++)
		jw_string(jw, v[i]);
	jw_end_array(jw);
}

static void json_selection(struct json_writer *jw, const struct wa_report *r)
{
	jw_key(jw, "selection");
	jw_start_object(jw);
	jw_key(jw, "pids");
	jw_start_array(jw);
	for (int i = 0; i < r->npids; i++)
		jw_u64(jw, r->pids[i]);
	jw_end_array(jw);
	jw_kv_string(jw, "comm", r->comm);
	jw_kv_string(jw, "device", r->dev);
	json_strings(jw, "containers", r->containers_selected, r->ncontainers_selected);
	json_strings(jw, "cgroups", r->cgroups_selected, r->ncgroups_selected);
	jw_end_object(jw);
}

static void json_run(struct json_writer *jw, const struct wa_report *r)
{
	if (!r->command) {
		jw_kv_null(jw, "run");
		return;
	}
	jw_key(jw, "run");
	jw_start_object(jw);
	jw_key(jw, "command");
	jw_start_array(jw);
	for (int i = 0; r->command[i]; i++)
		jw_string(jw, r->command[i]);
	jw_end_array(jw);
	if (r->exit_signal) {
		jw_kv_null(jw, "exit_status");
		jw_kv_i64(jw, "signal", r->exit_signal);
	} else {
		jw_kv_i64(jw, "exit_status", r->exit_status);
		jw_kv_null(jw, "signal");
	}
	jw_key(jw, "settle");
	jw_start_object(jw);
	jw_kv_double(jw, "waited_s", r->settle_waited_s);
	jw_kv_bool(jw, "timed_out", r->settle_timed_out);
	jw_kv_u64(jw, "pending_bytes", r->settle_pending_bytes);
	jw_end_object(jw);
	jw_end_object(jw);
}

static void json_hooks(struct json_writer *jw, const struct wa_report *r)
{
	jw_key(jw, "hooks");
	jw_start_array(jw);
	for (int i = 0; i < r->nhooks; i++) {
		jw_start_object(jw);
		jw_kv_string(jw, "tracepoint", r->hooks[i].tracepoint);
		jw_kv_string(jw, "program", r->hooks[i].program);
		jw_kv_string(jw, "purpose", r->hooks[i].purpose);
		jw_end_object(jw);
	}
	jw_end_array(jw);
	jw_kv_bool(jw, "journal_followed", r->journal_followed);
}

void output_json(FILE *out, const struct wa_report *r, const struct output_options *o)
{
	struct json_writer *jw = jw_new(out, false);
	size_t omitted = 0;

	jw_start_object(jw);
	jw_kv_u64(jw, "version", WA_SCHEMA_VERSION);
	jw_kv_string(jw, "tool", "writeamp " WA_VERSION);
	jw_kv_string(jw, "mode", r->mode);
	jw_kv_bool(jw, "interval", r->interval);
	jw_kv_double(jw, "duration_s", r->duration_s);
	json_selection(jw, r);
	json_run(jw, r);
	json_processes(jw, r, o, &omitted);
	jw_kv_u64(jw, "processes_omitted", omitted);
	json_containers(jw, r);
	json_cgroups(jw, r);
	json_unattributed(jw, r);
	json_files(jw, r, o);
	jw_kv_u64(jw, "files_omitted", r->nfiles - limit(r->nfiles, o->top));
	jw_key(jw, "devices");
	jw_start_array(jw);
	for (size_t i = 0; i < r->ndevs; i++)
		json_device(jw, &r->devs[i]);
	jw_end_array(jw);
	json_totals(jw, r);
	json_stack_summary(jw, r);
	output_json_findings(jw, r);
	json_loss(jw, r);
	json_hooks(jw, r);
	jw_end_object(jw);
	jw_free(jw);
	fflush(out);
}
