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

#define MAX_KEY_SIZE 64

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

static int compare_trace_id(const void *a, const void *b)
{
	const struct snap_trace *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void note_trace_id(struct wa_snapshot *s, __s64 id)
{
	if (id >= 0)
		s->traces[s->ntraces++].id = (__u32)id;
}

/* Copies the stacks that the path tables name: kernel stacks, and user stacks in FP mode. */
static int read_traces(int fd, bool user_ids, struct wa_snapshot *s)
{
	size_t kept = 0;

	s->traces = calloc(s->nstacks * 2 + s->nstack_dirty * 2 + 1, sizeof(*s->traces));
	if (!s->traces)
		return -ENOMEM;
	for (size_t i = 0; i < s->nstacks; i++) {
		note_trace_id(s, s->stacks[i].k.kstack);
		if (user_ids)
			note_trace_id(s, (__s64)s->stacks[i].k.user - 1);
	}
	for (size_t i = 0; i < s->nstack_dirty && user_ids; i++)
		note_trace_id(s, (__s64)s->stack_dirty[i].k.stack.user - 1);
	qsort(s->traces, s->ntraces, sizeof(*s->traces), compare_trace_id);
	for (size_t i = 0; i < s->ntraces; i++) {
		struct snap_trace *t = &s->traces[kept];

		if (kept && s->traces[kept - 1].id == s->traces[i].id)
			continue;
		t->id = s->traces[i].id;
		if (bpf_map_lookup_elem(fd, &t->id, t->pc))
			continue;
		for (t->n = 0; t->n < WA_STACK_DEPTH && t->pc[t->n]; t->n++)
			;
		kept++;
	}
	s->ntraces = kept;
	return 0;
}

static int read_stacks(const struct tracer_maps *maps, struct wa_snapshot *s)
{
	int err = read_table(maps->stack_weights, LAYOUT(struct snap_stack, k, w),
			     (void **)&s->stacks, &s->nstacks);

	if (!err)
		err = read_table(maps->stack_dirtied, LAYOUT(struct snap_stack_dirty, k, bytes),
				 (void **)&s->stack_dirty, &s->nstack_dirty);
	if (!err)
		err = read_table(maps->stack_writeback, LAYOUT(struct snap_stack_writeback, k, c),
				 (void **)&s->stack_writeback, &s->nstack_writeback);
	if (!err)
		err = read_traces(maps->stack_traces, maps->unwind == WA_UNWIND_FP, s);
	return err;
}

const struct snap_trace *snapshot_trace(const struct wa_snapshot *s, __u32 id)
{
	struct snap_trace key = {.id = id};

	return bsearch(&key, s->traces, s->ntraces, sizeof(*s->traces), compare_trace_id);
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
	if (!err && maps->unwind != WA_UNWIND_OFF)
		err = read_stacks(maps, s);
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
	free(s->stacks);
	free(s->stack_dirty);
	free(s->stack_writeback);
	free(s->traces);
	memset(s, 0, sizeof(*s));
}
