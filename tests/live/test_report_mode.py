"""`writeamp report`: system-wide and filtered tracing, signals and interval reports."""
import json
import signal
import subprocess
import time

import pytest

from conftest import WORKLOAD, only_process, workload


def start_gated(gate, *args):
    """A workload that waits for `gate` to exist before its first write."""
    return subprocess.Popen(workload(*args, "--start-after", gate))


def open_gate_and_wait(gate, *procs):
    gate.touch()
    for p in procs:
        assert p.wait(timeout=60) == 0


def rows_of(report, pid):
    return [p for p in report["processes"] if p["pid"] == pid]


def test_system_wide_report_counts_a_workload_exactly(scratch, tracer):
    gate = scratch / "go"
    w = start_gated(gate, "write", "--file", scratch / "f", "--count", 400, "--size", 48,
                    "--fsync-every", 4)
    t = tracer("--json")
    open_gate_and_wait(gate, w)
    rc, out = t.stop()
    assert rc == 0
    report = json.loads(out)
    (row,) = rows_of(report, w.pid)
    assert row["write"]["calls"] == 400
    assert row["write"]["bytes"] == 400 * 48
    assert row["sync"]["fsync"] == 100
    assert report["selection"]["pids"] == []


def test_pid_filter_reports_only_that_process(scratch, tracer):
    gate = scratch / "go"
    chosen = start_gated(gate, "write", "--file", scratch / "a", "--count", 300, "--size", 10)
    other = start_gated(gate, "write", "--file", scratch / "b", "--count", 200, "--size", 10)
    t = tracer("--json", "-p", chosen.pid)
    open_gate_and_wait(gate, chosen, other)
    rc, out = t.stop()
    assert rc == 0
    report = json.loads(out)
    assert [p["pid"] for p in report["processes"]] == [chosen.pid]
    assert report["processes"][0]["write"]["calls"] == 300
    assert report["totals"]["write"]["calls"] == 300


def test_comm_filter_reports_only_processes_of_that_name(scratch, tracer):
    gate = scratch / "go"
    chosen = start_gated(gate, "write", "--file", scratch / "a", "--count", 123, "--size", 10,
                         "--comm", "wa-chosen")
    other = start_gated(gate, "write", "--file", scratch / "b", "--count", 50, "--size", 10)
    t = tracer("--json", "-c", "wa-chosen")
    open_gate_and_wait(gate, chosen, other)
    rc, out = t.stop()
    report = json.loads(out)
    assert {p["comm"] for p in report["processes"]} == {"wa-chosen"}
    assert only_process(report, "wa-chosen")["write"]["calls"] == 123


def test_dev_filter_keeps_only_io_on_that_device(scratch, journaled_fs, tracer):
    mnt, loop = journaled_fs
    gate = scratch / "go"
    on_loop = start_gated(gate, "write", "--file", mnt / "x", "--count", 64, "--size", 4096,
                          "--fsync-every", 8, "--trunc")
    on_vda = start_gated(gate, "write", "--file", scratch / "y", "--count", 64, "--size", 4096,
                         "--fsync-every", 8, "--trunc")
    t = tracer("--json", "--dev", loop)
    open_gate_and_wait(gate, on_loop, on_vda)
    rc, out = t.stop()
    report = json.loads(out)
    assert [d["name"] for d in report["devices"]] == [loop]
    assert rows_of(report, on_vda.pid) == []
    (row,) = rows_of(report, on_loop.pid)
    assert row["write"]["bytes"] == 64 * 4096
    assert all(f["device_name"] == loop for f in report["files"])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_prints_the_final_report_and_exits_0(scratch, tracer, sig):
    gate = scratch / "go"
    w = start_gated(gate, "write", "--file", scratch / "f", "--count", 10, "--size", 1)
    t = tracer("--json", "-p", w.pid)
    open_gate_and_wait(gate, w)
    rc, out = t.stop(sig)
    assert rc == 0
    assert json.loads(out)["processes"][0]["write"]["calls"] == 10


def test_duration_ends_the_trace_by_itself(scratch):
    started = time.monotonic()
    p = subprocess.run([str(WORKLOAD.parents[2] / "writeamp"), "report", "-d", "1.5", "--json"],
                       capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert p.returncode == 0
    report = json.loads(p.stdout)
    assert 1.5 <= report["duration_s"] < 5
    assert elapsed < 30


def test_interval_reports_add_up_to_the_final_report(scratch, tracer):
    gate = scratch / "go"
    reps, count = 4, 1000
    w = start_gated(gate, "write", "--file", scratch / "f", "--count", count, "--size", 16,
                    "--hold-ms", 400, "--repeat", reps)
    t = tracer("--json", "-i", "0.5", "-p", w.pid)
    open_gate_and_wait(gate, w)
    time.sleep(1.2)  # at least two interval ends pass after the workload's last write
    rc, out = t.stop()
    assert rc == 0
    docs = [json.loads(line) for line in out.splitlines() if line.strip()]
    intervals, final = docs[:-1], docs[-1]
    assert all(d["interval"] for d in intervals) and not final["interval"]
    per_interval = [sum(p["write"]["calls"] for p in d["processes"]) for d in intervals]
    assert sum(per_interval) == reps * count
    assert len([n for n in per_interval if n]) >= 2  # the writes spanned several intervals
    assert final["processes"][0]["write"]["calls"] == reps * count
