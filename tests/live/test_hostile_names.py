"""Process names and file paths are untrusted: JSON escapes them, the terminal never sees
their control bytes."""
import json
import subprocess

from conftest import WRITEAMP, run_json, workload

ESC = "\x1b"
EVIL_COMM_ARG = r'\e[31mx"y\n'  # the workload decodes \e and \n
EVIL_COMM = '\x1b[31mx"y\n'



def evil_path(scratch):
    return scratch / f'we"ird\\ name\n{ESC}[2Jend'


def test_json_keeps_hostile_names_exactly(scratch):
    path = evil_path(scratch)
    report, p = run_json(workload("write", "--file", path, "--count", 3, "--size", 10,
                                  "--comm", EVIL_COMM_ARG), settle=0)
    comms = [r["comm"] for r in report["processes"]]
    assert EVIL_COMM in comms
    assert str(path) in [f["path"] for f in report["files"]]
    assert "\n" not in p.stdout.strip()  # one compact document: every newline is escaped


def test_text_report_has_no_control_bytes_from_names(scratch):
    path = evil_path(scratch)
    p = subprocess.run([str(WRITEAMP), "run", "--settle", "0", "--", *workload(
        "write", "--file", path, "--count", 3, "--size", 10, "--comm", EVIL_COMM_ARG)],
        capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    assert ESC not in p.stdout
    assert all(ch == "\n" or ord(ch) >= 0x20 for ch in p.stdout)
    assert "\\x1b[31mx" in p.stdout  # the name is shown, escaped
    assert "\\x1b[2Jend" in p.stdout
    assert not any(0x80 <= ord(ch) <= 0x9f for ch in p.stdout)
