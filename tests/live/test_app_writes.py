"""Application writes: calls, bytes, sizes and the storage / non-storage split, exact."""
import pytest

from conftest import only_process, run_json, workload, file_row

SMALL = 512
PAGE = 4096


@pytest.mark.parametrize("syscall,iov", [("write", 1), ("pwrite", 1), ("writev", 3),
                                          ("pwritev", 3), ("pwritev2", 2)])
def test_write_calls_and_bytes_are_exact_for_each_write_syscall(scratch, syscall, iov):
    count, size = 1000, 48 * iov
    path = scratch / "f"
    vector = ["--iov", iov] if syscall.endswith("v") or syscall.endswith("v2") else []
    report, _ = run_json(workload("write", "--file", path, "--count", count, "--size", size,
                                  "--syscall", syscall, *vector), settle=0)
    w = only_process(report)["write"]
    assert w["calls"] == count
    assert w["bytes"] == count * size
    assert w["requested_bytes"] == count * size
    assert w["errors"] == 0
    assert w["small_calls"] == (count if size < SMALL else 0)
    assert w["subpage_calls"] == count
    f = file_row(report, path)
    assert f["write"] == {"calls": count, "bytes": count * size}


def test_write_size_histogram_holds_every_write_in_its_log2_slot(scratch):
    count, size = 700, 3000  # 3000 is in [2K, 4K)
    report, _ = run_json(workload("write", "--file", scratch / "f", "--count", count, "--size",
                                  size), settle=0)
    hist = only_process(report)["write"]["size_hist"]
    assert hist == [{"min": 2048, "max": 4096, "count": count}]


def test_small_and_subpage_counts_split_at_512_and_a_page(scratch):
    report, _ = run_json(["sh", "-c", " && ".join([
        " ".join(map(str, workload("write", "--file", scratch / "a", "--count", 30, "--size", 511))),
        " ".join(map(str, workload("write", "--file", scratch / "b", "--count", 20, "--size", 512))),
        " ".join(map(str, workload("write", "--file", scratch / "c", "--count", 10, "--size", PAGE))),
    ])], settle=0)
    rows = [p for p in report["processes"] if p["comm"] == "workload"]
    assert len(rows) == 3
    by_bytes = {p["write"]["bytes"]: p["write"] for p in rows}
    assert by_bytes[30 * 511]["small_calls"] == 30 and by_bytes[30 * 511]["subpage_calls"] == 30
    assert by_bytes[20 * 512]["small_calls"] == 0 and by_bytes[20 * 512]["subpage_calls"] == 20
    assert by_bytes[10 * PAGE]["small_calls"] == 0 and by_bytes[10 * PAGE]["subpage_calls"] == 0


@pytest.mark.parametrize("pattern,extra,klass", [("pipe", [], "pipe"),
                                                 ("socket", ["--family", "unix"], "socket"),
                                                 ("socket", ["--family", "tcp"], "socket")])
def test_pipe_and_socket_writes_are_not_storage(pattern, extra, klass):
    count, size = 500, 100
    report, _ = run_json(workload(pattern, "--count", count, "--size", size, *extra), settle=0)
    p = only_process(report)
    assert p["write"]["calls"] == 0 and p["write"]["bytes"] == 0
    assert p["nonstorage"]["calls"] == count
    assert p["nonstorage"]["bytes"] == count * size
    assert p["nonstorage"]["by_class"][klass] == {"calls": count, "bytes": count * size}
    assert p["amplification"] is None
    assert report["totals"]["write"]["calls"] == 0
    assert report["totals"]["nonstorage"]["calls"] == count


def test_threads_sharing_an_fd_are_counted_without_loss(scratch):
    count, size, threads = 40000, 48, 4
    report, _ = run_json(workload("write", "--file", scratch / "f", "--count", count, "--size",
                                  size, "--threads", threads), settle=0)
    w = only_process(report)["write"]
    assert w["calls"] == count
    assert w["bytes"] == count * size


def test_children_of_the_command_are_followed(scratch):
    a = " ".join(map(str, workload("write", "--file", scratch / "a", "--count", 100, "--size", 10)))
    b = " ".join(map(str, workload("pipe", "--count", 50, "--size", 20)))
    report, _ = run_json(["sh", "-c", f"{a} & {b} & wait"], settle=0)
    rows = [p for p in report["processes"] if p["comm"] == "workload"]
    assert sorted((p["write"]["calls"], p["nonstorage"]["calls"]) for p in rows) == \
        [(0, 50), (100, 0)]
