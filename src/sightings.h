/* SPDX-License-Identifier: GPL-2.0 */
/* sightings.h: reading a process's names from /proc as soon as the kernel first sees it. */
#ifndef WRITEAMP_SIGHTINGS_H
#define WRITEAMP_SIGHTINGS_H

struct wa_namer;
struct wa_sightings;

/* Reads the proc_sightings ring @ringbuf_fd into @namer. NULL with errno on failure. */
struct wa_sightings *sightings_new(int ringbuf_fd, struct wa_namer *namer);

/* The fd to poll for new sightings. */
int sightings_fd(const struct wa_sightings *s);

/* Names every process sighted since the last call. */
void sightings_drain(struct wa_sightings *s);

/* NULL-safe. */
void sightings_free(struct wa_sightings *s);

#endif /* WRITEAMP_SIGHTINGS_H */
