/* test_advice_table.c: recognising software by the libraries it maps, not only by its name. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "findings.h"

/* A Python program using the sqlite3 module, as /proc/PID/maps lists it on Debian 12. */
#define PYTHON_SQLITE_LIBS                                                  \
	"python3.11 libc.so.6 libm.so.6 libz.so.1.2.13 libexpat.so.1.8.10 " \
	"_sqlite3.cpython-311-x86_64-linux-gnu.so libsqlite3.so.0.8.6 ld-linux-x86-64.so.2"

static void test_an_embedded_library_names_the_software(void **state)
{
	(void)state;
	assert_string_equal(software_of("python3", "python3 app.py", PYTHON_SQLITE_LIBS), "sqlite");
	assert_string_equal(software_of("myservice", NULL, "libc.so.6 librocksdb.so.7.8"),
			    "rocksdb");
}

static void test_a_library_name_must_match_up_to_its_so(void **state)
{
	(void)state;
	/* a wrapper whose name starts like the library is not the library */
	assert_null(software_of("app", NULL, "libsqlite3x.so.1 libc.so.6"));
	assert_null(software_of("app", NULL, "libsqlite3"));
	assert_null(software_of("app", NULL, ""));
	assert_null(software_of("python3", "python3 app.py", "libc.so.6 libm.so.6"));
}

static void test_the_program_wins_over_a_library_it_maps(void **state)
{
	(void)state;
	/* redis built against a library in the table is still redis, whatever the table's order */
	assert_string_equal(software_of("redis-server", NULL, "librocksdb.so.7 libsqlite3.so.0"),
			    "redis");
	assert_string_equal(software_of(NULL, "postgres: checkpointer", "libsqlite3.so.0"),
			    "postgresql");
}

static void test_a_library_user_gets_that_librarys_advice(void **state)
{
	const struct wa_software_advice *a;

	(void)state;
	a = software_advice_for(software_of("python3", NULL, PYTHON_SQLITE_LIBS),
				"small-sync-writes");
	assert_non_null(a);
	assert_non_null(strstr(a->change, "journal_mode=WAL"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_embedded_library_names_the_software),
		cmocka_unit_test(test_a_library_name_must_match_up_to_its_so),
		cmocka_unit_test(test_the_program_wins_over_a_library_it_maps),
		cmocka_unit_test(test_a_library_user_gets_that_librarys_advice),
	};

	return cmocka_run_group_tests_name("advice_table", tests, NULL, NULL);
}
