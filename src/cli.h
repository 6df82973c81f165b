/* SPDX-License-Identifier: GPL-2.0 */
/* cli.h: the command line of writeamp, parsed into one struct wa_options. */
#ifndef WRITEAMP_CLI_H
#define WRITEAMP_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "writeamp.h"

#define WA_VERSION	     "0.1.0"
#define CLI_EXIT_USAGE	     2 /* the exit status of a usage error */
#define WA_MAX_PID_FILTERS   64
#define WA_DEFAULT_TOP	     10
#define WA_DEFAULT_HIST_TOP  3
#define WA_DEFAULT_SETTLE_S  45.0 /* dirty_expire (30 s) + a writeback period (5 s) + margin */
#define WA_DEFAULT_REPORT_S  0.0  /* until Ctrl-C */
#define WA_DEFAULT_MAX_PROCS 8192
#define WA_DEFAULT_MAX_FILES 32768

/* The text report's main table; WA_BY_AUTO shows containers first when there are any. */
enum wa_view {
	WA_BY_AUTO,
	WA_BY_PROCESS,
	WA_BY_CONTAINER,
	WA_BY_CGROUP,
	WA_BY_FILE,
};

/* What a call path's width stands for in --folded and --svg. */
enum wa_weight {
	WA_WEIGHT_APP_BYTES,
	WA_WEIGHT_DEVICE_BYTES,
	WA_WEIGHT_SYNCS,
	WA_WEIGHT_CALLS,
};

#define WA_DEFAULT_STACK_SAMPLE 8    /* DWARF: one user-stack copy per 8 calls */
#define WA_DEFAULT_STACK_COPY	8192 /* DWARF: bytes of user stack per copy, as perf's default */
#define WA_DEFAULT_MAX_STACKS	16384
#define WA_DEFAULT_STACK_TOP	5

#define WA_MAX_GROUP_FILTERS 16 /* --container and --cgroup together; WA_MAX_CGROUP_FILTERS */

enum wa_command {
	WA_CMD_NONE,
	WA_CMD_REPORT,
	WA_CMD_RUN,
	WA_CMD_COMPARE,	 /* parses its own arguments: sub_argc/sub_argv */
	WA_CMD_PLAYBOOK, /* parses its own arguments: sub_argc/sub_argv */
};

struct wa_options {
	enum wa_command command;
	double duration_s; /* report: 0 means until Ctrl-C */
	double interval_s; /* 0: no interval reports */
	double settle_s;   /* run: longest wait for the command's dirty pages to be written back */
	pid_t pids[WA_MAX_PID_FILTERS];
	int npids;
	const char *comm;			      /* NULL: any */
	const char *dev;			      /* as given: a name or MAJ:MIN; NULL: any */
	const char *containers[WA_MAX_GROUP_FILTERS]; /* --container: id prefixes or names */
	int ncontainers;
	const char *cgroups[WA_MAX_GROUP_FILTERS]; /* --cgroup: cgroup v2 paths */
	int ncgroups;
	enum wa_view view;
	int top;
	int hist_top;
	bool json;
	bool verbose;
	bool probe_reads; /* use the probe-read hooks even where typed reads work (for tests) */
	unsigned int max_procs;
	unsigned int max_files;
	/* --stacks */
	bool stacks;
	unsigned int unwind; /* enum wa_unwind */
	unsigned int stack_sample_period;
	unsigned int stack_copy_bytes;
	unsigned int max_stacks;
	int stack_top;		 /* paths per process in the text and JSON reports */
	const char *folded_path; /* --folded FILE */
	const char *svg_path;	 /* --svg FILE */
	const char *output_path; /* -o FILE: the reports go there, not to stdout */
	enum wa_weight weight;
	char **command_argv; /* run: the command and its arguments */
	int sub_argc;	     /* compare, playbook: argv from the command's name on */
	char **sub_argv;
};

/* Outcome of parsing: go on, stop with success (--help, --version), or stop with an error. */
enum wa_parse_result {
	WA_PARSE_OK,
	WA_PARSE_EXIT_OK,
	WA_PARSE_ERROR,
};

/*
 * Parses argv into *opts. On WA_PARSE_ERROR a one-line message naming the problem and how to
 * get help has been written to `err`; help and version text go to `out`. argv is not kept,
 * apart from the run command's own argv, which points into it.
 */
enum wa_parse_result cli_parse(int argc, char **argv, struct wa_options *opts, FILE *out,
			       FILE *err);

/* Parses "MAJ:MIN". Returns false if the text is not of that form. */
bool cli_parse_majmin(const char *text, unsigned int *major, unsigned int *minor);

/*
 * Prints "writeamp: COMMAND: <message> (see writeamp COMMAND --help)" to stderr, as one
 * line, and returns the exit status of a usage error.
 */
int cli_usage_error(const char *command, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The getopt_long cases every subcommand shares, for an optstring that starts with ':' and
 * has 'h': -h prints @usage and returns 0 (1 if stdout fails); ':' (a missing argument) and
 * anything else are usage errors about @arg.
 */
int cli_getopt_end(const char *command, int opt, const char *usage, const char *arg);

#endif /* WRITEAMP_CLI_H */
