// SPDX-License-Identifier: GPL-2.0
/* cli.c: parsing writeamp's command line; no side effects beyond the options struct. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sanitize.h"

#define COMM_MAX_CHARS 15 /* TASK_COMM_LEN less the NUL */
#define TABLE_MAX      (1U << 22)

enum long_only_option {
	OPT_DEV = 256,
	OPT_TOP,
	OPT_HIST,
	OPT_JSON,
	OPT_SETTLE,
	OPT_PROBE_READS,
	OPT_MAX_PROCS,
	OPT_MAX_FILES,
	OPT_VERSION,
	OPT_CONTAINER,
	OPT_CGROUP,
	OPT_BY,
	OPT_STACKS,
	OPT_UNWIND,
	OPT_STACK_SAMPLE,
	OPT_STACK_COPY,
	OPT_MAX_STACKS,
	OPT_STACK_TOP,
	OPT_FOLDED,
	OPT_SVG,
	OPT_WEIGHT,
};

static const char main_usage[] =
	"Usage: writeamp COMMAND [OPTIONS]\n"
	"\n"
	"Find and explain write amplification: from the bytes applications write, through the\n"
	"page cache, to the bytes that reach the devices, per process, file and device.\n"
	"\n"
	"Commands:\n"
	"  report [OPTIONS]               trace the host (or what the filters select)\n"
	"  run [OPTIONS] -- CMD [ARG...]  trace CMD and its descendants; report when it exits\n"
	"  compare BEFORE.json AFTER.json show what a change did: figures side by side, ratios\n"
	"  playbook [TARGET]              print the steps to confirm a diagnosis by hand\n"
	"\n"
	"  -h, --help       this help; `writeamp COMMAND --help` for a command's options\n"
	"      --version    print the version\n";

static const char report_usage[] =
	"Usage: writeamp report [-d SECONDS] [-i SECONDS] [FILTERS] [OUTPUT]\n"
	"\n"
	"Trace application writes and syncs, page-cache dirtying and device I/O, and print the\n"
	"report at the end. Ctrl-C or SIGTERM ends the trace early and prints the report.\n"
	"\n"
	"  -d, --duration SECONDS  trace for SECONDS (default: until Ctrl-C)\n"
	"  -i, --interval SECONDS  also print a report for each interval of SECONDS\n";

static const char run_usage[] =
	"Usage: writeamp run [--settle SECONDS] [FILTERS] [OUTPUT] -- COMMAND [ARG...]\n"
	"\n"
	"Run COMMAND, trace it and every process it forks, and when it exits wait for its dirty\n"
	"pages to be written back, then print the report. Exits with COMMAND's exit status.\n"
	"\n"
	"      --settle SECONDS    wait at most SECONDS for writeback after COMMAND exits\n"
	"                          (default 45: the kernel writes dirty pages back within ~35 s)\n"
	"  -i, --interval SECONDS  also print a report for each interval of SECONDS\n";

