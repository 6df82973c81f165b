/*
 * test_container_id.c: cgroup paths as docker, containerd, CRI-O, podman and the kubelet
 * write them (systemd and cgroupfs drivers; v1 paths are the same per controller), and the
 * runtimes' metadata files, against the identity each one must give.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#pragma GCC diagnostic ignored \
	"-Wmissing-field-initializers" /* the table leaves conmon and unit out */

#include "container_id.h"
#include "container_meta.h"

#define ID   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID  "8a3d2c1f-4e5b-4c6d-9e7f-0a1b2c3d4e5f"
#define UID_ "8a3d2c1f_4e5b_4c6d_9e7f_0a1b2c3d4e5f"

struct shape {
	const char *path;
	bool container;
	enum wa_runtime runtime;
	const char *id;
	const char *pod_uid;
	enum wa_pod_qos qos;
	bool conmon;
	const char *unit;
};

static const struct shape shapes[] = {
	/* docker */
	{"/system.slice/docker-" ID ".scope", true, WA_RUNTIME_DOCKER, ID, "", WA_QOS_NONE},
	{"/docker/" ID, true, WA_RUNTIME_DOCKER, ID, "", WA_QOS_NONE},
	{"/docker/" ID "/init.scope", true, WA_RUNTIME_DOCKER, ID, "", WA_QOS_NONE},
	{"/system.slice/docker.service", false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE, false,
	 "docker.service"},
	/* containerd, cri-containerd */
	{"/system.slice/containerd.service", false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE, false,
	 "containerd.service"},
	{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	 ".slice/cri-containerd-" ID ".scope",
	 true, WA_RUNTIME_CONTAINERD, ID, UID, WA_QOS_BURSTABLE},
	{"/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID ".scope", true,
	 WA_RUNTIME_CONTAINERD, ID, UID, WA_QOS_GUARANTEED},
	{"/kubepods/burstable/pod" UID "/" ID, true, WA_RUNTIME_CRI, ID, UID, WA_QOS_BURSTABLE},
	{"/kubepods/besteffort/pod" UID "/" ID, true, WA_RUNTIME_CRI, ID, UID, WA_QOS_BESTEFFORT},
	{"/kubepods/pod" UID "/" ID, true, WA_RUNTIME_CRI, ID, UID, WA_QOS_GUARANTEED},
	{"/kubepods/burstable/pod" UID, true, WA_RUNTIME_NONE, "", UID, WA_QOS_BURSTABLE},
	{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	 ".slice/docker-" ID ".scope",
	 true, WA_RUNTIME_DOCKER, ID, UID, WA_QOS_BESTEFFORT},
	/* CRI-O */
	{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/crio-" ID
	 ".scope",
	 true, WA_RUNTIME_CRIO, ID, UID, WA_QOS_BESTEFFORT},
	{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	 ".slice/crio-conmon-" ID ".scope",
	 true, WA_RUNTIME_CRIO, ID, UID, WA_QOS_BURSTABLE, true},
	{"/system.slice/crio-" ID ".scope", true, WA_RUNTIME_CRIO, ID, "", WA_QOS_NONE},
	/* podman */
	{"/machine.slice/libpod-" ID ".scope", true, WA_RUNTIME_PODMAN, ID, "", WA_QOS_NONE},
	{"/machine.slice/libpod-" ID ".scope/container", true, WA_RUNTIME_PODMAN, ID, "",
	 WA_QOS_NONE},
	{"/machine.slice/libpod-conmon-" ID ".scope", true, WA_RUNTIME_PODMAN, ID, "", WA_QOS_NONE,
	 true},
	{"/libpod_parent/libpod-" ID, true, WA_RUNTIME_PODMAN, ID, "", WA_QOS_NONE},
	{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", true,
	 WA_RUNTIME_PODMAN, ID, "", WA_QOS_NONE},
	/* the host */
	{"/system.slice/ssh.service", false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE, false,
	 "ssh.service"},
	{"/user.slice/user-0.slice/session-3.scope", false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE,
	 false, "session-3.scope"},
	{"/user.slice", false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE, false, "user.slice"},
	{"/", false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE, false, "/"},
	{"/init.scope", false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE, false, "init.scope"},
	{"/foo/bar", false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE, false, "bar"},
	/* not ids: wrong length, upper case, a bare id with no runtime above it */
	{"/docker/"
	 "0123456789abcdef",
	 false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE, false, "0123456789abcdef"},
	{"/system.slice/docker-"
	 "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
	 ".scope",
	 false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE},
	{"/misc/" ID, false, WA_RUNTIME_NONE, "", "", WA_QOS_NONE, false, ID},
};

static void test_real_path_shapes(void **state)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape *s = &shapes[i];
		struct wa_cgroup_identity id;
		bool got = cgroup_identify(s->path, &id);

		if (got != s->container || id.runtime != s->runtime || strcmp(id.id, s->id) ||
		    strcmp(id.pod_uid, s->pod_uid) || id.qos != s->qos || id.conmon != s->conmon ||
		    (s->unit && strcmp(id.unit, s->unit)))
			fail_msg("%s: got container=%d runtime=%d id=%s pod=%s qos=%d conmon=%d "
				 "unit=%s",
				 s->path, got, id.runtime, id.id, id.pod_uid, id.qos, id.conmon,
				 id.unit);
	}
}

