// SPDX-License-Identifier: GPL-2.0
/* process.bpf.c: which processes are traced: the settings, following forks, and names at exec. */
#include "records.bpf.h"

const volatile struct wa_abi abi = {};
const volatile __u32 self_tgid = 0;
const volatile bool filter_tgids = false;
const volatile bool filter_comm = false;
const volatile char comm_filter[WA_COMM_LEN] = {};
const volatile __u32 filter_dev = 0;
const volatile bool follow_forks = false;
const volatile __u32 cgroup_filters_n = 0;
const volatile __u64 cgroup_filter_ids[WA_MAX_CGROUP_FILTERS] = {};
const volatile __u32 cgroup_filter_levels[WA_MAX_CGROUP_FILTERS] = {};
const volatile __u32 stack_unwind = WA_UNWIND_OFF;
const volatile __u32 stack_sample_period = 1;
const volatile __u32 stack_copy_bytes = 0;

/* `writeamp run` follows the command's descendants from the moment they are forked. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 parent_tgid = parent->tgid, child_tgid = child->tgid;
	__u8 yes = 1;

	if (!follow_forks || parent_tgid == child_tgid)
		return 0;
	if (bpf_map_lookup_elem(&selected_tgids, &parent_tgid))
		bpf_map_update_elem(&selected_tgids, &child_tgid, &yes, BPF_ANY);
	return 0;
}

/*
 * A process is named by what it runs, so its record takes the new name at exec; and a runtime
 * moves a container's first process into its cgroup just before the exec.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = task->tgid;
	struct wa_proc_stats *p = bpf_map_lookup_elem(&procs, &tgid);

	if (!p)
		return 0;
	bpf_probe_read_kernel(p->comm, sizeof(p->comm), task->comm);
	proc_take_cgroup(p, task);
	/*
	 * Its command line and libraries are the new image's now, but the libraries are not
	 * mapped yet: they are read at its next record lookup (a new file written, a sync).
	 */
	p->exec_unread = 1;
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct wa_proc_stats *p;

	if (task->pid != task->tgid)
		return 0;
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p)
		p->exited = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
