/* test_json_writer.c: unit tests of the JSON writer, read back with jansson. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "comma_locale.h"
#include "json_writer.h"
#include "sanitize.h"

#define FUZZ_ROUNDS	 5000
#define FUZZ_MAX_LEN	 32
#define FUZZ_SEED	 0x9e3779b9U
#define ASCII_SPACE	 0x20
#define ASCII_DEL	 0x7f
#define UTF8_C1_LEAD	 0xc2
#define UTF8_CONT_MIN	 0x80
#define UTF8_C1_CONT_MAX 0x9f
#define REPLACEMENT_UTF8 "\xef\xbf\xbd" /* U+FFFD */
#define PATH_MAX_LEN	 4096

/* A writer onto a memory stream; finish() returns what was written. */
struct doc {
	FILE *stream;
	char *text;
	size_t len;
	struct json_writer *jw;
};

static void doc_open(struct doc *d, bool pretty)
{
	d->text = NULL;
	d->len = 0;
	d->stream = open_memstream(&d->text, &d->len);
	assert_non_null(d->stream);
	d->jw = jw_new(d->stream, pretty);
	assert_non_null(d->jw);
}

/* Closes the stream and returns the text, owned by @d until doc_free(). */
static const char *doc_finish(struct doc *d)
{
	jw_free(d->jw);
	d->jw = NULL;
	assert_int_equal(fclose(d->stream), 0);
	return d->text;
}

static void doc_free(struct doc *d)
{
	free(d->text);
}

static json_t *parse(const char *text, size_t len, size_t flags)
{
	json_error_t err;
	json_t *root = json_loadb(text, len, flags, &err);

	if (!root)
		fail_msg("jansson rejects %s: %s at %d", text, err.text, err.position);
	return root;
}

/* The bytes of a string literal, NULs included. */
#define LIT(s) s, sizeof(s) - 1

static void test_compact_object(void **state)
{
	struct doc d;

	doc_open(&d, false);
	jw_start_object(d.jw);
	jw_kv_u64(d.jw, "a", 1);
	jw_kv_string(d.jw, "b", "x");
	jw_kv_bool(d.jw, "c", true);
	jw_kv_null(d.jw, "d");
	jw_kv_double(d.jw, "e", 0.5);
	jw_kv_i64(d.jw, "f", -7);
	jw_kv_bool(d.jw, "g", false);
	jw_end_object(d.jw);
	assert_true(jw_ok(d.jw));
	assert_string_equal(
		doc_finish(&d),
		"{\"a\":1,\"b\":\"x\",\"c\":true,\"d\":null,\"e\":0.5,\"f\":-7,\"g\":false}\n");
	doc_free(&d);
}

static void test_pretty_layout(void **state)
{
	struct doc d;

	doc_open(&d, true);
	jw_start_object(d.jw);
	jw_kv_u64(d.jw, "a", 1);
	jw_key(d.jw, "b");
	jw_start_array(d.jw);
	jw_u64(d.jw, 1);
	jw_start_object(d.jw);
	jw_end_object(d.jw);
	jw_start_array(d.jw);
	jw_string(d.jw, "s");
	jw_end_array(d.jw);
	jw_end_array(d.jw);
	jw_key(d.jw, "c");
	jw_start_array(d.jw);
	jw_end_array(d.jw);
	jw_end_object(d.jw);
	assert_true(jw_ok(d.jw));
	assert_string_equal(doc_finish(&d), "{\n"
					    "  \"a\": 1,\n"
					    "  \"b\": [\n"
					    "    1,\n"
					    "    {},\n"
					    "    [\n"
					    "      \"s\"\n"
					    "    ]\n"
					    "  ],\n"
					    "  \"c\": []\n"
					    "}\n");
	doc_free(&d);
}

