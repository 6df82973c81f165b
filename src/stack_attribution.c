// SPDX-License-Identifier: GPL-2.0
/* stack_attribution.c: turning the kernel's per-path weights into the report's call paths. */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "stack_attribution.h"
#include "unwind.h"

#define MAX_FRAMES	(2 * WA_STACK_DEPTH + 2)
#define WEIGHT_FIELDS	(sizeof(struct wa_stack_weights) / sizeof(__u64))
#define MAX_USER_SPLITS 256 /* distinct sampled user paths one call site is shared among */

_Static_assert(sizeof(struct wa_stack_weights) % sizeof(__u64) == 0, "weights are all __u64");

/* Frames that belong to the tracing machinery, not to the I/O path: cut from the kernel leaf. */
static const char *const tracing_prefixes[] = {
	"bpf_", "__bpf_", "__traceiter_", "trace_call_bpf", "perf_", "__perf_",
};

struct path {
	struct wa_stack_row row;
};

struct builder {
	struct wa_report *r;
	const struct wa_snapshot *s;
	const struct stack_sources *src;
	void *tree; /* struct path *, merged by process and frames */
	size_t npaths;
	int err;
};

/* Largest-remainder division: the integer parts first, then one unit per largest remainder. */
struct remainder {
	unsigned __int128 frac;
	size_t index;
};

static int by_larger_remainder(const void *a, const void *b)
{
	const struct remainder *x = a, *y = b;

	if (x->frac != y->frac)
		return x->frac < y->frac ? 1 : -1;
	return x->index < y->index ? -1 : x->index > y->index;
}

void apportion(__u64 total, const __u64 *shares, size_t n, __u64 *out)
{
	unsigned __int128 sum = 0;
	struct remainder *rest;
	__u64 given = 0;

	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		sum += shares[i];
	if (!sum) {
		for (size_t i = 0; i < n; i++)
			out[i] = total / n + (i < total % n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		out[i] = (__u64)((unsigned __int128)total * shares[i] / sum);
		given += out[i];
	}
	if (given == total)
		return;
	rest = malloc(n * sizeof(*rest));
	if (!rest) {
		/* Still exact, if less fair: the first path takes what is left. */
		out[0] += total - given;
		return;
	}
	for (size_t i = 0; i < n; i++)
		rest[i] = (struct remainder){(unsigned __int128)total * shares[i] % sum, i};
	qsort(rest, n, sizeof(*rest), by_larger_remainder);
	/* Fewer than n units are left over, so each path gets at most one. */
	for (size_t i = 0; given < total; i++, given++)
		out[rest[i].index]++;
	free(rest);
}

static void weights_add(struct wa_stack_weights *a, const struct wa_stack_weights *b)
{
	__u64 *x = (__u64 *)a;
	const __u64 *y = (const __u64 *)b;

	for (size_t i = 0; i < WEIGHT_FIELDS; i++)
		x[i] += y[i];
}

/* Splits every weight of w in proportion to counts[0..n) into out[0..n). */
static void weights_split(const struct wa_stack_weights *w, const __u64 *counts, size_t n,
			  struct wa_stack_weights *out)
{
	__u64 parts[MAX_USER_SPLITS];

	memset(out, 0, n * sizeof(*out));
	for (size_t f = 0; f < WEIGHT_FIELDS; f++) {
		apportion(((const __u64 *)w)[f], counts, n, parts);
		for (size_t i = 0; i < n; i++)
			((__u64 *)&out[i])[f] = parts[i];
	}
}

static int compare_paths(const void *a, const void *b)
{
	const struct wa_stack_row *x = &((const struct path *)a)->row;
	const struct wa_stack_row *y = &((const struct path *)b)->row;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->nframes != y->nframes)
		return x->nframes < y->nframes ? -1 : 1;
	if (x->nuser != y->nuser)
		return x->nuser < y->nuser ? -1 : 1;
	for (size_t i = 0; i < x->nframes; i++)
		if (x->frames[i].name != y->frames[i].name)
			return x->frames[i].name < y->frames[i].name ? -1 : 1;
	return 0;
}

/* Adds weights to the path of a process, merging paths that symbolize the same. */
static void add_path(struct builder *b, __u32 tgid, const struct wa_frame *frames, size_t n,
		     size_t nuser, const struct wa_stack_weights *w, __u64 samples, bool estimated)
{
	struct path key = {.row = {.pid = tgid,
				   .frames = (struct wa_frame *)frames,
				   .nframes = n,
				   .nuser = nuser}};
	struct path *p, **found = tfind(&key, &b->tree, compare_paths);

	if (!found) {
		p = calloc(1, sizeof(*p));
		if (!p || !(p->row.frames = malloc(n * sizeof(*frames) + 1))) {
			free(p);
			b->err = -ENOMEM;
			return;
		}
		memcpy(p->row.frames, frames, n * sizeof(*frames));
		p->row.pid = tgid;
		p->row.nframes = n;
		p->row.nuser = nuser;
		found = tsearch(p, &b->tree, compare_paths);
		if (!found) {
			free(p->row.frames);
			free(p);
			b->err = -ENOMEM;
			return;
		}
		b->npaths++;
	}
	p = *found;
	weights_add(&p->row.w, w);
	p->row.samples += samples;
	p->row.estimated |= estimated;
}