static const char common_usage[] =
	"\n"
	"Filters:\n"
	"  -p, --pid PID           only this process (repeatable)\n"
	"  -c, --comm NAME         only processes named NAME\n"
	"      --dev DEVICE        only I/O to DEVICE: a name (vda, loop0, nvme0n1p2) or MAJ:MIN\n"
	"      --container ID|NAME only processes of this running container: a name or an id\n"
	"                          prefix (repeatable; docker, podman, containerd, CRI-O)\n"
	"      --cgroup PATH       only processes under this cgroup v2 path (repeatable), e.g.\n"
	"                          /system.slice/nginx.service\n"
	"Output:\n"
	"      --by VIEW           main table: process, container, cgroup or file (default:\n"
	"                          containers first when any process ran in one, then processes)\n"
	"      --top N             show the top N processes and files (default 10)\n"
	"      --hist N            print histograms for the top N processes (default 3; 0: none)\n"
	"      --json              print the report as one JSON document (schema in README.md)\n"
	"  -o, --output FILE       write the reports to FILE instead of stdout\n"
	"Call paths:\n"
	"      --stacks            also show where the writes and syncs come from: user and\n"
	"                          kernel call paths with their bytes at each layer\n"
	"      --unwind dwarf|fp   user stacks from sampled stack copies unwound with DWARF CFI\n"
	"                          (default; works without frame pointers), or frame pointers\n"
	"                          only (exact, cheapest; for binaries built with them)\n"
	"      --stack-sample N    dwarf: copy the user stack once per N calls (default 8)\n"
	"      --stack-copy BYTES  dwarf: bytes of user stack per copy, 1024 to 16384 (8192)\n"
	"      --stack-top N       call paths per process in the report (default 5)\n"
	"      --folded FILE       write the call paths as folded stacks (FlameGraph, speedscope)\n"
	"      --svg FILE          write a flame graph of the call paths\n"
	"      --weight W          what --folded and --svg measure: app-bytes (default),\n"
	"                          device-bytes, syncs or calls\n"
	"      --max-stacks N      call paths the kernel tables hold (default 16384)\n"
	"  -v, --verbose           list the hooks attached and show libbpf's log\n"
	"      --max-procs N       processes the kernel tables hold (default 8192)\n"
	"      --max-files N       files the kernel tables hold (default 32768)\n"
	"  -h, --help              this help\n";

static const struct option long_options[] = {
	{"duration", required_argument, NULL, 'd'},
	{"interval", required_argument, NULL, 'i'},
	{"pid", required_argument, NULL, 'p'},
	{"comm", required_argument, NULL, 'c'},
	{"dev", required_argument, NULL, OPT_DEV},
	{"container", required_argument, NULL, OPT_CONTAINER},
	{"cgroup", required_argument, NULL, OPT_CGROUP},
	{"by", required_argument, NULL, OPT_BY},
	{"top", required_argument, NULL, OPT_TOP},
	{"hist", required_argument, NULL, OPT_HIST},
	{"json", no_argument, NULL, OPT_JSON},
	{"output", required_argument, NULL, 'o'},
	{"settle", required_argument, NULL, OPT_SETTLE},
	{"probe-reads", no_argument, NULL, OPT_PROBE_READS},
	{"max-procs", required_argument, NULL, OPT_MAX_PROCS},
	{"max-files", required_argument, NULL, OPT_MAX_FILES},
	{"stacks", no_argument, NULL, OPT_STACKS},
	{"unwind", required_argument, NULL, OPT_UNWIND},
	{"stack-sample", required_argument, NULL, OPT_STACK_SAMPLE},
	{"stack-copy", required_argument, NULL, OPT_STACK_COPY},
	{"stack-top", required_argument, NULL, OPT_STACK_TOP},
	{"max-stacks", required_argument, NULL, OPT_MAX_STACKS},
	{"folded", required_argument, NULL, OPT_FOLDED},
	{"svg", required_argument, NULL, OPT_SVG},
	{"weight", required_argument, NULL, OPT_WEIGHT},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{},
};

static const char *command_name(enum wa_command cmd)
{
	return cmd == WA_CMD_RUN ? "run" : "report";
}

static void print_command_usage(FILE *out, enum wa_command cmd)
{
	fputs(cmd == WA_CMD_RUN ? run_usage : report_usage, out);
	fputs(common_usage, out);
}

static bool parse_seconds(const char *text, bool zero_ok, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v) || v < 0 || (!zero_ok && v == 0))
		return false;
	*out = v;
	return true;
}

static bool parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*text == '-' || *text == '+')
		return false;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool cli_parse_majmin(const char *text, unsigned int *major, unsigned int *minor)
{
	const char *colon = strchr(text, ':');
	unsigned long ma, mi;
	char buf[32];
	size_t len;

	if (!colon)
		return false;
	len = (size_t)(colon - text);
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (!parse_uint(buf, 0, UINT_MAX, &ma) || !parse_uint(colon + 1, 0, UINT_MAX, &mi))
		return false;
	*major = ma;
	*minor = mi;
	return true;
}

