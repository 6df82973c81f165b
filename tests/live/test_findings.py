"""Findings on real software: each case runs the bad configuration and the fixed one.

What each program did is known without writeamp: redis counts its SETs (INFO commandstats)
and its AOF is on disk, sqlite3 counts its rows, pgbench counts its transactions, and the
workload generator and the small Python writer make exactly the I/O their arguments say.
The expectations below are worked out from those facts and from what the configuration
obliges the program to do (appendfsync always: a sync per SET; synchronous_commit=on: a WAL
flush per commit; a rollback journal: the journal file created, synced and deleted per
transaction), never from what writeamp printed.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from conftest import WRITEAMP, Tracer, only_process, run_json, workload, free_port, wait_for_port

PAGE = 4096

REDIS_SERVER = shutil.which("redis-server")
REDIS_BENCHMARK = shutil.which("redis-benchmark")
REDIS_CLI = shutil.which("redis-cli")
SQLITE3 = shutil.which("sqlite3")
PG_BIN = "/usr/lib/postgresql/15/bin"
PG_USER = "postgres"


def findings(report, finding_id, comm=None):
    return [f for f in report["findings"]
            if f["id"] == finding_id and (comm is None or f["target"]["comm"] == comm)]


def one_finding(report, finding_id, comm):
    found = findings(report, finding_id, comm)
    assert len(found) == 1, (f"expected one {finding_id} for {comm}, got "
                             f"{[(f['id'], f['target']['comm']) for f in report['findings']]}")
    return found[0]


def evidence(finding, name):
    rows = [e for e in finding["evidence"] if e["name"] == name]
    assert len(rows) == 1, f"no evidence {name} in {finding['evidence']}"
    return rows[0]["value"]


def procs(report, comm):
    return [p for p in report["processes"] if p["comm"] == comm]


def device_bytes(rows):
    return sum(p["device"]["write_bytes"] for p in rows)


def sync_calls(rows):
    return sum(p["sync"]["calls"] for p in rows)


def pages_of(n):
    return (n + PAGE - 1) // PAGE * PAGE


def fresh_dir(parent, prefix):
    d = parent / f"{prefix}-{uuid.uuid4().hex[:8]}"
    d.mkdir()
    return d


# ---------------------------------------------------------------------------------------------
# Redis: appendfsync always against everysec, the same SETs, on a journaled ext4.

REDIS_SETS = 5000


def redis_set_calls(port):
    info = subprocess.run([REDIS_CLI, "-p", str(port), "info", "commandstats"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    m = re.search(r"^cmdstat_set:calls=(\d+),", info, re.M)
    assert m, info
    return int(m.group(1))


def aof_incr_file(directory):
    """The AOF file that redis appends to, as its manifest names it."""
    aof_dir = directory / "appendonlydir"
    manifest = next(aof_dir.glob("*.manifest")).read_text()
    m = re.search(r"^file (\S+) seq \d+ type i$", manifest, re.M)
    assert m, manifest
    return aof_dir / m.group(1)


def run_redis(directory, appendfsync):
    port = free_port()
    cmd = [str(WRITEAMP), "run", "--json", "--settle", "5", "--", REDIS_SERVER, "--port",
           str(port), "--bind", "127.0.0.1", "--appendonly", "yes", "--appendfsync",
           appendfsync, "--dir", str(directory), "--save", "", "--daemonize", "no",
           "--logfile", str(directory / "redis.log")]
    tracer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port)
        started = time.monotonic()
        subprocess.run([REDIS_BENCHMARK, "-p", str(port), "-n", str(REDIS_SETS), "-c", "1",
                        "-t", "set", "-q"], check=True, capture_output=True, timeout=300)
        seconds = time.monotonic() - started
        sets = redis_set_calls(port)
        subprocess.run([REDIS_CLI, "-p", str(port), "shutdown", "nosave"],
                       capture_output=True, timeout=60)
        out, err = tracer.communicate(timeout=300)
    finally:
        if tracer.poll() is None:
            tracer.kill()
            tracer.communicate()
    assert tracer.returncode == 0, err
    aof = aof_incr_file(directory)
    return {"report": json.loads(out), "json": out, "sets": sets, "seconds": seconds,
            "aof": aof, "aof_bytes": aof.stat().st_size}


@pytest.fixture(scope="module")
def redis_runs(journaled_fs, tmp_path_factory):
    if not (REDIS_SERVER and REDIS_BENCHMARK and REDIS_CLI):
        pytest.skip("redis-server, redis-benchmark or redis-cli not installed")
    mnt, _ = journaled_fs
    runs, dirs = {}, []
    saved = tmp_path_factory.mktemp("redis-reports")
    try:
        for mode in ("always", "everysec"):
            d = fresh_dir(mnt, f"redis-{mode}")
            dirs.append(d)
            runs[mode] = run_redis(d, mode)
            runs[mode]["path"] = saved / f"{mode}.json"
            runs[mode]["path"].write_text(runs[mode]["json"])
        yield runs
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)


def test_redis_appendfsync_always_gives_small_sync_writes_and_everysec_does_not(redis_runs):
    always, everysec = redis_runs["always"], redis_runs["everysec"]
    assert always["sets"] == everysec["sets"] == REDIS_SETS
    # The same SETs make the same AOF: the runs differ only in how often it is synced.
    assert always["aof_bytes"] == everysec["aof_bytes"]

    report = always["report"]
    proc = only_process(report, "redis-server")
    aof_row = [f for f in report["files"] if f["path"] == str(always["aof"])]
    assert len(aof_row) == 1 and aof_row[0]["write"]["bytes"] == always["aof_bytes"]
    # appendfsync always: an fdatasync in every event-loop turn that wrote; one client, so
    # one per SET.
    assert proc["sync"]["calls"] >= REDIS_SETS

    f = one_finding(report, "small-sync-writes", "redis-server")
    assert f["target"]["pid"] == proc["pid"]
    assert f["target"]["file"] == str(always["aof"])
    assert f["target"]["software"] == "redis"
    assert f["software_advice"]["setting"] == "appendfsync"
    assert "everysec" in f["software_advice"]["change"]
    # About one SET's AOF record per sync (the manifest and the log add a little).
    per_set = always["aof_bytes"] / REDIS_SETS
    assert per_set * 0.9 <= evidence(f, "app_bytes_per_sync") <= per_set * 1.1
    assert f["stake_bytes"] == proc["device"]["write_bytes"]
    # Written once, the AOF would take its own size in pages; the rest is what batching saves.
    assert f["saving_bytes"] >= proc["device"]["write_bytes"] - pages_of(always["aof_bytes"]) - \
        16 * PAGE

    # On a journaled ext4 the AOF grows at every SET, so every fdatasync commits the journal.
    assert proc["sync"]["commits_forced"] >= 0.9 * REDIS_SETS
    j = one_finding(report, "journal-commit-per-sync", "redis-server")
    assert j["target"]["file"] == str(always["aof"])
    assert j["software_advice"]["setting"] == "appendfsync"
    assert j["stake_bytes"] >= proc["device"]["journal_bytes"]

    fixed = everysec["report"]
    fixed_proc = only_process(fixed, "redis-server")
    # everysec: a sync a second, from redis's background thread, plus start-up ones.
    assert fixed_proc["sync"]["calls"] <= everysec["seconds"] + 10
    assert not findings(fixed, "small-sync-writes", "redis-server")
    assert not findings(fixed, "journal-commit-per-sync", "redis-server")

    before = proc["device"]["write_bytes"]
    after = fixed_proc["device"]["write_bytes"]
    assert after > 0 and before / after >= 5, (before, after)
    print(f"redis device bytes: always {before}, everysec {after}, {before / after:.1f}x")


def test_redis_compare_agrees_with_the_reports(redis_runs):
    a, b = redis_runs["always"]["path"], redis_runs["everysec"]["path"]
    p = subprocess.run([str(WRITEAMP), "compare", str(a), str(b), "--json"],
                       capture_output=True, text=True, timeout=60)
    try:
        cmp = json.loads(p.stdout) if p.returncode == 0 else None
    except json.JSONDecodeError:
        cmp = None
    if cmp is None or "processes" not in cmp:
        pytest.skip(f"writeamp compare is not available yet (exit {p.returncode}: "
                    f"{p.stderr.strip()[:200]})")
    before = only_process(redis_runs["always"]["report"], "redis-server")["device"]["write_bytes"]
    after = only_process(redis_runs["everysec"]["report"], "redis-server")["device"]["write_bytes"]
    rows = [r for r in cmp["processes"] if r["comm"] == "redis-server"]
    assert len(rows) == 1
    assert rows[0]["before"]["device_bytes"] == before
    assert rows[0]["after"]["device_bytes"] == after
    assert rows[0]["ratio"]["device_bytes"] == pytest.approx(after / before, rel=1e-9)
    gone = [g for g in cmp["findings"]["gone"] if g["comm"] == "redis-server"]
    assert "small-sync-writes" in {g["id"] for g in gone}


# ---------------------------------------------------------------------------------------------
# SQLite: one-row transactions with a rollback journal and synchronous=FULL, against WAL with
# synchronous=NORMAL. The database is made before tracing: the journal mode is the database's.

SQLITE_ROWS = 300


def sqlite_db(directory, journal_mode):
    db = directory / "t.db"
    subprocess.run([SQLITE3, str(db)], check=True, capture_output=True, text=True, timeout=60,
                   input=f"PRAGMA journal_mode={journal_mode};\n"
                         "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);\n")
    return db


def sqlite_inserts(db, synchronous):
    # Every INSERT outside BEGIN ... COMMIT is a transaction of its own.
    script = ".output /dev/null\n" + f"PRAGMA synchronous={synchronous};\n" + "".join(
        f"INSERT INTO t(v) VALUES('row-{i:06d}');\n" for i in range(SQLITE_ROWS))
    cmd = [str(WRITEAMP), "run", "--json", "--settle", "10", "--", SQLITE3, str(db)]
    p = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    rows = subprocess.run([SQLITE3, str(db), "SELECT count(*) FROM t"], capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()
    assert rows == str(SQLITE_ROWS)
    report = json.loads(p.stdout)
    assert not report["run"]["settle"]["timed_out"], "all written back: the bytes compare"
    return report


@pytest.mark.skipif(not SQLITE3, reason="sqlite3 not installed")
def test_sqlite_rollback_journal_per_row_against_wal(journaled_fs):
    mnt, _ = journaled_fs
    bad_dir, good_dir = fresh_dir(mnt, "sqlite-delete"), fresh_dir(mnt, "sqlite-wal")
    try:
        bad = sqlite_inserts(sqlite_db(bad_dir, "DELETE"), "FULL")
        good = sqlite_inserts(sqlite_db(good_dir, "WAL"), "NORMAL")
    finally:
        shutil.rmtree(bad_dir, ignore_errors=True)
        shutil.rmtree(good_dir, ignore_errors=True)

    proc = only_process(bad, "sqlite3")
    # Each transaction syncs its journal, then the database (FULL syncs the journal twice).
    assert proc["sync"]["calls"] >= 2 * SQLITE_ROWS
    # ... and creates the -journal file anew: a new file's first sync must commit the journal.
    assert proc["sync"]["commits_forced"] >= SQLITE_ROWS
    # Each transaction writes at least one whole database page.
    assert proc["write"]["bytes"] >= SQLITE_ROWS * PAGE

    small = one_finding(bad, "small-sync-writes", "sqlite3")
    commit = one_finding(bad, "journal-commit-per-sync", "sqlite3")
    for f in (small, commit):
        assert f["target"]["software"] == "sqlite"
        assert f["target"]["pid"] == proc["pid"]
        assert "t.db" in f["target"]["file"]
        assert f["software_advice"]["setting"] == "journal_mode"
        assert "WAL" in f["software_advice"]["change"]
    # Four syncs (journal twice, database, directory) for one commit.
    assert evidence(commit, "commits_per_sync") >= 0.2
    assert commit["stake_bytes"] >= proc["device"]["journal_bytes"]
    # Two files are synced, the database and its journal: not "many".
    assert not findings(bad, "many-files-synced")

    fixed = only_process(good, "sqlite3")
    # WAL with NORMAL syncs only at checkpoints: one at close for these few pages.
    assert fixed["sync"]["calls"] < 32
    assert fixed["sync"]["calls"] * 10 <= proc["sync"]["calls"]
    assert fixed["device"]["write_bytes"] * 4 <= proc["device"]["write_bytes"]
    assert not findings(good, "small-sync-writes", "sqlite3")
    assert not findings(good, "journal-commit-per-sync", "sqlite3")
    print(f"sqlite syncs {proc['sync']['calls']} -> {fixed['sync']['calls']}, device bytes "
          f"{proc['device']['write_bytes']} -> {fixed['device']['write_bytes']}")


# ---------------------------------------------------------------------------------------------
# PostgreSQL 15: pgbench with synchronous_commit=on against off. The server runs outside
# writeamp, as the postgres user, so it is traced in report mode with --comm postgres.

PG_TRANSACTIONS = 500


def as_postgres(*cmd, env=None, timeout=120, check=True):
    return subprocess.run(["runuser", "-u", PG_USER, "--", *map(str, cmd)], capture_output=True,
                          text=True, env=env, timeout=timeout, check=check)


@pytest.fixture(scope="module")
def postgres(journaled_fs):
    if not os.path.exists(f"{PG_BIN}/postgres") or not os.path.exists(f"{PG_BIN}/pgbench"):
        pytest.skip("PostgreSQL 15 is not installed")
    mnt, _ = journaled_fs
    home = fresh_dir(mnt, "pg")
    shutil.chown(home, PG_USER, PG_USER)
    data, port = home / "data", free_port()
    as_postgres(f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", PG_USER, "--no-sync")
    # No checkpoints and no autovacuum while tracing: only the clients' work is compared.
    options = (f"-p {port} -k {home} -c listen_addresses='' -c autovacuum=off "
               "-c checkpoint_timeout=3600 -c max_wal_size=4GB")
    as_postgres(f"{PG_BIN}/pg_ctl", "-D", data, "-l", home / "log", "-w", "-o", options, "start")
    try:
        as_postgres(f"{PG_BIN}/pgbench", "-h", home, "-p", port, "-i", "-s", "1", "-q",
                    PG_USER)
        yield {"home": home, "data": data, "port": port}
    finally:
        as_postgres(f"{PG_BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(home, ignore_errors=True)


def pgbench_traced(pg, synchronous_commit):
    # The same start for both: a checkpoint, so both log the same full-page images.
    as_postgres(f"{PG_BIN}/psql", "-h", pg["home"], "-p", pg["port"], "-c", "CHECKPOINT",
                PG_USER)
    env = dict(os.environ, PGOPTIONS=f"-c synchronous_commit={synchronous_commit}")
    tracer = Tracer("--json", "--comm", "postgres")
    try:
        bench = as_postgres(f"{PG_BIN}/pgbench", "-h", pg["home"], "-p", pg["port"], "-n",
                            "-c", "1", "-t", PG_TRANSACTIONS, PG_USER, env=env, timeout=300)
        time.sleep(0.5)  # the last commit's WAL write and sync, for off from the walwriter
        rc, out = tracer.stop()
    finally:
        tracer.kill()
    assert rc == 0, "".join(tracer.stderr_lines)
    done = re.search(r"number of transactions actually processed: (\d+)/", bench.stdout)
    assert done and int(done.group(1)) == PG_TRANSACTIONS, bench.stdout
    return json.loads(out)


def test_postgres_synchronous_commit_on_against_off(postgres):
    on = pgbench_traced(postgres, "on")
    off = pgbench_traced(postgres, "off")
    wal_dir = str(postgres["data"] / "pg_wal") + "/"

    on_procs = procs(on, "postgres")
    backend = max(on_procs, key=lambda p: p["sync"]["calls"])
    # on: each commit flushes the WAL before pgbench's single client hears back, and each
    # flush writes at least the current 8 KiB WAL page.
    assert backend["sync"]["calls"] >= PG_TRANSACTIONS
    assert backend["device"]["write_bytes"] >= PG_TRANSACTIONS * 8192

    f = one_finding(on, "small-sync-writes", "postgres")
    assert f["target"]["pid"] == backend["pid"]
    assert f["target"]["file"].startswith(wal_dir), f["target"]["file"]
    assert f["target"]["software"] == "postgresql"
    assert f["software_advice"]["setting"] == "synchronous_commit"
    assert evidence(f, "sync_calls") >= PG_TRANSACTIONS

    off_procs = procs(off, "postgres")
    # off: the walwriter flushes every wal_writer_delay (200 ms), not each commit.
    assert sync_calls(off_procs) < 32
    assert sync_calls(off_procs) * 10 <= sync_calls(on_procs)
    assert device_bytes(off_procs) < device_bytes(on_procs)
    assert not findings(off, "small-sync-writes", "postgres")
    print(f"postgres syncs {sync_calls(on_procs)} -> {sync_calls(off_procs)}, device bytes "
          f"{device_bytes(on_procs)} -> {device_bytes(off_procs)}")


# ---------------------------------------------------------------------------------------------
# The workload generator.

APPENDS, APPEND_SIZE = 500, 100


def test_appends_with_fsync_commit_the_journal_and_preallocated_overwrites_do_not(journaled_fs):
    mnt, _ = journaled_fs
    grown, reused = mnt / f"append-{uuid.uuid4().hex[:8]}", mnt / f"reuse-{uuid.uuid4().hex[:8]}"
    try:
        bad, _ = run_json(workload("write", "--file", grown, "--count", APPENDS, "--size",
                                   APPEND_SIZE, "--append", "--fsync-every", 1), settle=5)
        # The fix: the file is written at its final size beforehand and then overwritten in
        # place, so fdatasync has data only to write (no new size, no new blocks).
        subprocess.run(workload("prepare", "--file", reused, "--size", APPENDS * APPEND_SIZE),
                       check=True)
        good, _ = run_json(workload("write", "--file", reused, "--count", APPENDS, "--size",
                                    APPEND_SIZE, "--offset", 0, "--fdatasync-every", 1),
                           settle=5)
    finally:
        grown.unlink(missing_ok=True)
        reused.unlink(missing_ok=True)

    proc = only_process(bad)
    assert proc["sync"]["calls"] == APPENDS
    # Each fsync follows an append that grew the file: the new size must be committed.
    assert proc["sync"]["commits_forced"] >= 0.9 * APPENDS
    f = one_finding(bad, "journal-commit-per-sync", "workload")
    assert f["target"]["file"] == str(grown)
    assert f["target"]["software"] is None and f["software_advice"] is None
    assert evidence(f, "commits_per_sync") >= 0.9
    assert f["stake_bytes"] >= proc["device"]["journal_bytes"] > APPENDS * PAGE * 0.9
    # The journal-dominance finding is the same bytes: the commit finding explains them.
    assert not findings(bad, "journal-metadata-dominant")

    fixed = only_process(good)
    assert fixed["sync"]["calls"] == APPENDS
    assert fixed["sync"]["commits_forced"] * 10 <= proc["sync"]["commits_forced"]
    assert fixed["device"]["journal_bytes"] * 10 <= proc["device"]["journal_bytes"]
    assert not findings(good, "journal-commit-per-sync")


SCATTERED_WRITER = """
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
count, size, stride = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(count):
    assert os.pwrite(fd, b"u" * size, i * stride + 1000) == size
