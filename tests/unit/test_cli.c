/* test_cli.c: unit tests of the command line parser, its messages and MAJ:MIN parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_ARGS      160
#define ERR_PREFIX    "writeamp: "
#define ASCII_SPACE   0x20
#define ASCII_DEL     0x7f
#define PID_FILTERS   64 /* the documented limit of repeated -p */
#define REPEAT_PARSES 500
#define NUM_LEN	      16

/* One call of cli_parse() with its argv, its result and what it wrote to out and err. */
struct parse {
	char *argv[MAX_ARGS + 1];
	int argc;
	struct wa_options opts;
	enum wa_parse_result result;
	char *out, *err;
	size_t out_len, err_len;
};

/* Runs cli_parse() on @args (NULL-terminated, "writeamp" first) and keeps what it wrote. */
static enum wa_parse_result parse_list(struct parse *p, const char *const *args)
{
	FILE *out, *err;

	memset(p, 0, sizeof(*p));
	while (args[p->argc]) {
		assert_true(p->argc < MAX_ARGS);
		p->argv[p->argc] = (char *)args[p->argc];
		p->argc++;
	}
	p->argv[p->argc] = NULL;
	out = open_memstream(&p->out, &p->out_len);
	err = open_memstream(&p->err, &p->err_len);
	assert_non_null(out);
	assert_non_null(err);
	p->result = cli_parse(p->argc, p->argv, &p->opts, out, err);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(fclose(err), 0);
	return p->result;
}

#define PARSE(p, ...) parse_list(p, (const char *const[]){"writeamp", __VA_ARGS__, NULL})

static void parse_free(struct parse *p)
{
	free(p->out);
	free(p->err);
}

static size_t count_char(const char *s, size_t n, char c)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

static void expect_ok(const struct parse *p)
{
	if (p->result != WA_PARSE_OK)
		fail_msg("expected success, got %d with: %s", p->result, p->err);
	assert_int_equal(p->out_len, 0);
	assert_int_equal(p->err_len, 0);
}

/*
 * An error is exactly one line on err, "writeamp: ..." naming @what, with no control
 * character that could reach the terminal; nothing on out.
 */
static void expect_error(const struct parse *p, const char *what)
{
	const unsigned char *u = (const unsigned char *)p->err;

	assert_int_equal(p->result, WA_PARSE_ERROR);
	assert_int_equal(p->out_len, 0);
	assert_true(p->err_len > 0);
	if (count_char(p->err, p->err_len, '\n') != 1 || p->err[p->err_len - 1] != '\n')
		fail_msg("not exactly one line: [%s]", p->err);
	if (strncmp(p->err, ERR_PREFIX, strlen(ERR_PREFIX)))
		fail_msg("does not start with \"" ERR_PREFIX "\": %s", p->err);
	if (!strstr(p->err, what))
		fail_msg("does not name %s: %s", what, p->err);
	for (size_t i = 0; i + 1 < p->err_len; i++)
		if (u[i] < ASCII_SPACE || u[i] == ASCII_DEL)
			fail_msg("control byte 0x%02x at %zu in: %s", u[i], i, p->err);
}

static void expect_exit_ok(const struct parse *p, const char *text)
{
	assert_int_equal(p->result, WA_PARSE_EXIT_OK);
	assert_int_equal(p->err_len, 0);
	assert_non_null(p->out);
	if (!strstr(p->out, text))
		fail_msg("\"%s\" not in: %s", text, p->out);
}

