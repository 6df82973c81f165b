/* test_hist.c: unit tests of the histogram slots and of hist_print against real bpftrace output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

/*
 * The fixtures are read relative to the working directory, the top of the tree when run by
 * tests/run.py; WRITEAMP_FIXTURES names another directory.
 */
#define FIXTURES_ENV	 "WRITEAMP_FIXTURES"
#define FIXTURES_DEFAULT "tests/unit/fixtures"
#define FIXTURE_PREFIX	 "hist_"
#define INPUT_SUFFIX	 ".input"
#define OUTPUT_SUFFIX	 ".bpftrace"
#define MAP_HEADER	 "@h: \n" /* bpftrace's line before the map's value */
#define MAP_END		 "\n\n"	  /* the last bucket line, then the blank line after the map */
#define PATH_MAX_LEN	 4096
#define LINE_MAX_LEN	 256

/* Every hist_<name>.input/.bpftrace pair in the fixtures directory; see gen_hist_fixtures.py. */
static const char *const fixtures[] = {
	"basic",	   "single", "zero_only", "one_only", "scaling13",   "scaling100",
	"float_bar",	   "gaps",   "leading",	  "top",      "wide_labels", "large_counts",
	"float_bar_large",
};

#define ARRAY_LEN(a)  (sizeof(a) / sizeof((a)[0]))
#define FIXTURE_COUNT ARRAY_LEN(fixtures)

static const char *fixtures_dir(void)
{
	const char *dir = getenv(FIXTURES_ENV);

	return dir ? dir : FIXTURES_DEFAULT;
}

