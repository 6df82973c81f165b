/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stacks.bpf.h: --stacks: the call paths behind storage writes, syncs and the device I/O they
 * cause, with their weights summed in the kernel per process and path. With DWARF unwinding
 * the user part is resolved in user space from sampled copies of the user stack.
 */
#ifndef WRITEAMP_STACKS_BPF_H
#define WRITEAMP_STACKS_BPF_H

#include "common.bpf.h"

#define STACKS_ON (stack_unwind != WA_UNWIND_OFF)

/* The copy is read a page at a time, so that a stack shallower than the budget still comes. */
#define COPY_CHUNK	 4096
#define COPY_CHUNKS	 (WA_STACK_COPY_MAX / COPY_CHUNK + 1)
#define STACK_RING_BYTES (4 << 20)

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, WA_STACK_DEPTH * sizeof(__u64));
} stack_traces SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct wa_stack_key);
	__type(value, struct wa_stack_weights);
} stack_weights SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct wa_stack_dirty_key);
	__type(value, __u64);
} stack_dirtied SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct wa_writer_key); /* tgid and file */
	__type(value, struct wa_writeback_charge);
} stack_writeback SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, STACK_RING_BYTES);
} stack_records SHARED_MAP;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wa_stack_sample);
} stack_scratch SHARED_MAP;

static const struct wa_stack_weights zero_weights;

/* Wakes user space to read the process's memory map while the process is alive. */
static __always_inline void announce_process(__u32 tgid)
{
	struct wa_stack_record_head *r = bpf_ringbuf_reserve(&stack_records, sizeof(*r), 0);

	if (!r)
		return;
	r->kind = WA_REC_FIRST_SIGHT;
	r->tgid = tgid;
	r->user = 0;
	r->stack_len = 0;
	bpf_ringbuf_submit(r, BPF_RB_FORCE_WAKEUP);
}

/*
 * The weights of a path. A full table sends them to the process's catch-all path, whose key
 * no capture produces (kstack none, user 0), so that the process's sums stay whole.
 */
static __always_inline struct wa_stack_weights *stack_weights_get(const struct wa_stack_key *key,
								  bool *created)
{
	struct wa_stack_weights *w = bpf_map_lookup_elem(&stack_weights, key);
	struct wa_stack_key other = {.tgid = key->tgid, .kstack = WA_KSTACK_NONE};

	if (w)
		return w;
	/* Its process was announced at its thread's first storage syscall. */
	if (!bpf_map_update_elem(&stack_weights, key, &zero_weights, BPF_NOEXIST) && created)
		*created = true;
	w = bpf_map_lookup_elem(&stack_weights, key);
	if (w)
		return w;
	count_loss(WA_LOSS_STACK_MAP_FULL);
	bpf_map_update_elem(&stack_weights, &other, &zero_weights, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stack_weights, &other);
}

static __always_inline __s32 kernel_stack_id(void *prog_ctx)
{
	long id = bpf_get_stackid(prog_ctx, &stack_traces, 0);

	if (id >= 0)
		return id;
	count_loss(WA_LOSS_STACK_ID);
	return WA_KSTACK_NONE;
}

/* Copies the user stack from sp up, page by page, until the budget or the first hole. */
static __always_inline __u32 copy_user_stack(__u8 *buf, __u64 sp, __u32 budget)
{
	__u32 got = 0;

	for (int i = 0; i < COPY_CHUNKS; i++) {
		__u32 want = i ? COPY_CHUNK : COPY_CHUNK - (sp & (COPY_CHUNK - 1));

		if (want > budget - got)
			want = budget - got;
		if (!want || want > COPY_CHUNK || got > WA_STACK_COPY_MAX - COPY_CHUNK)
			break;
		if (bpf_probe_read_user(buf + got, want, (void *)(sp + got)))
			break;
		got += want;
	}
	return got;
}

/*
 * Bytes worth copying from sp. In the main thread nothing above mm->start_stack is a frame
 * (argv, environment and auxv are), and reading past the stack's end costs a page fault.
 */