static void set_defaults(struct wa_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->duration_s = WA_DEFAULT_REPORT_S;
	opts->settle_s = WA_DEFAULT_SETTLE_S;
	opts->top = WA_DEFAULT_TOP;
	opts->hist_top = WA_DEFAULT_HIST_TOP;
	opts->max_procs = WA_DEFAULT_MAX_PROCS;
	opts->max_files = WA_DEFAULT_MAX_FILES;
	opts->unwind = WA_UNWIND_DWARF;
	opts->stack_sample_period = WA_DEFAULT_STACK_SAMPLE;
	opts->stack_copy_bytes = WA_DEFAULT_STACK_COPY;
	opts->max_stacks = WA_DEFAULT_MAX_STACKS;
	opts->stack_top = WA_DEFAULT_STACK_TOP;
}

/* Echoed arguments are cut short and escaped, so that an error stays one readable line. */
#define ECHO_MAX 256

static const char *echo(char (*buf)[ECHO_MAX], const char *arg)
{
	return sanitize_column(*buf, sizeof(*buf), arg);
}

static enum wa_parse_result bad_value(FILE *err, enum wa_command cmd, const char *option,
				      const char *value, const char *want)
{
	char buf[ECHO_MAX];

	fprintf(err, "writeamp: %s: invalid value '%s' for %s (want %s; see writeamp %s --help)\n",
		command_name(cmd), echo(&buf, value), option, want, command_name(cmd));
	return WA_PARSE_ERROR;
}

static bool parse_view(const char *text, enum wa_view *view)
{
	static const char *const names[] = {
		[WA_BY_PROCESS] = "process",
		[WA_BY_CONTAINER] = "container",
		[WA_BY_CGROUP] = "cgroup",
		[WA_BY_FILE] = "file",
	};

	for (size_t i = WA_BY_PROCESS; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(text, names[i])) {
			*view = (enum wa_view)i;
			return true;
		}
	return false;
}

/* The kernel checks each selected cgroup in turn, so their number is bounded. */
static enum wa_parse_result add_group_filter(FILE *err, struct wa_options *opts, bool container,
					     const char *value)
{
	const char *option = container ? "--container" : "--cgroup";

	if (!*value)
		return bad_value(err, opts->command, option, value,
				 container ? "a container name or id prefix" : "a cgroup path");
	if (opts->ncontainers + opts->ncgroups >= WA_MAX_GROUP_FILTERS) {
		fprintf(err, "writeamp: %s: at most %d --container and --cgroup filters together\n",
			command_name(opts->command), WA_MAX_GROUP_FILTERS);
		return WA_PARSE_ERROR;
	}
	if (container)
		opts->containers[opts->ncontainers++] = value;
	else
		opts->cgroups[opts->ncgroups++] = value;
	return WA_PARSE_OK;
}

static bool parse_weight(const char *text, enum wa_weight *w)
{
	static const char *const names[] = {
		[WA_WEIGHT_APP_BYTES] = "app-bytes",
		[WA_WEIGHT_DEVICE_BYTES] = "device-bytes",
		[WA_WEIGHT_SYNCS] = "syncs",
		[WA_WEIGHT_CALLS] = "calls",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(text, names[i])) {
			*w = (enum wa_weight)i;
			return true;
		}
	return false;
}

/* The options of --stacks; any of them turns --stacks on. */
static enum wa_parse_result apply_stack_option(int c, struct wa_options *opts, FILE *err)
{
	enum wa_command cmd = opts->command;
	unsigned long n;

