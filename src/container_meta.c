// SPDX-License-Identifier: GPL-2.0
/*
 * container_meta.c: container and pod names from the runtimes' own files on the host. Only
 * files are read, never a runtime's CLI, so that naming costs no fork and works for any user.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "container_meta.h"

#define PATH_LEN 4096

static void copy_name(char *dst, const char *src)
{
	if (src && !dst[0])
		snprintf(dst, WA_META_NAME_LEN, "%s", src);
}

static json_t *load_json(const char *root, const char *path)
{
	char full[PATH_LEN];

	snprintf(full, sizeof(full), "%s%s", root, path);
	return json_load_file(full, JSON_DECODE_ANY, NULL);
}

static const char *string_at(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* docker: /var/lib/docker/containers/ID/config.v2.json. */
static bool docker_names(const char *root, const char *id, struct wa_container_meta *out)
{
	char path[PATH_LEN];
	json_t *doc, *config, *labels;
	const char *name;

	snprintf(path, sizeof(path), "/var/lib/docker/containers/%s/config.v2.json", id);
	doc = load_json(root, path);
	if (!doc)
		return false;
	name = string_at(doc, "Name");
	copy_name(out->name, name && name[0] == '/' ? name + 1 : name);
	config = json_object_get(doc, "Config");
	copy_name(out->image, string_at(config, "Image"));
	labels = json_object_get(config, "Labels");
	copy_name(out->pod_name, string_at(labels, "io.kubernetes.pod.name"));
	copy_name(out->pod_namespace, string_at(labels, "io.kubernetes.pod.namespace"));
	json_decref(doc);
	out->runtime = WA_RUNTIME_DOCKER;
	return out->name[0];
}

/* The OCI spec a CRI runtime wrote for the container: its annotations carry the names. */
static bool cri_annotations(json_t *doc, struct wa_container_meta *out, bool containerd)
{
	json_t *a = json_object_get(doc, "annotations");

	if (containerd) {
		copy_name(out->name, string_at(a, "io.kubernetes.cri.container-name"));
		copy_name(out->name, string_at(a, "nerdctl/name"));
		copy_name(out->pod_name, string_at(a, "io.kubernetes.cri.sandbox-name"));
		copy_name(out->pod_namespace, string_at(a, "io.kubernetes.cri.sandbox-namespace"));
		copy_name(out->image, string_at(a, "io.kubernetes.cri.image-name"));
	} else {
		copy_name(out->name, string_at(a, "io.kubernetes.container.name"));
		copy_name(out->pod_name, string_at(a, "io.kubernetes.pod.name"));
		copy_name(out->pod_namespace, string_at(a, "io.kubernetes.pod.namespace"));
		copy_name(out->image, string_at(a, "io.kubernetes.cri-o.ImageName"));
	}
	return out->name[0] || out->pod_name[0];
}

/* containerd: /run/containerd/io.containerd.runtime.v2.task/NAMESPACE/ID/config.json. */
static bool containerd_names(const char *root, const char *id, struct wa_container_meta *out)
{
	char dir[PATH_LEN], path[PATH_LEN];
	bool found = false;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/run/containerd/io.containerd.runtime.v2.task", root);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		json_t *doc;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path),
			 "/run/containerd/io.containerd.runtime.v2.task/%s/%s/config.json",
			 e->d_name, id);
		doc = load_json(root, path);
		if (!doc)
			continue;
		found = cri_annotations(doc, out, true);
		json_decref(doc);
	}
	closedir(d);
	if (found)
		out->runtime = WA_RUNTIME_CONTAINERD;
	return found;
}

/* CRI-O: the userdata/config.json of containers/storage, under /run or /var/lib. */
static bool crio_names(const char *root, const char *id, struct wa_container_meta *out)
{
	static const char *const bases[] = {"/run/containers/storage",
					    "/var/lib/containers/storage"};
	char path[PATH_LEN];

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		json_t *doc;
		bool found;

		snprintf(path, sizeof(path), "%s/overlay-containers/%s/userdata/config.json",
			 bases[i], id);
		doc = load_json(root, path);
		if (!doc)
			continue;
		found = cri_annotations(doc, out, false);
		json_decref(doc);
		if (found) {
			out->runtime = WA_RUNTIME_CRIO;
			return true;
		}
	}
	return false;
}