/* [[],[1,2],[[3]],{"k":[{}],"l":{"m":null}}] in both modes, checked by structure. */
static void write_nested(struct json_writer *jw)
{
	jw_start_array(jw);
	jw_start_array(jw);
	jw_end_array(jw);
	jw_start_array(jw);
	jw_u64(jw, 1);
	jw_u64(jw, 2);
	jw_end_array(jw);
	jw_start_array(jw);
	jw_start_array(jw);
	jw_u64(jw, 3);
	jw_end_array(jw);
	jw_end_array(jw);
	jw_start_object(jw);
	jw_key(jw, "k");
	jw_start_array(jw);
	jw_start_object(jw);
	jw_end_object(jw);
	jw_end_array(jw);
	jw_key(jw, "l");
	jw_start_object(jw);
	jw_kv_null(jw, "m");
	jw_end_object(jw);
	jw_end_object(jw);
	jw_end_array(jw);
}

static void check_nested(bool pretty)
{
	struct doc d;
	const char *text;
	json_t *root, *obj;

	doc_open(&d, pretty);
	write_nested(d.jw);
	assert_true(jw_ok(d.jw));
	text = doc_finish(&d);
	if (!pretty)
		assert_string_equal(text, "[[],[1,2],[[3]],{\"k\":[{}],\"l\":{\"m\":null}}]\n");
	root = parse(text, d.len, 0);
	assert_true(json_is_array(root));
	assert_int_equal(json_array_size(root), 4);
	assert_int_equal(json_array_size(json_array_get(root, 0)), 0);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(root, 1), 1)), 2);
	assert_int_equal(
		json_integer_value(json_array_get(json_array_get(json_array_get(root, 2), 0), 0)),
		3);
	obj = json_array_get(root, 3);
	assert_true(json_is_object(json_array_get(json_object_get(obj, "k"), 0)));
	assert_true(json_is_null(json_object_get(json_object_get(obj, "l"), "m")));
	json_decref(root);
	doc_free(&d);
}

static void test_nested_compact(void **state)
{
	check_nested(false);
}

static void test_nested_pretty(void **state)
{
	check_nested(true);
}

static void test_top_level_sequence(void **state)
{
	struct doc d;

	doc_open(&d, false);
	jw_u64(d.jw, 1);
	jw_start_object(d.jw);
	jw_end_object(d.jw);
	jw_string(d.jw, "x");
	assert_true(jw_ok(d.jw));
	assert_string_equal(doc_finish(&d), "1\n{}\n\"x\"\n");
	doc_free(&d);
}

static void test_integers(void **state)
{
	struct doc d;
	json_t *root;

	doc_open(&d, false);
	jw_start_array(d.jw);
	jw_u64(d.jw, 0);
	jw_u64(d.jw, UINT64_MAX);
	jw_i64(d.jw, INT64_MIN);
	jw_i64(d.jw, INT64_MAX);
	jw_end_array(d.jw);
	assert_string_equal(doc_finish(&d),
			    "[0,18446744073709551615,-9223372036854775808,9223372036854775807]\n");
	/* jansson keeps integers in long long, so it can read UINT64_MAX only as a real. */
	root = parse(d.text, d.len, JSON_DECODE_INT_AS_REAL);
	assert_true(json_real_value(json_array_get(root, 1)) == (double)UINT64_MAX);
	json_decref(root);
	doc_free(&d);
}

/* Writes @v alone and checks the text and that jansson reads back the same double. */
static void check_double(double v, const char *want)
{
	struct doc d;
	json_t *root;

	doc_open(&d, false);
	jw_start_array(d.jw);
	jw_double(d.jw, v);
	jw_end_array(d.jw);
	doc_finish(&d);
	assert_string_equal(d.text, want);
	root = parse(d.text, d.len, 0);
	if (isfinite(v)) {
		assert_true(json_is_real(json_array_get(root, 0)));
		assert_true(json_real_value(json_array_get(root, 0)) == v);
	} else {
		assert_true(json_is_null(json_array_get(root, 0)));
	}
	json_decref(root);
	doc_free(&d);
}

static void test_doubles(void **state)
{
	check_double(0.5, "[0.5]\n");
	check_double(1e300, "[1e+300]\n");
	check_double(1.0, "[1.0]\n");
	check_double(-0.0, "[-0.0]\n");
	check_double(0.1, "[0.1]\n");
	check_double(1.0 / 3.0, "[0.3333333333333333]\n");
	check_double(DBL_MAX, "[1.7976931348623157e+308]\n");
	check_double(DBL_MIN, "[2.2250738585072014e-308]\n");
	check_double(5e-324, "[4.94065645841247e-324]\n");
	check_double(123456789012.0, "[123456789012.0]\n");
	check_double(NAN, "[null]\n");
	check_double(INFINITY, "[null]\n");
	check_double(-INFINITY, "[null]\n");
}