static void expect_argv(char **argv, const char *const *want)
{
	size_t i;

	assert_non_null(argv);
	for (i = 0; want[i]; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
}

#define EXPECT_ARGV(argv, ...) expect_argv(argv, (const char *const[]){__VA_ARGS__, NULL})

/* The values every command starts from, spelled out as documented in --help. */
static void expect_defaults_apart_from_command(const struct wa_options *o)
{
	assert_true(o->duration_s == 0.0);
	assert_true(o->interval_s == 0.0);
	assert_true(o->settle_s == 45.0);
	assert_int_equal(o->npids, 0);
	assert_null(o->comm);
	assert_null(o->dev);
	assert_int_equal(o->top, 10);
	assert_int_equal(o->hist_top, 3);
	assert_false(o->json);
	assert_false(o->verbose);
	assert_false(o->probe_reads);
	assert_int_equal(o->max_procs, 8192);
	assert_int_equal(o->max_files, 32768);
}

static void test_report_defaults(void **state)
{
	struct parse p;

	PARSE(&p, "report");
	expect_ok(&p);
	assert_int_equal(p.opts.command, WA_CMD_REPORT);
	expect_defaults_apart_from_command(&p.opts);
	assert_null(p.opts.command_argv);
	parse_free(&p);
}

static void test_run_defaults(void **state)
{
	struct parse p;

	PARSE(&p, "run", "--", "true");
	expect_ok(&p);
	assert_int_equal(p.opts.command, WA_CMD_RUN);
	expect_defaults_apart_from_command(&p.opts);
	EXPECT_ARGV(p.opts.command_argv, "true");
	parse_free(&p);
}

static void test_report_short_options(void **state)
{
	struct parse p;

	PARSE(&p, "report", "-d", "2.5", "-i", "0.5", "-p", "10", "-c", "nginx", "-v");
	expect_ok(&p);
	assert_true(p.opts.duration_s == 2.5);
	assert_true(p.opts.interval_s == 0.5);
	assert_int_equal(p.opts.npids, 1);
	assert_int_equal(p.opts.pids[0], 10);
	assert_string_equal(p.opts.comm, "nginx");
	assert_true(p.opts.verbose);
	parse_free(&p);
}

static void test_short_options_clustered_and_attached(void **state)
{
	struct parse p;

	PARSE(&p, "report", "-vp5", "-d1", "-cfoo");
	expect_ok(&p);
	assert_true(p.opts.verbose);
	assert_int_equal(p.opts.npids, 1);
	assert_int_equal(p.opts.pids[0], 5);
	assert_true(p.opts.duration_s == 1.0);
	assert_string_equal(p.opts.comm, "foo");
	parse_free(&p);
}

static void test_report_long_options(void **state)
{
	struct parse p;

	PARSE(&p, "report", "--duration", "3", "--interval", "1", "--pid", "11", "--comm",
	      "postgres", "--dev", "8:0", "--top", "5", "--hist", "0", "--json", "--probe-reads",
	      "--max-procs", "16", "--max-files", "4194304", "--verbose");
	expect_ok(&p);
	assert_true(p.opts.duration_s == 3.0);
	assert_true(p.opts.interval_s == 1.0);
	assert_int_equal(p.opts.npids, 1);
	assert_int_equal(p.opts.pids[0], 11);
	assert_string_equal(p.opts.comm, "postgres");
	assert_string_equal(p.opts.dev, "8:0");
	assert_int_equal(p.opts.top, 5);
	assert_int_equal(p.opts.hist_top, 0);
	assert_true(p.opts.json);
	assert_true(p.opts.probe_reads);
	assert_int_equal(p.opts.max_procs, 16);
	assert_int_equal(p.opts.max_files, 4194304);
	assert_true(p.opts.verbose);
	parse_free(&p);
}

static void test_long_options_with_equals(void **state)
{
	struct parse p;

	PARSE(&p, "report", "--duration=7", "--dev=nvme0n1p2", "--top=2", "--max-files=16");
	expect_ok(&p);
	assert_true(p.opts.duration_s == 7.0);
	assert_string_equal(p.opts.dev, "nvme0n1p2");
	assert_int_equal(p.opts.top, 2);
	assert_int_equal(p.opts.max_files, 16);
	parse_free(&p);
}

static void test_run_options(void **state)
{
	struct parse p;

	PARSE(&p, "run", "--settle", "0", "-i", "2", "-p", "5", "-c", "make", "--dev", "vda",
	      "--top", "1", "--hist", "7", "--json", "-v", "--probe-reads", "--max-procs", "100",
	      "--max-files", "200", "--", "make", "-j4");
	expect_ok(&p);
	assert_int_equal(p.opts.command, WA_CMD_RUN);
	assert_true(p.opts.settle_s == 0.0);
	assert_true(p.opts.interval_s == 2.0);
	assert_int_equal(p.opts.npids, 1);
	assert_int_equal(p.opts.pids[0], 5);
	assert_string_equal(p.opts.comm, "make");
	assert_string_equal(p.opts.dev, "vda");
	assert_int_equal(p.opts.top, 1);
	assert_int_equal(p.opts.hist_top, 7);
	assert_true(p.opts.json);
	assert_true(p.opts.verbose);
	assert_true(p.opts.probe_reads);
	assert_int_equal(p.opts.max_procs, 100);
	assert_int_equal(p.opts.max_files, 200);
	EXPECT_ARGV(p.opts.command_argv, "make", "-j4");
	parse_free(&p);
}

static void test_run_settle_fraction(void **state)
{
	struct parse p;

	PARSE(&p, "run", "--settle=1.25", "--", "x");
	expect_ok(&p);
	assert_true(p.opts.settle_s == 1.25);
	parse_free(&p);
}

static void test_run_leaves_options_after_separator_to_command(void **state)
{
	struct parse p;

	PARSE(&p, "run", "--json", "--", "cmd", "-x", "--y", "-v", "--help", "--", "-d", "5");
	expect_ok(&p);
	assert_true(p.opts.json);
	assert_false(p.opts.verbose);
	assert_true(p.opts.duration_s == 0.0);
	EXPECT_ARGV(p.opts.command_argv, "cmd", "-x", "--y", "-v", "--help", "--", "-d", "5");
	parse_free(&p);
}

static void test_run_command_without_separator(void **state)
{
	struct parse p;

	PARSE(&p, "run", "-v", "ls", "-l", "--json");
	expect_ok(&p);
	assert_true(p.opts.verbose);
	assert_false(p.opts.json);
	EXPECT_ARGV(p.opts.command_argv, "ls", "-l", "--json");
	parse_free(&p);
}

/* Builds "writeamp report -p 1 -p 2 ... -p n" in @storage and parses it. */
static void parse_pids(struct parse *p, int n, char storage[][NUM_LEN])
{
	const char *args[MAX_ARGS + 1];
	int k = 0;

	args[k++] = "writeamp";
	args[k++] = "report";
	for (int i = 0; i < n; i++) {
		snprintf(storage[i], NUM_LEN, "%d", i + 1);
		args[k++] = "-p";
		args[k++] = storage[i];
	}
	args[k] = NULL;
	parse_list(p, args);
}

static void test_pid_repeatable_up_to_limit(void **state)
{
	char storage[PID_FILTERS][NUM_LEN];
	struct parse p;

	assert_int_equal(WA_MAX_PID_FILTERS, PID_FILTERS);
	parse_pids(&p, PID_FILTERS, storage);
	expect_ok(&p);
	assert_int_equal(p.opts.npids, PID_FILTERS);
	for (int i = 0; i < PID_FILTERS; i++)
		assert_int_equal(p.opts.pids[i], i + 1);
	parse_free(&p);
}

static void test_pid_one_beyond_limit_is_error(void **state)
{
	char storage[PID_FILTERS + 1][NUM_LEN];
	struct parse p;

	parse_pids(&p, PID_FILTERS + 1, storage);
	expect_error(&p, "--pid");
	parse_free(&p);
}

/* `writeamp CMD OPTION VALUE` must fail with one line that names @name. */
static void check_rejected(const char *cmd, const char *option, const char *value, const char *name)
{
	struct parse p;

	if (!strcmp(cmd, "run"))
		PARSE(&p, cmd, option, value, "--", "true");
	else
		PARSE(&p, cmd, option, value);
	if (p.result != WA_PARSE_ERROR)
		fail_msg("%s %s '%s' was accepted", cmd, option, value);
	expect_error(&p, name);
	parse_free(&p);
}

static void check_accepted(const char *cmd, const char *option, const char *value)
{
	struct parse p;

	if (!strcmp(cmd, "run"))
		PARSE(&p, cmd, option, value, "--", "true");
	else
		PARSE(&p, cmd, option, value);
	if (p.result != WA_PARSE_OK)
		fail_msg("%s %s '%s' was rejected: %s", cmd, option, value, p.err);
	expect_ok(&p);
	parse_free(&p);
}

static const char *const bad_seconds[] = {"-1",	 "0",	"-0",	 "abc", "1x", "",
					  "inf", "nan", "1e999", "0x",	"--5"};

static void test_rejects_bad_duration(void **state)
{
	for (size_t i = 0; i < sizeof(bad_seconds) / sizeof(bad_seconds[0]); i++) {
		check_rejected("report", "-d", bad_seconds[i], "--duration");
		check_rejected("report", "--duration", bad_seconds[i], "--duration");
	}
}

static void test_rejects_bad_interval(void **state)
{
	for (size_t i = 0; i < sizeof(bad_seconds) / sizeof(bad_seconds[0]); i++) {
		check_rejected("report", "-i", bad_seconds[i], "--interval");
		check_rejected("run", "--interval", bad_seconds[i], "--interval");
	}
}

static void test_settle_accepts_zero_rejects_bad(void **state)
{
	static const char *const bad[] = {"-1", "-0.5", "abc", "2s", "", "inf", "nan"};

	check_accepted("run", "--settle", "0");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_rejected("run", "--settle", bad[i], "--settle");
}

static void test_rejects_bad_pid(void **state)
{
	static const char *const bad[] = {"0",		"-1", "+5",  "abc", "5x",
					  "2147483648", "",   "1.5", "0x10"};

	check_accepted("report", "-p", "2147483647");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check_rejected("report", "-p", bad[i], "--pid");
		check_rejected("run", "--pid", bad[i], "--pid");
	}
}

