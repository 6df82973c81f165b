"""Device bytes: who they are charged to, and that none go missing on the way."""
import pytest

from conftest import device_row, file_row, only_process, run_json, workload

PAGE = 4096
MIB = 1 << 20


def test_odirect_device_bytes_equal_app_bytes(scratch):
    path, count, size = scratch / "d", 256, 4096
    run_json(workload("prepare", "--file", path, "--size", "1M"), settle=0)
    report, _ = run_json(workload("write", "--file", path, "--count", count, "--size", size,
                                  "--odirect", "--overwrite", "--region", "1M"), settle=0)
    p = only_process(report)
    assert p["write"]["bytes"] == count * size
    assert p["device"]["data_bytes"] == count * size
    assert p["device"]["direct_bytes"] == count * size
    f = file_row(report, path)
    assert f["device"]["data_bytes"] == count * size
    assert f["device"]["write_bytes"] == count * size


def test_tiny_writes_each_fsynced_amplify_at_least_40_times(scratch):
    count, size = 500, 48
    report, _ = run_json(workload("write", "--file", scratch / "f", "--count", count, "--size",
                                  size, "--fsync-every", 1, "--trunc"), settle=0)
    p = only_process(report)
    assert p["write"]["bytes"] == count * size
    assert p["sync"]["fsync"] == count
    # Every fsync writes at least the whole 4 KiB page that the 48 bytes landed in.
    assert p["device"]["data_bytes"] >= count * PAGE
    assert p["amplification"] >= 40
    assert p["amplification"] == pytest.approx(p["device"]["write_bytes"] / (count * size))
    assert p["device"]["flush_requests"] >= count


def test_buffered_writes_written_back_later_are_charged_to_the_writer(scratch):
    """Nothing syncs: a flusher kworker writes the pages back ~30 s later, and the run waits
    for it. The bytes must still land on the workload, not on the kworker."""
    path, count, size = scratch / "b", 2048, 4096
    report, _ = run_json(workload("write", "--file", path, "--count", count, "--size", size,
                                  "--trunc"))
    assert not report["run"]["settle"]["timed_out"]
    p = only_process(report)
    f = file_row(report, path)
    assert p["dirtied_bytes"] >= count * size
    assert f["device"]["write_bytes"] >= count * size
    assert f["device"]["data_bytes"] >= 0.95 * f["device"]["write_bytes"]
    assert p["device"]["data_bytes"] >= 0.95 * f["device"]["write_bytes"]
    # Proof that it was written back from another context: the workload forced none of it.
    assert p["device"]["forced_bytes"] < 0.05 * f["device"]["write_bytes"]


def test_journal_bytes_on_a_journaled_ext4_are_charged_to_the_fsyncing_process(journaled_fs):
    mnt, loop = journaled_fs
    count = 100
    report, _ = run_json(workload("write", "--file", mnt / "j", "--count", count, "--size", 48,
                                  "--fsync-every", 1, "--append", "--trunc"), settle=0)
    p = only_process(report)
    assert p["sync"]["fsync"] == count
    # An fsync after an appending write commits a transaction every time.
    assert p["sync"]["commits_forced"] == count
    assert p["device"]["journal_bytes"] >= count * PAGE  # at least a commit block each
    dev = device_row(report, loop)
    assert dev["charged"]["journal_bytes"] == p["device"]["journal_bytes"]
    assert p["device"]["write_bytes"] == (p["device"]["data_bytes"] + p["device"]["journal_bytes"]
                                          + p["device"]["metadata_bytes"])


def test_every_device_byte_is_charged_unattributed_or_outside_the_selection(scratch):
    report, _ = run_json(workload("write", "--file", scratch / "f", "--count", 300, "--size",
                                  100, "--fsync-every", 3, "--trunc"), settle=0)
    for dev in report["devices"]:
        charged = dev["charged"]
        accounted = (charged["data_bytes"] + charged["journal_bytes"] + charged["metadata_bytes"]
                     + dev["unattributed_bytes"] + dev["ignored_bytes"])
        assert accounted + report["loss"]["journal_in_flight_bytes"] >= dev["write_bytes"]
        assert accounted <= dev["write_bytes"]
    totals = report["totals"]["device"]
    assert totals["write_bytes"] == sum(p["device"]["write_bytes"] for p in report["processes"])


def test_totals_are_the_sum_of_the_processes(scratch):
    a = " ".join(map(str, workload("write", "--file", scratch / "a", "--count", 100, "--size", 10,
                                   "--fsync-every", 10)))
    b = " ".join(map(str, workload("write", "--file", scratch / "b", "--count", 30, "--size", 7)))
    report, _ = run_json(["sh", "-c", f"{a}; {b}"], settle=0)
    t = report["totals"]
    assert t["write"]["calls"] == sum(p["write"]["calls"] for p in report["processes"])
    assert t["write"]["calls"] >= 130
    assert t["write"]["bytes"] == sum(p["write"]["bytes"] for p in report["processes"])
    assert t["sync"]["fsync"] == 10