static void test_doubles_ignore_locale(void **state)
{
	char text[PATH_MAX_LEN];

	if (!use_comma_locale())
		skip();
	/* Proof that the locale is in force: printf itself now writes a comma. */
	snprintf(text, sizeof(text), "%.1f", 0.5);
	assert_string_equal(text, "0,5");
	check_double(0.5, "[0.5]\n");
	check_double(2.0, "[2.0]\n");
	check_double(1e300, "[1e+300]\n");
	setlocale(LC_NUMERIC, "C");
	unsetenv("LOCPATH");
}

/* Writes @n bytes as a string and returns jansson's reading of it; checks the raw text too. */
static json_t *string_round_trip(const char *s, size_t n, struct doc *d)
{
	json_t *root;
	const unsigned char *u;

	doc_open(d, false);
	jw_string_len(d->jw, s, n);
	assert_true(jw_ok(d->jw));
	doc_finish(d);
	u = (const unsigned char *)d->text;
	for (size_t i = 0; i < d->len; i++) {
		/* Only the newline that ends a top-level value is raw. */
		assert_true(u[i] >= ASCII_SPACE || (u[i] == '\n' && i == d->len - 1));
		assert_true(u[i] != ASCII_DEL);
		if (u[i] == UTF8_C1_LEAD && i + 1 < d->len)
			assert_false(u[i + 1] >= UTF8_CONT_MIN && u[i + 1] <= UTF8_C1_CONT_MAX);
	}
	assert_null(strstr(d->text, "\xe2\x80\xa8"));
	assert_null(strstr(d->text, "\xe2\x80\xa9"));
	root = parse(d->text, d->len, JSON_DECODE_ANY | JSON_ALLOW_NUL);
	assert_true(json_is_string(root));
	return root;
}

/* Valid UTF-8, however hostile, must come back byte for byte. */
static void check_exact(const char *s, size_t n)
{
	struct doc d;
	json_t *root = string_round_trip(s, n, &d);

	assert_int_equal(json_string_length(root), n);
	assert_memory_equal(json_string_value(root), s, n);
	json_decref(root);
	doc_free(&d);
}

/* Invalid UTF-8 must come back as @want, its maximal subparts replaced with U+FFFD. */
static void check_replaced(const char *s, size_t n, const char *want)
{
	struct doc d;
	json_t *root = string_round_trip(s, n, &d);

	assert_string_equal(json_string_value(root), want);
	json_decref(root);
	doc_free(&d);
}

static void check_escaped_text(const char *s, size_t n, const char *want)
{
	struct doc d;

	doc_open(&d, false);
	jw_string_len(d.jw, s, n);
	assert_string_equal(doc_finish(&d), want);
	doc_free(&d);
}

static void test_hostile_valid_strings(void **state)
{
	char all_controls[ASCII_SPACE + 1];

	check_exact(LIT("quote\" backslash\\ slash/ \"\\\\\""));
	check_exact(LIT("line\nbreak\r\n\ttab\b\f"));
	check_exact(LIT("\x1b[31mred\x1b[0m\x1b]0;title\x07"));
	check_exact(LIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0"
			"\x9f\x92\xbb"));
	check_exact(LIT("sep\xe2\x80\xa8par\xe2\x80\xa9"));
	check_exact(LIT("c1 \xc2\x9b"
			"2J \xc2\x80\xc2\x9f del\x7f"));
	check_exact(LIT("nul\0inside\0"));
	check_exact(LIT("\xef\xbf\xbd\xf4\x8f\xbf\xbf\xef\xbb\xbf"));
	check_exact(LIT(""));
	for (int c = 0; c < ASCII_SPACE; c++)
		all_controls[c] = (char)c;
	all_controls[ASCII_SPACE] = ASCII_DEL;
	check_exact(all_controls, sizeof(all_controls));
}

