/* test_playbook.c: unit tests of the bpftrace literals and the text of writeamp playbook. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "playbook_scripts.h"

#define BIG_CAP	  512
#define TEXT_CAP  8192
#define HEAD_MAX  96
#define HEADS_MAX 32

static void check_literal(const char *src, const char *want)
{
	char buf[BIG_CAP];

	assert_true(pb_bpftrace_literal(buf, sizeof(buf), src));
	assert_string_equal(buf, want);
}

static void test_plain_names_stay_as_they_are(void **state)
{
	(void)state;
	check_literal("redis-server", "redis-server");
	check_literal("a b.c/d:e", "a b.c/d:e");
	check_literal("", "");
}

static void test_quotes_backslashes_and_controls_become_hex(void **state)
{
	(void)state;
	check_literal("q\"b", "q\\x22b");
	check_literal("a\\b", "a\\x5cb");
	check_literal("l1\nl2\r\t", "l1\\x0al2\\x0d\\x09");
	check_literal("\x1b[31m", "\\x1b[31m");
	check_literal("\x7f", "\\x7f");
	check_literal("\xc3\xa9", "\\xc3\\xa9"); /* every byte outside printable ASCII */
}

/* Every output byte is printable ASCII and no '"' or '\\' stands alone. */
static void test_every_byte_yields_a_safe_literal(void **state)
{
	char src[2], buf[16];

	(void)state;
	for (int c = 1; c < 256; c++) {
		src[0] = (char)c;
		src[1] = '\0';
		assert_true(pb_bpftrace_literal(buf, sizeof(buf), src));
		for (const char *p = buf; *p; p++)
			assert_true(*p >= 0x20 && *p <= 0x7e && *p != '"');
		if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
			assert_int_equal(strlen(buf), 1);
		} else {
			char want[8];

			snprintf(want, sizeof(want), "\\x%02x", c);
			assert_string_equal(buf, want);
		}
	}
}

static void test_a_literal_that_does_not_fit_is_refused(void **state)
{
	char buf[8];

	(void)state;
	assert_true(pb_bpftrace_literal(buf, sizeof(buf), "1234567")); /* 7 + NUL */
	assert_false(pb_bpftrace_literal(buf, sizeof(buf), "12345678"));
	assert_false(pb_bpftrace_literal(buf, sizeof(buf), "1234\n")); /* 4 + 4 + NUL */
	assert_true(pb_bpftrace_literal(buf, sizeof(buf), "123\n"));
	assert_string_equal(buf, "123\\x0a");
	assert_false(pb_bpftrace_literal(buf, 0, ""));
}

