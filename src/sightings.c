// SPDX-License-Identifier: GPL-2.0
/*
 * sightings.c: the namer reads a process's command line and libraries at its first storage
 * write, not only at the report, so that a process that exits in between keeps them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "names.h"
#include "sightings.h"
#include "writeamp.h"

/*
 * Reading a process's maps costs about as much as a short process does, so a host that starts
 * thousands of writers a second (a build) would keep writeamp busy: past this many a second,
 * the rest are named at the report, as they would be without sightings.
 */
#define SIGHTINGS_PER_SECOND 200

struct wa_sightings {
	struct ring_buffer *rb;
	struct wa_namer *namer;
	time_t second; /* CLOCK_MONOTONIC second that `read` counts */
	unsigned int read;
};

static bool within_budget(struct wa_sightings *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec != s->second) {
		s->second = now.tv_sec;
		s->read = 0;
	}
	return s->read++ < SIGHTINGS_PER_SECOND;
}

static int on_sighting(void *ctx, void *data, size_t size)
{
	struct wa_sightings *s = ctx;
	const struct wa_proc_sighting *p = data;

	if (size < sizeof(*p) || !within_budget(s))
		return 0;
	/* The namer remembers both by pid and start time; the report finds them there. */
	namer_reread_process(s->namer, (pid_t)p->tgid, p->start_ns);
	return 0;
}

struct wa_sightings *sightings_new(int ringbuf_fd, struct wa_namer *namer)
{
	struct wa_sightings *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->namer = namer;
	s->rb = ring_buffer__new(ringbuf_fd, on_sighting, s, NULL);
	if (!s->rb) {
		free(s);
		errno = errno ? errno : ENOMEM;
		return NULL;
	}
	return s;
}

int sightings_fd(const struct wa_sightings *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

void sightings_drain(struct wa_sightings *s)
{
	ring_buffer__consume(s->rb);
}

void sightings_free(struct wa_sightings *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	free(s);
}
