"""writeamp compare: two real `writeamp run --json` reports side by side.

BEFORE makes 2000 writes of 48 bytes with an fsync after each, AFTER the same writes with an
fsync after every 100th. What compare shows is checked against the two input reports, read
here with Python's json, and against what the workload is known to do. Findings are tested on
copies of a real report with findings arrays written here, since compare's input is a file;
the matching rules (container, rotated files) and malformed input on reports written by hand.
Two podman containers, restarted between the reports with one of them changed, exercise the
CONTAINERS table.
"""
import copy
import json
import math
import re
import shutil
import subprocess
import uuid

import pytest

from conftest import SCRATCH_ROOT, WRITEAMP, workload
from test_containers import RUN_FLAGS, Container, chroot_only, make_rootfs, podman

COUNT, SIZE = 2000, 48
BEFORE_EVERY, AFTER_EVERY = 1, 100
KIB = 1024.0


@pytest.fixture(scope="module")
def reports():
    """(directory, before path, after path, before report, after report, data file)."""
    d = SCRATCH_ROOT / f"compare-{uuid.uuid4().hex[:8]}"
    d.mkdir(parents=True)
    data = d / "data"
    paths = {}
    for side, every in (("before", BEFORE_EVERY), ("after", AFTER_EVERY)):
        cmd = [str(WRITEAMP), "run", "--json", "--settle", "10", "--",
               *workload("write", "--file", data, "--count", COUNT, "--size", SIZE,
                         "--fsync-every", every, "--trunc")]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, f"{cmd}: {p.stderr}"
        paths[side] = d / f"{side}.json"
        paths[side].write_text(p.stdout)  # the report exactly as writeamp wrote it
    before, after = (json.loads(paths[s].read_text()) for s in ("before", "after"))
    yield d, paths["before"], paths["after"], before, after, str(data)
    shutil.rmtree(d, ignore_errors=True)


def compare(*args, check=True):
    p = subprocess.run([str(WRITEAMP), "compare", *map(str, args)], capture_output=True,
                       text=True, timeout=60)
    if check:
        assert p.returncode == 0, f"compare {args} exited {p.returncode}: {p.stderr}"
    return p


def compare_json(*args):
    return json.loads(compare("--json", *args).stdout)


def figures(entry, sync_calls):
    """What compare reads of a report entry: app bytes, device bytes, syncs."""
    return {"app_bytes": entry["write"]["bytes"], "device_bytes": entry["device"]["write_bytes"],
            "syncs": sync_calls}


def totals_figures(report):
    t = report["totals"]
    return figures(t, t["sync"]["calls"])


def process_figures(report, comm):
    rows = [p for p in report["processes"] if p["comm"] == comm]
    assert rows, [p["comm"] for p in report["processes"]]
    summed = {"app_bytes": 0, "device_bytes": 0, "syncs": 0}
    for r in rows:
        for k, v in figures(r, r["sync"]["calls"]).items():
            summed[k] += v
    return summed


def file_figures(report, path):
    rows = [f for f in report["files"] if f["path"] == path]
    assert len(rows) == 1, [f["path"] for f in report["files"]]
    return figures(rows[0], rows[0]["sync_calls"])


def check_pair(pair, before, after):
    """A compare entry against the two reports' figures, and the ratios against after/before."""
    for side, want in (("before", before), ("after", after)):
        got = pair[side]
        for key in ("app_bytes", "device_bytes", "syncs"):
            assert got[key] == want[key], (side, key, got, want)
        assert math.isclose(got["amplification"], want["device_bytes"] / want["app_bytes"])
    for key in ("app_bytes", "device_bytes", "syncs"):
        assert math.isclose(pair["ratio"][key], after[key] / before[key]), key
    amp_ratio = (after["device_bytes"] / after["app_bytes"]) / \
        (before["device_bytes"] / before["app_bytes"])
    assert math.isclose(pair["ratio"]["amplification"], amp_ratio)