static void test_rejects_bad_top(void **state)
{
	static const char *const bad[] = {"0", "-1", "x", "", "3.0", "2147483648"};

	check_accepted("report", "--top", "1");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_rejected("report", "--top", bad[i], "--top");
}

static void test_hist_accepts_zero_rejects_bad(void **state)
{
	static const char *const bad[] = {"-1", "x", "", "1e3"};

	check_accepted("report", "--hist", "0");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_rejected("report", "--hist", bad[i], "--hist");
}

static const char *const bad_table_sizes[] = {"0", "15", "4194305", "-16", "x", "", "16k"};

static void test_rejects_bad_max_procs(void **state)
{
	check_accepted("report", "--max-procs", "16");
	check_accepted("report", "--max-procs", "4194304");
	for (size_t i = 0; i < sizeof(bad_table_sizes) / sizeof(bad_table_sizes[0]); i++)
		check_rejected("report", "--max-procs", bad_table_sizes[i], "--max-procs");
}

static void test_rejects_bad_max_files(void **state)
{
	check_accepted("run", "--max-files", "16");
	check_accepted("run", "--max-files", "4194304");
	for (size_t i = 0; i < sizeof(bad_table_sizes) / sizeof(bad_table_sizes[0]); i++)
		check_rejected("run", "--max-files", bad_table_sizes[i], "--max-files");
}

