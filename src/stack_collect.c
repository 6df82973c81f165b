// SPDX-License-Identifier: GPL-2.0
/* stack_collect.c: the --stacks ring buffer: first sightings and sampled user stacks. */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "stack_collect.h"
#include "unwind.h"
#include "writeamp.h"

struct wa_stack_collector {
	struct ring_buffer *rb;
	struct wa_procmaps *maps;
	void *tree; /* tsearch tree of struct sampled_path * */
	size_t npaths;
	const struct sampled_path **sorted; /* built on the first query after new samples */
	bool sorted_stale;
	__u64 samples;
	__u64 truncated;
};

static int compare_owner(const struct sampled_path *x, const struct sampled_path *y)
{
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->user != y->user)
		return x->user < y->user ? -1 : 1;
	return 0;
}

static int compare_path(const void *a, const void *b)
{
	const struct sampled_path *x = a, *y = b;
	int c = compare_owner(x, y);

	if (c)
		return c;
	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return memcmp(x->pc, y->pc, x->n * sizeof(x->pc[0]));
}

static void count_path(struct wa_stack_collector *c, __u32 tgid, __u64 user,
		       const struct unwound *u)
{
	struct sampled_path *p = malloc(sizeof(*p) + u->n * sizeof(p->pc[0]));
	void *found;

	if (!p)
		return;
	p->tgid = tgid;
	p->user = user;
	p->count = 1;
	p->truncated = u->truncated;
	p->n = u->n;
	memcpy(p->pc, u->pc, u->n * sizeof(p->pc[0]));
	found = tsearch(p, &c->tree, compare_path);
	if (!found) {
		free(p);
		return;
	}
	if (*(struct sampled_path **)found != p) {
		(*(struct sampled_path **)found)->count++;
		free(p);
		return;
	}
	c->npaths++;
	c->sorted_stale = true;
}

static bool leaf_is_mapped(struct wa_addrspace *as, const struct wa_stack_record_head *h,
			   const struct unwound *u)
{
	return !as->dwfl || dwfl_addrmodule(as->dwfl, u->pc[0]);
}

static void handle_sample(struct wa_stack_collector *c, const struct wa_stack_sample *s,
			  size_t size)
{
	struct wa_addrspace *as = procmaps_get(c->maps, s->h.tgid);
	struct unwound u;

	if (!as || size < sizeof(s->h) + s->h.stack_len)
		return;
	unwind_sample(as, &s->h, s->stack, &u);
	if (!leaf_is_mapped(as, &s->h, &u)) {
		/* Code mapped since the process was first seen (dlopen): read its maps again. */
		procmaps_refresh(c->maps, as);
		unwind_sample(as, &s->h, s->stack, &u);
	}
	c->samples++;
	if (u.truncated)
		c->truncated++;
	count_path(c, s->h.tgid, s->h.user, &u);
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct wa_stack_collector *c = ctx;
	const struct wa_stack_record_head *h = data;

	if (size < sizeof(*h))
		return 0;
	if (h->kind == WA_REC_FIRST_SIGHT)
		procmaps_get(c->maps, h->tgid);
	else if (h->kind == WA_REC_SAMPLE)
		handle_sample(c, data, size);
	return 0;
}

struct wa_stack_collector *collector_new(int ringbuf_fd, struct wa_procmaps *maps)
{
	struct wa_stack_collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->maps = maps;
	c->rb = ring_buffer__new(ringbuf_fd, handle_record, c, NULL);
	if (!c->rb) {
		free(c);
		return NULL;
	}
	return c;
}

void collector_free(struct wa_stack_collector *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	tdestroy(c->tree, free);
	free(c->sorted);
	free(c);
}

int collector_fd(const struct wa_stack_collector *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

void collector_drain(struct wa_stack_collector *c)
{
	ring_buffer__consume(c->rb);
}

static const struct sampled_path **sorting_into;
static size_t sorting_n;

static void gather(const void *node, VISIT order, int depth)
{
	if (order == postorder || order == leaf)
		sorting_into[sorting_n++] = *(const struct sampled_path *const *)node;
}

static int compare_owner_then_weight(const void *a, const void *b)
{
	const struct sampled_path *x = *(const struct sampled_path *const *)a;
	const struct sampled_path *y = *(const struct sampled_path *const *)b;
	int c = compare_owner(x, y);

	if (c)
		return c;
	return x->count > y->count ? -1 : x->count < y->count;
}

static int resort(struct wa_stack_collector *c)
{
	const struct sampled_path **sorted = realloc(c->sorted, (c->npaths + 1) * sizeof(*sorted));

	if (!sorted)
		return -ENOMEM;
	c->sorted = sorted;
	sorting_into = sorted;
	sorting_n = 0;
	twalk(c->tree, gather);
	qsort(sorted, sorting_n, sizeof(*sorted), compare_owner_then_weight);
	c->sorted_stale = false;
	return 0;
}

const struct sampled_path *const *collector_paths(struct wa_stack_collector *c, __u32 tgid,
						  __u64 user, size_t *n)
{
	struct sampled_path key = {.tgid = tgid, .user = user};
	size_t lo = 0, hi = c->npaths, first;

	*n = 0;
	if (c->sorted_stale && resort(c))
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (compare_owner(c->sorted[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < c->npaths && !compare_owner(c->sorted[lo], &key))
		lo++;
	*n = lo - first;
	return c->sorted + first;
}

__u64 collector_samples(const struct wa_stack_collector *c)
{
	return c->samples;
}

__u64 collector_truncated(const struct wa_stack_collector *c)
{
	return c->truncated;
}
