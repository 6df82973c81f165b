// SPDX-License-Identifier: GPL-2.0
/* output_folded.c: the call paths as folded stacks, one line per path with its weight. */
#include <errno.h>
#include <string.h>

#include "analysis.h"
#include "output.h"

#define KERNEL_SUFFIX "_[k]"

char *folded_frame(char *dst, size_t len, const char *name, bool kernel)
{
	size_t n = 0, room = len - (kernel ? sizeof(KERNEL_SUFFIX) - 1 : 0);

	if (!len)
		return dst;
	for (const char *p = name ? name : ""; *p && n + 1 < room; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ';')
			c = ':';
		else if (c < 0x20 || c == 0x7f)
			c = '?';
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	if (kernel && n + sizeof(KERNEL_SUFFIX) <= len)
		memcpy(dst + n, KERNEL_SUFFIX, sizeof(KERNEL_SUFFIX));
	return dst;
}

static void write_path(FILE *out, const struct wa_stack_row *row, __u64 weight)
{
	char buf[1024];

	fputs(folded_frame(buf, sizeof(buf), row->comm, false), out);
	for (size_t f = 0; f < row->nframes; f++) {
		fputc(';', out);
		fputs(folded_frame(buf, sizeof(buf), row->frames[f].name, row->frames[f].kernel),
		      out);
	}
	fprintf(out, " %llu\n", (unsigned long long)weight);
}

int output_folded(FILE *out, const struct wa_report *r, enum wa_weight weight)
{
	for (size_t i = 0; i < r->nstacks; i++) {
		__u64 w = stack_weight(&r->stacks[i].w, weight);

		if (w)
			write_path(out, &r->stacks[i], w);
	}
	if (fflush(out) || ferror(out)) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}