static void test_comm_of_15_bytes_accepted_16_rejected(void **state)
{
	check_accepted("report", "-c", "abcdefghijklmno");
	check_rejected("report", "-c", "abcdefghijklmnop", "--comm");
	check_rejected("run", "--comm", "abcdefghijklmnop", "--comm");
	check_rejected("report", "--comm", "", "--comm");
}

static void test_rejects_empty_dev(void **state)
{
	check_rejected("report", "--dev", "", "--dev");
	check_rejected("run", "--dev", "", "--dev");
}

/* The value is echoed in the message: a newline or ESC in it must not break the one line. */
static void test_error_with_hostile_value_stays_one_clean_line(void **state)
{
	check_rejected("report", "-d", "1\n2", "--duration");
	check_rejected("report", "--comm", "\x1b[2J\x1b[Hwipe the screen", "--comm");
}

static void test_unknown_short_option(void **state)
{
	struct parse p;

	PARSE(&p, "report", "-z");
	expect_error(&p, "-z");
	parse_free(&p);
	PARSE(&p, "run", "-z", "--", "true");
	expect_error(&p, "-z");
	parse_free(&p);
}

static void test_unknown_short_option_at_end_of_cluster(void **state)
{
	struct parse p;

	PARSE(&p, "report", "-vz");
	expect_error(&p, "-z");
	parse_free(&p);
}