/* containers/storage lists image-based containers with their names. */
static bool storage_names(const char *root, const char *id, struct wa_container_meta *out)
{
	json_t *list =
		load_json(root, "/var/lib/containers/storage/overlay-containers/containers.json");
	size_t i;
	json_t *c;

	if (!json_is_array(list)) {
		json_decref(list);
		return false;
	}
	json_array_foreach(list, i, c)
	{
		const char *cid = string_at(c, "id");

		if (!cid || strcmp(cid, id))
			continue;
		copy_name(out->name,
			  json_string_value(json_array_get(json_object_get(c, "names"), 0)));
		break;
	}
	json_decref(list);
	return out->name[0];
}

/*
 * podman keeps names in its bolt database, which is binary; but its file event log (the
 * default events backend without journald) has one JSON line per event with "ID" and "Name",
 * and a container started with --rootfs appears nowhere else.
 */
static bool podman_event_names(const char *root, const char *id, struct wa_container_meta *out)
{
	static const char *const logs[] = {"/run/libpod/events/events.log",
					   "/var/run/libpod/events/events.log"};
	char path[PATH_LEN];

	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]) && !out->name[0]; i++) {
		char *line = NULL;
		size_t cap = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s%s", root, logs[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (!out->name[0] && getline(&line, &cap, f) > 0) {
			json_t *ev;

			if (!strstr(line, id))
				continue;
			ev = json_loads(line, 0, NULL);
			if (ev && !strcmp(string_at(ev, "ID") ? string_at(ev, "ID") : "", id))
				copy_name(out->name, string_at(ev, "Name"));
			json_decref(ev);
		}
		free(line);
		fclose(f);
	}
	return out->name[0];
}

/* The kubelet logs each pod under /var/log/pods/NAMESPACE_NAME_UID. */
static bool kubelet_pod_names(const char *root, const char *uid, struct wa_container_meta *out)
{
	char dir[PATH_LEN];
	size_t ulen = strlen(uid);
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/var/log/pods", root);
	d = opendir(dir);
	if (!d)
		return false;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char *sep;

		if (n <= ulen + 1 || strcmp(e->d_name + n - ulen, uid) ||
		    e->d_name[n - ulen - 1] != '_')
			continue;
		e->d_name[n - ulen - 1] = '\0';
		sep = strchr(e->d_name, '_');
		if (!sep)
			continue;
		*sep = '\0';
		copy_name(out->pod_namespace, e->d_name);
		copy_name(out->pod_name, sep + 1);
		break;
	}
	closedir(d);
	return out->pod_name[0];
}

bool container_meta_lookup(const char *root, const struct wa_cgroup_identity *who,
			   struct wa_container_meta *out)
{
	const char *r = root && strcmp(root, "/") ? root : "";
	const char *id = who->id;

	memset(out, 0, sizeof(*out));
	out->runtime = who->runtime;
	if (id[0]) {
		switch (who->runtime) {
		case WA_RUNTIME_DOCKER:
			docker_names(r, id, out);
			break;
		case WA_RUNTIME_CONTAINERD:
			containerd_names(r, id, out);
			break;
		case WA_RUNTIME_CRIO:
			crio_names(r, id, out);
			break;
		case WA_RUNTIME_PODMAN:
			if (!storage_names(r, id, out))
				podman_event_names(r, id, out);
			break;
		case WA_RUNTIME_CRI:
			if (!containerd_names(r, id, out))
				crio_names(r, id, out);
			break;
		default:
			break;
		}
	}
	if (who->pod_uid[0] && (!out->pod_name[0] || !out->pod_namespace[0]))
		kubelet_pod_names(r, who->pod_uid, out);
	return out->name[0] || out->pod_name[0];
}
