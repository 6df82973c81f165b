// SPDX-License-Identifier: GPL-2.0
/* snapshot.c: copying the BPF maps into plain arrays that the rest of user space reads. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "snapshot.h"
#include "tracer.h"

#define MAX_KEY_SIZE 32

double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The layout of one snapshot array: each element holds a key, then a value at value_offset. */
struct table_layout {
	size_t key_size;
	size_t value_offset;
	size_t value_size;
	size_t elem_size;
};

#define LAYOUT(type, key_field, value_field)                    \
	((struct table_layout){                                 \
		.key_size = sizeof(((type *)0)->key_field),     \
		.value_offset = offsetof(type, value_field),    \
		.value_size = sizeof(((type *)0)->value_field), \
		.elem_size = sizeof(type),                      \
	})

/*
 * Walks a hash map key by key. An entry deleted between get_next_key and lookup is skipped;
 * a concurrent insert may or may not be seen, which is the nature of a snapshot.
 */
static int read_table(int fd, struct table_layout l, void **array, size_t *n)
{
	unsigned char key[MAX_KEY_SIZE], next[MAX_KEY_SIZE];
	size_t cap = 0, count = 0;
	unsigned char *out = NULL;
	void *prev = NULL;

	for (;;) {
		if (bpf_map_get_next_key(fd, prev, next)) {
			int err = -errno;

			if (err == -ENOENT)
				break;
			free(out);
			return err;
		}
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			unsigned char *grown = realloc(out, ncap * l.elem_size);

			if (!grown) {
				free(out);
				return -ENOMEM;
			}
			out = grown;
			cap = ncap;
		}
		memset(out + count * l.elem_size, 0, l.elem_size);
		memcpy(out + count * l.elem_size, next, l.key_size);
		if (bpf_map_lookup_elem(fd, next, out + count * l.elem_size + l.value_offset) == 0)
			count++;
		memcpy(key, next, l.key_size);
		prev = key;
	}
	*array = out;
	*n = count;
	return 0;
}

static void read_losses(int fd, __u64 losses[WA_LOSS__COUNT])
{
	for (__u32 i = 0; i < WA_LOSS__COUNT; i++)
		if (bpf_map_lookup_elem(fd, &i, &losses[i]))
			losses[i] = 0;
}

static int read_open_txns(int fd, struct wa_snapshot *s)
{
	struct snap_txn {
		struct wa_txn_key k;
		struct wa_txn s;
	} *txns = NULL;
	size_t n = 0;
	int err = read_table(fd, LAYOUT(struct snap_txn, k, s), (void **)&txns, &n);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		s->journal_in_flight_bytes += txns[i].s.bytes;
		s->journal_open_txns++;
	}
	free(txns);
	return 0;
}

int snapshot_take_files(const struct tracer_maps *maps, struct wa_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->taken_s = monotonic_seconds();
	return read_table(maps->files, LAYOUT(struct snap_file, k, s), (void **)&s->files,
			  &s->nfiles);
}

int snapshot_take(const struct tracer_maps *maps, struct wa_snapshot *s)
{
	int err;

	err = snapshot_take_files(maps, s);
	if (!err)
		err = read_table(maps->procs, LAYOUT(struct snap_proc, tgid, s), (void **)&s->procs,
				 &s->nprocs);
	if (!err)
		err = read_table(maps->writers, LAYOUT(struct snap_writer, k, s),
				 (void **)&s->writers, &s->nwriters);
	if (!err)
		err = read_table(maps->devs, LAYOUT(struct snap_dev, dev, s), (void **)&s->devs,
				 &s->ndevs);
	if (!err)
		err = read_open_txns(maps->txns, s);
	if (err) {
		snapshot_free(s);
		return err;
	}
	read_losses(maps->losses, s->losses);
	return 0;
}

void snapshot_free(struct wa_snapshot *s)
{
	free(s->procs);
	free(s->writers);
	free(s->files);
	free(s->devs);
	memset(s, 0, sizeof(*s));
}
