/* SPDX-License-Identifier: GPL-2.0 */
/* platform.h: what this kernel and this process are able to do, probed once at start. */
#ifndef WRITEAMP_PLATFORM_H
#define WRITEAMP_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

struct btf;

struct wa_features {
	bool btf;	     /* /sys/kernel/btf/vmlinux */
	bool tracefs;	     /* not needed by writeamp, reported for the bpftrace playbooks */
	bool kprobes;	     /* not needed by writeamp: BTF tracepoints cover every hook */
	bool rdonly_cast;    /* kfunc bpf_rdonly_cast: typed reads of a struct file (6.2+) */
	struct btf *vmlinux; /* vmlinux BTF, for tracepoint lookups */
};

/*
 * Checks that the process may load tracing BPF programs: root, or CAP_BPF with CAP_PERFMON.
 * Returns false and writes a one-line reason with the fix into `why` otherwise.
 */
bool features_check_privileges(char *why, size_t len);

/* Probes the kernel. Returns false with a one-line reason in `why` if writeamp cannot run. */
bool features_probe(struct wa_features *f, char *why, size_t len);

/* Whether the kernel (vmlinux or a loaded module) has the BTF tracepoint `name`. */
bool features_has_tracepoint(const struct wa_features *f, const char *name);

void features_release(struct wa_features *f);

#endif /* WRITEAMP_PLATFORM_H */
