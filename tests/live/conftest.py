"""Fixtures for the live tests: they load writeamp's BPF programs for real, as root.

Every test runs the workload generator (tests/workload/workload.c), which makes exactly the
I/O its arguments describe, so the expected figures are worked out here from those arguments.
"""
import json
import os
import shutil
import signal
import subprocess
import socket
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("OUTPUT", REPO / ".output"))
WRITEAMP = REPO / "writeamp"
WORKLOAD = OUTPUT / "tests" / "workload"
# The root filesystem (ext4 on vda, no journal); tests write under it.
SCRATCH_ROOT = Path("/var/tmp/writeamp-tests")
READY_LINE = "Tracing write amplification... Hit Ctrl-C to end."


def pytest_configure(config):
    if os.geteuid() != 0:
        raise pytest.UsageError("the live tests load BPF programs: run them as root")
    for binary in (WRITEAMP, WORKLOAD):
        if not binary.exists():
            raise pytest.UsageError(f"{binary} is missing: run make first")


@pytest.fixture
def scratch():
    """A fresh directory on the root filesystem, removed afterwards."""
    d = SCRATCH_ROOT / uuid.uuid4().hex[:12]
    d.mkdir(parents=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def workload(*args):
    return [str(WORKLOAD), *map(str, args)]


def run_json(command, *options, settle=None, check=True, timeout=300):
    """`writeamp run --json [options] -- command`; returns (report, completed process)."""
    cmd = [str(WRITEAMP), "run", "--json", *map(str, options)]
    if settle is not None:
        cmd += ["--settle", str(settle)]
    cmd += ["--", *command]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr}")
    return json.loads(p.stdout), p


def only_process(report, comm="workload"):
    """The single process row named comm; fails if there is not exactly one."""
    rows = [p for p in report["processes"] if p["comm"] == comm]
    assert len(rows) == 1, f"expected one {comm} row, got {[p['comm'] for p in report['processes']]}"
    return rows[0]


def file_row(report, path):
    rows = [f for f in report["files"] if f["path"] == str(path)]
    assert len(rows) == 1, f"no single file row for {path}: {[f['path'] for f in report['files']]}"
    return rows[0]


def device_row(report, name):
    rows = [d for d in report["devices"] if d["name"] == name]
    assert len(rows) == 1, f"no device {name}: {[d['name'] for d in report['devices']]}"
    return rows[0]


class Tracer:
    """A `writeamp report` running in the background until stop()."""

    def __init__(self, *options):
        self.cmd = [str(WRITEAMP), "report", *map(str, options)]
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.stderr_lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr_lines.append(line)
            if line.strip() == READY_LINE:
                return
        self.proc.kill()
        raise AssertionError(f"{self.cmd} did not get ready: {''.join(self.stderr_lines)}")

    def stop(self, sig=signal.SIGINT, timeout=60):
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        self.stderr_lines.append(err)
        return self.proc.returncode, out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def tracer():
    started = []

    def start(*options):
        t = Tracer(*options)
        started.append(t)
        return t

    yield start
    for t in started:
        t.kill()


@pytest.fixture(scope="session")
def journaled_fs():
    """A journaled ext4 with 4 KiB blocks on a loop device (the root filesystem has no
    journal). Yields (mount point, loop device name)."""
    SCRATCH_ROOT.mkdir(parents=True, exist_ok=True)
    image = SCRATCH_ROOT / "journal.img"
    mnt = SCRATCH_ROOT / "journal-mnt"
    mnt.mkdir(exist_ok=True)
    subprocess.run(["truncate", "-s", "512M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-b", "4096", str(image)], check=True)
    loop = subprocess.run(["losetup", "--find", "--show", str(image)], check=True,
                          capture_output=True, text=True).stdout.strip()
    subprocess.run(["mount", loop, str(mnt)], check=True)
    try:
        yield mnt, os.path.basename(loop)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
        subprocess.run(["losetup", "-d", loop], check=False)
        image.unlink(missing_ok=True)


# Servers started by the tests (redis, PostgreSQL) listen on a free loopback port.
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port}")
