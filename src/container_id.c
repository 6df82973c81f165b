// SPDX-License-Identifier: GPL-2.0
/* container_id.c: which container, pod or systemd unit a cgroup path belongs to. */
#include <stdio.h>
#include <string.h>

#include "container_id.h"

#define ID_HEX	64
#define UID_LEN 36

/* A path component names a container as PREFIX<64 hex>SUFFIX; this table lists them all. */
struct id_shape {
	const char *prefix;
	const char *suffix;
	enum wa_runtime runtime;
	bool conmon;
};

static const struct id_shape id_shapes[] = {
	{"docker-", ".scope", WA_RUNTIME_DOCKER, false},
	{"cri-containerd-", ".scope", WA_RUNTIME_CONTAINERD, false},
	{"nerdctl-", ".scope", WA_RUNTIME_CONTAINERD, false},
	{"crio-conmon-", ".scope", WA_RUNTIME_CRIO, true},
	{"crio-", ".scope", WA_RUNTIME_CRIO, false},
	{"libpod-conmon-", ".scope", WA_RUNTIME_PODMAN, true},
	{"libpod-", ".scope", WA_RUNTIME_PODMAN, false},
	{"libpod-", "", WA_RUNTIME_PODMAN, false}, /* podman's cgroupfs driver */
	{"", "", WA_RUNTIME_NONE, false},	   /* a bare id: runtime from the parent */
};

static bool is_hex_id(const char *s, size_t n)
{
	if (n != ID_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool has_affixes(const char *c, size_t n, const char *prefix, const char *suffix)
{
	size_t p = strlen(prefix), s = strlen(suffix);

	return n == p + ID_HEX + s && !strncmp(c, prefix, p) && !strncmp(c + p + ID_HEX, suffix, s);
}

/* The shape of component @c[0..n) if it names a container, else NULL. */
static const struct id_shape *container_shape(const char *c, size_t n)
{
	for (size_t i = 0; i < sizeof(id_shapes) / sizeof(id_shapes[0]); i++) {
		const struct id_shape *sh = &id_shapes[i];

		if (has_affixes(c, n, sh->prefix, sh->suffix) &&
		    is_hex_id(c + strlen(sh->prefix), ID_HEX))
			return sh;
	}
	return NULL;
}

/* The runtime of a bare-id component, known only from its parent. */
static enum wa_runtime bare_id_runtime(const char *parent, size_t n, bool in_pod)
{
	if (n == 6 && !strncmp(parent, "docker", 6))
		return WA_RUNTIME_DOCKER;
	if (in_pod)
		return WA_RUNTIME_CRI;
	return WA_RUNTIME_NONE;
}

/* Pod UIDs are 8-4-4-4-12 hex; the systemd driver writes '_' for '-'. */
static bool take_pod_uid(const char *s, size_t n, char *uid)
{
	if (n != UID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char ch = s[i];

		if (dash ? (ch != '-' && ch != '_')
			 : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
		uid[i] = dash ? '-' : ch;
	}
	uid[n] = '\0';
	return true;
}

static enum wa_pod_qos qos_of(const char *s, size_t n)
{
	if (n == 9 && !strncmp(s, "burstable", 9))
		return WA_QOS_BURSTABLE;
	if (n == 10 && !strncmp(s, "besteffort", 10))
		return WA_QOS_BESTEFFORT;
	return WA_QOS_GUARANTEED;
}

/*
 * A pod component: "pod<uid>" (cgroupfs) or "kubepods[-QOS]-pod<uid>.slice" (systemd). The
 * QoS level is the component before it under cgroupfs, and inside the name under systemd.
 */
static bool pod_component(const char *c, size_t n, const char *parent, size_t pn,
			  struct wa_cgroup_identity *out)
{
	const char *pod;

	if (n == 3 + UID_LEN && !strncmp(c, "pod", 3) &&
	    take_pod_uid(c + 3, UID_LEN, out->pod_uid)) {
		out->qos = pn && strncmp(parent, "kubepods", pn) ? qos_of(parent, pn)
								 : WA_QOS_GUARANTEED;
		return true;
	}
	if (n < 6 + 3 + UID_LEN || strncmp(c, "kubepods", 8) || strncmp(c + n - 6, ".slice", 6) ||
	    strncmp(c + n - 6 - UID_LEN - 3, "pod", 3))
		return false;
	pod = c + n - 6 - UID_LEN;
	if (!take_pod_uid(pod, UID_LEN, out->pod_uid))
		return false;
	/* "kubepods-burstable-pod..." → "burstable"; "kubepods-pod..." → guaranteed */
	if (pod - 3 - c > 9)
		out->qos = qos_of(c + 9, (size_t)(pod - 3 - c - 10));
	else
		out->qos = WA_QOS_GUARANTEED;
	return true;
}

static bool is_unit_name(const char *c, size_t n)
{
	static const char *const kinds[] = {".service", ".scope", ".slice"};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t k = strlen(kinds[i]);

		if (n > k && !strncmp(c + n - k, kinds[i], k))
			return true;
	}
	return false;
}

static void set_unit(struct wa_cgroup_identity *out, const char *c, size_t n)
{
	if (n >= sizeof(out->unit))
		n = sizeof(out->unit) - 1;
	memcpy(out->unit, c, n);
	out->unit[n] = '\0';
}

bool cgroup_identify(const char *path, struct wa_cgroup_identity *out)
{
	const char *c = path, *parent = "", *unit = NULL, *last = NULL;
	size_t pn = 0, unit_len = 0, last_len = 0;
	bool in_pod = false, found = false;

	memset(out, 0, sizeof(*out));
	while (c && *c) {
		const struct id_shape *sh;
		size_t n;

		while (*c == '/')
			c++;
		n = strcspn(c, "/");
		if (!n)
			break;
		if (pod_component(c, n, parent, pn, out)) {
			in_pod = true;
		} else if ((sh = container_shape(c, n))) {
			enum wa_runtime rt = sh->runtime;

			if (rt == WA_RUNTIME_NONE)
				rt = bare_id_runtime(parent, pn, in_pod);
			if (rt != WA_RUNTIME_NONE) {
				memcpy(out->id, c + strlen(sh->prefix), ID_HEX);
				out->id[ID_HEX] = '\0';
				out->runtime = rt;
				out->conmon = sh->conmon;
				found = true;
			}
		}
		if (is_unit_name(c, n)) {
			unit = c;
			unit_len = n;
		}
		last = c;
		last_len = n;
		parent = c;
		pn = n;
		c += n;
	}
	if (unit)
		set_unit(out, unit, unit_len);
	else if (last)
		set_unit(out, last, last_len);
	else
		set_unit(out, "/", 1);
	return found || in_pod;
}

const char *runtime_name(enum wa_runtime rt)
{
	static const char *const names[WA_RUNTIME__COUNT] = {
		[WA_RUNTIME_NONE] = "",
		[WA_RUNTIME_DOCKER] = "docker",
		[WA_RUNTIME_CONTAINERD] = "containerd",
		[WA_RUNTIME_CRIO] = "cri-o",
		[WA_RUNTIME_PODMAN] = "podman",
		[WA_RUNTIME_CRI] = "cri",
	};

	return rt < WA_RUNTIME__COUNT ? names[rt] : "";
}

const char *qos_name(enum wa_pod_qos qos)
{
	switch (qos) {
	case WA_QOS_GUARANTEED:
		return "guaranteed";
	case WA_QOS_BURSTABLE:
		return "burstable";
	case WA_QOS_BESTEFFORT:
		return "besteffort";
	default:
		return "";
	}
}
