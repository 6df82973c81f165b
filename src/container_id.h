/* container_id.h: which container, pod or systemd unit a cgroup path belongs to. */
#ifndef WRITEAMP_CONTAINER_ID_H
#define WRITEAMP_CONTAINER_ID_H

#include <stdbool.h>

enum wa_runtime {
	WA_RUNTIME_NONE, /* not a container: a systemd unit, a slice, or the root */
	WA_RUNTIME_DOCKER,
	WA_RUNTIME_CONTAINERD, /* including cri-containerd */
	WA_RUNTIME_CRIO,
	WA_RUNTIME_PODMAN,
	WA_RUNTIME_CRI, /* a Kubernetes container under the cgroupfs driver: containerd or CRI-O */
	WA_RUNTIME__COUNT,
};

enum wa_pod_qos {
	WA_QOS_NONE,
	WA_QOS_GUARANTEED,
	WA_QOS_BURSTABLE,
	WA_QOS_BESTEFFORT,
};

#define WA_CONTAINER_ID_LEN 65 /* 64 hex digits and the NUL */
#define WA_POD_UID_LEN	    37 /* 8-4-4-4-12 with dashes, and the NUL */
#define WA_UNIT_LEN	    256

struct wa_cgroup_identity {
	enum wa_runtime runtime;
	char id[WA_CONTAINER_ID_LEN]; /* lowercase hex; "" outside containers */
	char pod_uid[WA_POD_UID_LEN]; /* dashed form even where the path uses '_'; "" outside pods
				       */
	enum wa_pod_qos qos;	      /* from the kubepods path; WA_QOS_NONE outside pods */
	bool conmon;		      /* the runtime's monitor (conmon), not the container itself */
	/* Outside containers: the innermost systemd unit or slice, e.g. "ssh.service",
	 * "session-3.scope", "user.slice"; "/" for the root cgroup; else the last component. */
	char unit[WA_UNIT_LEN];
};

/*
 * cgroup_identify() - read the container, pod and unit out of a cgroup @path as written in
 * /proc/PID/cgroup (relative to the hierarchy's root, starting with '/'), for cgroup v1 and
 * v2, the systemd and the cgroupfs drivers. The innermost container in the path wins; a
 * pod's sandbox (pause) container is a container too.
 *
 * Returns true when @path lies in a container (or in a pod, with no container under it),
 * false otherwise; @out is filled in either case.
 */
bool cgroup_identify(const char *path, struct wa_cgroup_identity *out);

const char *
runtime_name(enum wa_runtime rt); /* "docker", "containerd", "cri-o", "podman", "cri", "" */
const char *qos_name(enum wa_pod_qos qos); /* "guaranteed", "burstable", "besteffort", "" */

#endif /* WRITEAMP_CONTAINER_ID_H */
