"""writeamp playbook: its bpftrace scripts run on this machine's bpftrace and count what writeamp
counts.

Each script is run over the whole life of one workload process: the workload is started
under `writeamp run --json` and waits for a gate file, the scripts are generated for it and
started, and only then is the gate opened. So bpftrace and writeamp see exactly the same calls,
and both are also checked against what the workload is known to do (it makes exactly --count
writes of --size bytes and count/K syncs).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import OUTPUT, WRITEAMP, workload

DEBUGFS = "/sys/kernel/debug"
SCRIPT_NAMES = ["write-syscalls.bt", "syncs.bt", "page-dirtying.bt", "block-io.bt"]
TOLERANCE = 0.05
COUNTER = re.compile(rb"^@(\w+): (-?\d+)$")
HEREDOC = re.compile(r"^cat > (\S+) <<'EOF'\n(.*?)^EOF$", re.M | re.S)
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60


def debugfs_mounted():
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == DEBUGFS and " - debugfs " in line for line in f)


@pytest.fixture(scope="module", autouse=True)
def bpftrace_ready():
    """bpftrace 0.17 finds tracepoints through debugfs, as the playbook says."""
    assert shutil.which("bpftrace"), "bpftrace is missing (a test package: ./bootstrap.sh test)"
    if not debugfs_mounted():
        subprocess.run(["mount", "-t", "debugfs", "none", DEBUGFS], check=True)


def playbook(*args, check=True):
    args = [a if isinstance(a, bytes) else str(a) for a in args]
    p = subprocess.run([str(WRITEAMP), "playbook", *args], capture_output=True)
    if check:
        assert p.returncode == 0, f"playbook {args} exited {p.returncode}: {p.stderr!r}"
    return p


def printed_scripts(stdout):
    """The scripts the playbook prints at its end, each as `cat > NAME <<'EOF' ... EOF`."""
    scripts = {name: text for name, text in HEREDOC.findall(stdout.decode())}
    assert sorted(scripts) == sorted(SCRIPT_NAMES), sorted(scripts)
    return scripts


def near(measured, expected):
    return abs(measured - expected) <= TOLERANCE * max(abs(expected), 1)


class Bpftrace:
    """One script run by bpftrace, ready (its probes attached) once the constructor returns."""

    def __init__(self, path):
        self.path = path
        self.proc = subprocess.Popen(["bpftrace", str(path)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        seen = []
        deadline = time.monotonic() + READY_TIMEOUT_S
        # BEGIN prints "Tracing ..." once every probe is attached.
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith(b"Tracing "):
                return
        self.proc.kill()
        err = self.proc.communicate()[1]
        raise AssertionError(f"bpftrace {path} did not attach: {b''.join(seen)!r} {err!r}")

    def stop(self):
        """SIGINT, as the playbook says; returns the counters printed at the end."""
        self.proc.send_signal(signal.SIGINT)
        try:
            out, err = self.proc.communicate(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(f"bpftrace {self.path} ignored SIGINT for {STOP_TIMEOUT_S} s: "
                                 f"{out[-2000:]!r} {err[-2000:]!r}")
        assert self.proc.returncode == 0, f"bpftrace {self.path} exited " \
                                          f"{self.proc.returncode}: {err!r}"
        counters = {}
        for line in out.splitlines():
            m = COUNTER.match(line)
            if m:
                counters[m.group(1).decode()] = int(m.group(2))
        return counters

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def bpftraces():
    started = []

    def start(path):
        b = Bpftrace(path)
        started.append(b)
        return b

    yield start
    for b in started:
        b.kill()


def children_of(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(x) for x in f.read().split()]


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def read_comm(pid):
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            return f.read()[:-1]
    except OSError:
        return None


class GatedRun:
    """`writeamp run --json --settle 0 -- COMMAND --start-after GATE`: COMMAND waits for the
    gate, and self.pid is its pid once it carries @comm (it has been executed and named)."""

    def __init__(self, scratch, command, comm=b"workload"):
        self.gate = scratch / f"go-{uuid.uuid4().hex[:8]}"
        self.proc = subprocess.Popen([str(WRITEAMP), "run", "--json", "--settle", "0", "--",
                                      *command, "--start-after", self.gate],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.pid = None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            kids = children_of(self.proc.pid)
            if kids and read_comm(kids[0]) == comm:
                self.pid = kids[0]
                break
            time.sleep(0.02)
        if not self.pid:
            self.kill()
            raise AssertionError(f"writeamp run did not start {command}")

    def release(self):
        self.gate.touch()

    def report(self):
        out, err = self.proc.communicate(timeout=300)
        assert self.proc.returncode == 0, f"writeamp run exited {self.proc.returncode}: {err}"
        return json.loads(out)

    def kill(self):
        """Ends the command, which holds writeamp's output pipes, then writeamp. The command
        is killed by its pid while it is still writeamp's child; the gate is opened too, so
        that it ends by itself otherwise."""
        self.gate.touch()
        if self.proc.poll() is None:
            if self.pid and parent_of(self.pid) == self.proc.pid:
                os.kill(self.pid, signal.SIGKILL)
            self.proc.kill()
        self.proc.communicate(timeout=120)


@pytest.fixture
def gated(scratch):
    started = []

    def start(command, comm=b"workload"):
        g = GatedRun(scratch, command, comm)
        started.append(g)
        return g

    yield start
    for g in started:
        g.kill()


def save_scripts(directory, scripts):
    directory.mkdir(exist_ok=True)
    paths = {}
    for name, text in scripts.items():
        paths[name] = directory / name
        paths[name].write_text(text)
    return paths


def process_row(report, pid):
    rows = [p for p in report["processes"] if p["pid"] == pid]
    assert len(rows) == 1, [(p["pid"], p["comm"]) for p in report["processes"]]
    return rows[0]


# About two seconds of 48-byte writes, each fsynced, on the root filesystem (no journal): the
# workload's own fsyncs put all its I/O on the device, in its own context.
COUNT, SIZE, EVERY = 12000, 48, 1


def test_every_pid_script_matches_writeamp_and_the_workload(scratch, gated, bpftraces):
    run = gated(workload("write", "--file", scratch / "f", "--count", COUNT, "--size", SIZE,
                         "--fsync-every", EVERY))
    out = playbook("-p", run.pid).stdout
    assert f"pid {run.pid} (workload)".encode() in out
    assert b"mount -t debugfs none /sys/kernel/debug" in out
    assert f"perf record -g -e block:block_rq_issue -a".encode() in out
    assert f"writeamp report -p {run.pid} -d 30".encode() in out
    paths = save_scripts(scratch / "scripts", printed_scripts(out))
    for text in (p.read_text() for p in paths.values()):
        assert f"/pid == {run.pid}/" in text
        assert "kprobe" not in text.replace("no kprobes", "") and "kfunc" not in text
    traces = {name: bpftraces(paths[name]) for name in SCRIPT_NAMES}
    started = time.monotonic()
    run.release()
    report = run.report()
    took = time.monotonic() - started
    got = {name: t.stop() for name, t in traces.items()}
    assert took >= 1.0, f"the workload ran {took:.2f} s only: the scripts hardly ran"
    w = process_row(report, run.pid)
    syncs = COUNT // EVERY

    wr = got["write-syscalls.bt"]
    # Ground truth first, then writeamp's figure that the playbook names for the counter.
    assert wr["write_calls"] == COUNT and wr["write_bytes"] == COUNT * SIZE
    assert wr["write_errors"] == 0
    assert w["write"]["calls"] == COUNT and w["nonstorage"]["calls"] == 0
    assert near(wr["write_calls"], w["write"]["calls"] + w["nonstorage"]["calls"])
    assert near(wr["write_bytes"], w["write"]["bytes"] + w["nonstorage"]["bytes"])

    sy = got["syncs.bt"]
    assert sy["fsync"] == syncs and sy["sync_calls"] == syncs
    assert sy["fdatasync"] == sy["sync_file_range"] == sy["msync"] == 0
    assert sy["sync"] == sy["syncfs"] == 0
    assert w["sync"]["fsync"] == syncs
    for key in ("fsync", "fdatasync", "sync_file_range", "msync", "sync", "syncfs"):
        assert near(sy[key], w["sync"][key]), key
    assert near(sy["sync_calls"], w["sync"]["calls"])

    pd = got["page-dirtying.bt"]
    # Each write after an fsync dirties its (cleaned) page again.
    assert pd["dirtied_folios"] >= COUNT
    assert near(pd["dirtied_folios"], w["dirtied_pages"])

    bl = got["block-io.bt"]
    dev = w["device"]
    assert bl["queued_write_bytes"] >= COUNT * SIZE
    assert bl["queued_flushes"] == syncs  # one flush per fsync on this disk
    assert near(bl["queued_write_bytes"], dev["write_bytes"])
    assert near(bl["queued_flushes"], dev["flush_requests"])
    assert bl["issued_write_bytes"] <= dev["write_bytes"] * (1 + TOLERANCE)
    assert bl["issued_write_requests"] > 0


def test_pid_filter_leaves_out_another_process_and_comm_filter_takes_both(
        scratch, gated, bpftraces):
    name = f"pb{uuid.uuid4().hex[:8]}"
    target_count, other_count = 3000, 1700
    # Both processes carry the same comm, so that only the pid tells them apart.
    run = gated(workload("write", "--file", scratch / "t", "--count", target_count, "--size",
                         100, "--fsync-every", 3, "--comm", name), comm=name.encode())
    other = subprocess.Popen(workload("write", "--file", scratch / "o", "--count", other_count,
                                      "--size", 200, "--fsync-every", 1, "--comm", name,
                                      "--start-after", run.gate))
    try:
        by_pid = save_scripts(scratch / "pid", printed_scripts(playbook("-p", run.pid).stdout))
        by_comm = save_scripts(scratch / "comm", printed_scripts(playbook("--comm", name).stdout))
        assert f'/comm == "{name}"/' in by_comm["syncs.bt"].read_text()
        traces = {(kind, s): bpftraces(paths[s])
                  for kind, paths in (("pid", by_pid), ("comm", by_comm))
                  for s in ("write-syscalls.bt", "syncs.bt")}
        run.release()
        report = run.report()
        assert other.wait(timeout=300) == 0
    finally:
        if other.poll() is None:
            other.kill()
    got = {key: t.stop() for key, t in traces.items()}
    w = process_row(report, run.pid)
    assert w["write"]["calls"] == target_count

    pid_w, pid_s = got[("pid", "write-syscalls.bt")], got[("pid", "syncs.bt")]
    assert pid_w["write_calls"] == target_count and pid_w["write_bytes"] == target_count * 100
    assert pid_s["fsync"] == target_count // 3
    assert near(pid_w["write_calls"], w["write"]["calls"] + w["nonstorage"]["calls"])
    assert near(pid_s["sync_calls"], w["sync"]["calls"])

    comm_w, comm_s = got[("comm", "write-syscalls.bt")], got[("comm", "syncs.bt")]
    assert comm_w["write_calls"] == target_count + other_count
    assert comm_w["write_bytes"] == target_count * 100 + other_count * 200
    assert comm_s["fsync"] == target_count // 3 + other_count


def test_script_dir_scripts_of_a_comm_run_and_count_pipes_as_writeamp_says(scratch, gated,
                                                                           bpftraces):
    """--script-dir writes the four scripts; the write script counts pipe writes too, and the
    playbook says to compare it with write.calls + nonstorage.calls."""
    name = f"pb{uuid.uuid4().hex[:8]}"
    directory = scratch / "new" / "scripts"
    p = playbook("--comm", name, "--script-dir", directory)
    out = p.stdout.decode()
    assert "No process is named" in out  # it does not run yet
    assert "SCRIPTS" not in out and "<<'EOF'" not in out  # they went to the files
    assert sorted(os.listdir(directory)) == sorted(SCRIPT_NAMES)
    for script in SCRIPT_NAMES:
        assert f"bpftrace {directory / script}" in out
    assert "@write_calls = write.calls + nonstorage.calls" in out
    assert "@write_bytes with write.bytes + nonstorage.bytes" in \
        (directory / "write-syscalls.bt").read_text().replace("\n// ", " ")
    traces = {s: bpftraces(directory / s) for s in SCRIPT_NAMES}
    file_writes, pipe_writes = 500, 800
    wl = " ".join(map(str, workload("write", "--file", scratch / "f", "--count", file_writes,
                                    "--size", 4096, "--fdatasync-every", 50, "--comm", name)))
    pipe = " ".join(map(str, workload("pipe", "--count", pipe_writes, "--size", 64, "--comm",
                                      name)))
    # sh passes the gate ($1) on to the first workload; the scripts are attached already.
    run = gated(["sh", "-c", f'{wl} --start-after "$1" && {pipe}'], comm=b"sh")
    run.release()
    report = run.report()
    got = {s: t.stop() for s, t in traces.items()}
    rows = [r for r in report["processes"] if r["comm"] == name]
    assert len(rows) == 2, [r["comm"] for r in report["processes"]]
    calls = sum(r["write"]["calls"] + r["nonstorage"]["calls"] for r in rows)
    written = sum(r["write"]["bytes"] + r["nonstorage"]["bytes"] for r in rows)
    assert sum(r["write"]["calls"] for r in rows) == file_writes
    assert sum(r["nonstorage"]["calls"] for r in rows) == pipe_writes

    wr = got["write-syscalls.bt"]
    assert wr["write_calls"] == file_writes + pipe_writes
    assert wr["write_bytes"] == file_writes * 4096 + pipe_writes * 64
    assert near(wr["write_calls"], calls) and near(wr["write_bytes"], written)
    sy = got["syncs.bt"]
    assert sy["fdatasync"] == file_writes // 50 and sy["fsync"] == 0
    assert near(sy["fdatasync"], sum(r["sync"]["fdatasync"] for r in rows))
    pd = got["page-dirtying.bt"]
    # Every 4 KiB write fills a page of its own, dirtied once.
    assert pd["dirtied_folios"] >= file_writes
    assert near(pd["dirtied_folios"], sum(r["dirtied_pages"] for r in rows))
    bl = got["block-io.bt"]
    assert bl["queued_flushes"] == file_writes // 50
    assert near(bl["queued_flushes"], sum(r["device"]["flush_requests"] for r in rows))


# Quote, backslash, newline, apostrophe, dollar and a UTF-8 byte pair: 9 bytes.
HOSTILE_ESCAPED = r'q"\\x\n' + "'$" + r"\xc3\xa9"
HOSTILE = b'q"\\x\n\'$\xc3\xa9'


def terminal_safe(text):
    return not any((c < 0x20 and c not in (0x0a, 0x09)) or c == 0x7f for c in text)


def shell_words(line):
    """The words bash makes of @line (the playbook quotes with '...' and $'...')."""
    p = subprocess.run(["bash", "-c", "for w in " + line + "; do printf '%s\\0' \"$w\"; done"],
                       capture_output=True, check=True)
    return p.stdout.split(b"\0")[:-1]


@pytest.mark.parametrize("by", ["pid", "comm"])
def test_hostile_comm_does_not_break_the_scripts(scratch, gated, bpftraces, by):
    count = 2000
    run = gated(workload("write", "--file", scratch / "f", "--count", count, "--size", 48,
                         "--fsync-every", 4, "--comm", HOSTILE_ESCAPED), comm=HOSTILE)
    p = playbook(*(["-p", run.pid] if by == "pid" else ["--comm", HOSTILE]))
    assert terminal_safe(p.stdout), p.stdout
    if by == "comm":
        # The writeamp command shown, pasted into bash, names the process exactly.
        line = next(l for l in p.stdout.decode().splitlines()
                    if l.strip().startswith("writeamp report -c "))
        words = shell_words(line.strip())
        assert words[:4] == [b"writeamp", b"report", b"-c", HOSTILE], words
        # Found running, for perf and strace (other processes may carry the name too).
        assert re.search(rb"perf trace -s -p ([0-9]+,)*%d[ ,]" % run.pid, p.stdout), p.stdout
    paths = save_scripts(scratch / "s", printed_scripts(p.stdout))
    traces = {s: bpftraces(paths[s]) for s in ("write-syscalls.bt", "syncs.bt")}
    run.release()
    report = run.report()
    got = {s: t.stop() for s, t in traces.items()}
    w = process_row(report, run.pid)
    assert got["write-syscalls.bt"]["write_calls"] == count
    assert got["syncs.bt"]["fsync"] == count // 4
    assert near(got["write-syscalls.bt"]["write_calls"], w["write"]["calls"])
    assert near(got["syncs.bt"]["sync_calls"], w["sync"]["calls"])


def exited_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


@pytest.mark.parametrize("args,expected", [
    (["--bogus"], "unknown option '--bogus'"),
    ([], "a target is needed"),
    (["-p"], "-p needs an argument"),
    (["-p", "12ab"], "'12ab' is not a process id"),
    (["-p", "EXITED"], "no process with pid"),
    (["--container", "wa-no-such-container"], "wa-no-such-container"),
    (["--comm", "0123456789abcdef"], "longer than the 15 bytes"),
    (["--comm", ""], "the name is empty"),
    (["-p", "1", "--comm", "x"], "give one target only"),
    (["--comm", "x", "extra"], "unexpected argument 'extra'"),
    (["--comm", "x", "--script-dir", "/proc/version"], "--script-dir /proc/version"),
])
def test_bad_input_is_a_one_line_error(args, expected):
    args = [str(exited_pid()) if a == "EXITED" else a for a in args]
    p = playbook(*args, check=False)
    assert p.returncode != 0
    assert p.stdout == b""
    err = p.stderr.decode()
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("writeamp: playbook: ") and expected in err, err


# --- containers -------------------------------------------------------------------------

STATIC_WORKLOAD = OUTPUT / "tests" / "workload-static"
PODMAN = ["podman", "--runtime", "runc"]
PODMAN_RUN = ["--network", "none", "--ulimit", "nofile=20000:20000", "--ulimit",
              "nproc=1000:1000"]


def root_is_a_mount_point():
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == "/" for line in f)


@pytest.fixture
def container(scratch):
    """A podman container whose static workload writes once /data/go exists."""
    name = f"wa-pb-{uuid.uuid4().hex[:10]}"
    rootfs = scratch / name
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "data").mkdir()
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    os.symlink("busybox", rootfs / "bin" / "sh")
    shutil.copy(STATIC_WORKLOAD, rootfs / "workload")
    made = []

    def start(*workload_args):
        cmd = [*PODMAN, "run", "-d", "--name", name, *PODMAN_RUN, "--rootfs", rootfs,
               "/workload", *map(str, workload_args), "--start-after", "/data/go"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"{cmd}: {p.stderr}"
        made.append(name)
        return name, rootfs / "data" / "go"

    yield start
    for n in made:
        subprocess.run([*PODMAN, "rm", "-f", n], capture_output=True, timeout=120)


@pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed")
@pytest.mark.skipif(not root_is_a_mount_point(), reason="runc cannot start under chroot")
def test_container_scripts_count_the_container_only(scratch, container, bpftraces, tracer):
    count, size, every = 1500, 64, 5
    name, gate = container("write", "--file", "/data/f", "--count", count, "--size", size,
                           "--fsync-every", every)
    out = playbook("--container", name).stdout
    assert f"container {name}".encode() in out
    assert b"perf record -g -a -e block:block_rq_issue -G " in out
    scripts = printed_scripts(out)
    assert re.search(r"cgroup == \d+", scripts["syncs.bt"])
    paths = save_scripts(scratch / "s", scripts)
    traces = {s: bpftraces(paths[s]) for s in ("write-syscalls.bt", "syncs.bt")}
    t = tracer("--json", "--container", name)
    # A host process writing meanwhile must not be counted.
    host = subprocess.Popen(workload("write", "--file", scratch / "host", "--count", 900,
                                     "--size", 32, "--fsync-every", 1, "--start-after", gate))
    gate.touch()
    rc = subprocess.run([*PODMAN, "wait", name], capture_output=True, text=True,
                        timeout=120).stdout.strip()
    assert rc == "0"
    assert host.wait(timeout=120) == 0
    status, report_text = t.stop()
    assert status == 0
    got = {s: b.stop() for s, b in traces.items()}
    report = json.loads(report_text)
    assert len(report["containers"]) == 1, report["containers"]
    row = report["containers"][0]
    wr, sy = got["write-syscalls.bt"], got["syncs.bt"]
    assert wr["write_calls"] == count and wr["write_bytes"] == count * size
    assert sy["fsync"] == count // every
    assert near(wr["write_calls"], row["write"]["calls"] + row["nonstorage"]["calls"])
    assert near(wr["write_bytes"], row["write"]["bytes"] + row["nonstorage"]["bytes"])
    assert near(sy["sync_calls"], row["sync"]["calls"])
