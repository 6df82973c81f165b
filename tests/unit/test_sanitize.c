/* test_sanitize.c: unit tests of the UTF-8 decoder and of the terminal escaping of strings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

#define BIG_CAP		 256
#define FUZZ_ROUNDS	 20000
#define FUZZ_MAX_LEN	 24
#define FUZZ_SEED	 0x2545f491U
#define ASCII_SPACE	 0x20
#define ASCII_DEL	 0x7f
#define UTF8_C1_LEAD	 0xc2 /* U+0080..U+009F are C2 80..C2 9F */
#define UTF8_C1_CONT_MAX 0x9f
#define UTF8_CONT_MIN	 0x80

/* Sanitizes @len bytes of @src into a buffer of @cap bytes and checks the result against @want. */
static void check_cap(const char *src, size_t len, size_t cap, const char *want)
{
	char buf[BIG_CAP];
	size_t got;

	assert_true(cap <= sizeof(buf));
	memset(buf, 'Z', sizeof(buf));
	got = sanitize_for_terminal(buf, cap, src, len);
	assert_string_equal(buf, want);
	assert_int_equal(got, strlen(want));
	/* Nothing past the NUL: the cap is a hard limit. */
	for (size_t i = cap; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 'Z');
}

static void check(const char *src, size_t len, const char *want)
{
	check_cap(src, len, BIG_CAP, want);
}

/* A string literal, with its length, so that embedded NULs count. */
#define LIT(s) s, sizeof(s) - 1

