"""Software named by a library it embeds: a Python program that uses SQLite through its module.

The program is not called sqlite3, so only the libsqlite3 it has mapped says it is an SQLite
user. It runs single-row transactions with a rollback journal and synchronous=FULL, which
obliges SQLite to sync its journal and its database at every commit. Names are read from /proc
when the kernel first sees a process write, again after an exec, and again at the final report
for the processes still alive; each case below needs one of those reads.
"""
import json
import os
import subprocess
import sys
import time

from conftest import WRITEAMP, Tracer

ROWS = 200
# argv: database, gate to start, gate to leave ("-" for none), rows, log written first ("-").
# Without a log, sqlite3 is imported before the gate: an import may write .pyc files, which
# would make the first write come before libsqlite3 is mapped.
PROGRAM = r"""
import os, sys, time
db, go, leave, rows, log = sys.argv[1:6]
def wait(path):
    while path != "-" and not os.path.exists(path):
        time.sleep(0.01)
if log == "-":
    import sqlite3
wait(go)
if log != "-":
    with open(log, "w") as f:
        f.write("starting\n")
    import sqlite3
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA journal_mode=DELETE")
con.execute("PRAGMA synchronous=FULL")
con.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
for i in range(int(rows)):
    con.execute("INSERT INTO t(v) VALUES(?)", (f"row-{i:06d}",))
con.close()
os.close(os.open(db + ".done", os.O_CREAT | os.O_WRONLY))
wait(leave)
"""


def python(db, go="-", leave="-", log="-"):
    return [sys.executable, "-c", PROGRAM, str(db), str(go), str(leave), str(ROWS), str(log)]


def check_sqlite_advice(report, pid):
    small = [f for f in report["findings"]
             if f["id"] == "small-sync-writes" and f["target"]["pid"] == pid]
    assert len(small) == 1, [(f["id"], f["target"]) for f in report["findings"]]
    f = small[0]
    assert f["target"]["comm"].startswith("python")
    assert f["target"]["software"] == "sqlite"
    assert f["software_advice"]["setting"] == "journal_mode"
    assert "journal_mode=WAL" in f["software_advice"]["change"]
    (proc,) = [p for p in report["processes"] if p["pid"] == pid]
    # FULL with a rollback journal: the journal and the database are synced per transaction.
    assert proc["sync"]["calls"] >= 2 * ROWS
    return proc


def test_a_program_that_exits_before_the_report_was_named_at_its_first_write(scratch):
    go = scratch / "go"
    app = subprocess.Popen(python(scratch / "t.db", go=go))
    try:
        t = Tracer("--json", "-p", app.pid)
        go.touch()
        assert app.wait(timeout=120) == 0
    finally:
        app.kill()
    assert not os.path.exists(f"/proc/{app.pid}"), "it is gone before the report"
    rc, out = t.stop()
    assert rc == 0
    check_sqlite_advice(json.loads(out), app.pid)


def test_a_shell_that_execs_the_program_is_named_after_the_exec(scratch):
    """The shell writes first, so the first sighting reads the shell's names."""
    script = (f"echo started > '{scratch}/pre.log'; exec " +
              " ".join(f"'{a}'" for a in python(scratch / "t.db")) + "\n")
    (scratch / "entry.sh").write_text(script)
    cmd = [str(WRITEAMP), "run", "--json", "--", "sh", str(scratch / "entry.sh")]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    (row,) = [r for r in report["processes"] if r["comm"].startswith("python")]
    assert row["cmdline"].startswith(sys.executable + " -c")
    proc = check_sqlite_advice(report, row["pid"])
    assert proc["write"]["calls"] >= 1 + ROWS  # the shell's line, then the rows


def wait_for(path, app, timeout=120):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert app.poll() is None, "the program ended early"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_a_library_loaded_after_the_first_write_is_seen_at_the_report(scratch):
    """The log line is written before `import sqlite3`, so the first sighting has no SQLite;
    the program is still alive at the report, which reads its libraries again."""
    go, leave, db = scratch / "go", scratch / "leave", scratch / "t.db"
    app = subprocess.Popen(python(db, go=go, leave=leave, log=scratch / "app.log"))
    try:
        t = Tracer("--json", "-p", app.pid)
        go.touch()
        wait_for(scratch / "t.db.done", app)
        rc, out = t.stop()
    finally:
        leave.touch()
        app.wait(timeout=60)
    assert rc == 0
    check_sqlite_advice(json.loads(out), app.pid)