def test_json_figures_are_those_of_the_two_reports(reports):
    _, bpath, apath, before, after, data = reports
    c = compare_json(bpath, apath)
    assert c["mode"] == "compare"
    assert c["before"]["file"] == str(bpath) and c["after"]["file"] == str(apath)

    b, a = totals_figures(before), totals_figures(after)
    # What the workload did: the same bytes, 100 times fewer fsyncs.
    assert b["app_bytes"] == a["app_bytes"] == COUNT * SIZE
    assert b["syncs"] == COUNT // BEFORE_EVERY and a["syncs"] == COUNT // AFTER_EVERY
    assert a["device_bytes"] < b["device_bytes"]
    check_pair(c["totals"], b, a)
    assert math.isclose(c["totals"]["ratio"]["syncs"], BEFORE_EVERY / AFTER_EVERY)
    assert c["totals"]["ratio"]["app_bytes"] == 1.0

    procs = [p for p in c["processes"] if p["comm"] == "workload"]
    assert len(procs) == 1
    check_pair(procs[0], process_figures(before, "workload"), process_figures(after, "workload"))

    files = [f for f in c["files"] if f["path"] == data]
    assert len(files) == 1
    fb, fa = file_figures(before, data), file_figures(after, data)
    assert fb["syncs"] == COUNT and fa["syncs"] == COUNT // AFTER_EVERY
    check_pair(files[0], fb, fa)
    # Every file of either report is there, once.
    paths = {f["path"] for r in (before, after) for f in r["files"]}
    assert sorted(f["path"] for f in c["files"]) == sorted(paths)


def fmt_bytes(n):
    """The text report's binary units, one decimal."""
    if n < KIB:
        return f"{n} B"
    v, units = n / KIB, ["KiB", "MiB", "GiB", "TiB"]
    i = 0
    while v >= KIB and i + 1 < len(units):
        v /= KIB
        i += 1
    return f"{v:.1f} {units[i]}"


def fmt_factor(v):
    return "%.0fx" % v if v >= 100 else "%#.3gx" % v


def expected_columns(b, a):
    amp_b, amp_a = b["device_bytes"] / b["app_bytes"], a["device_bytes"] / a["app_bytes"]
    return [fmt_bytes(b["app_bytes"]), fmt_bytes(a["app_bytes"]),
            fmt_factor(a["app_bytes"] / b["app_bytes"]),
            fmt_bytes(b["device_bytes"]), fmt_bytes(a["device_bytes"]),
            fmt_factor(a["device_bytes"] / b["device_bytes"]),
            str(b["syncs"]), str(a["syncs"]), fmt_factor(a["syncs"] / b["syncs"]),
            fmt_factor(amp_b), fmt_factor(amp_a), fmt_factor(amp_a / amp_b)]


def columns(line):
    """The twelve figures of a text row, then its key (units make two-word cells)."""
    cells = re.findall(r"\d+\.\d+ [KMGT]iB|\d+ B|\S+", line)
    return cells[:12], " ".join(cells[12:])


def row_after(lines, heading, key):
    start = next(i for i, l in enumerate(lines) if l.startswith(heading))
    for line in lines[start + 2:]:
        if not line.strip():
            break
        cells, k = columns(line)
        if k == key:
            return cells
    raise AssertionError(f"no row {key} under {heading}: {lines[start:start + 12]}")


def test_text_shows_the_figures_and_ratios_side_by_side(reports):
    _, bpath, apath, before, after, data = reports
    lines = compare(bpath, apath).stdout.splitlines()
    assert "RATIO is after / before" in lines[0]
    assert row_after(lines, "TOTALS", "all") == \
        expected_columns(totals_figures(before), totals_figures(after))
    assert row_after(lines, "PROCESSES", "workload") == \
        expected_columns(process_figures(before, "workload"), process_figures(after, "workload"))
    assert row_after(lines, "FILES", data) == \
        expected_columns(file_figures(before, data), file_figures(after, data))


def test_a_process_in_one_report_only_has_no_ratio(reports):
    d, bpath, _, before, after, _ = reports
    renamed = copy.deepcopy(after)
    for p in renamed["processes"]:
        p["comm"] = "renamed"
    apath = d / "renamed.json"
    apath.write_text(json.dumps(renamed))
    c = compare_json(bpath, apath)
    rows = {p["comm"]: p for p in c["processes"]}
    assert rows["workload"]["after"] is None and rows["renamed"]["before"] is None
    assert all(v is None for v in rows["workload"]["ratio"].values())
    assert rows["renamed"]["after"]["syncs"] == COUNT // AFTER_EVERY