	opts->stacks = true;
	switch (c) {
	case OPT_STACKS:
		return WA_PARSE_OK;
	case OPT_UNWIND:
		if (!strcmp(optarg, "dwarf"))
			opts->unwind = WA_UNWIND_DWARF;
		else if (!strcmp(optarg, "fp"))
			opts->unwind = WA_UNWIND_FP;
		else
			return bad_value(err, cmd, "--unwind", optarg, "dwarf or fp");
		return WA_PARSE_OK;
	case OPT_STACK_SAMPLE:
		if (!parse_uint(optarg, 1, 1000000, &n))
			return bad_value(err, cmd, "--stack-sample", optarg, "1 to 1000000");
		opts->stack_sample_period = n;
		return WA_PARSE_OK;
	case OPT_STACK_COPY:
		if (!parse_uint(optarg, 1024, WA_STACK_COPY_MAX, &n))
			return bad_value(err, cmd, "--stack-copy", optarg, "1024 to 16384 bytes");
		opts->stack_copy_bytes = n;
		return WA_PARSE_OK;
	case OPT_STACK_TOP:
		if (!parse_uint(optarg, 1, INT_MAX, &n))
			return bad_value(err, cmd, "--stack-top", optarg, "a number >= 1");
		opts->stack_top = (int)n;
		return WA_PARSE_OK;
	case OPT_MAX_STACKS:
		if (!parse_uint(optarg, 64, TABLE_MAX, &n))
			return bad_value(err, cmd, "--max-stacks", optarg, "64 to 4194304");
		opts->max_stacks = n;
		return WA_PARSE_OK;
	case OPT_FOLDED:
	case OPT_SVG:
		if (!*optarg)
			return bad_value(err, cmd, c == OPT_SVG ? "--svg" : "--folded", optarg,
					 "a file name");
		*(c == OPT_SVG ? &opts->svg_path : &opts->folded_path) = optarg;
		return WA_PARSE_OK;
	case OPT_WEIGHT:
		if (!parse_weight(optarg, &opts->weight))
			return bad_value(err, cmd, "--weight", optarg,
					 "app-bytes, device-bytes, syncs or calls");
		return WA_PARSE_OK;
	default:
		return WA_PARSE_ERROR;
	}
}

/* Handles one option of a subcommand; `optarg` is getopt's. */
static enum wa_parse_result apply_option(int c, struct wa_options *opts, FILE *out, FILE *err)
{
	enum wa_command cmd = opts->command;
	unsigned long n;

