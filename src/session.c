// SPDX-License-Identifier: GPL-2.0
/* session.c: starting a trace, waiting with interval reports, and printing the report. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "attribution.h"
#include "grouping.h"
#include "output.h"
#include "names.h"
#include "session.h"
#include "sightings.h"
#include "findings.h"
#include "stack_attribution.h"

volatile sig_atomic_t session_stop_requested;
static volatile sig_atomic_t last_stop_signal;

/* The signal mask from before writeamp blocked its signals; children get it back. */
static sigset_t unblocked_mask;

#define FOREVER_S      1e9
#define LEARN_PERIOD_S 0.2 /* a container that lives longer than this gets its name */
#define STACK_DRAIN_NS 50000000L

static void on_stop_signal(int sig)
{
	session_stop_requested = 1;
	last_stop_signal = sig;
}

static void on_child_signal(int sig)
{
	/* Only there to interrupt the wait; waitpid() finds out what happened. */
}

int session_handle_signals(void)
{
	struct sigaction stop = {.sa_handler = on_stop_signal},
			 child = {.sa_handler = on_child_signal};
	sigset_t blocked;

	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGCHLD);
	/* Signals arrive only inside ppoll(), so none falls between a check and the wait. */
	if (sigprocmask(SIG_BLOCK, &blocked, &unblocked_mask) || sigaction(SIGINT, &stop, NULL) ||
	    sigaction(SIGTERM, &stop, NULL) || sigaction(SIGCHLD, &child, NULL)) {
		fprintf(stderr, "writeamp: cannot install signal handlers: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int session_last_signal(void)
{
	return last_stop_signal;
}

const sigset_t *session_child_sigmask(void)
{
	return &unblocked_mask;
}

static int check_pids_exist(const struct wa_options *o)
{
	for (int i = 0; i < o->npids; i++) {
		if (kill(o->pids[i], 0) == 0 || errno == EPERM)
			continue;
		fprintf(stderr, "writeamp: %s: no process with pid %d\n",
			o->command == WA_CMD_RUN ? "run" : "report", o->pids[i]);
		return -1;
	}
	return 0;
}

static void print_hooks(const struct tracer *t)
{
	fprintf(stderr,
		"writeamp: kernel: BTF yes, bpf_rdonly_cast %s, kprobes %s, tracefs %s "
		"(writeamp uses BTF tracepoints only)\n",
		t->features.rdonly_cast ? "yes" : "no", t->features.kprobes ? "yes" : "no",
		t->features.tracefs ? "mounted" : "not mounted");
	for (int i = 0; i < t->nhooks; i++)
		fprintf(stderr, "writeamp: attached tp_btf/%-22s %-22s %s\n",
			t->hooks[i].tracepoint, t->hooks[i].program, t->hooks[i].purpose);
	if (!t->journal)
		fprintf(stderr,
			"writeamp: jbd2 tracepoints absent: journal commits not followed\n");
}

_Static_assert(WA_MAX_GROUP_FILTERS == WA_MAX_CGROUP_FILTERS, "one cgroup slot per filter");

static void release_cgroups(struct session *s)
{
	while (s->ncgroup_fds > 0)
		close(s->cgroup_fds[--s->ncgroup_fds]);
	s->ncgroup_fds = 0;
	cgroups_free(s->cgroups);
	s->cgroups = NULL;
}

/* The user-space half of --stacks: memory maps, symbols and the sample stream. */
static int start_stacks(struct session *s)
{
	s->procmaps = procmaps_new();
	s->symbols = symbols_new();
	if (s->procmaps)
		s->collector = collector_new(s->tracer.maps.stack_records, s->procmaps);
	if (!s->procmaps || !s->symbols || !s->collector) {
		fprintf(stderr, "writeamp: cannot set up --stacks: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void stop_stacks(struct session *s)
{
	collector_free(s->collector);
	symbols_free(s->symbols);
	procmaps_free(s->procmaps);
	s->collector = NULL;
	s->symbols = NULL;
	s->procmaps = NULL;
}

static int build_stacks(struct session *s, const struct wa_snapshot *snap, struct wa_report *r)
{
	const struct wa_options *o = s->opts;
	struct stack_sources src = {
		.collector = s->collector,
		.maps = s->procmaps,
		.symbols = s->symbols,
		.unwind = o->unwind,
		.sample_period = o->unwind == WA_UNWIND_DWARF ? o->stack_sample_period : 0,
		.copy_bytes = o->unwind == WA_UNWIND_DWARF ? o->stack_copy_bytes : 0,
	};

	collector_drain(s->collector);
	return stack_attribution_build(r, snap, &src);
}

/* Opened before tracing starts, so that a bad path is an error before anything is traced. */
static int open_output(struct session *s)
{
	s->out = stdout;
	if (!s->opts->output_path)
		return 0;
	s->out = fopen(s->opts->output_path, "we");
	if (s->out)
		return 0;
	fprintf(stderr, "writeamp: -o %s: %s\n", s->opts->output_path, strerror(errno));
	s->out = stdout;
	return -1;
}

static void close_output(struct session *s)
{
	if (s->out && s->out != stdout && fclose(s->out))
		fprintf(stderr, "writeamp: -o %s: %s\n", s->opts->output_path, strerror(errno));
	s->out = NULL;
}

int session_start(struct session *s, const struct wa_options *opts, bool follow_forks)
{
	struct tracer_config cfg = {
		.pids = opts->pids,
		.npids = opts->npids,
		.select_none = follow_forks,
		.follow_forks = follow_forks,
		.comm = opts->comm,
		.probe_reads = opts->probe_reads,
		.verbose = opts->verbose,
		.max_procs = opts->max_procs,
		.max_files = opts->max_files,
		.unwind = opts->stacks ? opts->unwind : WA_UNWIND_OFF,
		.stack_sample_period = opts->stack_sample_period,
		.stack_copy_bytes = opts->stack_copy_bytes,
		.max_stacks = opts->max_stacks,
	};
	char why[512];

	memset(s, 0, sizeof(*s));
	s->opts = opts;
	if (!features_check_privileges(why, sizeof(why))) {
		fprintf(stderr, "writeamp: %s\n", why);
		return -1;
	}
	if (check_pids_exist(opts) || open_output(s))
		return -1;
	if (opts->dev && device_resolve(opts->dev, &cfg.dev, why, sizeof(why))) {
		fprintf(stderr, "writeamp: %s\n", why);
		return -1;
	}
	s->cgroups = cgroups_new();
	if (!s->cgroups) {
		fprintf(stderr, "writeamp: out of memory\n");
		return -1;
	}
	s->ncgroup_fds = cgroups_open_filters(s->cgroups, opts, s->cgroup_fds, why, sizeof(why));
	if (s->ncgroup_fds < 0) {
		fprintf(stderr, "writeamp: %s\n", why);
		release_cgroups(s);
		return -1;
	}
	cfg.cgroup_fds = s->cgroup_fds;
	cfg.ncgroup_fds = s->ncgroup_fds;
	s->namer = namer_new();
	if (!s->namer) {
		fprintf(stderr, "writeamp: out of memory\n");
		release_cgroups(s);
		return -1;
	}
	if (tracer_start(&s->tracer, &cfg, why, sizeof(why))) {
		fprintf(stderr, "writeamp: %s\n", why);
		namer_free(s->namer);
		s->namer = NULL;
		release_cgroups(s);
		return -1;
	}
	s->sightings = sightings_new(s->tracer.maps.proc_sightings, s->namer);
	if (!s->sightings) {
		fprintf(stderr, "writeamp: cannot read the process ring buffer: %s\n",
			strerror(errno));
		session_stop(s);
		return -1;
	}
	if (opts->stacks && start_stacks(s)) {
		session_stop(s);
		return -1;
	}
	if (opts->verbose)
		print_hooks(&s->tracer);
	s->started_s = monotonic_seconds();
	s->next_learn_s = s->started_s + LEARN_PERIOD_S;
	return 0;
}

static void describe(struct session *s, struct wa_report *r)
{
	const struct wa_options *o = s->opts;

	r->mode = o->command == WA_CMD_RUN ? "run" : "report";
	r->duration_s = monotonic_seconds() - s->started_s;
	r->pids = o->pids;
	r->npids = o->npids;
	r->comm = o->comm;
	r->dev = o->dev;
	r->containers_selected = o->containers;
	r->ncontainers_selected = o->ncontainers;
	r->cgroups_selected = o->cgroups;
	r->ncgroups_selected = o->ncgroups;
	r->hooks = s->tracer.hooks;
	r->nhooks = s->tracer.nhooks;
	r->journal_followed = s->tracer.journal;
	r->command = s->command;
	r->exit_status = s->exit_status;
	r->exit_signal = s->exit_signal;
	r->settle_waited_s = s->settle.waited_s;
	r->settle_pending_bytes = s->settle.pending_bytes;
	r->settle_timed_out = s->settle.timed_out;
}

/* Containers are named while they run: a --rm container takes its cgroup and metadata along. */
static void learn_cgroups(struct session *s)
{
	cgroups_learn(s->cgroups, s->tracer.maps.cgroups_seen);
	s->next_learn_s = monotonic_seconds() + LEARN_PERIOD_S;
}

/* Call paths are in the final report only: they are not differenced between intervals. */
static int build(struct session *s, const struct wa_snapshot *snap, struct wa_report *r,
		 bool with_stacks)
{
	memset(r, 0, sizeof(*r));
	learn_cgroups(s);
	sightings_drain(s->sightings);
	if (attribution_build(r, snap, s->namer, s->cgroups) ||
	    (with_stacks && s->collector && build_stacks(s, snap, r))) {
		fprintf(stderr, "writeamp: out of memory while building the report\n");
		attribution_free(r);
		return -1;
	}
	describe(s, r);
	return 0;
}

static void print(struct session *s, const struct wa_report *r, const char *title)
{
	struct output_options o = {
		.top = s->opts->json ? 0 : s->opts->top,
		.hist_top = s->opts->hist_top,
		.title = title,
		.view = s->opts->view,
		.stack_top = s->opts->stack_top,
	};

	if (s->opts->json)
		output_json(s->out, r, &o);
	else
		output_text(s->out, r, &o);
}

static int take_snapshot(struct session *s, struct wa_snapshot *snap)
{
	int err = snapshot_take(&s->tracer.maps, snap);

	if (err)
		fprintf(stderr, "writeamp: cannot read the kernel tables: %s\n", strerror(-err));
	return err;
}

/* An interval report is the cumulative report less the previous one. */
static void print_interval(struct session *s)
{
	struct wa_report cumulative, delta;
	struct wa_snapshot snap;
	char title[64];

	if (take_snapshot(s, &snap))
		return;
	if (build(s, &snap, &cumulative, false) || build(s, &snap, &delta, false)) {
		snapshot_free(&snap);
		return;
	}
	snapshot_free(&snap);
	s->intervals++;
	if (s->have_last) {
		report_subtract(&delta, &s->last);
		delta.duration_s = s->opts->interval_s;
	}
	delta.interval = true;
	report_sort(&delta);
	if (report_group(&delta) || findings_build(&delta))
		fprintf(stderr, "writeamp: out of memory: the interval report is incomplete\n");
	snprintf(title, sizeof(title), "interval %d", s->intervals);
	print(s, &delta, title);
	attribution_free(&delta);
	if (s->have_last)
		attribution_free(&s->last);
	s->last = cumulative;
	s->have_last = true;
}

double session_next_interval_s(const struct session *s)
{
	if (s->opts->interval_s <= 0)
		return FOREVER_S;
	return s->started_s + (s->intervals + 1) * s->opts->interval_s;
}

/*
 * Sleeps until ts passes or a signal comes. A process's first sighting wakes us at once, to
 * read its names while it lives. --stacks records are read when the kernel wakes us (first
 * sight of a process, or a filling ring) and at least every STACK_DRAIN_NS, since samples do
 * not wake us one by one.
 */
static int wait_for_records(struct session *s, const struct timespec *ts)
{
	struct pollfd pfd[2] = {{.fd = sightings_fd(s->sightings), .events = POLLIN}};
	const struct timespec drain = {.tv_nsec = STACK_DRAIN_NS}, *wait = ts;
	nfds_t nfds = 1;
	int n;

	if (s->collector) {
		pfd[nfds++] = (struct pollfd){.fd = collector_fd(s->collector), .events = POLLIN};
		if (ts->tv_sec > 0 || ts->tv_nsec > drain.tv_nsec)
			wait = &drain;
	}
	n = ppoll(pfd, nfds, wait, &unblocked_mask);
	if (n < 0)
		return n;
	sightings_drain(s->sightings);
	if (s->collector)
		collector_drain(s->collector);
	return n;
}

void session_wait(struct session *s, double until_s)
{
	for (;;) {
		double now = monotonic_seconds(), next = session_next_interval_s(s);
		double wake = fmin(fmin(until_s, next), s->next_learn_s), left = wake - now;
		struct timespec ts;

		if (session_stop_requested || now >= until_s)
			return;
		if (now >= s->next_learn_s) {
			learn_cgroups(s);
			continue;
		}
		if (now >= next) {
			print_interval(s);
			continue;
		}
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (wait_for_records(s, &ts) < 0 && errno == EINTR)
			return; /* a signal: the caller decides whether to go on */
	}
}

static int write_stack_file(const char *path, const struct wa_report *r, enum wa_weight w,
			    int (*format)(FILE *, const struct wa_report *, enum wa_weight))
{
	FILE *f = fopen(path, "we");
	int rc;

	if (!f) {
		fprintf(stderr, "writeamp: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = format(f, r, w);
	if (fclose(f) || rc) {
		fprintf(stderr, "writeamp: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* --folded and --svg; both are written even if one fails. */
static int write_stack_files(struct session *s, const struct wa_report *r)
{
	const struct wa_options *o = s->opts;
	int rc = 0;

	if (o->folded_path)
		rc |= write_stack_file(o->folded_path, r, o->weight, output_folded);
	if (o->svg_path)
		rc |= write_stack_file(o->svg_path, r, o->weight, output_svg);
	return rc ? -1 : 0;
}

int session_final_report(struct session *s)
{
	int rc;
	struct wa_snapshot snap;
	struct wa_report r;

	if (take_snapshot(s, &snap))
		return -1;
	/* A library loaded with dlopen after the first write is in the final report. */
	namer_refresh(s->namer);
	if (build(s, &snap, &r, true)) {
		snapshot_free(&snap);
		return -1;
	}
	snapshot_free(&snap);
	report_sort(&r);
	if (report_group(&r) || findings_build(&r)) {
		fprintf(stderr, "writeamp: out of memory while building the report\n");
		attribution_free(&r);
		return -1;
	}
	print(s, &r, NULL);
	rc = write_stack_files(s, &r);
	attribution_free(&r);
	return rc;
}

void session_stop(struct session *s)
{
	if (s->have_last)
		attribution_free(&s->last);
	stop_stacks(s);
	sightings_free(s->sightings);
	s->sightings = NULL;
	tracer_stop(&s->tracer);
	namer_free(s->namer);
	s->namer = NULL;
	release_cgroups(s);
	close_output(s);
}
