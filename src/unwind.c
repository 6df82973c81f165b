// SPDX-License-Identifier: GPL-2.0
/* unwind.c: libdwfl unwinding of sampled user stacks, with the sample as the process's memory. */
#include <stdlib.h>
#include <string.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "unwind.h"

#if defined(__x86_64__)
#include <asm/ptrace.h>

#define DWARF_REGS 17 /* rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip, in DWARF's numbering */
#define DWARF_SP   7

/* The kernel's struct pt_regs in DWARF register order. */
static void dwarf_regs_from(const __u64 *raw, Dwarf_Word *regs)
{
	const struct pt_regs *p = (const struct pt_regs *)raw;
	const Dwarf_Word order[DWARF_REGS] = {
		p->rax, p->rdx, p->rcx, p->rbx, p->rsi, p->rdi, p->rbp, p->rsp, p->r8,
		p->r9,	p->r10, p->r11, p->r12, p->r13, p->r14, p->r15, p->rip,
	};

	memcpy(regs, order, sizeof(order));
}

static __u64 sample_sp(const __u64 *raw)
{
	return ((const struct pt_regs *)raw)->rsp;
}

static __u64 sample_ip(const __u64 *raw)
{
	return ((const struct pt_regs *)raw)->rip;
}
#elif defined(__aarch64__)
#include <asm/ptrace.h>

#define DWARF_REGS 32 /* x0-x30 and sp */
#define DWARF_SP   31

static void dwarf_regs_from(const __u64 *raw, Dwarf_Word *regs)
{
	const struct user_pt_regs *p = (const struct user_pt_regs *)raw;

	for (int i = 0; i < 31; i++)
		regs[i] = p->regs[i];
	regs[31] = p->sp;
}

static __u64 sample_sp(const __u64 *raw)
{
	return ((const struct user_pt_regs *)raw)->sp;
}

static __u64 sample_ip(const __u64 *raw)
{
	return ((const struct user_pt_regs *)raw)->pc;
}
#else
#error "writeamp: add the DWARF register mapping for this architecture"
#endif

/* What the callbacks see of the sample being unwound. */
struct unwind_input {
	const struct wa_stack_record_head *h;
	const __u8 *stack;
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_arg)
{
	struct wa_addrspace *as = arg;

	if (*thread_arg)
		return 0;
	*thread_arg = as;
	return (pid_t)as->tgid;
}

/* The process's memory is the sample: the copied top of its stack and nothing else. */
static bool read_sampled_memory(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	const struct unwind_input *in = ((struct wa_addrspace *)arg)->unwind;
	__u64 sp = sample_sp(in->h->regs);

	if (addr < sp || addr - sp + sizeof(*result) > in->h->stack_len)
		return false;
	memcpy(result, in->stack + (addr - sp), sizeof(*result));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const struct unwind_input *in = ((struct wa_addrspace *)thread_arg)->unwind;
	Dwarf_Word regs[DWARF_REGS];

	dwarf_regs_from(in->h->regs, regs);
	if (!dwfl_thread_state_registers(thread, 0, DWARF_REGS, regs))
		return false;
	dwfl_thread_state_register_pc(thread, sample_ip(in->h->regs));
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.memory_read = read_sampled_memory,
	.set_initial_registers = set_initial_registers,
};

/* Where every thread's stack begins: an unwinding that ends in one of these is complete. */
static const char *const outermost_functions[] = {
	"_start",  "__libc_start_main", "__libc_start_call_main", "start_thread", "clone", "clone3",
	"__clone", "__clone3",		"thread_start",
};

static bool reached_outermost(struct wa_addrspace *as, const struct unwound *u)
{
	Dwarf_Addr pc = u->pc[u->n - 1] - (u->n > 1);
	Dwfl_Module *mod = dwfl_addrmodule(as->dwfl, pc);
	const char *name = mod ? dwfl_module_addrname(mod, pc) : NULL;

	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(outermost_functions) / sizeof(outermost_functions[0]); i++)
		if (!strcmp(name, outermost_functions[i]))
			return true;
	return false;
}

static int collect_frame(Dwfl_Frame *frame, void *arg)
{
	struct unwound *out = arg;
	Dwarf_Addr pc;

	if (!dwfl_frame_pc(frame, &pc, NULL) || !pc)
		return DWARF_CB_ABORT;
	out->pc[out->n++] = pc;
	return out->n < WA_STACK_DEPTH ? DWARF_CB_OK : DWARF_CB_ABORT;
}

bool unwind_sample(struct wa_addrspace *as, const struct wa_stack_record_head *h, const __u8 *stack,
		   struct unwound *out)
{
	struct unwind_input in = {.h = h, .stack = stack};
	int rc;

	memset(out, 0, sizeof(*out));
	if (!as->dwfl) {
		out->pc[out->n++] = sample_ip(h->regs);
		out->truncated = true;
		return true;
	}
	if (!as->attached) {
		if (!dwfl_attach_state(as->dwfl, NULL, (pid_t)as->tgid, &thread_callbacks, as)) {
			out->pc[out->n++] = sample_ip(h->regs);
			out->truncated = true;
			return true;
		}
		as->attached = true;
	}
	as->unwind = &in;
	rc = dwfl_getthread_frames(as->dwfl, (pid_t)as->tgid, collect_frame, out);
	as->unwind = NULL;
	/* libdwfl ends a complete unwinding with 0, or with -1 once there is no return address. */
	if (!out->n)
		out->pc[out->n++] = sample_ip(h->regs);
	out->truncated = out->n >= WA_STACK_DEPTH || (rc != 0 && !reached_outermost(as, out));
	return true;
}

/* The CFA rule at ip, if it is "the stack pointer plus one word": nothing pushed yet. */
static bool cfa_is_sp_plus_word(Dwarf_CFI *cfi, Dwarf_Addr ip)
{
	Dwarf_Frame *frame = NULL;
	Dwarf_Op *ops;
	size_t nops;
	bool yes;

	if (!cfi || dwarf_cfi_addrframe(cfi, ip, &frame) != 0)
		return false;
	/* libdw gives a register+offset rule as DW_OP_bregx (or a bregN in an expression). */
	yes = dwarf_frame_cfa(frame, &ops, &nops) == 0 && nops == 1 &&
	      ((ops[0].atom == DW_OP_bregx && ops[0].number == DWARF_SP &&
		ops[0].number2 == sizeof(void *)) ||
	       (ops[0].atom == DW_OP_breg0 + DWARF_SP && ops[0].number == sizeof(void *)));
	free(frame);
	return yes;
}

bool unwind_return_address_on_top(struct wa_addrspace *as, __u64 ip)
{
	Dwfl_Module *mod = as->dwfl ? dwfl_addrmodule(as->dwfl, ip) : NULL;
	Dwarf_Addr bias;
	Dwarf_CFI *cfi;

	if (!mod)
		return false;
	cfi = dwfl_module_eh_cfi(mod, &bias);
	if (cfi && cfa_is_sp_plus_word(cfi, ip - bias))
		return true;
	cfi = dwfl_module_dwarf_cfi(mod, &bias);
	return cfi && cfa_is_sp_plus_word(cfi, ip - bias);
}