/* The kernel part of a path captured at a syscall's entry: where the kernel goes next. */
static const char *syscall_frame_name(__s32 sys)
{
	static const char *const names[WA_SYS__COUNT] = {
		[WA_SYS_WRITE] = "sys_write",
		[WA_SYS_PWRITE64] = "sys_pwrite64",
		[WA_SYS_WRITEV] = "sys_writev",
		[WA_SYS_PWRITEV] = "sys_pwritev",
		[WA_SYS_PWRITEV2] = "sys_pwritev2",
		[WA_SYS_FSYNC] = "sys_fsync",
		[WA_SYS_FDATASYNC] = "sys_fdatasync",
		[WA_SYS_SYNC_FILE_RANGE] = "sys_sync_file_range",
		[WA_SYS_MSYNC] = "sys_msync",
		[WA_SYS_SYNC] = "sys_sync",
		[WA_SYS_SYNCFS] = "sys_syncfs",
	};

	return sys > 0 && sys < WA_SYS__COUNT && names[sys] ? names[sys] : "[syscall]";
}

static struct wa_frame marker(struct builder *b, const char *name, bool kernel)
{
	return (struct wa_frame){.name = symbols_intern(b->src->symbols, name), .kernel = kernel};
}

static bool is_tracing_frame(const char *name)
{
	for (size_t i = 0; i < sizeof(tracing_prefixes) / sizeof(tracing_prefixes[0]); i++)
		if (!strncmp(name, tracing_prefixes[i], strlen(tracing_prefixes[i])))
			return true;
	return false;
}

/* The kernel part, from the syscall entry to the leaf, without the tracer's own frames. */
static size_t kernel_frames(struct builder *b, __s32 kstack, struct wa_frame *out)
{
	const struct snap_trace *t = kstack >= 0 ? snapshot_trace(b->s, kstack) : NULL;
	size_t n = 0, leaf = 0;

	if (kstack == WA_KSTACK_WRITEBACK) {
		out[0] = marker(b, "[writeback]", true);
		return 1;
	}
	if (kstack == WA_KSTACK_JOURNAL) {
		out[0] = marker(b, "[journal commit]", true);
		return 1;
	}
	if (kstack <= WA_KSTACK_SYSCALL_BASE) {
		out[0] = marker(b, syscall_frame_name(WA_KSTACK_SYSCALL_BASE - kstack), true);
		out[0].known = true;
		return 1;
	}
	if (!t) {
		out[0] = marker(b, "[kernel stack not kept]", true);
		return 1;
	}
	for (; leaf < t->n; leaf++) {
		bool known;
		const char *name = symbols_kernel(b->src->symbols, t->pc[leaf], &known);

		if (!known || !is_tracing_frame(name))
			break;
	}
	for (size_t i = t->n; i > leaf; i--) {
		bool known;

		out[n].name = symbols_kernel(b->src->symbols, t->pc[i - 1], &known);
		out[n].kernel = true;
		out[n].known = known;
		n++;
	}
	return n;
}

/* User pcs, leaf first, become frames from the outermost caller to the leaf. */
static size_t user_frames(struct builder *b, struct wa_addrspace *as, const __u64 *pc, size_t npc,
			  struct wa_frame *out)
{
	for (size_t i = 0; i < npc; i++) {
		struct wa_frame *f = &out[npc - 1 - i];
		bool known;

		f->name = symbols_user(b->src->symbols, as, pc[i], i > 0, &known);
		f->kernel = false;
		f->known = known;
	}
	return npc;
}

/* The frame-pointer user stack, with the caller of a frameless leaf put back in. */
static size_t fp_user_pcs(struct builder *b, struct wa_addrspace *as, const struct wa_stack_key *k,
			  __u64 *pc)
{
	const struct snap_trace *t = snapshot_trace(b->s, (__u32)(k->user - 1));
	size_t n = 0;

	if (!t || !t->n)
		return 0;
	pc[n++] = t->pc[0];
	if (k->leaf_ret && (t->n < 2 || t->pc[1] != k->leaf_ret) && as &&
	    unwind_return_address_on_top(as, t->pc[0]))
		pc[n++] = k->leaf_ret;
	for (size_t i = 1; i < t->n && n < WA_STACK_DEPTH + 1; i++)
		pc[n++] = t->pc[i];
	return n;
}

