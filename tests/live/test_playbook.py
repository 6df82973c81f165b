"""writeamp playbook: its bpftrace scripts run on this machine's bpftrace and count what writeamp
counts.

Each script is run over the whole life of one workload process: the workload is started
under `writeamp run --json` and waits for a gate file, the scripts are generated for it and
started, and only then is the gate opened. So bpftrace and writeamp see exactly the same calls,
and both are also checked against what the workload is known to do (it makes exactly --count
writes of --size bytes and count/K syncs).

The block I/O is made deterministic on a disk of the test's own (own_disk): an ext4 without a
journal on a loop device, which has no I/O scheduler. There each fsync writes one data block
and one inode-table block, submitted and issued in the workload's own context, and nothing else
writes to that disk.
"""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import OUTPUT, SCRATCH_ROOT, WRITEAMP, device_row, workload

DEBUGFS = "/sys/kernel/debug"
SCRIPT_NAMES = ["write-syscalls.bt", "syncs.bt", "page-dirtying.bt", "block-io.bt"]
# The counters each script prints, by name; every one is checked.
COUNTERS = {
    "write-syscalls.bt": {"write_calls", "write_bytes", "write_errors"},
    "syncs.bt": {"fsync", "fdatasync", "sync_file_range", "msync", "sync", "syncfs",
                 "sync_calls"},
    "page-dirtying.bt": {"dirtied_folios"},
    "block-io.bt": {"issued_write_bytes", "issued_write_requests", "queued_write_bytes",
                    "queued_flushes"},
}
TOLERANCE = 0.05
PAGE = 4096
# On own_disk, what each fsync or fdatasync that follows an append writes: the data block and
# the inode-table block (the size changed).
BLOCKS_PER_SYNC = 2
SCRIPT_RUN_S = 2.0  # the issue: each script runs for two seconds against the workload
TRACEFS_EVENTS = ["/sys/kernel/tracing/events", DEBUGFS + "/tracing/events"]
TRACEPOINT = re.compile(r"^tracepoint:(\w+):(\w+)$")
# The perf command that records the user call paths, for every kind of target.
PERF_STACK_EVENTS = ["syscalls:sys_enter_write", "syscalls:sys_enter_pwrite64",
                     "syscalls:sys_enter_fsync", "syscalls:sys_enter_fdatasync"]
COUNTER = re.compile(rb"^@(\w+): (-?\d+)$")
HEREDOC = re.compile(r"^cat > (\S+) <<'EOF'\n(.*?)^EOF$", re.M | re.S)
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60
SIGINT_REPEAT_S = 5


def debugfs_mounted():
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == DEBUGFS and " - debugfs " in line for line in f)


@pytest.fixture(scope="module", autouse=True)
def bpftrace_ready():
    """bpftrace 0.17 finds tracepoints through debugfs, as the playbook says."""
    assert shutil.which("bpftrace"), "bpftrace is missing (a test package: ./bootstrap.sh test)"
    if not debugfs_mounted():
        subprocess.run(["mount", "-t", "debugfs", "none", DEBUGFS], check=True)


@pytest.fixture
def own_disk():
    """An ext4 without a journal, its inode tables written at mkfs, on a loop device of its
    own with no I/O scheduler, synced: then a writer's fsyncs put all its I/O on the device in
    its own context, and nothing else writes there. Yields (mount point, device name)."""
    SCRATCH_ROOT.mkdir(parents=True, exist_ok=True)
    base = SCRATCH_ROOT / f"pb-disk-{uuid.uuid4().hex[:8]}"
    image, mnt = base.with_suffix(".img"), base.with_suffix(".mnt")
    mnt.mkdir()
    subprocess.run(["truncate", "-s", "128M", image], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-b", str(PAGE), "-O", "^has_journal", "-E",
                    "lazy_itable_init=0", image], check=True)
    loop = subprocess.run(["losetup", "--find", "--show", image], check=True,
                          capture_output=True, text=True).stdout.strip()
    name = os.path.basename(loop)
    try:
        with open(f"/sys/block/{name}/queue/scheduler", "w") as f:
            f.write("none")
        subprocess.run(["mount", loop, mnt], check=True)
        subprocess.run(["sync", "-f", mnt], check=True)
        yield mnt, name
    finally:
        subprocess.run(["umount", mnt], check=False)
        subprocess.run(["losetup", "-d", loop], check=False)
        image.unlink(missing_ok=True)
        mnt.rmdir()


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


