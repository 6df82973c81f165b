/*
 * test_stacks.c: unit tests of the folded-stack line format and of the exact apportioning
 * that shares writeback and sampled weights among call paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "stack_attribution.h"

static void frame_semicolon_becomes_colon(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(folded_frame(buf, sizeof(buf), "std::vector<a;b>::push", false),
			    "std::vector<a:b>::push");
}

static void frame_spaces_stay(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(folded_frame(buf, sizeof(buf), "operator new (unsigned long)", false),
			    "operator new (unsigned long)");
}

static void frame_control_characters_become_question_marks(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(folded_frame(buf, sizeof(buf),
					 "a\nb\tc\x7f"
					 "d\x1b[31m",
					 false),
			    "a?b?c?d?[31m");
}

static void kernel_frame_gets_suffix(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(folded_frame(buf, sizeof(buf), "ext4_sync_file", true),
			    "ext4_sync_file_[k]");
}

static void long_kernel_frame_keeps_its_suffix(void **state)
{
	char buf[12];

	(void)state;
	/* 7 bytes of name, 4 of suffix, 1 of NUL */
	assert_string_equal(folded_frame(buf, sizeof(buf), "abcdefghijklmnop", true),
			    "abcdefg_[k]");
}

static void null_name_is_empty(void **state)
{
	char buf[8];

	(void)state;
	assert_string_equal(folded_frame(buf, sizeof(buf), NULL, false), "");
}

static char *fold(const struct wa_report *r, enum wa_weight weight)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(output_folded(out, r, weight), 0);
	fclose(out);
	return text;
}

static void folded_lines_run_comm_user_then_kernel(void **state)
{
	struct wa_frame frames[] = {
		{.name = "main", .known = true},
		{.name = "save;record", .known = true},
		{.name = "do write", .known = true},
		{.name = "ksys_write", .kernel = true, .known = true},
		{.name = "ext4_buffered_write_iter", .kernel = true, .known = true},
	};
	struct wa_stack_row rows[2] = {
		{.pid = 1,
		 .comm = "db;x y",
		 .frames = frames,
		 .nframes = 5,
		 .nuser = 3,
		 .w = {.calls = 3, .app_bytes = 144, .syncs = 0}},
		{.pid = 1,
		 .comm = "db;x y",
		 .frames = frames,
		 .nframes = 2,
		 .nuser = 2,
		 .w = {.calls = 1, .app_bytes = 0, .syncs = 1}},
	};
	struct wa_report r = {.stacks = rows, .nstacks = 2};
	char *text;

	(void)state;
	text = fold(&r, WA_WEIGHT_APP_BYTES);

	/* the zero-weight path is left out; the weight follows the last space */
	assert_string_equal(text, "db:x y;main;save:record;do write;ksys_write_[k];"
				  "ext4_buffered_write_iter_[k] 144\n");
	free(text);
	text = fold(&r, WA_WEIGHT_SYNCS);
	assert_string_equal(text, "db:x y;main;save:record 1\n");
	free(text);
	text = fold(&r, WA_WEIGHT_CALLS);
	assert_string_equal(text, "db:x y;main;save:record;do write;ksys_write_[k];"
				  "ext4_buffered_write_iter_[k] 3\n"
				  "db:x y;main;save:record 1\n");
	free(text);
}

static void folded_device_weight_sums_every_layer(void **state)
{
	struct wa_frame frames[] = {{.name = "main", .known = true}};
	struct wa_stack_row row = {
		.pid = 1, .comm = "w", .frames = frames, .nframes = 1, .nuser = 1};
	struct wa_report r = {.stacks = &row, .nstacks = 1};
	__u64 expect = 0;
	char want[64], *text;

	(void)state;
	for (int c = 0; c < WA_CHARGE__COUNT; c++) {
		row.w.bytes[c] = 4096ull << c;
		expect += 4096ull << c;
	}
	snprintf(want, sizeof(want), "w;main %llu\n", (unsigned long long)expect);
	text = fold(&r, WA_WEIGHT_DEVICE_BYTES);
	assert_string_equal(text, want);
	free(text);
}

static __u64 sum(const __u64 *v, size_t n)
{
	__u64 s = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void apportion_is_exact_and_proportional(void **state)
{
	__u64 shares[] = {1, 1, 1}, out[3];

	(void)state;
	apportion(10, shares, 3, out);
	assert_int_equal(sum(out, 3), 10);
	for (int i = 0; i < 3; i++)
		assert_true(out[i] == 3 || out[i] == 4);
}

static void apportion_gives_remainders_to_largest_fractions(void **state)
{
	/* 100 * 2/7 = 28.57, 100 * 5/7 = 71.43: the .57 wins the remainder */
	__u64 shares[] = {2, 5}, out[2];

	(void)state;
	apportion(100, shares, 2, out);
	assert_int_equal(out[0], 29);
	assert_int_equal(out[1], 71);
}

static void apportion_all_zero_shares_split_evenly(void **state)
{
	__u64 shares[4] = {0}, out[4];

	(void)state;
	apportion(4097, shares, 4, out);
	assert_int_equal(sum(out, 4), 4097);
	for (int i = 0; i < 4; i++)
		assert_true(out[i] == 1024 || out[i] == 1025);
}

static void apportion_large_totals_do_not_overflow(void **state)
{
	__u64 shares[] = {UINT64_MAX / 3, UINT64_MAX / 3, 1}, out[3];
	__u64 total = 1ull << 62;

	(void)state;
	apportion(total, shares, 3, out);
	assert_int_equal(sum(out, 3), total);
	assert_true(out[2] <= 1);
	assert_true(out[0] >= total / 2 - 1 && out[0] <= total / 2 + 1);
}

static void apportion_by_dirtied_bytes(void **state)
{
	/* writeback of 12288 bytes, dirtied 3:1 by two paths */
	__u64 shares[] = {6144, 2048}, out[2];

	(void)state;
	apportion(12288, shares, 2, out);
	assert_int_equal(out[0], 9216);
	assert_int_equal(out[1], 3072);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frame_semicolon_becomes_colon),
		cmocka_unit_test(frame_spaces_stay),
		cmocka_unit_test(frame_control_characters_become_question_marks),
		cmocka_unit_test(kernel_frame_gets_suffix),
		cmocka_unit_test(long_kernel_frame_keeps_its_suffix),
		cmocka_unit_test(null_name_is_empty),
		cmocka_unit_test(folded_lines_run_comm_user_then_kernel),
		cmocka_unit_test(folded_device_weight_sums_every_layer),
		cmocka_unit_test(apportion_is_exact_and_proportional),
		cmocka_unit_test(apportion_gives_remainders_to_largest_fractions),
		cmocka_unit_test(apportion_all_zero_shares_split_evenly),
		cmocka_unit_test(apportion_large_totals_do_not_overflow),
		cmocka_unit_test(apportion_by_dirtied_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