static void emit_unknown_user(struct builder *b, const struct wa_stack_key *k,
			      const struct wa_stack_weights *w, const char *why)
{
	struct wa_frame frames[MAX_FRAMES];
	size_t n = 0;

	frames[n++] = marker(b, why, false);
	n += kernel_frames(b, k->kstack, frames + n);
	add_path(b, k->tgid, frames, n, 1, w, 0, false);
}

static void emit_dwarf(struct builder *b, struct wa_addrspace *as, const struct wa_stack_key *k,
		       const struct wa_stack_weights *w)
{
	struct wa_stack_weights parts[MAX_USER_SPLITS];
	__u64 counts[MAX_USER_SPLITS];
	struct wa_frame frames[MAX_FRAMES];
	const struct sampled_path *const *paths;
	size_t npaths, nk;

	paths = collector_paths(b->src->collector, k->tgid, k->user, &npaths);
	if (!npaths) {
		__u64 leaf = k->user;

		b->r->stack_info.paths_unsampled++;
		nk = user_frames(b, as, &leaf, 1, frames);
		nk += kernel_frames(b, k->kstack, frames + nk);
		add_path(b, k->tgid, frames, nk, 1, w, 0, false);
		return;
	}
	if (npaths > MAX_USER_SPLITS)
		npaths = MAX_USER_SPLITS; /* the lightest ones; their samples go uncounted */
	for (size_t i = 0; i < npaths; i++)
		counts[i] = paths[i]->count;
	weights_split(w, counts, npaths, parts);
	for (size_t i = 0; i < npaths; i++) {
		size_t nu = user_frames(b, as, paths[i]->pc, paths[i]->n, frames);

		nk = kernel_frames(b, k->kstack, frames + nu);
		add_path(b, k->tgid, frames, nu + nk, nu, &parts[i], paths[i]->count, npaths > 1);
	}
}

static void emit_key(struct builder *b, const struct wa_stack_key *k,
		     const struct wa_stack_weights *w)
{
	struct wa_addrspace *as;
	struct wa_frame frames[MAX_FRAMES];
	__u64 pc[WA_STACK_DEPTH + 1];
	size_t nu;

	if (!k->user) {
		emit_unknown_user(b, k, w,
				  k->kstack == WA_KSTACK_NONE ? "[paths not kept: table full]"
							      : "[no user stack]");
		return;
	}
	as = procmaps_get(b->src->maps, k->tgid);
	if (b->src->unwind == WA_UNWIND_DWARF) {
		emit_dwarf(b, as, k, w);
		return;
	}
	nu = fp_user_pcs(b, as, k, pc);
	if (!nu) {
		emit_unknown_user(b, k, w, "[user stack not kept]");
		return;
	}
	nu = user_frames(b, as, pc, nu, frames);
	add_path(b, k->tgid, frames, nu + kernel_frames(b, k->kstack, frames + nu), nu, w, 0,
		 false);
}