def after_string(text, i):
    """The index past the string literal that starts at text[i] ('"')."""
    i += 1
    while i < len(text) and text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i + 1


def after_non_probe(text, i):
    """The index past the comment, string or predicate /.../ at text[i]: text that names no
    probe. A string in a predicate may hold a '/'."""
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        end = text.find("*/", i)
        return len(text) if end < 0 else end + 2
    if text[i] == '"':
        return after_string(text, i)
    i += 1
    while i < len(text) and text[i] != "/":
        i = after_string(text, i) if text[i] == '"' else i + 1
    return i + 1


def probe_headers(text):
    """Every probe of a bpftrace script: the words outside its action blocks, predicates,
    comments and strings. A '/' inside a word (an uprobe's path) is part of it."""
    heads, word, depth = [], "", 0
    i = text.find("\n") if text.startswith("#!") else 0
    while i < len(text):
        c, top = text[i], depth == 0
        if text.startswith(("//", "/*"), i) or c == '"' or (top and c == "/" and not word):
            if top and word:
                heads.append(word)
                word = ""
            i = after_non_probe(text, i)
            continue
        if top and not c.isspace() and c not in ",{":
            word += c
        else:
            if top and word:
                heads.append(word)
                word = ""
            depth += {"{": 1, "}": -1}.get(c, 0)
        i += 1
    return heads + ([word] if word else [])


def bpftrace_probes(path):
    """The probes of @path as bpftrace's own parser reads them: `bpftrace -d` prints the
    parser's tree, each probe one space in."""
    p = subprocess.run(["bpftrace", "-d", str(path)], capture_output=True, text=True,
                       timeout=60)
    tree = p.stdout.partition("AST after: parser")[2].partition("AST after:")[0]
    assert tree, f"bpftrace -d {path} printed no parse tree: {p.stdout[:500]!r} {p.stderr!r}"
    return [line.strip() for line in tree.splitlines() if re.match(r"^ \S", line)]


def tracepoint_exists(category, name):
    return any(os.path.isdir(os.path.join(d, category, name)) for d in TRACEFS_EVENTS)


def assert_tracepoints_only(name, text):
    """Every probe is BEGIN, END or a tracepoint that this kernel has: there are no kprobes,
    kretprobes, kfuncs, fentry/fexit, uprobes, USDT or raw tracepoints to attach here."""
    heads = probe_headers(text)
    assert heads and heads[0] == "BEGIN", (name, heads)
    assert any(h.startswith("tracepoint:") for h in heads), (name, heads)
    for head in heads:
        if head in ("BEGIN", "END"):
            continue
        m = TRACEPOINT.match(head)
        assert m, f"{name}: probe {head!r} is not a tracepoint"
        assert tracepoint_exists(*m.groups()), f"{name}: this kernel has no {head}"


def check_scripts(paths):
    """Each saved script uses tracepoints only, as found by our parse, which must also find
    the very probes bpftrace's parser finds."""
    for name, path in paths.items():
        text = path.read_text()
        assert_tracepoints_only(name, text)
        assert probe_headers(text) == bpftrace_probes(path), name


def perf_stack_events(stdout):
    """The events of the playbook's perf command that records user call paths."""
    (line,) = [l for l in stdout.decode().splitlines()
               if l.strip().startswith("perf record --call-graph dwarf")]
    words = shlex.split(line)
    return [words[i + 1] for i, w in enumerate(words) if w == "-e"]


def near(measured, expected):
    return abs(measured - expected) <= TOLERANCE * max(abs(expected), 1)


def check_block_counts(bl, dev, syncs):
    """block-io.bt against the ground truth of the test's own disk, and against writeamp."""
    # A flush, a data block and an inode-table block for each sync.
    assert bl["queued_flushes"] == syncs
    assert near(bl["queued_write_bytes"], syncs * BLOCKS_PER_SYNC * PAGE)
    assert near(bl["issued_write_bytes"], syncs * BLOCKS_PER_SYNC * PAGE)
    assert near(bl["issued_write_requests"], syncs * BLOCKS_PER_SYNC)
    # writeamp: what it charges the writer (the disk's only user).
    assert near(bl["queued_write_bytes"], dev["write_bytes"])
    assert near(bl["issued_write_bytes"], dev["write_bytes"])
    assert near(bl["queued_flushes"], dev["flush_requests"])


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
        """SIGINT, as the playbook says; returns the counters printed at the end. bpftrace 0.17
        now and then misses a SIGINT and runs on, so it is sent again every few seconds."""
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while True:
            self.proc.send_signal(signal.SIGINT)
            try:
                out, err = self.proc.communicate(timeout=SIGINT_REPEAT_S)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() < deadline:
                    continue
                self.proc.kill()
                out, err = self.proc.communicate()
                raise AssertionError(f"bpftrace {self.path} ignored SIGINT for "
                                     f"{STOP_TIMEOUT_S} s: {out[-2000:]!r} {err[-2000:]!r}")
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
    check_scripts(paths)
    return paths