def finding(fid, comm, file, pid, severity="high", container=None):
    return {"id": fid, "severity": severity, "title": f"title of {fid}",
            "target": {"pid": pid, "comm": comm, "container": container, "file": file,
                       "software": None},
            "evidence": [{"name": "sync_calls", "value": 2000.0, "threshold": 32.0,
                          "op": ">="}],
            "saving_bytes": 123, "advice": "do less", "software_advice": None}


def with_findings(report, findings):
    r = copy.deepcopy(report)
    if findings is None:
        r.pop("findings", None)
    else:
        r["findings"] = findings
    return r


def write(d, name, report):
    path = d / name
    path.write_text(json.dumps(report))
    return path


def keys(entries):
    return sorted((f["id"], f["comm"], f["file"]) for f in entries)


def test_findings_are_matched_by_id_comm_and_file_not_pid(reports):
    d, _, _, before, after, data = reports
    b = write(d, "fb.json", with_findings(before, [
        finding("small-sync-writes", "workload", data, 100),      # in both, another pid after
        finding("gone-rule", "workload", None, 100),              # only before
        finding("same-id-other-file", "workload", "/a/f", 100),   # in another directory after
        finding("same-id-other-comm", "workload", data, 100),     # the comm differs after
    ]))
    a = write(d, "fa.json", with_findings(after, [
        finding("small-sync-writes", "workload", data, 200),
        finding("new-rule", "workload", data, 200, severity="low"),
        finding("same-id-other-file", "workload", "/b/f", 200),
        finding("same-id-other-comm", "other", data, 200),
    ]))
    c = compare_json(b, a)["findings"]
    assert c["before_carries_findings"] and c["after_carries_findings"]
    assert keys(c["still_there"]) == [("small-sync-writes", "workload", data)]
    assert (c["still_there"][0]["before_pid"], c["still_there"][0]["after_pid"]) == (100, 200)
    assert c["still_there"][0]["matched_by"] == "file"
    assert keys(c["gone"]) == sorted([("gone-rule", "workload", None),
                                      ("same-id-other-file", "workload", "/a/f"),
                                      ("same-id-other-comm", "workload", data)])
    assert all(f["after_pid"] is None for f in c["gone"])
    assert keys(c["new"]) == sorted([("new-rule", "workload", data),
                                     ("same-id-other-file", "workload", "/b/f"),
                                     ("same-id-other-comm", "other", data)])
    assert [f["severity"] for f in c["new"] if f["id"] == "new-rule"] == ["low"]

    text = compare(b, a).stdout
    assert "3 gone, 1 still there, 3 new" in text
    listed = {}
    for line in text[text.index("FINDINGS"):].splitlines()[1:]:
        m = re.match(r"^  (gone|still there|new)\s+\S+\s+(\S+)", line)
        if m:
            listed.setdefault(m.group(2), []).append(m.group(1))
    assert listed["small-sync-writes"] == ["still there"]
    assert listed["gone-rule"] == ["gone"] and listed["new-rule"] == ["new"]
    assert sorted(listed["same-id-other-file"]) == ["gone", "new"]


def test_reports_without_findings_are_compared_all_the_same(reports):
    d, _, _, before, after, data = reports
    none_b = write(d, "nb.json", with_findings(before, None))
    none_a = write(d, "na.json", with_findings(after, None))
    some_a = write(d, "sa.json", with_findings(after, [finding("x", "workload", data, 1)]))

    c = compare_json(none_b, none_a)
    assert c["findings"] is None
    check_pair(c["totals"], totals_figures(before), totals_figures(after))
    assert "neither report carries findings" in compare(none_b, none_a).stdout

    c = compare_json(none_b, some_a)["findings"]
    assert not c["before_carries_findings"] and c["after_carries_findings"]
    assert keys(c["new"]) == [("x", "workload", data)] and c["gone"] == []
    assert "nb.json carries no findings" in compare(none_b, some_a).stdout


def one_line_error(p, *expected):
    assert p.returncode != 0
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and p.stderr.endswith("\n"), p.stderr
    assert p.stderr.startswith("writeamp: compare: "), p.stderr
    for e in expected:
        assert e in p.stderr, p.stderr


def test_another_schema_version_is_a_one_line_error(reports):
    d, bpath, _, before, _, _ = reports
    v2 = copy.deepcopy(before)
    v2["version"] = 2
    path = write(d, "v2.json", v2)
    one_line_error(compare(bpath, path, check=False), "v2.json", "schema version 2",
                   f"reads version {before['version']}")
    one_line_error(compare("--json", path, bpath, check=False), "schema version 2")


