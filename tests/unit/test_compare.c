/*
 * test_compare.c: writeamp compare on reports written here by hand. How findings are matched
 * (by container, and by directory for rotated files), and that a malformed report is refused
 * with a message naming the entry and what is wrong with it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "report_file.h"

#define WHY_CAP	 512
#define PATH_CAP 256

/* A report with only what compare reads; @findings is the JSON text of its findings array. */
#define REPORT(findings)                                                                     \
	"{\"version\": 1, \"tool\": \"by hand\", \"mode\": \"report\", \"duration_s\": 1.0," \
	" \"processes\": [], \"files\": [], \"containers\": [],"                             \
	" \"totals\": {\"write\": {\"bytes\": 0}}, \"findings\": " findings "}"

#define FINDING(id, container, comm, file)                                                        \
	"{\"id\": \"" id "\", \"severity\": \"high\", \"target\": {\"pid\": 1, \"comm\": \"" comm \
	"\", \"container\": " container ", \"file\": \"" file "\"}}"

#define AOF "/data/appendonly.aof"
#define WAL "/var/lib/postgresql/15/main/pg_wal/"

static char dir[] = "/tmp/writeamp-test-compare-XXXXXX";

static const char *write_report(const char *name, const char *text)
{
	static char paths[2][PATH_CAP];
	static int next;
	char *path = paths[next++ % 2];
	FILE *f;

	snprintf(path, PATH_CAP, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* cmd_compare --json on two reports, its stdout parsed. */
static json_t *compare_json(const char *before, const char *after)
{
	char *argv[] = {"compare", "--json", (char *)before, (char *)after, NULL};
	struct wa_options opts = {.command = WA_CMD_COMPARE, .sub_argc = 4, .sub_argv = argv};
	FILE *captured = tmpfile();
	int saved = dup(STDOUT_FILENO), status;
	json_error_t err;
	json_t *root;

	assert_non_null(captured);
	fflush(stdout);
	assert_int_not_equal(dup2(fileno(captured), STDOUT_FILENO), -1);
	status = cmd_compare(&opts);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	assert_int_equal(status, 0);
	rewind(captured);
	root = json_loadf(captured, 0, &err);
	fclose(captured);
	assert_non_null(root);
	return root;
}

static json_t *findings_with(json_t *c, const char *status)
{
	json_t *v = json_object_get(json_object_get(c, "findings"), status);

	assert_true(json_is_array(v));
	return v;
}

static const char *str(const json_t *f, const char *key)
{
	return json_string_value(json_object_get(f, key));
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Whether @status holds exactly one finding of that container, comm and before/after file. */
static bool has(json_t *c, const char *status, const char *container, const char *comm,
		const char *before_file, const char *after_file)
{
	json_t *all = findings_with(c, status), *f;
	size_t i, n = 0;

	json_array_foreach(all, i, f)
	{
		n += same(str(f, "container"), container) && same(str(f, "comm"), comm) &&
		     same(str(f, "before_file"), before_file) &&
		     same(str(f, "after_file"), after_file);
	}
	return n == 1;
}

/* Two redis containers of one image write the same path. */
#define IN_CACHE_A FINDING("small-sync-writes", "\"cache-a\"", "redis-server", AOF)
#define IN_CACHE_B FINDING("small-sync-writes", "\"cache-b\"", "redis-server", AOF)

static void test_findings_of_two_containers_on_one_path_stay_apart(void **state)
{
	static const char before[] = REPORT("[" IN_CACHE_A "," IN_CACHE_B "]");
	static const char after[] = REPORT("[" IN_CACHE_B "]");
	const char *b = write_report("b.json", before), *a = write_report("a.json", after);
	json_t *c = compare_json(b, a);

	(void)state;
	assert_int_equal(json_array_size(findings_with(c, "gone")), 1);
	assert_true(has(c, "gone", "cache-a", "redis-server", AOF, NULL));
	assert_int_equal(json_array_size(findings_with(c, "still_there")), 1);
	assert_true(has(c, "still_there", "cache-b", "redis-server", AOF, AOF));
	assert_int_equal(json_array_size(findings_with(c, "new")), 0);
	json_decref(c);
}

#define WAL_1	   FINDING("small-sync-writes", "null", "postgres", WAL "0001")
#define WAL_2	   FINDING("small-sync-writes", "null", "postgres", WAL "0002")
#define LOG_ONE	   FINDING("small-sync-writes", "null", "postgres", "/srv/one/log")
#define LOG_TWO	   FINDING("small-sync-writes", "null", "postgres", "/srv/two/log")
#define AOF_IN_Q   FINDING("small-sync-writes", "\"q\"", "redis-server", AOF)
#define AOF_2_IN_R FINDING("small-sync-writes", "\"r\"", "redis-server", AOF ".2")

static void test_a_rotated_file_matches_by_directory_for_the_same_owner_only(void **state)
{
	static const char before[] = REPORT("[" WAL_1 "," LOG_ONE "," AOF_IN_Q "]");
	static const char after[] = REPORT("[" WAL_2 "," LOG_TWO "," AOF_2_IN_R "]");
	const char *b = write_report("b.json", before), *a = write_report("a.json", after);
	json_t *c = compare_json(b, a), *still;

	(void)state;
	assert_int_equal(json_array_size(findings_with(c, "still_there")), 1);
	assert_true(has(c, "still_there", NULL, "postgres", WAL "0001", WAL "0002"));
	still = json_array_get(findings_with(c, "still_there"), 0);
	assert_string_equal(str(still, "matched_by"), "directory");
	assert_string_equal(str(still, "file"), WAL "0001");
	/* another directory, or another container: no match */
	assert_int_equal(json_array_size(findings_with(c, "gone")), 2);
	assert_true(has(c, "gone", NULL, "postgres", "/srv/one/log", NULL));
	assert_true(has(c, "gone", "q", "redis-server", AOF, NULL));
	assert_int_equal(json_array_size(findings_with(c, "new")), 2);
	assert_true(has(c, "new", NULL, "postgres", NULL, "/srv/two/log"));
	assert_true(has(c, "new", "r", "redis-server", NULL, AOF ".2"));
	json_decref(c);
}

static void check_refused(const char *report, const char *want)
{
	char why[WHY_CAP], expected[WHY_CAP];
	const char *path = write_report("bad.json", report);
	json_t *root = report_file_load(path, why, sizeof(why));

	assert_null(root);
	snprintf(expected, sizeof(expected), "%s: %s", path, want);
	assert_string_equal(why, expected);
}

static void test_malformed_entries_are_refused_by_name(void **state)
{
	char why[WHY_CAP];
	json_t *root;

	(void)state;
	root = report_file_load(write_report("good.json", REPORT("[]")), why, sizeof(why));
	assert_non_null(root);
	json_decref(root);
	check_refused("{\"version\": 1, \"processes\": [42], \"files\": [], \"totals\": {}}",
		      "processes[0] is a number; it must be an object");
	check_refused("{\"version\": 1, \"processes\": [{\"comm\": \"w\"}, {}], \"files\": [],"
		      " \"totals\": {}}",
		      "processes[1].comm is missing; it must be a string");
	check_refused("{\"version\": 1, \"processes\": [], \"files\": [\"/x\"], \"totals\": {}}",
		      "files[0] is a string; it must be an object");
	check_refused("{\"version\": 1, \"processes\": [], \"files\": [], \"totals\": {},"
		      " \"containers\": [{\"name\": \"db\"}]}",
		      "containers[0].id is missing; it must be a string");
	check_refused(REPORT("{}"), "findings is an object; it must be an array");
	check_refused(REPORT("[{\"severity\": \"high\", \"target\": {\"comm\": \"w\"}}]"),
		      "findings[0].id is missing; it must be a non-empty string");
	check_refused(REPORT("[{\"id\": \"\", \"target\": {\"comm\": \"w\"}}]"),
		      "findings[0].id is an empty string; it must be a non-empty string");
	check_refused(REPORT("[{\"id\": \"x\"}]"), "findings[0].target is missing; it must be an "
						   "object");
	check_refused(REPORT("[{\"id\": \"x\", \"target\": {\"comm\": \"w\", \"file\": 3}}]"),
		      "findings[0].target.file is a number; it must be a string or null");
}

static int make_dir(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	static const char *const names[] = {"a.json", "b.json", "bad.json", "good.json"};
	char path[PATH_CAP];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_findings_of_two_containers_on_one_path_stay_apart),
		cmocka_unit_test(test_a_rotated_file_matches_by_directory_for_the_same_owner_only),
		cmocka_unit_test(test_malformed_entries_are_refused_by_name),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