static void test_unknown_long_option(void **state)
{
	struct parse p;

	PARSE(&p, "report", "--bogus");
	expect_error(&p, "--bogus");
	parse_free(&p);
	PARSE(&p, "run", "--bogus=1", "--", "true");
	expect_error(&p, "--bogus");
	parse_free(&p);
}

/* --max could be --max-procs or --max-files. */
static void test_ambiguous_long_option(void **state)
{
	struct parse p;

	PARSE(&p, "report", "--max", "100");
	expect_error(&p, "--max");
	parse_free(&p);
}

static void test_value_given_to_option_without_value(void **state)
{
	struct parse p;

	PARSE(&p, "report", "--json=1");
	expect_error(&p, "--json");
	parse_free(&p);
	PARSE(&p, "report", "--verbose=yes");
	expect_error(&p, "--verbose");
	parse_free(&p);
}

static void test_missing_value(void **state)
{
	struct parse p;

	PARSE(&p, "report", "-p");
	expect_error(&p, "-p");
	parse_free(&p);
	PARSE(&p, "report", "--pid");
	expect_error(&p, "--pid");
	parse_free(&p);
	PARSE(&p, "report", "-v", "--duration");
	expect_error(&p, "--duration");
	parse_free(&p);
	PARSE(&p, "run", "--settle");
	expect_error(&p, "--settle");
	parse_free(&p);
}

static void test_settle_on_report_is_error(void **state)
{
	struct parse p;

	PARSE(&p, "report", "--settle", "5");
	expect_error(&p, "--settle");
	parse_free(&p);
}

static void test_duration_on_run_is_error(void **state)
{
	struct parse p;

	PARSE(&p, "run", "-d", "5", "--", "true");
	expect_error(&p, "-d");
	parse_free(&p);
	PARSE(&p, "run", "--duration", "5", "--", "true");
	expect_error(&p, "-d");
	parse_free(&p);
}

static void test_run_without_command_is_error(void **state)
{
	struct parse p;

	PARSE(&p, "run");
	expect_error(&p, "command");
	parse_free(&p);
	PARSE(&p, "run", "--json", "--");
	expect_error(&p, "command");
	parse_free(&p);
}

static void test_report_rejects_extra_argument(void **state)
{
	struct parse p;

	PARSE(&p, "report", "--json", "extra");
	expect_error(&p, "extra");
	parse_free(&p);
}

static void test_unknown_command_is_error(void **state)
{
	struct parse p;

	PARSE(&p, "frobnicate");
	expect_error(&p, "frobnicate");
	parse_free(&p);
	PARSE(&p, "-x", "report");
	expect_error(&p, "-x");
	parse_free(&p);
}

static void test_no_command_prints_usage_to_err(void **state)
{
	struct parse p;

	PARSE(&p, NULL);
	assert_int_equal(p.result, WA_PARSE_ERROR);
	assert_int_equal(p.out_len, 0);
	assert_non_null(strstr(p.err, "Usage: writeamp"));
	parse_free(&p);
}