static void test_hostile_and_long_paths_are_safe(void **state)
{
	struct wa_cgroup_identity id;
	char longpath[20000];

	memset(longpath, 'a', sizeof(longpath) - 1);
	for (size_t i = 0; i < sizeof(longpath) - 1; i += 50)
		longpath[i] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_false(cgroup_identify(longpath, &id));
	assert_true(strlen(id.unit) < sizeof(id.unit));
	assert_false(cgroup_identify("/x\n\x1b[2J/docker-" ID ".scope\"", &id));
	assert_false(cgroup_identify("", &id));
	assert_string_equal(id.unit, "/");
	assert_false(cgroup_identify("////", &id));
}

static void write_file(const char *path, const char *text)
{
	char dir[4096], cmd[8300];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char root[] = "/tmp/wa-meta-XXXXXX";

static int make_root(void **state)
{
	char p[4096];

	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/var/lib/docker/containers/%s/config.v2.json", root, ID);
	write_file(p, "{\"Name\":\"/web \\\"1\\\"\\n\",\"Config\":{\"Image\":\"nginx:1.25\","
		      "\"Labels\":{\"io.kubernetes.pod.name\":\"web-0\","
		      "\"io.kubernetes.pod.namespace\":\"prod\"}}}");
	snprintf(p, sizeof(p),
		 "%s/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/config.json", root, ID);
	write_file(p, "{\"annotations\":{\"io.kubernetes.cri.container-name\":\"etcd\","
		      "\"io.kubernetes.cri.sandbox-name\":\"etcd-node1\","
		      "\"io.kubernetes.cri.sandbox-namespace\":\"kube-system\"}}");
	snprintf(p, sizeof(p), "%s/run/libpod/events/events.log", root);
	write_file(p, "{\"ID\":\"" ID "\",\"Name\":\"pg\",\"Status\":\"create\"}\n");
	snprintf(p, sizeof(p), "%s/var/log/pods/default_redis-7_" UID "/x", root);
	write_file(p, "");
	return 0;
}

static int remove_root(void **state)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void lookup(const char *path, struct wa_container_meta *m)
{
	struct wa_cgroup_identity id;

	cgroup_identify(path, &id);
	container_meta_lookup(root, &id, m);
}

static void test_docker_metadata_byte_exact(void **state)
{
	struct wa_container_meta m;

	lookup("/system.slice/docker-" ID ".scope", &m);
	assert_string_equal(m.name, "web \"1\"\n");
	assert_string_equal(m.image, "nginx:1.25");
	assert_string_equal(m.pod_name, "web-0");
	assert_string_equal(m.pod_namespace, "prod");
}

static void test_cri_resolves_to_containerd(void **state)
{
	struct wa_container_meta m;

	lookup("/kubepods/burstable/pod" UID "/" ID, &m);
	assert_int_equal(m.runtime, WA_RUNTIME_CONTAINERD);
	assert_string_equal(m.name, "etcd");
	assert_string_equal(m.pod_name, "etcd-node1");
	assert_string_equal(m.pod_namespace, "kube-system");
}

static void test_podman_name_from_event_log(void **state)
{
	struct wa_container_meta m;

	lookup("/libpod_parent/libpod-" ID, &m);
	assert_string_equal(m.name, "pg");
}

static void test_pod_names_from_kubelet_logs(void **state)
{
	struct wa_container_meta m;

	lookup("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	       ".slice/crio-" ID ".scope",
	       &m);
	assert_string_equal(m.name, "");
	assert_string_equal(m.pod_name, "redis-7");
	assert_string_equal(m.pod_namespace, "default");
}

static void test_missing_or_corrupt_metadata(void **state)
{
	struct wa_cgroup_identity id;
	struct wa_container_meta m;
	char p[4096];

	cgroup_identify("/system.slice/crio-" ID ".scope", &id);
	assert_false(container_meta_lookup(root, &id, &m));
	snprintf(p, sizeof(p),
		 "%s/run/containers/storage/overlay-containers/%s/userdata/config.json", root, ID);
	write_file(p, "{\"annotations\": {\"io.kubernetes.pod.name\": ");
	assert_false(container_meta_lookup(root, &id, &m));
	assert_string_equal(m.name, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_path_shapes),
		cmocka_unit_test(test_hostile_and_long_paths_are_safe),
		cmocka_unit_test(test_docker_metadata_byte_exact),
		cmocka_unit_test(test_cri_resolves_to_containerd),
		cmocka_unit_test(test_podman_name_from_event_log),
		cmocka_unit_test(test_pod_names_from_kubelet_logs),
		cmocka_unit_test(test_missing_or_corrupt_metadata),
	};

	return cmocka_run_group_tests(tests, make_root, remove_root);
}