def test_bad_files_and_arguments_are_one_line_errors(reports):
    d, bpath, _, _, _, _ = reports
    not_json = d / "not.json"
    not_json.write_text("PROCESSES, by device bytes\n  1234 workload\n")
    one_line_error(compare(bpath, not_json, check=False), "not.json", "not JSON")
    one_line_error(compare(d / "missing.json", bpath, check=False), "missing.json",
                   "No such file or directory")
    one_line_error(compare(bpath, d, check=False), "is a directory")
    other = write(d, "other.json", {"hello": "world"})
    one_line_error(compare(other, bpath, check=False), "other.json", "not a writeamp")
    one_line_error(compare(bpath, check=False), "expected two reports")
    one_line_error(compare(bpath, bpath, bpath, check=False), "expected two reports")
    one_line_error(compare("--bogus", bpath, bpath, check=False), "unknown option '--bogus'")
    one_line_error(compare("--top", "x", bpath, bpath, check=False), "--top")


# --- matching rules and malformed input, on reports written by hand ---

SCHEMA_VERSION = 1
SMALL_SYNC = "small-sync-writes"
AOF = "/data/appendonly.aof"
FINDING_LINE = re.compile(r"^  (gone|still there|new)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)"
                          r"(?: -> (\S+) \(same directory\))?(?:  container (\S+))?$")


def hand_report(findings=(), processes=(), files=(), containers=()):
    """A report with only what compare reads, so that the test sets every figure."""
    return {"version": SCHEMA_VERSION, "tool": "by hand", "mode": "report", "duration_s": 1.0,
            "processes": list(processes), "files": list(files), "containers": list(containers),
            "totals": {"write": {"bytes": 0}, "device": {"write_bytes": 0}, "sync": {"calls": 0}},
            "findings": list(findings)}


def owners(entries):
    """What a finding is matched by, with the file of each side."""
    return {(f["id"], f["container"], f["comm"], f["before_file"], f["after_file"])
            for f in entries}


def text_findings(text):
    """The FINDINGS lines of the text output: (status, id, container, comm, file, after file)."""
    rows = set()
    for line in text[text.index("\nFINDINGS"):].splitlines()[2:]:
        m = FINDING_LINE.match(line)
        assert m, line
        status, _, fid, comm, file, after_file, container = m.groups()
        rows.add((status, fid, container, comm, file, after_file))
    return rows


def test_findings_that_differ_only_by_container_stay_apart(scratch):
    # Two redis containers of one image write the same path; a third redis runs on the host.
    b = write(scratch, "b.json", hand_report([
        finding(SMALL_SYNC, "redis-server", AOF, 10, container="cache-a"),
        finding(SMALL_SYNC, "redis-server", AOF, 20, container="cache-b"),
        finding(SMALL_SYNC, "redis-server", AOF, 30),
    ]))
    a = write(scratch, "a.json", hand_report([
        finding(SMALL_SYNC, "redis-server", AOF, 21, container="cache-b"),
        finding(SMALL_SYNC, "redis-server", AOF, 41, container="cache-c"),
    ]))
    c = compare_json(b, a)["findings"]
    assert owners(c["gone"]) == {(SMALL_SYNC, "cache-a", "redis-server", AOF, None),
                                 (SMALL_SYNC, None, "redis-server", AOF, None)}
    assert owners(c["still_there"]) == {(SMALL_SYNC, "cache-b", "redis-server", AOF, AOF)}
    assert (c["still_there"][0]["before_pid"], c["still_there"][0]["after_pid"]) == (20, 21)
    assert owners(c["new"]) == {(SMALL_SYNC, "cache-c", "redis-server", None, AOF)}
    assert {f["before_pid"] for f in c["gone"]} == {10, 30}

    text = compare(b, a).stdout
    assert "matched by id, container, comm and file" in text
    assert "2 gone, 1 still there, 1 new" in text
    assert text_findings(text) == {
        ("gone", SMALL_SYNC, "cache-a", "redis-server", AOF, None),
        ("gone", SMALL_SYNC, None, "redis-server", AOF, None),
        ("still there", SMALL_SYNC, "cache-b", "redis-server", AOF, None),
        ("new", SMALL_SYNC, "cache-c", "redis-server", AOF, None),
    }