static void test_printable_passes(void **state)
{
	check(LIT("plain ascii ~!@#$%^&*()_+{}|:\"<>?`-=[];',./"),
	      "plain ascii ~!@#$%^&*()_+{}|:\"<>?`-=[];',./");
	check(LIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac"),
	      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac");
	/* U+00A0, the first code point after C1, U+FFFD itself and U+10FFFF are no controls. */
	check(LIT("\xc2\xa0\xef\xbf\xbd\xf4\x8f\xbf\xbf"), "\xc2\xa0\xef\xbf\xbd\xf4\x8f\xbf\xbf");
}

static void test_escape_sequences(void **state)
{
	check(LIT("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
	check(LIT("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
	/* The C1 CSI, raw (not UTF-8) and as the UTF-8 encoding of U+009B. */
	check(LIT("a\x9b"
		  "2Jb"),
	      "a\\x9b2Jb");
	check(LIT("a\xc2\x9b"
		  "2Jb"),
	      "a\\u009b2Jb");
	check(LIT("\xc2\x80\xc2\x9f"), "\\u0080\\u009f");
}

static void test_whitespace_and_controls(void **state)
{
	check(LIT("a\nb\tc\rd"), "a\\nb\\tc\\rd");
	check(LIT("back\\slash"), "back\\\\slash");
	check(LIT("\x01\x08\x0b\x0c\x1f\x7f"), "\\x01\\x08\\x0b\\x0c\\x1f\\x7f");
	check(LIT("nul\0inside"), "nul\\x00inside");
}

static void test_display_controls(void **state)
{
	check(LIT("x\xe2\x80\xa8y\xe2\x80\xa9z"), "x\\u2028y\\u2029z");
	/* "Trojan Source": a right-to-left override must not reorder what follows. */
	check(LIT("evil\xe2\x80\xaegnp.exe"), "evil\\u202egnp.exe");
	check(LIT("\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f\xe2\x81\xa6\xe2\x81\xa9"),
	      "\\u061c\\u200e\\u200f\\u2066\\u2069");
}

static void test_invalid_utf8(void **state)
{
	check(LIT("\xff\xfe"), "\\xff\\xfe");
	check(LIT("over\xc0\x80long"), "over\\xc0\\x80long");
	check(LIT("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	check(LIT("trunc\xe2\x82"), "trunc\\xe2\\x82");
	check(LIT("trunc\xe2\x82"
		  "A"),
	      "trunc\\xe2\\x82A");
	check(LIT("\xed\xa0\x80"), "\\xed\\xa0\\x80");		/* a surrogate */
	check(LIT("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
	check(LIT("\x80lone"), "\\x80lone");
}

static void test_empty(void **state)
{
	check(LIT(""), "");
	check(NULL, 0, "");
}

static void test_truncation_plain(void **state)
{
	check_cap(LIT("abcdef"), 7, "abcdef"); /* fits exactly: no ellipsis */
	check_cap(LIT("abcdefg"), 7, "abc...");
	check_cap(LIT("abcd"), 4, "...");
	check_cap(LIT("abcd"), 3, "..");
	check_cap(LIT("abcd"), 2, ".");
	check_cap(LIT("abcd"), 1, "");
}

static void test_truncation_boundaries(void **state)
{
	/* "é" is 2 bytes: room for 5 holds one of them and the ellipsis, not a half. */
	check_cap(LIT("\xc3\xa9\xc3\xa9\xc3\xa9"), 6, "\xc3\xa9...");
	check_cap(LIT("\xc3\xa9\xc3\xa9\xc3\xa9"), 7, "\xc3\xa9\xc3\xa9\xc3\xa9");
	check_cap(LIT("\xf0\x9f\x98\x80\xf0\x9f\x98\x80"), 8, "\xf0\x9f\x98\x80...");
	check_cap(LIT("\xf0\x9f\x98\x80\xf0\x9f\x98\x80"), 7, "...");
	/* An escape is never split either. */
	check_cap(LIT("\x1b\x1b"), 9, "\\x1b\\x1b");
	check_cap(LIT("\x1b\x1b"), 8, "\\x1b...");
	check_cap(LIT("\x1b\x1b"), 7, "...");
	check_cap(LIT("ab\n"), 4, "...");
	check_cap(LIT("ab\n"), 5, "ab\\n");
}

static void test_cap_zero_writes_nothing(void **state)
{
	char buf[1] = {'Z'};

	assert_int_equal(sanitize_for_terminal(buf, 0, LIT("abc")), 0);
	assert_int_equal(buf[0], 'Z');
}

static void test_column(void **state)
{
	char buf[8];

	assert_ptr_equal(sanitize_column(buf, sizeof(buf), "bash"), buf);
	assert_string_equal(buf, "bash");
	assert_string_equal(sanitize_column(buf, sizeof(buf), "kworker/u16:3"), "kwor...");
	assert_string_equal(sanitize_column(buf, sizeof(buf), "\x1b[2J"), "\\x1b[2J");
	assert_string_equal(sanitize_column(buf, sizeof(buf), NULL), "");
	assert_string_equal(sanitize_column(NULL, 0, "abc"), "");
}

static void check_decode(const char *s, size_t n, uint32_t want_cp, size_t want_len)
{
	uint32_t cp = 0;

	assert_int_equal(utf8_next(s, n, &cp), want_len);
	assert_int_equal(cp, want_cp);
}

static void test_utf8_valid_boundaries(void **state)
{
	check_decode(LIT("\0"), 0, 1);
	check_decode(LIT("\x7f"), 0x7f, 1);
	check_decode(LIT("\xc2\x80"), 0x80, 2);
	check_decode(LIT("\xdf\xbf"), 0x7ff, 2);
	check_decode(LIT("\xe0\xa0\x80"), 0x800, 3);
	check_decode(LIT("\xed\x9f\xbf"), 0xd7ff, 3);
	check_decode(LIT("\xee\x80\x80"), 0xe000, 3);
	check_decode(LIT("\xef\xbf\xbf"), 0xffff, 3);
	check_decode(LIT("\xf0\x90\x80\x80"), 0x10000, 4);
	check_decode(LIT("\xf0\x9f\x98\x80"), 0x1f600, 4);
	check_decode(LIT("\xf4\x8f\xbf\xbf"), 0x10ffff, 4);
}

/* The lengths are those of Python's bytes.decode("utf-8", "replace"): one U+FFFD each. */
static void test_utf8_maximal_subparts(void **state)
{
	check_decode(LIT("\x80"), UTF8_INVALID, 1);
	check_decode(LIT("\xbf"), UTF8_INVALID, 1);
	check_decode(LIT("\xc0\x80"), UTF8_INVALID, 1); /* overlong lead bytes are never valid */
	check_decode(LIT("\xc1\xbf"), UTF8_INVALID, 1);
	check_decode(LIT("\xe0\x80\x80"), UTF8_INVALID, 1); /* overlong: E0 needs A0..BF */
	check_decode(LIT("\xe0\x9f\xbf"), UTF8_INVALID, 1);
	check_decode(LIT("\xed\xa0\x80"), UTF8_INVALID, 1);	/* a surrogate: ED needs 80..9F */
	check_decode(LIT("\xf0\x8f\xbf\xbf"), UTF8_INVALID, 1); /* overlong: F0 needs 90..BF */
	check_decode(LIT("\xf4\x90\x80\x80"), UTF8_INVALID, 1); /* above U+10FFFF */
	check_decode(LIT("\xf5\x80\x80\x80"), UTF8_INVALID, 1);
	check_decode(LIT("\xff"), UTF8_INVALID, 1);
	check_decode(LIT("\xe2\x82"), UTF8_INVALID, 2); /* truncated by the end */
	check_decode(LIT("\xe2\x82"
			 "A"),
		     UTF8_INVALID, 2); /* truncated by a non-continuation */
	check_decode(LIT("\xf0\x9f\x98"), UTF8_INVALID, 3);
	check_decode(LIT("\xf0\x9f\x98"
			 "A"),
		     UTF8_INVALID, 3);
	check_decode("\xc3\xa9", 1, UTF8_INVALID, 1); /* n bounds the read */
}

static bool is_valid_utf8(const char *s, size_t n)
{
	while (n > 0) {
		uint32_t cp;
		size_t len = utf8_next(s, n, &cp);

		if (cp == UTF8_INVALID)
			return false;
		s += len;
		n -= len;
	}
	return true;
}

/* The promise to the terminal: no C0, no DEL, no C1 in any encoding, always valid UTF-8. */
static void assert_terminal_safe(const char *out, size_t len)
{
	const unsigned char *u = (const unsigned char *)out;

	assert_int_equal(strlen(out), len);
	for (size_t i = 0; i < len; i++) {
		assert_true(u[i] >= ASCII_SPACE);
		assert_true(u[i] != ASCII_DEL);
		if (u[i] == UTF8_C1_LEAD && i + 1 < len)
			assert_false(u[i + 1] >= UTF8_CONT_MIN && u[i + 1] <= UTF8_C1_CONT_MAX);
	}
	assert_true(is_valid_utf8(out, len));
}

/* xorshift32: deterministic, so that a failure reproduces. */
static uint32_t next_random(uint32_t *seed)
{
	*seed ^= *seed << 13;
	*seed ^= *seed >> 17;
	*seed ^= *seed << 5;
	return *seed;
}

/* Biased towards the bytes that matter: controls, lead and continuation bytes. */
static char random_byte(uint32_t *seed)
{
	static const unsigned char interesting[] = {0x00, 0x07, 0x0a, 0x1b, 0x5c, 0x7f, 0x80,
						    0x9b, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf,
						    0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xff};
	uint32_t r = next_random(seed);

	if (r & 1)
		return (char)(r >> 8);
	return (char)interesting[(r >> 8) % sizeof(interesting)];
}

static void test_fuzz_invariants(void **state)
{
	uint32_t seed = FUZZ_SEED;
	char src[FUZZ_MAX_LEN];
	char out[SANITIZE_MAX_EXPANSION * FUZZ_MAX_LEN + 1];

	for (int round = 0; round < FUZZ_ROUNDS; round++) {
		size_t len = next_random(&seed) % (FUZZ_MAX_LEN + 1);
		size_t cap = next_random(&seed) % sizeof(out) + 1;
		size_t full, cut;

		for (size_t i = 0; i < len; i++)
			src[i] = random_byte(&seed);
		full = sanitize_for_terminal(out, sizeof(out), src, len);
		assert_terminal_safe(out, full);
		cut = sanitize_for_terminal(out, cap, src, len);
		assert_true(cut < cap);
		assert_terminal_safe(out, cut);
		if (full < cap)
			assert_int_equal(cut, full);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printable_passes),
		cmocka_unit_test(test_escape_sequences),
		cmocka_unit_test(test_whitespace_and_controls),
		cmocka_unit_test(test_display_controls),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_truncation_plain),
		cmocka_unit_test(test_truncation_boundaries),
		cmocka_unit_test(test_cap_zero_writes_nothing),
		cmocka_unit_test(test_column),
		cmocka_unit_test(test_utf8_valid_boundaries),
		cmocka_unit_test(test_utf8_maximal_subparts),
		cmocka_unit_test(test_fuzz_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
