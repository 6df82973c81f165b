"""Real podman containers (runc, busybox rootfs built here) under writeamp's container views.

Each container runs the static workload, which waits for a gate file before it writes, so that
the containers exist when writeamp starts (a --container filter needs that) and all writers
run during the trace. The expected figures come from the workload's arguments.
"""
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import OUTPUT, WRITEAMP, workload

STATIC_WORKLOAD = OUTPUT / "tests" / "workload-static"
PODMAN_FLAGS = ["--runtime", "runc"]
RUN_FLAGS = ["--network", "none", "--ulimit", "nofile=20000:20000",
             "--ulimit", "nproc=1000:1000"]



def root_is_a_mount_point():
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == "/" for line in f)


def podman(*args):
    return ["podman", *PODMAN_FLAGS, *map(str, args)]


# runc makes "/" a slave mount, which fails with EINVAL under chroot (fresh-ci's Debian root),
# where "/" is no mount point; CI and hosts run these tests.
chroot_only = pytest.mark.skipif(not root_is_a_mount_point(),
                                 reason="runc cannot start containers under chroot")
pytestmark = [pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed"),
              chroot_only]


def make_rootfs(directory):
    (directory / "bin").mkdir(parents=True)
    (directory / "data").mkdir()
    shutil.copy("/bin/busybox", directory / "bin" / "busybox")
    os.symlink("busybox", directory / "bin" / "sh")
    shutil.copy(STATIC_WORKLOAD, directory / "workload")
    return directory


class Container:
    """A detached container whose workload starts when the gate file appears."""

    def __init__(self, scratch, *workload_args):
        self.name = f"wa-test-{uuid.uuid4().hex[:10]}"
        self.rootfs = make_rootfs(scratch / self.name)
        cmd = podman("run", "-d", "--name", self.name, *RUN_FLAGS, "--rootfs", self.rootfs,
                     "/workload", *workload_args, "--start-after", "/data/go")
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"{cmd}: {p.stderr}"
        self.id = p.stdout.strip()
        assert len(self.id) == 64, self.id

    def release(self):
        (self.rootfs / "data" / "go").touch()

    def wait(self):
        rc = subprocess.run(podman("wait", self.name), capture_output=True, text=True,
                            timeout=120).stdout.strip()
        assert rc == "0", f"container {self.name} exited {rc}"

    def remove(self):
        subprocess.run(podman("rm", "-f", self.name), capture_output=True, timeout=120)


@pytest.fixture
def containers(scratch):
    made = []

    def make(*args):
        c = Container(scratch, *args)
        made.append(c)
        return c

    yield make
    for c in made:
        c.remove()


# Two distinct patterns: tiny writes each fsynced, and page writes with an fdatasync every 10.
A_ARGS = ("write", "--file", "/data/a", "--count", 300, "--size", 48, "--fsync-every", 1)
B_ARGS = ("write", "--file", "/data/b", "--count", 200, "--size", 4096, "--fdatasync-every", 10)


def by_id(report, cid):
    rows = [c for c in report["containers"] if c["id"] == cid]
    assert len(rows) == 1, [c["id"] for c in report["containers"]]
    return rows[0]


def check_a(row):
    assert row["write"]["calls"] == 300 and row["write"]["bytes"] == 300 * 48
    assert row["sync"]["fsync"] == 300 and row["sync"]["fdatasync"] == 0
    assert row["device"]["write_bytes"] >= 300 * 48


def check_b(row):
    assert row["write"]["calls"] == 200 and row["write"]["bytes"] == 200 * 4096
    assert row["sync"]["fdatasync"] == 20 and row["sync"]["fsync"] == 0
    assert row["device"]["write_bytes"] >= 200 * 4096


def trace_while(tracer, options, release, wait):
    t = tracer("--json", *options)
    release()
    wait()
    rc, out = t.stop()
    assert rc == 0
    return json.loads(out)


def start_host_writer(scratch):
    gate = scratch / "host-go"
    proc = subprocess.Popen(workload("write", "--file", scratch / "host", "--count", 250,
                                     "--size", 100, "--start-after", gate))
    return proc, gate


def test_two_containers_and_a_host_process_each_get_their_own_figures(scratch, containers,
                                                                      tracer):
    a, b = containers(*A_ARGS), containers(*B_ARGS)
    host, gate = start_host_writer(scratch)

    def release():
        a.release(), b.release(), gate.touch()

    def wait():
        a.wait(), b.wait(), host.wait()

    report = trace_while(tracer, [], release, wait)
    row_a, row_b = by_id(report, a.id), by_id(report, b.id)
    assert row_a["name"] == a.name and row_b["name"] == b.name
    assert row_a["runtime"] == row_b["runtime"] == "podman"
    check_a(row_a)
    check_b(row_b)
    (hostrow,) = [p for p in report["processes"] if p["pid"] == host.pid]
    assert hostrow["container"] is None
    assert hostrow["write"]["calls"] == 250 and hostrow["write"]["bytes"] == 25000
    workloads = [p for p in report["processes"] if p["comm"] == "workload"]
    in_a = [p for p in workloads if p["container"] and p["container"]["id"] == a.id]
    assert len(in_a) == 1 and in_a[0]["container"]["name"] == a.name
    assert in_a[0]["write"]["calls"] == 300
    # A's 300 fsyncs of 48 bytes are a finding that names A; B's 20 fdatasyncs are too few.
    small = [f for f in report["findings"] if f["id"] == "small-sync-writes"]
    assert [f["target"]["container"] for f in small] == [a.name], small
    assert small[0]["target"]["pid"] == in_a[0]["pid"]
    assert small[0]["target"]["file"].endswith(f"{a.name}/data/a")
    assert not [f for f in report["findings"] if f["target"]["container"] == b.name]


@pytest.mark.parametrize("select", ["name", "id-prefix"])
def test_container_filter_shows_only_that_container(scratch, containers, tracer, select):
    a, b = containers(*A_ARGS), containers(*B_ARGS)
    host, gate = start_host_writer(scratch)
    chosen = b.name if select == "name" else b.id[:12]

    def release():
        a.release(), b.release(), gate.touch()

    def wait():
        a.wait(), b.wait(), host.wait()

    report = trace_while(tracer, ["--container", chosen], release, wait)
    assert [c["id"] for c in report["containers"]] == [b.id]
    check_b(report["containers"][0])
    assert report["processes"], "the container's processes are reported"
    for p in report["processes"]:
        assert p["container"] and p["container"]["id"] == b.id, p["comm"]
    assert host.pid not in [p["pid"] for p in report["processes"]]
    assert report["totals"]["write"]["calls"] == 200


def test_by_container_text_names_both_containers(scratch, containers, tracer):
    a, b = containers(*A_ARGS), containers(*B_ARGS)
    t = tracer("--by", "container")
    a.release(), b.release()
    a.wait(), b.wait()
    rc, out = t.stop()
    assert rc == 0
    section = out.split("CONTAINERS", 1)[1].split("\nDEVICES", 1)[0]
    for c in (a, b):
        line = next(ln for ln in section.splitlines() if c.name in ln)
        assert c.id[:12] in line and "podman" in line
    line_a = next(ln for ln in section.splitlines() if a.name in ln)
    assert line_a.split()[1] == "300"  # WRITES


@pytest.mark.parametrize("option, value", [("--container", "wa-no-such-container"),
                                           ("--cgroup", "/wa-no-such-cgroup")])
def test_a_filter_that_matches_nothing_is_a_one_line_error(option, value):
    p = subprocess.run([str(WRITEAMP), "report", "-d", "1", option, value],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("writeamp: ") and value in lines[0]
