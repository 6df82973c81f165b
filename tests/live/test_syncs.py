"""Sync calls and the opens that make writes synchronous, counted exactly."""
import pytest

from conftest import file_row, only_process, run_json, workload


@pytest.mark.parametrize("flag,key", [("--fsync-every", "fsync"),
                                      ("--fdatasync-every", "fdatasync"),
                                      ("--sync-file-range-every", "sync_file_range")])
def test_sync_calls_every_k_writes_are_exact(scratch, flag, key):
    count, every = 600, 7
    path = scratch / "f"
    report, _ = run_json(workload("write", "--file", path, "--count", count, "--size", 64,
                                  flag, every), settle=0)
    sync = only_process(report)["sync"]
    assert sync[key] == count // every
    assert sync["calls"] == count // every
    assert sum(h["count"] for h in sync["latency_us_hist"]) == count // every
    assert file_row(report, path)["sync_calls"] == count // every


def test_sync_and_syncfs_are_counted(scratch):
    sync_cmd = " ".join(map(str, workload("sync")))
    syncfs_cmd = " ".join(map(str, workload("syncfs", "--file", scratch)))
    report, _ = run_json(["sh", "-c", f"{sync_cmd} && {syncfs_cmd} && {syncfs_cmd}"], settle=0)
    rows = [p["sync"] for p in report["processes"] if p["comm"] == "workload"]
    assert sorted((s["sync"], s["syncfs"]) for s in rows) == [(0, 1), (0, 1), (1, 0)]


def test_msync_is_counted_and_mmap_dirtying_is_charged(scratch):
    size = 1 << 20
    path = scratch / "m"
    report, _ = run_json(workload("mmap", "--file", path, "--size", size, "--msync"))
    p = only_process(report)
    assert p["sync"]["msync"] == 1
    assert p["write"]["calls"] == 0
    assert p["amplification"] is None  # no write syscalls: nothing to divide by
    assert p["dirtied_bytes"] == size  # one store per page dirties every page once
    f = file_row(report, path)
    assert f["dirtied_bytes"] == size
    assert f["device"]["data_bytes"] == size
    assert p["device"]["data_bytes"] >= size


@pytest.mark.parametrize("flag,key", [("--odsync", "dsync"), ("--osync", "sync"),
                                      ("--odirect", "direct")])
def test_synchronous_opens_are_counted(scratch, flag, key):
    path = scratch / "f"
    run_json(workload("prepare", "--file", path, "--size", "64K"), settle=0)
    report, _ = run_json(workload("write", "--file", path, "--count", 16, "--size", 4096, flag,
                                  "--overwrite", "--region", "64K"), settle=0)
    opens = only_process(report)["opens"]
    expected = {"sync": 0, "dsync": 0, "direct": 0}
    expected[key] = 1
    assert opens == expected


def test_odsync_writes_reach_the_device_from_the_writer(scratch):
    count, size = 200, 100
    report, _ = run_json(workload("write", "--file", scratch / "f", "--count", count, "--size",
                                  size, "--odsync", "--trunc"), settle=0)
    dev = only_process(report)["device"]
    # Each O_DSYNC write puts its page on the device before it returns, from its own context.
    assert dev["data_bytes"] >= count * size
    assert dev["forced_bytes"] >= dev["data_bytes"]
    assert dev["flush_requests"] >= count
