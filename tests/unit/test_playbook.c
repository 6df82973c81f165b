/* test_playbook.c: unit tests of the bpftrace literals and the text of writeamp playbook. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "playbook_scripts.h"

#define BIG_CAP	 512
#define TEXT_CAP 8192

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
		size_t probes = 0, filters = 0;
		const char *p;

		assert_null(strstr(text, "{FILTER}"));
		assert_null(strstr(text, "{LABEL}"));
		assert_null(strstr(text, "{NAME}"));
		assert_null(strstr(text, "kprobe:"));
		assert_null(strstr(text, "kfunc:"));
		assert_non_null(strstr(text, "mount -t debugfs none /sys/kernel/debug"));
		assert_non_null(strstr(text, pb_scripts[i].name));
		/* The label went through pb_bpftrace_literal. */
		assert_non_null(strstr(text, "\"pid 7 (a\\x22b)\""));
		for (p = text; (p = strstr(p, "\n/pid == 7/")); p++)
			filters++;
		for (p = text; (p = strstr(p, " /pid == 7/ ")); p++)
			filters++;
		for (p = text; (p = strstr(p, "\ntracepoint:")); p++)
			probes++;
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
		cmocka_unit_test(test_scripts_are_filled_and_use_tracepoints_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
