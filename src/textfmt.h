/* SPDX-License-Identifier: GPL-2.0 */
/* textfmt.h: how the text report prints byte counts, ratios and shares, into FMT_LEN buffers. */
#ifndef WRITEAMP_TEXTFMT_H
#define WRITEAMP_TEXTFMT_H

#include <linux/types.h>

#define FMT_LEN 24

/* "512 B", "1.5 KiB", "3.2 MiB"... */
const char *fmt_bytes(char *buf, __u64 n);

/* "12.3x", or "-" for NAN. */
const char *fmt_ratio(char *buf, double v);

/* "42%", or "-" when whole is 0. */
const char *fmt_percent(char *buf, __u64 part, __u64 whole);

/* A rounded mean, or "-" for NAN. */
const char *fmt_avg(char *buf, double v);

#endif /* WRITEAMP_TEXTFMT_H */