static int compare_dirty_file(const void *a, const void *b)
{
	const struct wa_stack_dirty_key *x = &((const struct snap_stack_dirty *)a)->k;
	const struct wa_stack_dirty_key *y = &((const struct snap_stack_dirty *)b)->k;

	if (x->stack.tgid != y->stack.tgid)
		return x->stack.tgid < y->stack.tgid ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/*
 * A process's writeback of a file goes to the paths that dirtied the file's pages, in
 * proportion to the bytes each dirtied, under a [writeback] kernel frame.
 */
static void emit_writeback(struct builder *b, const struct snap_stack_writeback *wb,
			   const struct snap_stack_dirty *dirty, size_t ndirty)
{
	struct wa_stack_key k = {.tgid = wb->k.tgid, .kstack = WA_KSTACK_WRITEBACK};
	struct wa_stack_weights w = {0}, parts[MAX_USER_SPLITS];
	__u64 shares[MAX_USER_SPLITS];
	size_t lo = 0, hi = ndirty, first, n;
	struct snap_stack_dirty probe = {
		.k = {.stack = {.tgid = wb->k.tgid}, .dev = wb->k.dev, .ino = wb->k.ino}};

	for (int c = 0; c < WA_CHARGE__COUNT; c++)
		w.bytes[c] = wb->c.bytes[c];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (compare_dirty_file(&dirty[mid], &probe) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < ndirty && !compare_dirty_file(&dirty[lo], &probe))
		lo++;
	if (lo == first) {
		emit_key(b, &k, &w); /* dirtied outside a write syscall (mmap) or untracked */
		return;
	}
	/* Past MAX_USER_SPLITS paths, the first ones (by key order) share it all. */
	n = lo - first < MAX_USER_SPLITS ? lo - first : MAX_USER_SPLITS;
	for (size_t j = 0; j < n; j++)
		shares[j] = dirty[first + j].bytes;
	weights_split(&w, shares, n, parts);
	for (size_t j = 0; j < n; j++) {
		k.user = dirty[first + j].k.stack.user;
		k.leaf_ret = dirty[first + j].k.stack.leaf_ret;
		emit_key(b, &k, &parts[j]);
	}
}

static struct wa_stack_row *collected;
static size_t ncollected;

static void collect_row(const void *node, VISIT order, int depth)
{
	if (order == postorder || order == leaf)
		collected[ncollected++] = (*(struct path *const *)node)->row;
}

static __u64 row_device_bytes(const struct wa_stack_row *r)
{
	return r->w.bytes[WA_CHARGE_DATA] + r->w.bytes[WA_CHARGE_METADATA] +
	       r->w.bytes[WA_CHARGE_JOURNAL];
}

/* By process, then the heaviest path first: device bytes, then app bytes, then syncs. */
static int compare_rows(const void *a, const void *b)
{
	const struct wa_stack_row *x = a, *y = b;
	__u64 dx = row_device_bytes(x), dy = row_device_bytes(y);

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (dx != dy)
		return dx > dy ? -1 : 1;
	if (x->w.app_bytes != y->w.app_bytes)
		return x->w.app_bytes > y->w.app_bytes ? -1 : 1;
	return x->w.syncs > y->w.syncs ? -1 : x->w.syncs < y->w.syncs;
}

static void name_rows(struct wa_report *r, struct wa_procmaps *maps)
{
	for (size_t i = 0; i < r->nstacks; i++) {
		struct wa_stack_row *row = &r->stacks[i];
		struct wa_addrspace *as = procmaps_find(maps, row->pid);

		if ((!i || r->stacks[i - 1].pid != row->pid) && (!as || !as->dwfl))
			r->stack_info.processes_unmapped++;

		for (size_t p = 0; p < r->nprocs; p++)
			if (r->procs[p].pid == row->pid) {
				memcpy(row->comm, r->procs[p].comm, sizeof(row->comm));
				break;
			}
		for (size_t f = 0; f < row->nframes; f++) {
			r->stack_info.frames++;
			if (!row->frames[f].known)
				r->stack_info.frames_unsymbolized++;
		}
	}
}

static void free_path_node(void *node)
{
	free(node); /* the frames moved to the report */
}

int stack_attribution_build(struct wa_report *r, const struct wa_snapshot *s,
			    const struct stack_sources *src)
{
	struct builder b = {.r = r, .s = s, .src = src};
	struct snap_stack_dirty *dirty = NULL;

	r->stack_info.enabled = true;
	r->stack_info.unwind = src->unwind;
	r->stack_info.sample_period = src->sample_period;
	r->stack_info.copy_bytes = src->copy_bytes;
	if (src->collector) {
		r->stack_info.samples = collector_samples(src->collector);
		r->stack_info.samples_truncated = collector_truncated(src->collector);
	}
	r->stack_info.samples_dropped = s->losses[WA_LOSS_STACK_SAMPLE];
	for (size_t i = 0; i < s->nstacks && !b.err; i++)
		emit_key(&b, &s->stacks[i].k, &s->stacks[i].w);
	if (s->nstack_dirty) {
		dirty = malloc(s->nstack_dirty * sizeof(*dirty));
		if (!dirty)
			b.err = -ENOMEM;
		else
			memcpy(dirty, s->stack_dirty, s->nstack_dirty * sizeof(*dirty));
		if (dirty)
			qsort(dirty, s->nstack_dirty, sizeof(*dirty), compare_dirty_file);
	}
	for (size_t i = 0; i < s->nstack_writeback && !b.err; i++)
		emit_writeback(&b, &s->stack_writeback[i], dirty, dirty ? s->nstack_dirty : 0);
	free(dirty);
	r->stacks = calloc(b.npaths + 1, sizeof(*r->stacks));
	if (!r->stacks) {
		tdestroy(b.tree, free_path_node);
		return -ENOMEM;
	}
	collected = r->stacks;
	ncollected = 0;
	twalk(b.tree, collect_row);
	r->nstacks = ncollected;
	tdestroy(b.tree, free_path_node);
	qsort(r->stacks, r->nstacks, sizeof(*r->stacks), compare_rows);
	name_rows(r, src->maps);
	return b.err;
}

void stack_attribution_free(struct wa_report *r)
{
	for (size_t i = 0; i < r->nstacks; i++)
		free(r->stacks[i].frames);
	free(r->stacks);
	r->stacks = NULL;
	r->nstacks = 0;
}
