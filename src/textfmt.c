// SPDX-License-Identifier: GPL-2.0
/* textfmt.c: how the text report prints byte counts, ratios and shares. */
#include <math.h>
#include <stdio.h>

#include "textfmt.h"

#define KIB 1024.0
static const char *const byte_units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};

const char *fmt_bytes(char *buf, __u64 n)
{
	double v = (double)n;
	size_t unit = 0;

	if (n < KIB) {
		snprintf(buf, FMT_LEN, "%llu B", (unsigned long long)n);
		return buf;
	}
	v /= KIB;
	while (v >= KIB && unit + 1 < sizeof(byte_units) / sizeof(byte_units[0])) {
		v /= KIB;
		unit++;
	}
	snprintf(buf, FMT_LEN, "%.1f %s", v, byte_units[unit]);
	return buf;
}

const char *fmt_ratio(char *buf, double v)
{
	if (isnan(v))
		snprintf(buf, FMT_LEN, "-");
	else
		snprintf(buf, FMT_LEN, "%.1fx", v);
	return buf;
}

const char *fmt_percent(char *buf, __u64 part, __u64 whole)
{
	if (!whole)
		snprintf(buf, FMT_LEN, "-");
	else
		snprintf(buf, FMT_LEN, "%.0f%%", 100.0 * (double)part / (double)whole);
	return buf;
}

const char *fmt_avg(char *buf, double v)
{
	if (isnan(v))
		snprintf(buf, FMT_LEN, "-");
	else
		snprintf(buf, FMT_LEN, "%.0f", v);
	return buf;
}