static char *render(void (*fn)(FILE *, const void *), const void *arg)
{
	static char text[TEXT_CAP];
	FILE *f = fmemopen(text, sizeof(text), "w");

	assert_non_null(f);
	fn(f, arg);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void wrap_words(FILE *f, const void *arg)
{
	pb_write_wrapped(f, "1. ", "   ", arg, 12);
}

static void test_wrapping_keeps_words_whole(void **state)
{
	(void)state;
	assert_string_equal(render(wrap_words, "aaa bbb ccc ddd"), "1. aaa bbb\n   ccc ddd\n");
	/* A word longer than the line gets a line of its own. */
	assert_string_equal(render(wrap_words, "x averyverylongword y"),
			    "1. x\n   averyverylongword\n   y\n");
}

/* --- the probe headers of a script, as bpftrace reads them --- */

struct heads {
	char v[HEADS_MAX][HEAD_MAX];
	size_t n;
};

/* Past the string literal that starts at @p ('"'). */
static const char *after_string(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p ? p + 1 : p;
}

/* Past the comment, // or slash-star, that starts at @p. */
static const char *after_comment(const char *p)
{
	const char *end;

	if (p[1] == '/')
		return p + strcspn(p, "\n");
	end = strstr(p + 2, "*/");
	return end ? end + 2 : p + strlen(p);
}

/* Past the predicate /.../ that starts at @p; a string in it may hold a '/'. */
static const char *after_predicate(const char *p)
{
	for (p++; *p && *p != '/';)
		p = *p == '"' ? after_string(p) : p + 1;
	return *p ? p + 1 : p;
}

static void end_head(struct heads *h, char *word, size_t *len)
{
	if (!*len)
		return;
	word[*len] = '\0';
	assert_true(h->n < HEADS_MAX);
	snprintf(h->v[h->n++], HEAD_MAX, "%s", word);
	*len = 0;
}

static bool is_comment(const char *p)
{
	return p[0] == '/' && (p[1] == '/' || p[1] == '*');
}

/* Past the comment, string or predicate at @p: text that names no probe. */
static const char *after_non_probe(const char *p)
{
	if (is_comment(p))
		return after_comment(p);
	return *p == '"' ? after_string(p) : after_predicate(p);
}

/*
 * Every probe of a bpftrace script: the words outside its action blocks, predicates, comments
 * and strings. A '/' inside a word (an uprobe's path) is part of it, as bpftrace reads it.
 */
static void probe_headers(const char *text, struct heads *h)
{
	char word[HEAD_MAX];
	size_t len = 0;
	int depth = 0;
	const char *p = text;

	h->n = 0;
	if (!strncmp(p, "#!", 2))
		p += strcspn(p, "\n");
	while (*p) {
		bool top = depth == 0;

		if (is_comment(p) || *p == '"' || (top && *p == '/' && !len)) {
			if (top)
				end_head(h, word, &len);
			p = after_non_probe(p);
			continue;
		}
		if (top && !isspace((unsigned char)*p) && *p != ',' && *p != '{') {
			assert_true(len < HEAD_MAX - 1);
			word[len++] = *p++;
			continue;
		}
		if (top)
			end_head(h, word, &len);
		depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
		p++;
	}
	end_head(h, word, &len);
}

static bool is_tracefs_name(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* BEGIN, END and tracepoint:CATEGORY:NAME need no kprobes, which this machine lacks. */
static bool is_allowed_probe(const char *head)
{
	const char *category = head + strlen("tracepoint:"), *name;

	if (!strcmp(head, "BEGIN") || !strcmp(head, "END"))
		return true;
	if (strncmp(head, "tracepoint:", strlen("tracepoint:")))
		return false;
	name = strchr(category, ':');
	return name && is_tracefs_name(category, (size_t)(name - category)) &&
	       is_tracefs_name(name + 1, strlen(name + 1));
}

/* Probes hidden where a search for "kprobe:" would miss them, or find a false one. */
static const char sneaky_script[] =
	"#!/usr/bin/env bpftrace\n"
	"// kprobe:in_a_comment\n"
	"/* kprobe:in_a_block_comment */\n"
	"BEGIN { printf(\"kprobe:in_a_string } {\\n\"); }\n"
	"tracepoint:syscalls:sys_enter_write, kretprobe:vfs_write\n"
	"/comm == \"a/}b\"/ { @x = 6 / 2; }\n"
	"fentry:vfs_write,fexit:vfs_write { }\n"
	"kretfunc:vfs_write{}uprobe:/bin/sh:main /pid == 1/ { if (1) { @y = 1; } }\n"
	"usdt:/bin/sh:probe,\nrawtracepoint:sys_enter,\ntracepoint:syscalls:sys_enter_*\n"
	"{ }\nEND { }\n";

static void test_the_probe_parse_finds_every_probe_and_refuses_all_but_tracepoints(void **state)
{
	static const char *const want[] = {
		"BEGIN",
		"tracepoint:syscalls:sys_enter_write",
		"kretprobe:vfs_write",
		"fentry:vfs_write",
		"fexit:vfs_write",
		"kretfunc:vfs_write",
		"uprobe:/bin/sh:main",
		"usdt:/bin/sh:probe",
		"rawtracepoint:sys_enter",
		"tracepoint:syscalls:sys_enter_*",
		"END",
	};
	struct heads h;
	size_t allowed = 0;

	(void)state;
	probe_headers(sneaky_script, &h);
	assert_int_equal(h.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < h.n; i++) {
		assert_string_equal(h.v[i], want[i]);
		allowed += is_allowed_probe(h.v[i]);
	}
	/* BEGIN, the one real tracepoint and END; a wildcard is not a tracepoint's name. */
	assert_int_equal(allowed, 3);
	assert_false(is_allowed_probe("tracepoint:syscalls"));
	assert_false(is_allowed_probe("tracepoint::sys_enter_write"));
	assert_false(is_allowed_probe("kprobe:vfs_write"));
}

static void test_cgroup_predicate_lists_every_id(void **state)
{
	const unsigned long long one[] = {12}, three[] = {12, 345, 18446744073709551615ull};
	char buf[BIG_CAP];

	(void)state;
	assert_true(pb_cgroup_predicate(buf, sizeof(buf), one, 1));
	assert_string_equal(buf, "cgroup == 12");
	assert_true(pb_cgroup_predicate(buf, sizeof(buf), three, 3));
	assert_string_equal(buf,
			    "(cgroup == 12 || cgroup == 345 || cgroup == 18446744073709551615)");
}

/* A filter cut short would not parse, or would match other cgroups: it is refused whole. */
static void test_cgroup_predicate_that_does_not_fit_is_refused(void **state)
{
	const unsigned long long ids[] = {12, 345};
	const char *whole = "(cgroup == 12 || cgroup == 345)";
	char buf[BIG_CAP];

	(void)state;
	assert_true(pb_cgroup_predicate(buf, strlen(whole) + 1, ids, 2));
	assert_string_equal(buf, whole);
	for (size_t cap = 1; cap <= strlen(whole); cap++) {
		memset(buf, 'x', sizeof(buf));
		assert_false(pb_cgroup_predicate(buf, cap, ids, 2));
		assert_string_equal(buf, "");
	}
	assert_false(pb_cgroup_predicate(buf, sizeof(buf), ids, 0));
	assert_string_equal(buf, "");
	assert_false(pb_cgroup_predicate(buf, 0, ids, 2));
}

static void write_script(FILE *f, const void *arg)
{
	pb_write_script(f, arg,
			&(struct pb_target){"pid 7 (x)", "pid 7 (a\"b)", "pid == 7",
					    "The filter matches pid 7."});
}

/* Each script is filtered in every probe, names debugfs, and uses tracepoints only. */
static void test_scripts_are_filled_and_use_tracepoints_only(void **state)
{
	(void)state;
	assert_true(pb_nscripts >= 4);
	for (size_t i = 0; i < pb_nscripts; i++) {
		const char *text = render(write_script, &pb_scripts[i]);
		size_t probes = 0, lines = 0, filters = 0;
		struct heads h;
		const char *p;

		assert_null(strstr(text, "{FILTER}"));
		assert_null(strstr(text, "{LABEL}"));
		assert_null(strstr(text, "{NAME}"));
		probe_headers(text, &h);
		assert_string_equal(h.v[0], "BEGIN");
		for (size_t j = 0; j < h.n; j++) {
			if (!is_allowed_probe(h.v[j]))
				fail_msg("%s: probe '%s' is not a tracepoint", pb_scripts[i].name,
					 h.v[j]);
			probes += !strncmp(h.v[j], "tracepoint:", strlen("tracepoint:"));
		}
		assert_non_null(strstr(text, "mount -t debugfs none /sys/kernel/debug"));
		assert_non_null(strstr(text, pb_scripts[i].name));
		/* The label went through pb_bpftrace_literal. */
		assert_non_null(strstr(text, "\"pid 7 (a\\x22b)\""));
		for (p = text; (p = strstr(p, "\n/pid == 7/")); p++)
			filters++;
		for (p = text; (p = strstr(p, " /pid == 7/ ")); p++)
			filters++;
		/* The parse saw every tracepoint line, counted here another way. */
		for (p = text; (p = strstr(p, "\ntracepoint:")); p++)
			lines++;
		assert_int_equal(probes, lines);
		/* Filtered probes; a probe list of several tracepoints carries one filter. */
		assert_true(filters >= 1);
		assert_true(probes >= filters);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_names_stay_as_they_are),
		cmocka_unit_test(test_quotes_backslashes_and_controls_become_hex),
		cmocka_unit_test(test_every_byte_yields_a_safe_literal),
		cmocka_unit_test(test_a_literal_that_does_not_fit_is_refused),
		cmocka_unit_test(test_wrapping_keeps_words_whole),
		cmocka_unit_test(
			test_the_probe_parse_finds_every_probe_and_refuses_all_but_tracepoints),
		cmocka_unit_test(test_scripts_are_filled_and_use_tracepoints_only),
		cmocka_unit_test(test_cgroup_predicate_lists_every_id),
		cmocka_unit_test(test_cgroup_predicate_that_does_not_fit_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