static void test_escape_forms(void **state)
{
	check_escaped_text(LIT("\"\\/"), "\"\\\"\\\\/\"\n");
	check_escaped_text(LIT("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"\n");
	check_escaped_text(LIT("\x1b\x01\x1f\x7f"), "\"\\u001b\\u0001\\u001f\\u007f\"\n");
	check_escaped_text(LIT("\0"), "\"\\u0000\"\n");
	check_escaped_text(LIT("\xc2\x9b"), "\"\\u009b\"\n");
	check_escaped_text(LIT("\xe2\x80\xa8\xe2\x80\xa9"), "\"\\u2028\\u2029\"\n");
	check_escaped_text(LIT("\x9b"), "\"\\ufffd\"\n");
	check_escaped_text(LIT("\xc3\xa9"), "\"\xc3\xa9\"\n");
}

static void test_invalid_utf8_replaced(void **state)
{
	check_replaced(LIT("\x9b"), REPLACEMENT_UTF8);
	check_replaced(LIT("a\xc0\x80z"), "a" REPLACEMENT_UTF8 REPLACEMENT_UTF8 "z");
	check_replaced(LIT("\xe0\x80\xaf"), REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8);
	check_replaced(LIT("\xf0\x80\x80\xaf"),
		       REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8);
	check_replaced(LIT("end\xe2\x82"), "end" REPLACEMENT_UTF8);
	check_replaced(LIT("\xe2\x82"
			   "A"),
		       REPLACEMENT_UTF8 "A");
	check_replaced(LIT("\xf0\x9f\x98"
			   "A"),
		       REPLACEMENT_UTF8 "A");
	check_replaced(LIT("\xed\xa0\x80\xed\xb0\x80"), /* a surrogate pair, CESU-8 style */
		       REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8
			       REPLACEMENT_UTF8 REPLACEMENT_UTF8);
	check_replaced(LIT("\xf4\x90\x80\x80"),
		       REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8);
	check_replaced(LIT("\xff\xfe"), REPLACEMENT_UTF8 REPLACEMENT_UTF8);
	check_replaced(LIT("ok\xc3\xa9\x80ok"), "ok\xc3\xa9" REPLACEMENT_UTF8 "ok");
}

static void test_keys_escaped(void **state)
{
	struct doc d;
	json_t *root;

	doc_open(&d, true);
	jw_start_object(d.jw);
	jw_kv_u64(d.jw, "we\"ird\n\x1b[0m", 1);
	jw_kv_string(d.jw, "bad\xff", "v");
	jw_end_object(d.jw);
	assert_true(jw_ok(d.jw));
	doc_finish(&d);
	root = parse(d.text, d.len, 0);
	assert_int_equal(json_integer_value(json_object_get(root, "we\"ird\n\x1b[0m")), 1);
	assert_string_equal(json_string_value(json_object_get(root, "bad" REPLACEMENT_UTF8)), "v");
	json_decref(root);
	doc_free(&d);
}

static void test_null_string_and_writer(void **state)
{
	struct doc d;

	jw_free(NULL);
	jw_start_object(NULL);
	jw_kv_u64(NULL, "k", 1);
	jw_string(NULL, "s");
	assert_false(jw_ok(NULL));

	doc_open(&d, false);
	jw_string(d.jw, NULL);
	assert_true(jw_ok(d.jw));
	assert_string_equal(doc_finish(&d), "null\n");
	doc_free(&d);
}

/* Runs @misuse after a valid prefix and checks that it failed and wrote nothing more. */
static void check_misuse(void (*misuse)(struct json_writer *jw), const char *want)
{
	struct doc d;

	doc_open(&d, false);
	misuse(d.jw);
	assert_false(jw_ok(d.jw));
	/* Once failed, even valid calls are ignored. */
	jw_u64(d.jw, 1);
	jw_end_object(d.jw);
	jw_end_array(d.jw);
	assert_false(jw_ok(d.jw));
	assert_string_equal(doc_finish(&d), want);
	doc_free(&d);
}

static void value_without_key(struct json_writer *jw)
{
	jw_start_object(jw);
	jw_u64(jw, 1);
}

static void key_in_array(struct json_writer *jw)
{
	jw_start_array(jw);
	jw_key(jw, "k");
}

static void key_at_top(struct json_writer *jw)
{
	jw_key(jw, "k");
}

static void two_keys(struct json_writer *jw)
{
	jw_start_object(jw);
	jw_key(jw, "a");
	jw_key(jw, "b");
}

static void end_after_key(struct json_writer *jw)
{
	jw_start_object(jw);
	jw_key(jw, "a");
	jw_end_object(jw);
}

static void mismatched_end(struct json_writer *jw)
{
	jw_start_object(jw);
	jw_end_array(jw);
}

static void end_at_top(struct json_writer *jw)
{
	jw_end_array(jw);
}

static void too_deep(struct json_writer *jw)
{
	for (int i = 0; i <= JW_MAX_DEPTH; i++)
		jw_start_array(jw);
}

static void test_misuse_fails(void **state)
{
	char deep[JW_MAX_DEPTH + 1];

	check_misuse(value_without_key, "{");
	check_misuse(key_in_array, "[");
	check_misuse(key_at_top, "");
	check_misuse(two_keys, "{\"a\":");
	check_misuse(end_after_key, "{\"a\":");
	check_misuse(mismatched_end, "{");
	check_misuse(end_at_top, "");
	memset(deep, '[', JW_MAX_DEPTH);
	deep[JW_MAX_DEPTH] = '\0';
	check_misuse(too_deep, deep);
}

static void test_max_depth_allowed(void **state)
{
	struct doc d;
	json_t *root;

	doc_open(&d, true);
	for (int i = 0; i < JW_MAX_DEPTH; i++)
		jw_start_array(d.jw);
	for (int i = 0; i < JW_MAX_DEPTH; i++)
		jw_end_array(d.jw);
	assert_true(jw_ok(d.jw));
	doc_finish(&d);
	root = parse(d.text, d.len, 0);
	json_decref(root);
	doc_free(&d);
}

/* xorshift32: deterministic, so that a failure reproduces. */
static uint32_t next_random(uint32_t *seed)
{
	*seed ^= *seed << 13;
	*seed ^= *seed >> 17;
	*seed ^= *seed << 5;
	return *seed;
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

/* Random bytes, biased towards UTF-8 lead and continuation bytes, always make valid JSON. */
static void test_fuzz_strings(void **state)
{
	static const unsigned char interesting[] = {0x00, 0x1b, 0x22, 0x5c, 0x7f, 0x80, 0x9b,
						    0xa0, 0xa8, 0xbf, 0xc0, 0xc2, 0xe0, 0xe2,
						    0xed, 0xf0, 0xf4, 0xf5, 0xff};
	uint32_t seed = FUZZ_SEED;
	char s[FUZZ_MAX_LEN];

	for (int round = 0; round < FUZZ_ROUNDS; round++) {
		size_t n = next_random(&seed) % (FUZZ_MAX_LEN + 1);
		struct doc d;
		json_t *root;

		for (size_t i = 0; i < n; i++) {
			uint32_t r = next_random(&seed);

			s[i] = (char)((r & 1) ? r >> 8
					      : interesting[(r >> 8) % sizeof(interesting)]);
		}
		root = string_round_trip(s, n, &d);
		if (is_valid_utf8(s, n)) {
			assert_int_equal(json_string_length(root), n);
			assert_memory_equal(json_string_value(root), s, n);
		}
		json_decref(root);
		doc_free(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_object),
		cmocka_unit_test(test_pretty_layout),
		cmocka_unit_test(test_nested_compact),
		cmocka_unit_test(test_nested_pretty),
		cmocka_unit_test(test_top_level_sequence),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_doubles_ignore_locale),
		cmocka_unit_test(test_hostile_valid_strings),
		cmocka_unit_test(test_escape_forms),
		cmocka_unit_test(test_invalid_utf8_replaced),
		cmocka_unit_test(test_keys_escaped),
		cmocka_unit_test(test_null_string_and_writer),
		cmocka_unit_test(test_misuse_fails),
		cmocka_unit_test(test_max_depth_allowed),
		cmocka_unit_test(test_fuzz_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