WAL = "/var/lib/postgresql/15/main/pg_wal/"
AOF_DIR = "/var/lib/redis/appendonlydir/"
JOURNAL = "journal-commit-per-sync"


def test_a_finding_on_a_rotated_file_of_the_same_directory_is_still_there(scratch):
    b = write(scratch, "b.json", hand_report([
        finding(SMALL_SYNC, "postgres", WAL + "000000010000000000000001", 10),
        finding(SMALL_SYNC, "redis-server", AOF_DIR + "appendonly.aof.1.incr.aof", 11,
                container="cache"),
        # no match: another directory, another comm, another container
        finding(SMALL_SYNC, "postgres", "/srv/one/log", 12),
        finding(JOURNAL, "sqlite3", "/db/t.db-journal", 13),
        finding(SMALL_SYNC, "redis-server", AOF_DIR + "appendonly.aof.1.incr.aof", 14,
                container="queue"),
        # two before, one after: one pair, first with first
        finding(SMALL_SYNC, "etcd", "/wal/0001.wal", 15),
        finding(SMALL_SYNC, "etcd", "/wal/0002.wal", 16),
        # the exact path is matched first; the other file then pairs by directory
        finding(SMALL_SYNC, "kafka", "/k/x", 17),
        finding(SMALL_SYNC, "kafka", "/k/y", 18),
    ]))
    a = write(scratch, "a.json", hand_report([
        finding(SMALL_SYNC, "postgres", WAL + "000000010000000000000002", 20),
        finding(SMALL_SYNC, "redis-server", AOF_DIR + "appendonly.aof.2.incr.aof", 21,
                container="cache"),
        finding(SMALL_SYNC, "postgres", "/srv/two/log", 22),
        finding(JOURNAL, "python3", "/db/t.db-journal", 23),
        finding(SMALL_SYNC, "redis-server", AOF_DIR + "appendonly.aof.2.incr.aof", 24,
                container="other"),
        finding(SMALL_SYNC, "etcd", "/wal/0003.wal", 26),
        finding(SMALL_SYNC, "kafka", "/k/y", 28),
        finding(SMALL_SYNC, "kafka", "/k/z", 29),
    ]))
    c = compare_json(b, a)["findings"]
    still = {(f["id"], f["container"], f["comm"], f["before_file"], f["after_file"]):
             (f["matched_by"], f["file"], f["before_pid"], f["after_pid"])
             for f in c["still_there"]}
    assert still == {
        (SMALL_SYNC, None, "postgres", WAL + "000000010000000000000001",
         WAL + "000000010000000000000002"):
        ("directory", WAL + "000000010000000000000001", 10, 20),
        (SMALL_SYNC, "cache", "redis-server", AOF_DIR + "appendonly.aof.1.incr.aof",
         AOF_DIR + "appendonly.aof.2.incr.aof"):
        ("directory", AOF_DIR + "appendonly.aof.1.incr.aof", 11, 21),
        (SMALL_SYNC, None, "etcd", "/wal/0001.wal", "/wal/0003.wal"):
        ("directory", "/wal/0001.wal", 15, 26),
        (SMALL_SYNC, None, "kafka", "/k/y", "/k/y"): ("file", "/k/y", 18, 28),
        (SMALL_SYNC, None, "kafka", "/k/x", "/k/z"): ("directory", "/k/x", 17, 29),
    }
    assert owners(c["gone"]) == {
        (SMALL_SYNC, None, "postgres", "/srv/one/log", None),
        (JOURNAL, None, "sqlite3", "/db/t.db-journal", None),
        (SMALL_SYNC, "queue", "redis-server", AOF_DIR + "appendonly.aof.1.incr.aof", None),
        (SMALL_SYNC, None, "etcd", "/wal/0002.wal", None),
    }
    assert owners(c["new"]) == {
        (SMALL_SYNC, None, "postgres", None, "/srv/two/log"),
        (JOURNAL, None, "python3", None, "/db/t.db-journal"),
        (SMALL_SYNC, "other", "redis-server", None, AOF_DIR + "appendonly.aof.2.incr.aof"),
    }
    assert all(f["matched_by"] is None for f in c["gone"] + c["new"])

    text = compare(b, a).stdout
    assert "4 gone, 5 still there, 3 new" in text
    listed = text_findings(text)
    assert ("still there", SMALL_SYNC, None, "postgres", WAL + "000000010000000000000001",
            WAL + "000000010000000000000002") in listed
    assert ("still there", SMALL_SYNC, "cache", "redis-server",
            AOF_DIR + "appendonly.aof.1.incr.aof", AOF_DIR + "appendonly.aof.2.incr.aof") in listed
    assert ("still there", SMALL_SYNC, None, "kafka", "/k/y", None) in listed
    assert ("gone", SMALL_SYNC, None, "etcd", "/wal/0002.wal", None) in listed
    assert len(listed) == 12


