"""--stacks: call paths with their weights, checked against what the workloads know they did.

The chain workload (tests/workload/chain.c) makes every write from main -> ingest_batch ->
encode_record -> append_record -> persist_record -> write_all_bytes and every fdatasync from
persist_record -> sync_record. It is built without frame pointers (chain-nofp: only DWARF
unwinding can recover the chain) and with them (chain-fp: the frame-pointer fast path).
"""
import json
import os
import shutil
import subprocess

import pytest

from conftest import OUTPUT, REPO, WRITEAMP, only_process, free_port, wait_for_port

CHAIN_NOFP = OUTPUT / "tests" / "chain-nofp"
CHAIN_FP = OUTPUT / "tests" / "chain-fp"
WRITE_CHAIN = ["main", "ingest_batch", "encode_record", "append_record", "persist_record",
               "write_all_bytes"]
SYNC_CHAIN = ["main", "ingest_batch", "encode_record", "append_record", "persist_record",
              "sync_record"]


def run_stacks(command, *options, settle=0, timeout=300):
    cmd = [str(WRITEAMP), "run", "--json", "--stacks", *map(str, options),
           "--settle", str(settle), "--", *map(str, command)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"{cmd} exited {p.returncode}: {p.stderr}"
    return json.loads(p.stdout)


def names(path):
    return [f["name"] for f in path["frames"]]


def contains_run(frames, chain):
    """Whether chain occurs in frames as consecutive frames, in order."""
    return any(frames[i:i + len(chain)] == chain for i in range(len(frames) - len(chain) + 1))


def device_bytes(path):
    return path["device"]["write_bytes"]


def check_sums(proc):
    """The paths of a process add up to the process's own figures, exactly."""
    paths = proc["stacks"]
    assert sum(p["app_bytes"] for p in paths) == proc["write"]["bytes"]
    assert sum(p["calls"] for p in paths) == proc["write"]["calls"]
    assert sum(p["syncs"] for p in paths) == proc["sync"]["calls"]
    assert sum(device_bytes(p) for p in paths) == proc["device"]["write_bytes"]
    assert sum(p["device"]["flush_requests"] for p in paths) == proc["device"]["flush_requests"]


def chain_weights(proc, chain):
    paths = [p for p in proc["stacks"] if contains_run(names(p), chain)]
    return (sum(p["app_bytes"] for p in paths), sum(p["calls"] for p in paths),
            sum(p["syncs"] for p in paths), sum(device_bytes(p) for p in paths))


def folded_lines(path):
    lines = []
    for line in path.read_text().splitlines():
        frames, weight = line.rsplit(" ", 1)
        lines.append((frames.split(";"), int(weight)))
    return lines


@pytest.mark.parametrize("binary,unwind", [(CHAIN_NOFP, "dwarf"), (CHAIN_FP, "fp")])
def test_chain_appears_in_full_in_folded_output(scratch, binary, unwind):
    writes, size = 3000, 48
    folded = scratch / "out.folded"
    report = run_stacks([binary, scratch / "data", writes, size, "sync"], "--unwind", unwind,
                        "--folded", folded, "--weight", "app-bytes")
    proc = only_process(report, binary.name)
    assert proc["write"]["calls"] == writes and proc["write"]["bytes"] == writes * size
    lines = folded_lines(folded)
    chained = [(frames, w) for frames, w in lines if contains_run(frames, WRITE_CHAIN)]
    # Every storage write of the workload came through the chain, so all its bytes sit there.
    assert sum(w for _, w in chained) == writes * size
    for frames, _ in chained:
        assert frames[0] == binary.name
        after = frames[frames.index("write_all_bytes") + 1:]
        user_after = [f for f in after if not f.endswith("_[k]")]
        kernel_after = [f for f in after if f.endswith("_[k]")]
        assert len(user_after) == 1, f"one libc frame between the chain and the kernel: {after}"
        assert kernel_after and after[1:] == kernel_after, f"kernel frames come last: {after}"
    if unwind == "fp":
        assert report["stack_summary"]["samples"] == 0, "the fast path copies no stacks"
    else:
        assert report["stack_summary"]["samples"] > 0
        assert report["stack_summary"]["samples_truncated"] == 0


def test_chain_paths_carry_every_weight(scratch):
    writes, size = 2000, 100
    report = run_stacks([CHAIN_NOFP, scratch / "data", writes, size, "sync"])
    proc = only_process(report, "chain-nofp")
    check_sums(proc)
    app, calls, _, _ = chain_weights(proc, WRITE_CHAIN)
    assert (app, calls) == (writes * size, writes)
    _, _, syncs, dev = chain_weights(proc, SYNC_CHAIN)
    assert syncs == writes
    # Each fdatasync forces the data, an inode block and a flush out from its own context.
    assert dev == proc["device"]["write_bytes"]
    flushes = sum(p["device"]["flush_requests"] for p in proc["stacks"]
                  if contains_run(names(p), SYNC_CHAIN))
    assert flushes == writes


def test_writeback_by_the_flusher_is_charged_to_the_dirtying_path(scratch):
    writes, size = 512, 4096
    report = run_stacks([CHAIN_NOFP, scratch / "data", writes, size], settle=45)
    proc = only_process(report, "chain-nofp")
    check_sums(proc)
    data = proc["device"]["data_bytes"]
    assert data >= 0.95 * writes * size, "the flusher wrote the pages back within the settle"
    written_back = [p for p in proc["stacks"] if "[writeback]" in names(p)]
    under_chain = sum(p["device"]["data_bytes"] for p in written_back
                      if contains_run(names(p), WRITE_CHAIN))
    assert under_chain == data


def test_journal_commits_are_charged_to_the_forcing_sync(journaled_fs):
    mnt, _ = journaled_fs
    target = mnt / f"stacks-{os.getpid()}"
    writes = 300
    try:
        report = run_stacks([CHAIN_NOFP, target, writes, 48, "sync"])
    finally:
        target.unlink(missing_ok=True)
    proc = only_process(report, "chain-nofp")
    check_sums(proc)
    journal = proc["device"]["journal_bytes"]
    assert journal >= writes * 4096, "each fdatasync of a growing file commits the journal"
    commits = [p for p in proc["stacks"] if "[journal commit]" in names(p)]
    assert sum(p["device"]["journal_bytes"] for p in commits
               if contains_run(names(p), SYNC_CHAIN)) == journal


def test_hostile_process_name_stays_one_folded_frame(scratch):
    hostile = scratch / "a;b c\tz"
    shutil.copy(CHAIN_NOFP, hostile)
    folded = scratch / "out.folded"
    # Long enough to be symbolized: a process that exits within microseconds of its first
    # write can be gone before its map is read (README, Limits), and this test is about names.
    run_stacks([hostile, scratch / "data", 2000, 48], "--folded", folded)
    lines = folded_lines(folded)
    assert lines, "the workload's writes are there"
    mine = [frames for frames, _ in lines if contains_run(frames, WRITE_CHAIN)]
    assert mine and all(frames[0] == "a:b c?z" for frames in mine)


REDIS_SERVER = shutil.which("redis-server")
REDIS_BENCHMARK = shutil.which("redis-benchmark")


@pytest.mark.skipif(not REDIS_SERVER or not REDIS_BENCHMARK, reason="redis-server not installed")
def test_redis_aof_always_writes_and_syncs_come_from_flush_append_only_file(scratch):
    port = free_port()
    cmd = [str(WRITEAMP), "run", "--json", "--stacks", "--settle", "5", "--svg",
           str(scratch / "redis.svg"), "--", REDIS_SERVER, "--port", str(port), "--bind",
           "127.0.0.1", "--appendonly", "yes", "--appendfsync", "always", "--dir",
           str(scratch), "--save", "", "--daemonize", "no", "--logfile", str(scratch / "redis.log")]
    tracer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port)
        subprocess.run([REDIS_BENCHMARK, "-p", str(port), "-n", "5000", "-c", "1", "-t", "set",
                        "-q"], check=True, capture_output=True, timeout=300)
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"],
                       capture_output=True, timeout=60)
        out, err = tracer.communicate(timeout=300)
    finally:
        if tracer.poll() is None:
            tracer.kill()
    assert tracer.returncode == 0, err
    report = json.loads(out)
    proc = only_process(report, "redis-server")
    check_sums(proc)
    assert proc["write"]["calls"] >= 5000, "one AOF write per SET at least"
    assert proc["nonstorage"]["by_class"]["socket"]["calls"] >= 5000, "one reply per SET"
    aof = [p for p in proc["stacks"] if "flushAppendOnlyFile" in names(p)]
    assert sum(p["app_bytes"] for p in aof) >= 0.9 * proc["write"]["bytes"]
    assert sum(p["syncs"] for p in aof) >= 0.9 * proc["sync"]["calls"]
    assert sum(device_bytes(p) for p in aof) >= 0.9 * proc["device"]["write_bytes"]
    # The replies go to sockets: the storage paths hold storage bytes only.
    assert sum(p["app_bytes"] for p in proc["stacks"]) == proc["write"]["bytes"]
    for p in proc["stacks"]:
        assert not {"writeToClient", "_writeToClient"} & set(names(p))
    svg = (scratch / "redis.svg").read_text()
    assert svg.startswith("<?xml") or svg.startswith("<svg")
    assert "flushAppendOnlyFile" in svg and "app bytes" in svg.lower()
