"""writeamp compare: two real `writeamp run --json` reports side by side.

BEFORE makes 2000 writes of 48 bytes with an fsync after each, AFTER the same writes with an
fsync after every 100th. What compare shows is checked against the two input reports, read
here with Python's json, and against what the workload is known to do. Findings are tested on
copies of a real report with findings arrays written here, since compare's input is a file.
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


def finding(fid, comm, file, pid, severity="high"):
    return {"id": fid, "severity": severity, "title": f"title of {fid}",
            "target": {"pid": pid, "comm": comm, "container": None, "file": file,
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
        finding("same-id-other-file", "workload", "/a", 100),     # the file differs after
        finding("same-id-other-comm", "workload", data, 100),     # the comm differs after
    ]))
    a = write(d, "fa.json", with_findings(after, [
        finding("small-sync-writes", "workload", data, 200),
        finding("new-rule", "workload", data, 200, severity="low"),
        finding("same-id-other-file", "workload", "/b", 200),
        finding("same-id-other-comm", "other", data, 200),
    ]))
    c = compare_json(b, a)["findings"]
    assert c["before_carries_findings"] and c["after_carries_findings"]
    assert keys(c["still_there"]) == [("small-sync-writes", "workload", data)]
    assert (c["still_there"][0]["before_pid"], c["still_there"][0]["after_pid"]) == (100, 200)
    assert keys(c["gone"]) == sorted([("gone-rule", "workload", None),
                                      ("same-id-other-file", "workload", "/a"),
                                      ("same-id-other-comm", "workload", data)])
    assert all(f["after_pid"] is None for f in c["gone"])
    assert keys(c["new"]) == sorted([("new-rule", "workload", data),
                                     ("same-id-other-file", "workload", "/b"),
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