def stop_all(traces):
    """Stops each script; returns its counters, once each has printed exactly those its
    COUNTERS entry names (so that no counter goes unchecked)."""
    got = {key: t.stop() for key, t in traces.items()}
    for key, counters in got.items():
        name = key[1] if isinstance(key, tuple) else key
        assert set(counters) == COUNTERS[name], (key, sorted(counters))
    return got


def process_row(report, pid):
    rows = [p for p in report["processes"] if p["pid"] == pid]
    assert len(rows) == 1, [(p["pid"], p["comm"]) for p in report["processes"]]
    return rows[0]


# About two seconds of 48-byte writes, each fsynced, on own_disk.
COUNT, SIZE, EVERY = 7000, 48, 1


def test_every_pid_script_matches_writeamp_and_the_workload(scratch, own_disk, gated,
                                                           bpftraces):
    mnt, disk = own_disk
    run = gated(workload("write", "--file", mnt / "f", "--count", COUNT, "--size", SIZE,
                         "--fsync-every", EVERY))
    out = playbook("-p", run.pid).stdout
    assert f"pid {run.pid} (workload)".encode() in out
    assert b"mount -t debugfs none /sys/kernel/debug" in out
    assert b"perf record -g -e block:block_rq_issue -a" in out
    assert perf_stack_events(out) == PERF_STACK_EVENTS
    assert f"writeamp report -p {run.pid} -d 30".encode() in out
    paths = save_scripts(scratch / "scripts", printed_scripts(out))
    for text in (p.read_text() for p in paths.values()):
        assert f"/pid == {run.pid}/" in text
    traces = {name: bpftraces(paths[name]) for name in SCRIPT_NAMES}
    started = time.monotonic()
    run.release()
    report = run.report()
    # The scripts run for at least SCRIPT_RUN_S however fast the disk is.
    time.sleep(max(0.0, SCRIPT_RUN_S - (time.monotonic() - started)))
    got = stop_all(traces)
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
    check_block_counts(bl, w["device"], syncs)
    requests = device_row(report, disk)["requests"]
    assert near(bl["issued_write_requests"], requests["writes"])
    assert near(bl["issued_write_bytes"], requests["write_bytes"])


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
    got = stop_all(traces)
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