	switch (c) {
	case 'd':
		if (cmd == WA_CMD_RUN) {
			fprintf(err, "writeamp: run: -d is not an option of run: the command's "
				     "exit ends the trace (see writeamp run --help)\n");
			return WA_PARSE_ERROR;
		}
		if (!parse_seconds(optarg, false, &opts->duration_s))
			return bad_value(err, cmd, "--duration", optarg, "seconds > 0");
		return WA_PARSE_OK;
	case 'i':
		if (!parse_seconds(optarg, false, &opts->interval_s))
			return bad_value(err, cmd, "--interval", optarg, "seconds > 0");
		return WA_PARSE_OK;
	case 'p':
		if (!parse_uint(optarg, 1, INT_MAX, &n))
			return bad_value(err, cmd, "--pid", optarg, "a process id");
		if (opts->npids == WA_MAX_PID_FILTERS) {
			fprintf(err, "writeamp: %s: at most %d --pid filters\n", command_name(cmd),
				WA_MAX_PID_FILTERS);
			return WA_PARSE_ERROR;
		}
		opts->pids[opts->npids++] = (pid_t)n;
		return WA_PARSE_OK;
	case 'c':
		if (!*optarg || strlen(optarg) > COMM_MAX_CHARS)
			return bad_value(err, cmd, "--comm", optarg, "a name of 1 to 15 bytes");
		opts->comm = optarg;
		return WA_PARSE_OK;
	case OPT_DEV:
		if (!*optarg)
			return bad_value(err, cmd, "--dev", optarg, "a device name or MAJ:MIN");
		opts->dev = optarg;
		return WA_PARSE_OK;
	case OPT_CONTAINER:
	case OPT_CGROUP:
		return add_group_filter(err, opts, c == OPT_CONTAINER, optarg);
	case OPT_BY:
		if (!parse_view(optarg, &opts->view))
			return bad_value(err, cmd, "--by", optarg,
					 "process, container, cgroup or file");
		return WA_PARSE_OK;
	case OPT_TOP:
		if (!parse_uint(optarg, 1, INT_MAX, &n))
			return bad_value(err, cmd, "--top", optarg, "a number >= 1");
		opts->top = (int)n;
		return WA_PARSE_OK;
	case OPT_HIST:
		if (!parse_uint(optarg, 0, INT_MAX, &n))
			return bad_value(err, cmd, "--hist", optarg, "a number >= 0");
		opts->hist_top = (int)n;
		return WA_PARSE_OK;
	case OPT_JSON:
		opts->json = true;
		return WA_PARSE_OK;
	case 'o':
		opts->output_path = optarg;
		return WA_PARSE_OK;
	case OPT_SETTLE:
		if (cmd != WA_CMD_RUN) {
			fprintf(err, "writeamp: report: --settle is an option of run (see writeamp "
				     "run --help)\n");
			return WA_PARSE_ERROR;
		}
		if (!parse_seconds(optarg, true, &opts->settle_s))
			return bad_value(err, cmd, "--settle", optarg, "seconds >= 0");
		return WA_PARSE_OK;
	case OPT_PROBE_READS:
		opts->probe_reads = true;
		return WA_PARSE_OK;
	case OPT_MAX_PROCS:
		if (!parse_uint(optarg, 16, TABLE_MAX, &n))
			return bad_value(err, cmd, "--max-procs", optarg, "16 to 4194304");
		opts->max_procs = n;
		return WA_PARSE_OK;
	case OPT_MAX_FILES:
		if (!parse_uint(optarg, 16, TABLE_MAX, &n))
			return bad_value(err, cmd, "--max-files", optarg, "16 to 4194304");
		opts->max_files = n;
		return WA_PARSE_OK;
	case 'v':
		opts->verbose = true;
		return WA_PARSE_OK;
	case 'h':
		print_command_usage(out, cmd);
		return WA_PARSE_EXIT_OK;
	case OPT_VERSION:
		fprintf(out, "writeamp %s\n", WA_VERSION);
		return WA_PARSE_EXIT_OK;
	default:
		return apply_stack_option(c, opts, err);
	}
}

/* A long option's name without any "=VALUE" the user attached to it. */
static const char *long_option_name(char (*buf)[ECHO_MAX], const char *arg)
{
	size_t len = strcspn(arg, "=");
	char name[ECHO_MAX];

	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	memcpy(name, arg, len);
	name[len] = '\0';
	return echo(buf, name);
}

/* getopt's own messages are off (opterr = 0) so that each error is exactly one line. */
static enum wa_parse_result option_error(FILE *err, enum wa_command cmd, int c, char **argv)
{
	const char *name = command_name(cmd);
	const char *arg = argv[optind - 1];
	bool is_long = !strncmp(arg, "--", 2);
	char buf[ECHO_MAX];

	if (c == ':')
		fprintf(err, "writeamp: %s: option '%s' needs a value (see writeamp %s --help)\n",
			name,
			is_long ? long_option_name(&buf, arg)
				: echo(&buf, (char[]){'-', (char)optopt, '\0'}),
			name);
	else if (is_long && optopt && strchr(arg, '='))
		fprintf(err, "writeamp: %s: option '%s' takes no value (see writeamp %s --help)\n",
			name, long_option_name(&buf, arg), name);
	else if (is_long)
		fprintf(err, "writeamp: %s: unknown option '%s' (see writeamp %s --help)\n", name,
			long_option_name(&buf, arg), name);
	else
		fprintf(err, "writeamp: %s: unknown option '-%s' (see writeamp %s --help)\n", name,
			echo(&buf, (char[]){(char)optopt, '\0'}), name);
	return WA_PARSE_ERROR;
}