static __always_inline __u32 stack_copy_budget(__u64 sp)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 top;

	if (task->pid != task->tgid)
		return stack_copy_bytes;
	top = BPF_CORE_READ(task, mm, start_stack);
	if (top > sp && top - sp < stack_copy_bytes)
		return top - sp;
	return stack_copy_bytes;
}

/*
 * Waking the reader for every sample would cost more than taking it (an IPI to the reader's
 * CPU). Samples wait in the ring until it is an eighth full or the reader's next timed drain;
 * they are self-contained, so nothing is lost by reading them late.
 */
#define SAMPLE_WAKEUP_BYTES (STACK_RING_BYTES / 8)

static __always_inline __u64 sample_wakeup_flag(void)
{
	if (bpf_ringbuf_query(&stack_records, BPF_RB_AVAIL_DATA) >= SAMPLE_WAKEUP_BYTES)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Built in a per-CPU buffer and sent at its real size, so that the ring holds more of them. */
static __always_inline void send_sample(struct pt_regs *regs, const struct wa_stack_key *key)
{
	__u32 zero = 0, size;
	struct wa_stack_sample *s = bpf_map_lookup_elem(&stack_scratch, &zero);

	if (!s)
		return;
	_Static_assert(sizeof(struct pt_regs) <= sizeof(s->h.regs), "WA_REGS_WORDS too small");
	s->h.kind = WA_REC_SAMPLE;
	s->h.tgid = key->tgid;
	s->h.user = key->user;
	bpf_probe_read_kernel(s->h.regs, sizeof(struct pt_regs), regs);
	s->h.stack_len =
		copy_user_stack(s->stack, PT_REGS_SP(regs), stack_copy_budget(PT_REGS_SP(regs)));
	size = sizeof(s->h) + s->h.stack_len;
	if (size > sizeof(*s))
		return;
	if (bpf_ringbuf_output(&stack_records, s, size, sample_wakeup_flag()))
		count_loss(WA_LOSS_STACK_SAMPLE);
}

/*
 * DWARF: a path gets a sample of its user stack when first seen, then each call has a chance
 * of one in stack_sample_period. At random, not every Nth: a loop of write, fsync, write,
 * fsync would otherwise sample only one of the two. Taken at the syscall's exit, where the
 * path's weights are at hand; the user registers and stack are as they were at its entry.
 */
static __always_inline void stack_sample_maybe(struct pt_regs *regs, const struct wa_stack_key *key,
					       bool first)
{
	if (stack_unwind != WA_UNWIND_DWARF)
		return;
	if (first || bpf_get_prandom_u32() % stack_sample_period == 0)
		send_sample(regs, key);
}

/* The call path of the syscall being entered, kept in the task's context until its exit. */
static __always_inline void stack_capture_syscall(void *prog_ctx, struct pt_regs *regs,
						  enum wa_syscall sys, struct task_ctx *ctx)
{
	struct wa_stack_key *key = &ctx->stack;
	long id;

	key->tgid = current_tgid();
	/*
	 * At the first storage syscall of each thread, not at the first path's exit: a process
	 * that writes a little and exits is often gone before user space has read its map.
	 */
	if (!ctx->announced) {
		ctx->announced = 1;
		announce_process(key->tgid);
	}
	/* Walking the kernel stack here would cost more than the write and show only entry code. */
	key->kstack = WA_KSTACK_SYSCALL(sys);
	key->leaf_ret = 0;
	if (stack_unwind == WA_UNWIND_DWARF) {
		key->user = PT_REGS_IP(regs);
		return;
	}
	id = bpf_get_stackid(prog_ctx, &stack_traces, BPF_F_USER_STACK);
	if (id < 0)
		count_loss(WA_LOSS_STACK_ID);
	key->user = id >= 0 ? id + 1 : 0;
	/* A leaf without a frame (a libc syscall wrapper) left its caller's address here. */
	bpf_probe_read_user(&key->leaf_ret, sizeof(key->leaf_ret), (void *)PT_REGS_SP(regs));
}

static __always_inline void stack_add_write(struct pt_regs *regs, const struct wa_stack_key *key,
					    long ret)
{
	bool created = false;
	struct wa_stack_weights *w = stack_weights_get(key, &created);

	stack_sample_maybe(regs, key, created);
	if (!w)
		return;
	__sync_fetch_and_add(&w->calls, 1);
	if (ret > 0)
		__sync_fetch_and_add(&w->app_bytes, ret);
}

static __always_inline void stack_add_sync(struct pt_regs *regs, const struct wa_stack_key *key)
{
	bool created = false;
	struct wa_stack_weights *w = stack_weights_get(key, &created);

	stack_sample_maybe(regs, key, created);
	if (w)
		__sync_fetch_and_add(&w->syncs, 1);
}

static __always_inline void stack_add_device(const struct wa_stack_key *key, __u32 kind,
					     __u64 bytes, __u64 flushes)
{
	struct wa_stack_weights *w;

	if (kind >= WA_CHARGE__COUNT || (!bytes && !flushes))
		return;
	w = stack_weights_get(key, NULL);
	if (!w)
		return;
	if (bytes)
		__sync_fetch_and_add(&w->bytes[kind], bytes);
	if (flushes)
		__sync_fetch_and_add(&w->flushes, flushes);
}

/* A page dirtied inside a write syscall: the path that dirtied it, for its later writeback. */
static __always_inline void stack_note_dirtied(const struct wa_stack_key *key, __u32 dev, __u64 ino,
					       __u64 bytes)
{
	struct wa_stack_dirty_key dkey = {.stack = *key, .dev = dev, .ino = ino};
	__u64 zero = 0,
	      *n = map_get_or_init(&stack_dirtied, &dkey, &zero, WA_LOSS_STACK_DIRTY_FULL);

	if (n)
		__sync_fetch_and_add(n, bytes);
}

/* Writeback of a process's pages outside its context, apportioned to paths in user space. */
static __always_inline void stack_note_writeback(__u32 tgid, __u32 dev, __u64 ino, __u32 kind,
						 __u64 bytes)
{
	struct wa_writer_key key = {.tgid = tgid, .dev = dev, .ino = ino};
	static const struct wa_writeback_charge zero;
	struct wa_writeback_charge *c;

	if (kind >= WA_CHARGE__COUNT || !bytes)
		return;
	c = map_get_or_init(&stack_writeback, &key, &zero, WA_LOSS_STACK_DIRTY_FULL);
	if (c)
		__sync_fetch_and_add(&c->bytes[kind], bytes);
}

/*
 * A bio submitted by a selected process in its own context: the user part of the syscall it is
 * in, the kernel stack of the submission. Kept in the task context while the bio is charged.
 */
static __always_inline void stack_begin_bio(void *prog_ctx, struct task_ctx *ctx)
{
	ctx->bio_stack.tgid = current_tgid();
	ctx->bio_stack.kstack = kernel_stack_id(prog_ctx);
	if (ctx->sys != WA_SYS_NONE && ctx->stack.tgid == ctx->bio_stack.tgid) {
		ctx->bio_stack.user = ctx->stack.user;
		ctx->bio_stack.leaf_ret = ctx->stack.leaf_ret;
	} else {
		ctx->bio_stack.user = 0;
		ctx->bio_stack.leaf_ret = 0;
	}
	ctx->in_bio = 1;
}

/* The path to charge I/O of the current context to, or NULL outside a selected bio. */
static __always_inline const struct wa_stack_key *stack_of_bio(void)
{
	struct task_ctx *ctx;

	if (!STACKS_ON)
		return NULL;
	ctx = task_ctx_peek();
	return ctx && ctx->in_bio ? &ctx->bio_stack : NULL;
}

/* Device I/O of the current context, to the path of the bio being charged, if there is one. */
static __always_inline void stack_charge_here(__u32 kind, __u64 bytes, __u64 flushes)
{
	const struct wa_stack_key *here = stack_of_bio();

	if (here)
		stack_add_device(here, kind, bytes, flushes);
}

#endif /* WRITEAMP_STACKS_BPF_H */