def target(comm="workload", **members):
    return {"comm": comm, "container": None, "file": "/f", **members}


# (member of the report, its malformed value, what the error must say)
MALFORMED = [
    ("processes", [42], "processes[0] is a number; it must be an object"),
    ("processes", [{"comm": "w"}, {"pid": 1}], "processes[1].comm is missing; it must be a string"),
    ("files", ["/var/tmp/x"], "files[0] is a string; it must be an object"),
    ("files", [{"path": 7}], "files[0].path is a number; it must be a string"),
    ("containers", [[]], "containers[0] is an array; it must be an object"),
    ("containers", [{"name": "db"}], "containers[0].id is missing; it must be a string"),
    ("containers", {"id": "c0ffee"}, "containers is an object; it must be an array"),
    ("findings", "none", "findings is a string; it must be an array"),
    ("findings", [None], "findings[0] is null; it must be an object"),
    ("findings", [{"severity": "high", "target": target()}],
     "findings[0].id is missing; it must be a non-empty string"),
    ("findings", [{"id": "", "target": target()}],
     "findings[0].id is an empty string; it must be a non-empty string"),
    ("findings", [{"id": "x", "target": "workload"}],
     "findings[0].target is a string; it must be an object"),
    ("findings", [{"id": "x", "target": target(comm=None)}],
     "findings[0].target.comm is null; it must be a string"),
    ("findings", [{"id": "x", "target": target(file=3)}],
     "findings[0].target.file is a number; it must be a string or null"),
    ("findings", [{"id": "x", "target": target(container=["a"])}],
     "findings[0].target.container is an array; it must be a string or null"),
]


@pytest.mark.parametrize("member, value, message", MALFORMED,
                         ids=[m[2].split(" is ")[0] for m in MALFORMED])
def test_a_malformed_report_is_a_one_line_error_that_names_it(scratch, member, value, message):
    good_report = hand_report(findings=[finding("x", "workload", "/f", 1)],
                              processes=[{"comm": "workload"}], files=[{"path": "/f"}],
                              containers=[{"id": "c0ffee", "name": None}])
    good = write(scratch, "good.json", good_report)
    compare(good, good)  # the report it is made from is well formed
    bad_report = copy.deepcopy(good_report)
    bad_report[member] = value
    bad = write(scratch, "bad.json", bad_report)
    for args in ((good, bad), ("--json", bad, good)):
        p = compare(*args, check=False)
        one_line_error(p, f"bad.json: {message}")
        assert p.returncode == 1


# --- containers: two podman containers, restarted between the reports ---

podman_only = pytest.mark.skipif(shutil.which("podman") is None, reason="podman not installed")
CHANGED, STEADY = "changed", "steady"
WRITES, WRITE_SIZE = 300, 48
CHANGED_EVERY = 100  # after the change: an fsync every 100 writes instead of after each
EVERY = {CHANGED: {"before": 1, "after": CHANGED_EVERY}, STEADY: {"before": 1, "after": 1}}
PAGE = 4096


class RestartedContainer(Container):
    """A Container under a name and root the test chooses, so that the after run's container
    is the before run's restarted with a new configuration: same name and files, new id."""

    def __init__(self, name, rootfs, *workload_args):
        self.name, self.rootfs = name, rootfs
        (rootfs / "data" / "go").unlink(missing_ok=True)
        cmd = podman("run", "-d", "--name", name, *RUN_FLAGS, "--rootfs", rootfs,
                     "/workload", *workload_args, "--start-after", "/data/go")
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, f"{cmd}: {p.stderr}"
        self.id = p.stdout.strip()
        assert len(self.id) == 64, self.id