static enum wa_parse_result parse_subcommand(int argc, char **argv, struct wa_options *opts,
					     FILE *out, FILE *err)
{
	enum wa_parse_result r;
	char buf[ECHO_MAX];
	int c;

	/* 0, not 1: glibc then also forgets its place inside an option cluster like -hv. */
	optind = 0;
	opterr = 0;
	/* '+' stops at the first non-option, so that `run -- CMD -x` leaves -x to CMD. */
	while ((c = getopt_long(argc, argv, "+:d:i:p:c:o:vh", long_options, NULL)) != -1) {
		if (c == '?' || c == ':')
			return option_error(err, opts->command, c, argv);
		r = apply_option(c, opts, out, err);
		if (r != WA_PARSE_OK)
			return r;
	}
	if (opts->command == WA_CMD_RUN) {
		if (optind >= argc) {
			fprintf(err,
				"writeamp: run: no command given (usage: writeamp run [OPTIONS] "
				"-- COMMAND [ARG...])\n");
			return WA_PARSE_ERROR;
		}
		opts->command_argv = &argv[optind];
		return WA_PARSE_OK;
	}
	if (optind < argc) {
		fprintf(err,
			"writeamp: report: unexpected argument '%s' (see writeamp report "
			"--help)\n",
			echo(&buf, argv[optind]));
		return WA_PARSE_ERROR;
	}
	return WA_PARSE_OK;
}

enum wa_parse_result cli_parse(int argc, char **argv, struct wa_options *opts, FILE *out, FILE *err)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	char buf[ECHO_MAX];

	set_defaults(opts);
	if (!cmd) {
		fputs(main_usage, err);
		return WA_PARSE_ERROR;
	}
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(main_usage, out);
		return WA_PARSE_EXIT_OK;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		fprintf(out, "writeamp %s\n", WA_VERSION);
		return WA_PARSE_EXIT_OK;
	}
	if (!strcmp(cmd, "report"))
		opts->command = WA_CMD_REPORT;
	else if (!strcmp(cmd, "run"))
		opts->command = WA_CMD_RUN;
	else if (!strcmp(cmd, "compare") || !strcmp(cmd, "playbook")) {
		opts->command = cmd[0] == 'c' ? WA_CMD_COMPARE : WA_CMD_PLAYBOOK;
		opts->sub_argc = argc - 1;
		opts->sub_argv = argv + 1;
		return WA_PARSE_OK;
	} else if (cmd[0] == '-') {
		fprintf(err,
			"writeamp: unknown option '%s' before the command (see writeamp "
			"--help)\n",
			echo(&buf, cmd));
		return WA_PARSE_ERROR;
	} else {
		fprintf(err,
			"writeamp: unknown command '%s' (commands: report, run, compare, playbook; "
			"see writeamp "
			"--help)\n",
			echo(&buf, cmd));
		return WA_PARSE_ERROR;
	}
	return parse_subcommand(argc - 1, argv + 1, opts, out, err);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "writeamp: %s: ", command);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (see writeamp %s --help)\n", command);
	va_end(ap);
	return CLI_EXIT_USAGE;
}

int cli_getopt_end(const char *command, int opt, const char *usage, const char *arg)
{
	char shown[128];

	if (opt == 'h') {
		fputs(usage, stdout);
		return fflush(stdout) ? 1 : 0;
	}
	sanitize_column(shown, sizeof(shown), arg);
	if (opt == ':')
		return cli_usage_error(command, "%s needs an argument", shown);
	return cli_usage_error(command, "unknown option '%s'", shown);
}
