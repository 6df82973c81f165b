"""Software named by a library it embeds: a Python program that uses SQLite through its module.

The program is not called sqlite3, so only the libsqlite3 it has mapped says it is an SQLite
user. It runs single-row transactions with a rollback journal and synchronous=FULL, which
obliges SQLite to sync its journal and its database at every commit. It has exited before the
report is made, so its libraries must have been read when the kernel first saw it write.
"""
import json
import os
import subprocess
import sys

from conftest import Tracer

ROWS = 200
PROGRAM = r"""
import os, sqlite3, sys, time
db, go = sys.argv[1:3]
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA journal_mode=DELETE")
con.execute("PRAGMA synchronous=FULL")
con.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
while not os.path.exists(go):
    time.sleep(0.01)
for i in range(int(sys.argv[3])):
    con.execute("INSERT INTO t(v) VALUES(?)", (f"row-{i:06d}",))
con.close()
"""


def test_a_program_embedding_sqlite_gets_sqlite_advice(scratch):
    db, go = scratch / "t.db", scratch / "go"
    app = subprocess.Popen([sys.executable, "-c", PROGRAM, db, go, str(ROWS)])
    try:
        t = Tracer("--json", "-p", app.pid)
        go.touch()
        assert app.wait(timeout=120) == 0
    finally:
        app.kill()
    assert not os.path.exists(f"/proc/{app.pid}"), "it is gone before the report"
    rc, out = t.stop()
    assert rc == 0
    report = json.loads(out)
    mine = [f for f in report["findings"] if f["target"]["pid"] == app.pid]
    small = [f for f in mine if f["id"] == "small-sync-writes"]
    assert len(small) == 1, [(f["id"], f["target"]) for f in report["findings"]]
    f = small[0]
    assert f["target"]["comm"].startswith("python")
    assert f["target"]["software"] == "sqlite"
    assert f["software_advice"]["setting"] == "journal_mode"
    assert "journal_mode=WAL" in f["software_advice"]["change"]
    (proc,) = [p for p in report["processes"] if p["pid"] == app.pid]
    # FULL with a rollback journal: the journal and the database are synced per transaction.
    assert proc["sync"]["calls"] >= 2 * ROWS