def test_script_dir_scripts_of_a_comm_run_and_count_pipes_as_writeamp_says(scratch, own_disk,
                                                                           gated, bpftraces):
    """--script-dir writes the four scripts; the write script counts pipe writes too, and the
    playbook says to compare it with write.calls + nonstorage.calls."""
    mnt, disk = own_disk
    name = f"pb{uuid.uuid4().hex[:8]}"
    directory = scratch / "new" / "scripts"
    p = playbook("--comm", name, "--script-dir", directory)
    out = p.stdout.decode()
    assert "No process is named" in out  # it does not run yet
    assert "SCRIPTS" not in out and "<<'EOF'" not in out  # they went to the files
    assert sorted(os.listdir(directory)) == sorted(SCRIPT_NAMES)
    check_scripts({s: directory / s for s in SCRIPT_NAMES})
    # Without a running process perf records system-wide, the same events as for a pid.
    assert perf_stack_events(p.stdout) == PERF_STACK_EVENTS
    for script in SCRIPT_NAMES:
        assert f"bpftrace {directory / script}" in out
    assert "@write_calls = write.calls + nonstorage.calls" in out
    assert "@write_bytes with write.bytes + nonstorage.bytes" in \
        (directory / "write-syscalls.bt").read_text().replace("\n// ", " ")
    traces = {s: bpftraces(directory / s) for s in SCRIPT_NAMES}
    file_writes, pipe_writes, every = 500, 800, 50
    wl = " ".join(map(str, workload("write", "--file", mnt / "f", "--count", file_writes,
                                    "--size", PAGE, "--fdatasync-every", every, "--comm",
                                    name)))
    pipe = " ".join(map(str, workload("pipe", "--count", pipe_writes, "--size", 64, "--comm",
                                      name)))
    # sh passes the gate ($1) on to the first workload; the scripts are attached already.
    run = gated(["sh", "-c", f'{wl} --start-after "$1" && {pipe}'], comm=b"sh")
    run.release()
    report = run.report()
    got = stop_all(traces)
    rows = [r for r in report["processes"] if r["comm"] == name]
    assert len(rows) == 2, [r["comm"] for r in report["processes"]]
    calls = sum(r["write"]["calls"] + r["nonstorage"]["calls"] for r in rows)
    written = sum(r["write"]["bytes"] + r["nonstorage"]["bytes"] for r in rows)
    assert sum(r["write"]["calls"] for r in rows) == file_writes
    assert sum(r["nonstorage"]["calls"] for r in rows) == pipe_writes

    wr = got["write-syscalls.bt"]
    assert wr["write_calls"] == file_writes + pipe_writes
    assert wr["write_bytes"] == file_writes * PAGE + pipe_writes * 64
    assert wr["write_errors"] == 0
    assert near(wr["write_calls"], calls) and near(wr["write_bytes"], written)
    sy = got["syncs.bt"]
    assert sy["fdatasync"] == sy["sync_calls"] == file_writes // every
    assert sy["fsync"] == sy["sync_file_range"] == sy["msync"] == sy["sync"] == sy["syncfs"] == 0
    for key in ("fsync", "fdatasync", "sync_file_range", "msync", "sync", "syncfs", "calls"):
        assert near(sy["sync_calls" if key == "calls" else key],
                    sum(r["sync"][key] for r in rows)), key
    pd = got["page-dirtying.bt"]
    # Every 4 KiB write fills a page of its own, dirtied once.
    assert pd["dirtied_folios"] >= file_writes
    assert near(pd["dirtied_folios"], sum(r["dirtied_pages"] for r in rows))
    bl = got["block-io.bt"]
    device_bytes = sum(r["device"]["write_bytes"] for r in rows)
    # Ground truth: a flush for each fdatasync, which writes its 50 pages and the inode.
    assert bl["queued_flushes"] == file_writes // every
    assert near(bl["queued_write_bytes"], (file_writes + file_writes // every) * PAGE)
    assert near(bl["issued_write_bytes"], (file_writes + file_writes // every) * PAGE)
    assert near(bl["queued_flushes"], sum(r["device"]["flush_requests"] for r in rows))
    assert near(bl["queued_write_bytes"], device_bytes)
    assert near(bl["issued_write_bytes"], device_bytes)
    assert near(bl["issued_write_requests"], device_row(report, disk)["requests"]["writes"])


# Probes hidden where a search for "kprobe" would miss them or find a false one; bpftrace
# 0.17 parses each (fentry, fexit and rawtracepoint it does not know).
SNEAKY_SCRIPT = r"""#!/usr/bin/env bpftrace
// kprobe:in_a_comment
/* kprobe:in_a_block_comment */
BEGIN { printf("kprobe:in_a_string } {\n"); }
tracepoint:syscalls:sys_enter_write, kretprobe:vfs_write
/comm == "a/}b"/ { @x = 6 / 2; }
kfunc:vfs_write,kprobe:vfs_write { }
kretfunc:vfs_write{}uprobe:/bin/sh:main /pid == 1/ { if (1) { @y = 1; } }
usdt:/bin/sh:probe,
tracepoint:syscalls:sys_enter_*
{ }
END { }
"""
SNEAKY_PROBES = ["BEGIN", "tracepoint:syscalls:sys_enter_write", "kretprobe:vfs_write",
                 "kfunc:vfs_write", "kprobe:vfs_write", "kretfunc:vfs_write",
                 "uprobe:/bin/sh:main", "usdt:/bin/sh:probe", "tracepoint:syscalls:sys_enter_*",
                 "END"]
REFUSED_PROBES = [p for p in SNEAKY_PROBES if p.split(":")[0] not in ("BEGIN", "END")
                  and p != "tracepoint:syscalls:sys_enter_write"] + [
    "fentry:vfs_write", "fexit:vfs_write", "rawtracepoint:sys_enter", "uretprobe:/bin/sh:main",
    "tracepoint:syscalls:sys_enter_nosuch", "tracepoint:nosuch:sys_enter_write"]


def test_the_probe_check_finds_every_probe_and_refuses_all_but_tracepoints(scratch):
    path = scratch / "sneaky.bt"
    path.write_text(SNEAKY_SCRIPT)
    assert probe_headers(SNEAKY_SCRIPT) == SNEAKY_PROBES == bpftrace_probes(path)
    good = "BEGIN { }\ntracepoint:syscalls:sys_enter_write /pid == 1/ { }\nEND { }\n"
    assert_tracepoints_only("good", good)
    for probe in REFUSED_PROBES:
        with pytest.raises(AssertionError):
            assert_tracepoints_only(probe, f"{good}{probe} {{ }}\n")


def test_a_missing_container_is_a_one_line_error_that_says_nothing_of_tracing():
    """The message is shared with `report`, so it must not speak of writeamp starting."""
    p = playbook("--container", "wa-no-such-container", check=False)
    err = p.stderr.decode()
    assert p.returncode == 1 and p.stdout == b""
    assert err.startswith("writeamp: playbook: --container 'wa-no-such-container': no running "
                          "container has that name or id ("), err
    assert err.endswith("it must be running)\n") and err.count("\n") == 1, err
    assert "when writeamp starts" not in err


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
    got = stop_all(traces)
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
    """A podman container with the static workload and busybox sh, which runs a shell
    command with /data the directory given."""
    name = f"wa-pb-{uuid.uuid4().hex[:10]}"
    rootfs = scratch / name
    (rootfs / "bin").mkdir(parents=True)
    (rootfs / "data").mkdir()
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    os.symlink("busybox", rootfs / "bin" / "sh")
    shutil.copy(STATIC_WORKLOAD, rootfs / "workload")
    made = []

    def start(data, command):
        cmd = [*PODMAN, "run", "-d", "--name", name, *PODMAN_RUN, "--volume", f"{data}:/data",
               "--rootfs", rootfs, "/bin/sh", "-c", command]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"{cmd}: {p.stderr}"
        made.append(name)
        return name

    yield start
    for n in made:
        subprocess.run([*PODMAN, "rm", "-f", n], capture_output=True, timeout=120)


class PerfRecord:
    """The playbook's perf command for call paths, run as printed but with -o FILE, until
    stop(), and with no call graph: DWARF stacks of every sample would take hundreds of MB,
    and what is under test is which events it records, and for whom."""

    def __init__(self, line, data):
        words = shlex.split(line)
        at = words.index("--call-graph")
        del words[at:at + 2]
        words[words.index("--"):] = ["--", "sleep", "600"]
        words[2:2] = ["-q", "-o", str(data)]
        self.data = data
        self.proc = subprocess.Popen(words, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + READY_TIMEOUT_S
        # perf enables its events before it lets its child exec sleep.
        while time.monotonic() < deadline and self.proc.poll() is None:
            if any(read_comm(k) == b"sleep" for k in children_of(self.proc.pid)):
                return
            time.sleep(0.02)
        self.kill()
        raise AssertionError(f"{words} did not start: {self.proc.communicate()}")

    def stop(self):
        """Counts of the samples recorded, by (comm, event)."""
        self.proc.send_signal(signal.SIGINT)
        err = self.proc.communicate(timeout=STOP_TIMEOUT_S)[1]
        # perf ends its sleep with SIGTERM and then dies of the signal that ended it.
        assert self.proc.returncode in (0, -signal.SIGINT, -signal.SIGTERM), \
            f"perf record exited {self.proc.returncode}: {err!r}"
        p = subprocess.run(["perf", "script", "-i", str(self.data), "-F", "comm,event"],
                           capture_output=True, text=True, check=True, timeout=120)
        counts = {}
        for line in p.stdout.splitlines():
            comm, event = line.split()
            counts[comm, event.rstrip(":")] = counts.get((comm, event.rstrip(":")), 0) + 1
        return counts

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def container_writes_and_syncs(writes, pwrites, size):
    """The container's shell command: write() with fsync, then pwrite64() with fdatasync, so
    that it makes each call perf is told to record. The first waits for /data/go."""
    appends = ["/workload", "write", "--file", "/data/a", "--count", writes, "--size", size,
               "--fsync-every", 1, "--start-after", "/data/go"]
    positional = ["/workload", "write", "--file", "/data/p", "--count", pwrites, "--size", size,
                  "--syscall", "pwrite", "--fdatasync-every", 1]
    return " ".join(map(str, appends)) + " && " + " ".join(map(str, positional))


def run_beside_a_host_writer(name, data):
    """Opens the container's gate with a host process named wa-host writing to the same disk
    meanwhile, which no filter must count; waits for both. Returns the seconds it took."""
    gate = data / "go"
    host = subprocess.Popen(workload("write", "--file", data.parent / "host", "--count", 900,
                                     "--size", 32, "--fsync-every", 1, "--comm", "wa-host",
                                     "--start-after", gate))
    started = time.monotonic()
    gate.touch()
    rc = subprocess.run([*PODMAN, "wait", name], capture_output=True, text=True,
                        timeout=120).stdout.strip()
    took = time.monotonic() - started
    assert rc == "0"
    assert host.wait(timeout=120) == 0
    return took


def perf_stack_command(stdout):
    return next(l for l in stdout.decode().splitlines()
                if l.strip().startswith("perf record --call-graph dwarf"))


@pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed")
@pytest.mark.skipif(not root_is_a_mount_point(), reason="runc cannot start under chroot")
def test_container_scripts_count_the_container_only(scratch, own_disk, container, bpftraces,
                                                    tracer):
    """Every script counts the container's writes, syncs, dirtied pages and block I/O as
    writeamp and the workload do."""
    mnt, disk = own_disk
    data = mnt / "ctr"
    data.mkdir()
    writes, pwrites, size = 3000, 3000, 64
    name = container(data, container_writes_and_syncs(writes, pwrites, size))
    out = playbook("--container", name).stdout
    assert f"container {name}".encode() in out
    assert b"perf record -g -a -e block:block_rq_issue -G " in out
    assert perf_stack_events(out) == PERF_STACK_EVENTS
    scripts = printed_scripts(out)
    assert re.search(r"cgroup == \d+", scripts["syncs.bt"])
    paths = save_scripts(scratch / "s", scripts)
    traces = {s: bpftraces(paths[s]) for s in SCRIPT_NAMES}
    t = tracer("--json", "--container", name)
    took = run_beside_a_host_writer(name, data)
    status, report_text = t.stop()
    assert status == 0
    time.sleep(max(0.0, SCRIPT_RUN_S - took))
    got = stop_all(traces)
    report = json.loads(report_text)
    assert len(report["containers"]) == 1, report["containers"]
    row = report["containers"][0]
    calls, syncs = writes + pwrites, writes + pwrites

    wr = got["write-syscalls.bt"]
    assert wr["write_calls"] == calls and wr["write_bytes"] == calls * size
    assert wr["write_errors"] == 0
    assert near(wr["write_calls"], row["write"]["calls"] + row["nonstorage"]["calls"])
    assert near(wr["write_bytes"], row["write"]["bytes"] + row["nonstorage"]["bytes"])

    sy = got["syncs.bt"]
    assert sy["fsync"] == writes and sy["fdatasync"] == pwrites and sy["sync_calls"] == syncs
    assert sy["sync_file_range"] == sy["msync"] == sy["sync"] == sy["syncfs"] == 0
    for key in ("fsync", "fdatasync", "sync_file_range", "msync", "sync", "syncfs"):
        assert near(sy[key], row["sync"][key]), key
    assert near(sy["sync_calls"], row["sync"]["calls"])

    pd = got["page-dirtying.bt"]
    # Each append after a sync dirties its (cleaned) page again.
    assert pd["dirtied_folios"] >= calls
    assert near(pd["dirtied_folios"], row["dirtied_pages"])

    check_block_counts(got["block-io.bt"], row["device"], syncs)


@pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed")
@pytest.mark.skipif(not root_is_a_mount_point(), reason="runc cannot start under chroot")
@pytest.mark.skipif(shutil.which("perf") is None,
                    reason="perf not installed (linux-perf is not in bootstrap.sh's packages)")
def test_container_perf_command_records_its_writes_and_syncs_only(scratch, container):
    """The perf command for the container's call paths records each of its writes and syncs,
    the same events as for a pid, and nothing of a host process."""
    data = scratch / "data"
    data.mkdir()
    writes, pwrites = 1000, 1000
    name = container(data, container_writes_and_syncs(writes, pwrites, 64))
    out = playbook("--container", name).stdout
    perf = PerfRecord(perf_stack_command(out), scratch / "perf.data")
    run_beside_a_host_writer(name, data)
    recorded = perf.stop()
    assert recorded == {("workload", "syscalls:sys_enter_write"): writes,
                        ("workload", "syscalls:sys_enter_fsync"): writes,
                        ("workload", "syscalls:sys_enter_pwrite64"): pwrites,
                        ("workload", "syscalls:sys_enter_fdatasync"): pwrites}, recorded
