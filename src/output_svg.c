// SPDX-License-Identifier: GPL-2.0
/* output_svg.c: the call paths as a flame graph, with frames named as in the folded format. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "flamegraph.h"
#include "output.h"

#define FRAME_NAME_MAX 1024

/* Frame names of one path: the process name, then its frames, in one block per path. */
static char **path_names(const struct wa_stack_row *row)
{
	char **names = calloc(row->nframes + 1, sizeof(*names));
	char buf[FRAME_NAME_MAX];

	if (!names)
		return NULL;
	names[0] = strdup(folded_frame(buf, sizeof(buf), row->comm, false));
	for (size_t f = 0; f < row->nframes && names[f]; f++)
		names[f + 1] = strdup(
			folded_frame(buf, sizeof(buf), row->frames[f].name, row->frames[f].kernel));
	if (!names[row->nframes]) {
		for (size_t f = 0; f <= row->nframes; f++)
			free(names[f]);
		free(names);
		return NULL;
	}
	return names;
}

static void free_paths(struct flame_path *paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t f = 0; f < paths[i].nframes; f++)
			free((char *)paths[i].frames[f]);
		free((void *)paths[i].frames);
	}
	free(paths);
}

int output_svg(FILE *out, const struct wa_report *r, enum wa_weight weight)
{
	struct flame_path *paths = calloc(r->nstacks + 1, sizeof(*paths));
	char title[128];
	size_t n = 0;
	int rc;

	if (!paths)
		return -1;
	for (size_t i = 0; i < r->nstacks; i++) {
		__u64 w = stack_weight(&r->stacks[i].w, weight);
		char **names;

		if (!w)
			continue;
		names = path_names(&r->stacks[i]);
		if (!names) {
			free_paths(paths, n);
			errno = ENOMEM;
			return -1;
		}
		paths[n++] = (struct flame_path){
			.frames = (const char *const *)names,
			.nframes = r->stacks[i].nframes + 1,
			.weight = w,
		};
	}
	snprintf(title, sizeof(title), "writeamp: %s by call path", weight_name(weight));
	rc = flamegraph_svg(out, paths, n,
			    &(struct flame_style){
				    .title = title,
				    .weight_name = weight_name(weight),
				    .weight_is_bytes = weight == WA_WEIGHT_APP_BYTES ||
						       weight == WA_WEIGHT_DEVICE_BYTES,
			    });
	free_paths(paths, n);
	return rc;
}
