// SPDX-License-Identifier: GPL-2.0
/*
 * floor.bpf.c: two empty programs on the hooks writeamp's syscall layer uses. What they cost a
 * write is the floor of any tracer built on tp_btf/sys_enter and sys_exit: the kernel's slow
 * syscall path and two program calls, before the programs do anything.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sys_enter")
int BPF_PROG(floor_sys_enter, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_sys_exit, struct pt_regs *regs, long ret)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
