/* SPDX-License-Identifier: GPL-2.0 */
/* session.h: one trace from start to report, shared by `report` and `run`. */
#ifndef WRITEAMP_SESSION_H
#define WRITEAMP_SESSION_H

#include <signal.h>
#include <stdbool.h>

#include <stdio.h>

#include "cgroups.h"
#include "cli.h"
#include "model.h"
#include "names.h"
#include "snapshot.h"
#include "stack_collect.h"
#include "symbolize.h"
#include "tracer.h"
#include "writeback.h"

/* Set by SIGINT and SIGTERM; the loops check it after every wait. */
extern volatile sig_atomic_t session_stop_requested;

struct session {
	const struct wa_options *opts;
	FILE *out; /* the reports: stdout, or -o FILE */
	struct tracer tracer;
	struct wa_namer *namer;
	struct wa_sightings *sightings; /* names processes at their first storage write */
	struct wa_cgroups *cgroups;
	/* --stacks */
	struct wa_procmaps *procmaps;
	struct wa_symbols *symbols;
	struct wa_stack_collector *collector;
	int cgroup_fds[WA_MAX_CGROUP_FILTERS]; /* the --container and --cgroup directories */
	int ncgroup_fds;
	double started_s;
	double next_learn_s; /* when the cgroups seen are next named */
	int intervals;
	struct wa_report last; /* the cumulative report of the last interval, for the next delta */
	bool have_last;
	/* filled in by `run` */
	char **command;
	int exit_status;
	int exit_signal;
	struct settle_result settle;
};

/*
 * Checks the options against the host (privileges, pids, --dev), then loads and attaches.
 * `run` passes follow_forks: the selection starts empty and grows with the command's forks.
 * Returns 0, or -1 after printing one line to stderr.
 */
int session_start(struct session *s, const struct wa_options *opts, bool follow_forks);

/*
 * Installs the SIGINT, SIGTERM and SIGCHLD handlers and blocks those signals outside the
 * waits. Returns 0 or -1 (printed).
 */
int session_handle_signals(void);

/* The signal that asked writeamp to stop (SIGINT or SIGTERM), 0 if none. */
int session_last_signal(void);

/* The signal mask a child must be given back before it execs. */
const sigset_t *session_child_sigmask(void);

/*
 * Waits until `until_s` (monotonic), a signal, or the next interval report is due; prints
 * interval reports as they fall due. Returns early on a signal.
 */
void session_wait(struct session *s, double until_s);

/* Seconds until the next interval report, or a large number without -i. */
double session_next_interval_s(const struct session *s);

/* Prints the final report. Returns 0, or -1 after printing one line to stderr. */
int session_final_report(struct session *s);

void session_stop(struct session *s);

#endif /* WRITEAMP_SESSION_H */