os.fsync(fd)
os.close(fd)
"""

OVERWRITES, OVERWRITE_SIZE, STRIDE = 2000, 100, 8192


def test_scattered_small_overwrites_give_partial_page_overwrite(scratch):
    # The workload's --overwrite writes S-byte records back to back, so a few lines of
    # Python make the scattered ones: record i at i * 8 KiB + 1000, each in a page of its
    # own, then one fsync (as a checkpoint would). The fix writes the same records back to
    # back.
    writer = scratch / "scattered.py"
    writer.write_text(SCATTERED_WRITER)
    target = scratch / "data"
    subprocess.run(workload("prepare", "--file", target, "--size", OVERWRITES * STRIDE),
                   check=True)
    bad, _ = run_json([sys.executable, "-B", str(writer), str(target), str(OVERWRITES),
                       str(OVERWRITE_SIZE), str(STRIDE)], settle=5)
    target.unlink()
    subprocess.run(workload("prepare", "--file", target, "--size", OVERWRITES * STRIDE),
                   check=True)
    good, _ = run_json(workload("write", "--file", target, "--count", OVERWRITES, "--size",
                                OVERWRITE_SIZE, "--offset", 1000, "--fsync-every", OVERWRITES),
                       settle=5)

    proc = only_process(bad, os.path.basename(sys.executable)[:15])
    assert proc["write"]["calls"] == OVERWRITES
    assert proc["write"]["bytes"] == OVERWRITES * OVERWRITE_SIZE
    # Every record is in a block of its own, and the fsync writes each of those blocks.
    assert proc["device"]["data_bytes"] >= OVERWRITES * PAGE
    f = one_finding(bad, "partial-page-overwrite", proc["comm"])
    assert f["target"]["file"] == str(target)
    assert evidence(f, "page_bytes_per_app_byte") == pytest.approx(PAGE / OVERWRITE_SIZE,
                                                                   rel=0.02)
    want_saving = OVERWRITES * PAGE - pages_of(OVERWRITES * OVERWRITE_SIZE)
    assert f["saving_bytes"] == pytest.approx(want_saving, rel=0.02)

    fixed = only_process(good)
    # Back to back, the records fill 50 blocks (1000 + 200000 bytes, from block 0).
    assert fixed["device"]["data_bytes"] <= pages_of(1000 + OVERWRITES * OVERWRITE_SIZE)
    assert not findings(good, "partial-page-overwrite")


def test_clean_sequential_bulk_write_gives_no_finding(journaled_fs):
    mnt, _ = journaled_fs
    target = mnt / f"bulk-{uuid.uuid4().hex[:8]}"
    mib = 1 << 20
    try:
        report, _ = run_json(workload("write", "--file", target, "--count", 64, "--size", "1M",
                                      "--fsync-every", 64), settle=5)
    finally:
        target.unlink(missing_ok=True)
    proc = only_process(report)
    assert proc["write"]["calls"] == 64 and proc["write"]["bytes"] == 64 * mib
    assert proc["sync"]["calls"] == 1
    # The one fsync forced all 64 MiB out, once.
    assert 64 * mib <= proc["device"]["data_bytes"] <= 64 * mib + 16 * PAGE
    assert report["findings"] == []