static void test_top_level_help(void **state)
{
	static const char *const forms[] = {"--help", "-h", "help"};
	struct parse p;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		PARSE(&p, forms[i]);
		expect_exit_ok(&p, "Usage: writeamp COMMAND");
		assert_non_null(strstr(p.out, "report"));
		assert_non_null(strstr(p.out, "run"));
		parse_free(&p);
	}
}

static void test_top_level_version(void **state)
{
	static const char *const forms[] = {"--version", "version"};
	struct parse p;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		PARSE(&p, forms[i]);
		expect_exit_ok(&p, "writeamp " WA_VERSION);
		assert_string_equal(p.out, "writeamp " WA_VERSION "\n");
		parse_free(&p);
	}
}

static void test_report_help(void **state)
{
	struct parse p;

	PARSE(&p, "report", "--help");
	expect_exit_ok(&p, "Usage: writeamp report");
	assert_non_null(strstr(p.out, "--duration"));
	assert_non_null(strstr(p.out, "--pid"));
	assert_null(strstr(p.out, "--settle"));
	parse_free(&p);
	PARSE(&p, "report", "-v", "-h");
	expect_exit_ok(&p, "Usage: writeamp report");
	parse_free(&p);
}

static void test_run_help(void **state)
{
	struct parse p;

	PARSE(&p, "run", "--help");
	expect_exit_ok(&p, "Usage: writeamp run");
	assert_non_null(strstr(p.out, "--settle"));
	assert_non_null(strstr(p.out, "--pid"));
	parse_free(&p);
	PARSE(&p, "run", "-h", "--", "true");
	expect_exit_ok(&p, "Usage: writeamp run");
	parse_free(&p);
}

static void test_command_version(void **state)
{
	struct parse p;

	PARSE(&p, "report", "--version");
	expect_exit_ok(&p, "writeamp " WA_VERSION "\n");
	parse_free(&p);
	PARSE(&p, "run", "--version");
	expect_exit_ok(&p, "writeamp " WA_VERSION "\n");
	parse_free(&p);
}

static void check_majmin(const char *text, unsigned int want_major, unsigned int want_minor)
{
	unsigned int major = 12345, minor = 12345;

	if (!cli_parse_majmin(text, &major, &minor))
		fail_msg("'%s' rejected", text);
	assert_int_equal(major, want_major);
	assert_int_equal(minor, want_minor);
}

static void check_not_majmin(const char *text)
{
	unsigned int major = 12345, minor = 54321;

	if (cli_parse_majmin(text, &major, &minor))
		fail_msg("'%s' accepted as %u:%u", text, major, minor);
	assert_int_equal(major, 12345);
	assert_int_equal(minor, 54321);
}

static void test_majmin_accepts(void **state)
{
	check_majmin("8:0", 8, 0);
	check_majmin("259:12", 259, 12);
	check_majmin("0:0", 0, 0);
	check_majmin("4294967295:4294967295", 4294967295U, 4294967295U);
}

