"""The FINDINGS section of the text report, read as a person reads it.

The workload's arguments are the ground truth: how many writes and syncs it made and to
which file. The file names carry terminal escapes, which must not reach the terminal.
"""
import re
import subprocess

from conftest import WRITEAMP, workload

ESC = "\x1b"


def run_text(scratch, *args):
    """`writeamp run` (text) of one workload whose pid is written to a file first, by another
    process (/bin/echo), so that the workload's own figures hold only the workload's I/O."""
    pidfile = scratch / "pid"
    inner = " ".join(f"'{a}'" for a in map(str, workload(*args)))
    cmd = [str(WRITEAMP), "run", "--", "sh", "-c", f"/bin/echo $$ > '{pidfile}'; exec {inner}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout, int(pidfile.read_text())


def findings_section(text):
    head, _, body = text.partition("\nFINDINGS, by device bytes at stake (")
    assert body, "no FINDINGS section"
    count, _, body = body.partition(")\n")
    entries = re.split(r"\n(?=  \d+\. \[)", "\n" + body.strip("\n"))
    entries = [e for e in entries if e.strip()]
    assert len(entries) == int(count), (count, entries)
    return entries


def entry(entries, finding_id):
    found = [e for e in entries if re.match(rf"\s*\d+\. \[\w+\] {finding_id}: ", e)]
    assert len(found) == 1, entries
    return found[0]


def evidence_value(text, name):
    flat = " ".join(text.split())
    m = re.search(rf"\b{name} (\S+)", flat)
    assert m, f"no {name} in {flat}"
    return m.group(1)


def test_a_sync_finding_names_the_process_file_and_figures(scratch):
    path = scratch / "log\x1b[31mred"
    out, pid = run_text(scratch, "write", "--file", path, "--count", 500, "--size", 48,
                        "--fdatasync-every", 1)
    assert ESC not in out
    text = entry(findings_section(out), "small-sync-writes")
    assert text.lstrip().startswith("1. [high] small-sync-writes: ")
    assert re.search(rf"who: workload \[{pid}\]", text)
    (file_line,) = [ln for ln in text.splitlines() if ln.strip().startswith("file: ")]
    # the escape is shown as text, and the rest of the path is intact
    assert file_line.strip().startswith(f"file: {scratch}/log") and file_line.strip().endswith(
        "[31mred")
    assert evidence_value(text, "sync_calls") == "500"
    assert evidence_value(text, "app_bytes_per_sync") == "48"
    assert re.search(r"saving: about \S+ \S+ of the \S+ \S+ of device bytes behind it", text)
    assert "change: " in text


def test_a_finding_that_saves_no_device_bytes_says_so(scratch):
    out, pid = run_text(scratch, "write", "--file", scratch / "tiny", "--count", 16384,
                        "--size", 64)
    text = entry(findings_section(out), "tiny-buffered-writes")
    assert re.search(rf"who: workload \[{pid}\]", text)
    assert evidence_value(text, "write_calls") == "16384"
    # 1 MiB reaches the device either way: buffering saves syscalls, not device bytes
    assert "saving: none on the device, of the 1.0 MiB behind it" in text


def test_a_finding_about_no_storage_names_no_file(scratch):
    out, pid = run_text(scratch, "pipe", "--count", 2000, "--size", 100)
    text = entry(findings_section(out), "nonstorage-writes")
    assert re.search(rf"who: workload \[{pid}\]", text)
    assert "file: " not in text
    assert evidence_value(text, "nonstorage_calls") == "2000"
    assert "saving: none on the device: no device bytes are behind it" in text