def trace_containers(tracer, names, roots, side, started):
    """One report of both containers; returns (report text, {role: container id})."""
    running = {}
    for role in (CHANGED, STEADY):
        running[role] = RestartedContainer(
            names[role], roots[role], "write", "--file", "/data/aof", "--count", WRITES,
            "--size", WRITE_SIZE, "--fsync-every", EVERY[role][side], "--trunc")
        started.append(running[role])
    t = tracer("--json", "--container", names[CHANGED], "--container", names[STEADY])
    for c in running.values():
        c.release()
    for c in running.values():
        c.wait()
    rc, out = t.stop()
    assert rc == 0
    for c in running.values():
        c.remove()
    return out, {role: c.id for role, c in running.items()}


def container_row(report, cid):
    rows = [c for c in report["containers"] if c["id"] == cid]
    assert len(rows) == 1, [c["id"] for c in report["containers"]]
    return rows[0]


def container_figures(row):
    return figures(row, row["sync"]["calls"])


@podman_only
@chroot_only
def test_containers_are_compared_by_name_across_a_restart(scratch, tracer):
    tag = uuid.uuid4().hex[:8]
    names = {role: f"wa-cmp-{role}-{tag}" for role in (CHANGED, STEADY)}
    roots = {role: make_rootfs(scratch / names[role]) for role in names}
    started, paths, reports, ids = [], {}, {}, {}
    try:
        for side in ("before", "after"):
            out, ids[side] = trace_containers(tracer, names, roots, side, started)
            paths[side] = write(scratch, f"{side}.json", json.loads(out))
            reports[side] = json.loads(out)
    finally:
        for c in started:
            c.remove()
    for role in names:  # a restart: the same name, a new id
        assert ids["before"][role] != ids["after"][role]
        for side in ("before", "after"):
            assert container_row(reports[side], ids[side][role])["name"] == names[role]

    c = compare_json(paths["before"], paths["after"])
    rows = {r["name"]: r for r in c["containers"]}
    assert sorted(rows) == sorted(names.values())  # keyed by name, not by either id
    want = {role: {side: container_figures(container_row(reports[side], ids[side][role]))
                   for side in ("before", "after")} for role in names}
    for role in names:
        b, a = want[role]["before"], want[role]["after"]
        # What each container did: the same bytes; an fsync after each write, or every 100th.
        assert b["app_bytes"] == a["app_bytes"] == WRITES * WRITE_SIZE
        assert b["syncs"] == WRITES // EVERY[role]["before"]
        assert a["syncs"] == WRITES // EVERY[role]["after"]
        # Each fsync of an append writes at least the data block it changed.
        assert b["device_bytes"] >= b["syncs"] * PAGE and a["device_bytes"] >= a["syncs"] * PAGE
        check_pair(rows[names[role]], b, a)
    changed, steady = rows[names[CHANGED]], rows[names[STEADY]]
    assert math.isclose(changed["ratio"]["syncs"], 1 / CHANGED_EVERY)
    assert changed["ratio"]["app_bytes"] == 1.0 and steady["ratio"]["app_bytes"] == 1.0
    assert steady["ratio"]["syncs"] == 1.0
    # After: 3 fsyncs of a 4-page file, each writing at most the file's pages and its inode,
    # and on a journaled root filesystem a commit of at most 11 blocks, against at least 300
    # blocks before.
    assert want[CHANGED]["after"]["device_bytes"] <= 3 * (5 + 11) * PAGE
    assert changed["ratio"]["device_bytes"] < 0.1

    lines = compare(paths["before"], paths["after"]).stdout.splitlines()
    for role in names:
        assert row_after(lines, "CONTAINERS", names[role]) == \
            expected_columns(want[role]["before"], want[role]["after"])

    # The changed container's finding is gone, the steady one's still there, each named.
    f = c["findings"]
    aof = {role: str(roots[role] / "data" / "aof") for role in names}
    assert owners(f["gone"]) == {(SMALL_SYNC, names[CHANGED], "workload", aof[CHANGED], None)}
    assert owners(f["still_there"]) == {
        (SMALL_SYNC, names[STEADY], "workload", aof[STEADY], aof[STEADY])}
    assert f["still_there"][0]["matched_by"] == "file" and f["new"] == []