static void test_majmin_rejects(void **state)
{
	static const char *const bad[] = {
		"8",	":0",	"8:",		"a:b",	 "-1:0",  "8:0x",  "",	    ":",    "8:-1",
		"+8:0", "8:+0", "4294967296:0", "8:0:0", "0x8:0", "8.0:0", "8:1e1", "vda:0"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_not_majmin(bad[i]);
}

/* cli_parse() resets getopt's global state, so parse after parse gives fresh results. */
static void test_many_parses_in_one_process(void **state)
{
	for (int i = 1; i <= REPEAT_PARSES; i++) {
		char pid[NUM_LEN];
		struct parse p;

		snprintf(pid, sizeof(pid), "%d", i);
		if (i % 3 == 0) {
			PARSE(&p, "run", "-p", pid, "--", "cmd", pid);
			expect_ok(&p);
			EXPECT_ARGV(p.opts.command_argv, "cmd", pid);
		} else if (i % 3 == 1) {
			PARSE(&p, "report", "--pid", pid, "--json");
			expect_ok(&p);
			assert_true(p.opts.json);
		} else {
			PARSE(&p, "report", "-p", pid, "--bogus");
			expect_error(&p, "--bogus");
			parse_free(&p);
			continue;
		}
		assert_int_equal(p.opts.npids, 1);
		assert_int_equal(p.opts.pids[0], i);
		assert_false(p.opts.verbose);
		parse_free(&p);
	}
}

/*
 * A parse that stops inside "-hv" or "-zv" leaves getopt half-way through that argument;
 * the next parse, of another argv, must not see the rest of it.
 */
static void test_parse_after_stop_inside_option_cluster(void **state)
{
	struct parse p;

	PARSE(&p, "report", "-hv");
	expect_exit_ok(&p, "Usage: writeamp report");
	parse_free(&p);
	PARSE(&p, "report", "--json");
	expect_ok(&p);
	assert_true(p.opts.json);
	assert_false(p.opts.verbose);
	parse_free(&p);

	PARSE(&p, "report", "-zv");
	expect_error(&p, "-z");
	parse_free(&p);
	PARSE(&p, "report", "--top", "4");
	expect_ok(&p);
	assert_int_equal(p.opts.top, 4);
	assert_false(p.opts.verbose);
	parse_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_defaults),
		cmocka_unit_test(test_run_defaults),
		cmocka_unit_test(test_report_short_options),
		cmocka_unit_test(test_short_options_clustered_and_attached),
		cmocka_unit_test(test_report_long_options),
		cmocka_unit_test(test_long_options_with_equals),
		cmocka_unit_test(test_run_options),
		cmocka_unit_test(test_run_settle_fraction),
		cmocka_unit_test(test_run_leaves_options_after_separator_to_command),
		cmocka_unit_test(test_run_command_without_separator),
		cmocka_unit_test(test_pid_repeatable_up_to_limit),
		cmocka_unit_test(test_pid_one_beyond_limit_is_error),
		cmocka_unit_test(test_rejects_bad_duration),
		cmocka_unit_test(test_rejects_bad_interval),
		cmocka_unit_test(test_settle_accepts_zero_rejects_bad),
		cmocka_unit_test(test_rejects_bad_pid),
		cmocka_unit_test(test_rejects_bad_top),
		cmocka_unit_test(test_hist_accepts_zero_rejects_bad),
		cmocka_unit_test(test_rejects_bad_max_procs),
		cmocka_unit_test(test_rejects_bad_max_files),
		cmocka_unit_test(test_comm_of_15_bytes_accepted_16_rejected),
		cmocka_unit_test(test_rejects_empty_dev),
		cmocka_unit_test(test_error_with_hostile_value_stays_one_clean_line),
		cmocka_unit_test(test_unknown_short_option),
		cmocka_unit_test(test_unknown_short_option_at_end_of_cluster),
		cmocka_unit_test(test_unknown_long_option),
		cmocka_unit_test(test_ambiguous_long_option),
		cmocka_unit_test(test_value_given_to_option_without_value),
		cmocka_unit_test(test_missing_value),
		cmocka_unit_test(test_settle_on_report_is_error),
		cmocka_unit_test(test_duration_on_run_is_error),
		cmocka_unit_test(test_run_without_command_is_error),
		cmocka_unit_test(test_report_rejects_extra_argument),
		cmocka_unit_test(test_unknown_command_is_error),
		cmocka_unit_test(test_no_command_prints_usage_to_err),
		cmocka_unit_test(test_top_level_help),
		cmocka_unit_test(test_top_level_version),
		cmocka_unit_test(test_report_help),
		cmocka_unit_test(test_run_help),
		cmocka_unit_test(test_command_version),
		cmocka_unit_test(test_majmin_accepts),
		cmocka_unit_test(test_majmin_rejects),
		cmocka_unit_test(test_many_parses_in_one_process),
		cmocka_unit_test(test_parse_after_stop_inside_option_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
