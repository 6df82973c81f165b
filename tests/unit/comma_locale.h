/* SPDX-License-Identifier: GPL-2.0 */
/*
 * comma_locale.h: switches a unit test to a locale whose decimal point is ',', to check that
 * numbers in JSON and SVG do not follow the locale. Our own copy of such a locale (in the
 * fixtures) comes first, then the system's.
 */
#ifndef WRITEAMP_TEST_COMMA_LOCALE_H
#define WRITEAMP_TEST_COMMA_LOCALE_H

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES_ENV	 "WRITEAMP_FIXTURES"
#define FIXTURES_DEFAULT "tests/unit/fixtures"
#define COMMA_LOCALE_DIR "locale" /* under the fixtures, for LOCPATH */
#define COMMA_LOCALE	 "decimal_comma"
#define SYSTEM_COMMA	 "de_DE.UTF-8"
#define LOCPATH_MAX	 4096

/* glibc looks for LOCPATH/<name>/LC_NUMERIC whenever setlocale() is called. */
static inline bool use_comma_locale(void)
{
	const char *fixtures = getenv(FIXTURES_ENV);
	char locpath[LOCPATH_MAX];

	snprintf(locpath, sizeof(locpath), "%s/%s", fixtures ? fixtures : FIXTURES_DEFAULT,
		 COMMA_LOCALE_DIR);
	setenv("LOCPATH", locpath, 1);
	if (!setlocale(LC_NUMERIC, COMMA_LOCALE)) {
		unsetenv("LOCPATH");
		if (!setlocale(LC_NUMERIC, SYSTEM_COMMA))
			return false;
	}
	return strcmp(localeconv()->decimal_point, ",") == 0;
}

#endif /* WRITEAMP_TEST_COMMA_LOCALE_H */
