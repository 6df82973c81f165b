// SPDX-License-Identifier: GPL-2.0
/* grouping.c: the process rows summed by container, systemd unit and cgroup. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cgroups.h"
#include "grouping.h"

/* Rows are appended to a table that grows, one per distinct key. */
struct group_table {
	struct wa_group_row *rows;
	size_t n;
	size_t cap;
};

typedef bool (*same_group_fn)(const struct wa_group_row *g, const struct wa_cgroup_info *cg);

static bool same_container(const struct wa_group_row *g, const struct wa_cgroup_info *cg)
{
	return !strcmp(g->cgroup->ident.id, cg->ident.id);
}

static bool same_unit(const struct wa_group_row *g, const struct wa_cgroup_info *cg)
{
	return !strcmp(g->unit, cg->ident.unit);
}

static bool same_cgroup(const struct wa_group_row *g, const struct wa_cgroup_info *cg)
{
	return g->cgroup->id == cg->id;
}

static struct wa_group_row *group_for(struct group_table *t, const struct wa_cgroup_info *cg,
				      same_group_fn same)
{
	struct wa_group_row *g;

	for (size_t i = 0; i < t->n; i++)
		if (same(&t->rows[i], cg))
			return &t->rows[i];
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		struct wa_group_row *grown = realloc(t->rows, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		t->rows = grown;
		t->cap = cap;
	}
	g = &t->rows[t->n++];
	memset(g, 0, sizeof(*g));
	g->cgroup = cg;
	g->unit = same == same_unit ? cg->ident.unit : NULL;
	return g;
}

static int add_to_group(struct group_table *t, const struct wa_proc_row *p, same_group_fn same)
{
	struct wa_group_row *g = group_for(t, p->cgroup, same);
	__u32 *pids;

	if (!g)
		return -ENOMEM;
	pids = realloc(g->pids, (g->npids + 1) * sizeof(*pids));
	if (!pids)
		return -ENOMEM;
	g->pids = pids;
	g->pids[g->npids++] = p->pid;
	figures_add(&g->f, &p->f);
	return 0;
}

static int by_device_bytes(const void *a, const void *b)
{
	const struct wa_group_row *x = a, *y = b;
	__u64 dx = figures_device_bytes(&x->f), dy = figures_device_bytes(&y->f);

	if (dx != dy)
		return dx > dy ? -1 : 1;
	return x->f.write_bytes > y->f.write_bytes ? -1 : x->f.write_bytes < y->f.write_bytes;
}

static void free_table(struct wa_group_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].pids);
	free(rows);
}

static void finish(struct group_table *t, struct wa_group_row **rows, size_t *n)
{
	qsort(t->rows, t->n, sizeof(*t->rows), by_device_bytes);
	*rows = t->rows;
	*n = t->n;
}

int report_group(struct wa_report *r)
{
	struct group_table containers = {}, units = {}, cgroups = {};
	int err = 0;

	for (size_t i = 0; i < r->nprocs && !err; i++) {
		const struct wa_proc_row *p = &r->procs[i];

		if (!p->cgroup)
			continue;
		if (p->cgroup->in_container)
			err = add_to_group(&containers, p, same_container);
		else
			err = add_to_group(&units, p, same_unit);
		if (!err)
			err = add_to_group(&cgroups, p, same_cgroup);
	}
	if (err) {
		free_table(containers.rows, containers.n);
		free_table(units.rows, units.n);
		free_table(cgroups.rows, cgroups.n);
		return err;
	}
	finish(&containers, &r->containers, &r->ncontainers);
	finish(&units, &r->units, &r->nunits);
	finish(&cgroups, &r->cgroups, &r->ncgroups);
	return 0;
}

void report_groups_free(struct wa_report *r)
{
	free_table(r->containers, r->ncontainers);
	free_table(r->units, r->nunits);
	free_table(r->cgroups, r->ncgroups);
	r->containers = r->units = r->cgroups = NULL;
	r->ncontainers = r->nunits = r->ncgroups = 0;
}
