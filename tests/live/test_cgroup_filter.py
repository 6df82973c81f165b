"""--cgroup on nested v2 cgroups made here: the kernel-side filter goes by ancestry, at any depth.

The filter compares a task's ancestor at the filter's depth with the filter's id, a depth that
user space works out by walking up the directory tree; a wrong depth would drop every task, and
a wrong id would take the wrong ones. Each workload is moved into its cgroup before it writes,
so the expected figures are the workloads' own arguments. No container runtime is needed.
"""
import json
import os
import subprocess
import uuid

import pytest

from conftest import workload


def v2_root():
    for path in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(path, "cgroup.procs")) and \
                os.path.exists(os.path.join(path, "cgroup.subtree_control")):
            return path
    return None


pytestmark = pytest.mark.skipif(v2_root() is None, reason="no cgroup v2 hierarchy mounted")


@pytest.fixture
def tree():
    """wa-test-X/deep/er and wa-test-X/side under the v2 root; removed afterwards."""
    top = f"wa-test-{uuid.uuid4().hex[:10]}"
    made = [top, f"{top}/deep", f"{top}/deep/er", f"{top}/side"]
    root = v2_root()
    for rel in made:
        os.mkdir(os.path.join(root, rel))
    yield root, top
    for rel in reversed(made):
        with open(os.path.join(root, rel, "cgroup.procs")) as f:
            assert not f.read().strip(), f"{rel} still has processes"
        os.rmdir(os.path.join(root, rel))


class Writer:
    """A workload that writes COUNT x SIZE bytes once its gate file appears."""

    def __init__(self, scratch, name, count, size):
        self.count, self.size = count, size
        self.gate = scratch / f"{name}-go"
        self.proc = subprocess.Popen(workload("write", "--file", scratch / name, "--count",
                                              count, "--size", size, "--start-after", self.gate))
        self.pid = self.proc.pid

    def move_to(self, cgroup_dir):
        with open(os.path.join(cgroup_dir, "cgroup.procs"), "w") as f:
            f.write(str(self.pid))

    def release(self):
        self.gate.touch()

    def wait(self):
        assert self.proc.wait(timeout=120) == 0


def trace(tracer, option_value, writers):
    t = tracer("--json", "--cgroup", option_value)
    for w in writers:
        w.release()
    for w in writers:
        w.wait()
    rc, out = t.stop()
    assert rc == 0
    return json.loads(out)


def rows_of(report, writer):
    return [p for p in report["processes"] if p["pid"] == writer.pid]


def check_counted(report, writer):
    (row,) = rows_of(report, writer)
    assert row["write"]["calls"] == writer.count
    assert row["write"]["bytes"] == writer.count * writer.size


@pytest.mark.parametrize("depth", [1, 2])
def test_cgroup_filter_takes_every_task_below_it_and_nothing_else(scratch, tracer, tree, depth):
    root, top = tree
    deep = Writer(scratch, "deep", 300, 48)
    side = Writer(scratch, "side", 200, 100)
    host = Writer(scratch, "host", 250, 64)
    deep.move_to(os.path.join(root, top, "deep", "er"))
    side.move_to(os.path.join(root, top, "side"))
    chosen = top if depth == 1 else f"{top}/deep"

    report = trace(tracer, chosen, [deep, side, host])

    check_counted(report, deep)
    assert rows_of(report, host) == [], "a task outside the filter is not reported"
    if depth == 1:
        check_counted(report, side)
        expected = deep.count + side.count
    else:
        assert rows_of(report, side) == [], "a sibling cgroup is not under the filter"
        expected = deep.count
    assert report["totals"]["write"]["calls"] == expected
