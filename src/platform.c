// SPDX-License-Identifier: GPL-2.0
/* platform.c: probing privileges and kernel features before anything is loaded. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/syscall.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "platform.h"

#define VMLINUX_BTF	  "/sys/kernel/btf/vmlinux"
#define MODULE_BTF_DIR	  "/sys/kernel/btf"
#define TRACEFS_EVENTS	  "/sys/kernel/tracing/events"
#define KPROBE_PMU	  "/sys/bus/event_source/devices/kprobe"
#define TRACEPOINT_PREFIX "btf_trace_"
#define CAP_BPF_BIT	  39 /* not in older <linux/capability.h> */
#define CAP_PERFMON_BIT	  38
#define CAP_SYS_ADMIN_BIT 21

static bool has_effective_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1U << (cap % 32));
}

bool features_check_privileges(char *why, size_t len)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {};

	if (geteuid() == 0)
		return true;
	if (syscall(SYS_capget, &hdr, data) == 0 &&
	    ((has_effective_cap(data, CAP_BPF_BIT) && has_effective_cap(data, CAP_PERFMON_BIT)) ||
	     has_effective_cap(data, CAP_SYS_ADMIN_BIT)))
		return true;
	snprintf(why, len,
		 "needs root, or the capabilities CAP_BPF and CAP_PERFMON, to load its "
		 "BPF programs (run it with sudo)");
	return false;
}

bool features_probe(struct wa_features *f, char *why, size_t len)
{
	memset(f, 0, sizeof(*f));
	f->btf = access(VMLINUX_BTF, R_OK) == 0;
	f->tracefs = access(TRACEFS_EVENTS, F_OK) == 0;
	f->kprobes = access(KPROBE_PMU, F_OK) == 0;
	if (!f->btf) {
		snprintf(why, len,
			 "this kernel has no BTF (%s is missing): writeamp needs a kernel "
			 "built with CONFIG_DEBUG_INFO_BTF=y (Linux 5.17 or newer)",
			 VMLINUX_BTF);
		return false;
	}
	f->vmlinux = btf__load_vmlinux_btf();
	if (!f->vmlinux) {
		snprintf(why, len, "cannot read the kernel's BTF from %s: %s", VMLINUX_BTF,
			 strerror(errno));
		return false;
	}
	f->rdonly_cast = btf__find_by_name_kind(f->vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) >= 0;
	return true;
}

static bool module_has_type(const struct wa_features *f, const char *type)
{
	DIR *dir = opendir(MODULE_BTF_DIR);
	struct dirent *e;
	bool found = false;

	if (!dir)
		return false;
	while (!found && (e = readdir(dir))) {
		char path[512];
		struct btf *btf;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "vmlinux"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", MODULE_BTF_DIR, e->d_name);
		btf = btf__parse_split(path, f->vmlinux);
		if (!btf)
			continue;
		found = btf__find_by_name_kind(btf, type, BTF_KIND_TYPEDEF) >= 0;
		btf__free(btf);
	}
	closedir(dir);
	return found;
}

bool features_has_tracepoint(const struct wa_features *f, const char *name)
{
	char type[128];

	snprintf(type, sizeof(type), "%s%s", TRACEPOINT_PREFIX, name);
	if (btf__find_by_name_kind(f->vmlinux, type, BTF_KIND_TYPEDEF) >= 0)
		return true;
	return module_has_type(f, type);
}

void features_release(struct wa_features *f)
{
	btf__free(f->vmlinux);
	f->vmlinux = NULL;
}