static void fixture_path(char *buf, size_t cap, const char *name, const char *suffix)
{
	int len = snprintf(buf, cap, "%s/%s%s%s", fixtures_dir(), FIXTURE_PREFIX, name, suffix);

	assert_true(len > 0 && (size_t)len < cap);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;

	if (!f)
		fail_msg("cannot open %s (run from the top of the tree or set %s)", path,
			 FIXTURES_ENV);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	text = malloc((size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	return text;
}

/* Fills @h from "<value> <count>" lines; '#' starts a comment. */
static void load_input(const char *name, struct wa_hist *h)
{
	char path[PATH_MAX_LEN], line[LINE_MAX_LEN];
	FILE *f;

	fixture_path(path, sizeof(path), name, INPUT_SUFFIX);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	memset(h, 0, sizeof(*h));
	while (fgets(line, sizeof(line), f)) {
		uint64_t value, count;
		char *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
		if (strspn(line, " \t\n") == strlen(line))
			continue;
		if (sscanf(line, "%" SCNu64 " %" SCNu64, &value, &count) != 2)
			fail_msg("%s: bad line: %s", path, line);
		h->slot[hist_slot(value)] += count;
	}
	fclose(f);
}

/* The bucket lines of bpftrace's output: after "@h: \n", up to the blank line. */
static char *load_expected(const char *name)
{
	char path[PATH_MAX_LEN];
	char *text, *start, *end, *lines;

	fixture_path(path, sizeof(path), name, OUTPUT_SUFFIX);
	text = read_file(path);
	start = strstr(text, MAP_HEADER);
	if (!start)
		fail_msg("%s: no %s", path, MAP_HEADER);
	start += strlen(MAP_HEADER);
	end = strstr(start, MAP_END);
	if (!end)
		fail_msg("%s: the map does not end with a blank line", path);
	lines = strndup(start, (size_t)(end - start) + 1); /* keep the last line's newline */
	free(text);
	return lines;
}

/* What hist_print() writes for @h. */
static char *render(const struct wa_hist *h)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	assert_non_null(mem);
	hist_print(mem, h);
	fclose(mem);
	return text;
}

static void test_fixture(void **state)
{
	const char *name = *state;
	struct wa_hist h;
	char *want, *got;

	load_input(name, &h);
	want = load_expected(name);
	got = render(&h);
	assert_string_equal(got, want);
	free(want);
	free(got);
}

static bool is_listed(const char *name, size_t len)
{
	for (size_t i = 0; i < FIXTURE_COUNT; i++) {
		if (strlen(fixtures[i]) == len && strncmp(fixtures[i], name, len) == 0)
			return true;
	}
	return false;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A fixture added to the directory but not to fixtures[] would silently never be compared. */
static void test_every_fixture_listed(void **state)
{
	DIR *dir = opendir(fixtures_dir());
	struct dirent *entry;
	size_t found = 0;

	if (!dir)
		fail_msg("cannot open %s", fixtures_dir());
	while ((entry = readdir(dir))) {
		const char *name = entry->d_name;
		size_t prefix = strlen(FIXTURE_PREFIX);

		if (strncmp(name, FIXTURE_PREFIX, prefix) != 0 || !has_suffix(name, INPUT_SUFFIX))
			continue;
		if (!is_listed(name + prefix, strlen(name) - prefix - strlen(INPUT_SUFFIX)))
			fail_msg("%s is not in fixtures[]", name);
		found++;
	}
	closedir(dir);
	assert_int_equal(found, FIXTURE_COUNT);
}

static void test_slot_boundaries(void **state)
{
	assert_int_equal(hist_slot(0), 0);
	assert_int_equal(hist_slot(1), 1);
	assert_int_equal(hist_slot(2), 2);
	assert_int_equal(hist_slot(3), 2);
	assert_int_equal(hist_slot(4), 3);
	assert_int_equal(hist_slot(1023), 10);
	assert_int_equal(hist_slot(1024), 11);
	assert_int_equal(hist_slot((1ULL << 29) - 1), 29);
	assert_int_equal(hist_slot(1ULL << 29), 30);
	assert_int_equal(hist_slot((1ULL << 30) - 1), 30);
	assert_int_equal(hist_slot(1ULL << 30), WA_HIST_SLOTS - 1);
	assert_int_equal(hist_slot(1ULL << 31), WA_HIST_SLOTS - 1);
	assert_int_equal(hist_slot(1ULL << 40), WA_HIST_SLOTS - 1);
	assert_int_equal(hist_slot(1ULL << 63), WA_HIST_SLOTS - 1);
	assert_int_equal(hist_slot(UINT64_MAX), WA_HIST_SLOTS - 1);
}

/* Slot k >= 1 is [2^(k-1), 2^k): both ends of every bounded slot, and hist_slot_min(). */
static void test_slot_ranges(void **state)
{
	assert_int_equal(hist_slot_min(0), 0);
	for (unsigned int k = 1; k < WA_HIST_SLOTS - 1; k++) {
		__u64 low = 1ULL << (k - 1), high = 1ULL << k;

		assert_int_equal(hist_slot(low), k);
		assert_int_equal(hist_slot(high - 1), k);
		assert_int_equal(hist_slot(high), k + 1);
		assert_int_equal(hist_slot_min(k), low);
	}
	assert_int_equal(hist_slot_min(WA_HIST_SLOTS - 1), HIST_OPEN_MIN);
	assert_int_equal(HIST_OPEN_MIN, 1ULL << 30);
}

static void check_label(unsigned int slot, const char *want)
{
	char buf[HIST_LABEL_MAX];

	assert_string_equal(hist_slot_label(buf, sizeof(buf), slot), want);
}

static void test_labels(void **state)
{
	check_label(0, "[0]");
	check_label(1, "[1]");
	check_label(2, "[2, 4)");
	check_label(3, "[4, 8)");
	check_label(10, "[512, 1K)");
	check_label(11, "[1K, 2K)");
	check_label(20, "[512K, 1M)");
	check_label(21, "[1M, 2M)");
	check_label(29, "[256M, 512M)");
	check_label(30, "[512M, 1G)");
	check_label(31, "[1G, ...)");
}

static void test_empty_prints_nothing(void **state)
{
	struct wa_hist h = {0};
	char *got = render(&h);

	assert_string_equal(got, "");
	free(got);
}

/* Our own last slot, which bpftrace has no equivalent of, against a hand-written line. */
static void test_open_slot(void **state)
{
	struct wa_hist h = {0};
	char *got;

	h.slot[hist_slot(1ULL << 29)] = 1;
	h.slot[hist_slot(1ULL << 30)] += 1;
	h.slot[hist_slot(UINT64_MAX)] += 1;
	got = render(&h);
	assert_string_equal(
		got,
		"[512M, 1G)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
		"[1G, ...)              2 "
		"|@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n");
	free(got);
}

/* bpftrace truncates counts to int; we print them whole. */
static void test_counts_beyond_int(void **state)
{
	struct wa_hist h = {0};
	char *got;

	h.slot[0] = 5000000000ULL;
	h.slot[2] = 2500000000ULL;
	got = render(&h);
	assert_string_equal(
		got,
		"[0]             5000000000 "
		"|@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
		"[1]                    0 |                                                    |\n"
		"[2, 4)          2500000000 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          "
		"|\n");
	free(got);
}

int main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_slot_boundaries),
		cmocka_unit_test(test_slot_ranges),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_empty_prints_nothing),
		cmocka_unit_test(test_open_slot),
		cmocka_unit_test(test_counts_beyond_int),
		cmocka_unit_test(test_every_fixture_listed),
	};
	struct CMUnitTest tests[ARRAY_LEN(fixed) + FIXTURE_COUNT];
	char names[FIXTURE_COUNT][LINE_MAX_LEN];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(fixed); i++)
		tests[n++] = fixed[i];
	/* One test per fixture, named after it, so that a failure says which. */
	for (size_t i = 0; i < FIXTURE_COUNT; i++, n++) {
		snprintf(names[i], sizeof(names[i]), "fixture_%s", fixtures[i]);
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_fixture,
									(void *)fixtures[i]);
		tests[n].name = names[i];
	}
	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
