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


def compare_json(before, after):
    """`writeamp compare BEFORE AFTER --json` on two saved reports; it must succeed."""
    p = subprocess.run([str(WRITEAMP), "compare", str(before), str(after), "--json"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"compare exited {p.returncode}: {p.stderr}"
    return json.loads(p.stdout)


def compared_process(cmp, comm):
    rows = [r for r in cmp["processes"] if r["comm"] == comm]
    assert len(rows) == 1, [r["comm"] for r in cmp["processes"]]
    return rows[0]


def gone_ids(cmp, comm):
    return {g["id"] for g in cmp["findings"]["gone"] if g["comm"] == comm}


def remaining_ids(cmp, comm):
    return {g["id"] for status in ("still_there", "new") for g in cmp["findings"][status]
            if g["comm"] == comm}


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
    # One fdatasync per SET, and a few more as redis starts (manifest, first AOF).
    assert REDIS_SETS <= evidence(f, "sync_calls") <= REDIS_SETS + 16
    assert f["stake_bytes"] == proc["device"]["write_bytes"]
    # Each of those syncs wrote the AOF's last 4 KiB block again, and committed the journal
    # (the AOF grew), which writes at least a descriptor and a commit block.
    assert f["stake_bytes"] >= REDIS_SETS * 3 * PAGE
    # Written once, the AOF would take its own size in pages; the rest is what batching saves.
    assert f["saving_bytes"] >= proc["device"]["write_bytes"] - pages_of(always["aof_bytes"]) - \
        16 * PAGE
    assert f["saving_bytes"] >= REDIS_SETS * 3 * PAGE - pages_of(always["aof_bytes"]) - 16 * PAGE

    # On a journaled ext4 the AOF grows at every SET, so every fdatasync commits the journal.
    assert proc["sync"]["commits_forced"] >= 0.9 * REDIS_SETS
    j = one_finding(report, "journal-commit-per-sync", "redis-server")
    assert j["target"]["file"] == str(always["aof"])
    assert j["software_advice"]["setting"] == "appendfsync"
    assert j["stake_bytes"] >= proc["device"]["journal_bytes"]
    # A commit at (nearly) every SET, each of a descriptor, the inode's block and a commit block.
    assert evidence(j, "commits_forced") >= 0.9 * REDIS_SETS
    assert j["stake_bytes"] >= 0.9 * REDIS_SETS * 3 * PAGE

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
    # A compare that fails is a failure, not a skip: the fix must be measurable.
    cmp = compare_json(redis_runs["always"]["path"], redis_runs["everysec"]["path"])
    before = only_process(redis_runs["always"]["report"], "redis-server")["device"]["write_bytes"]
    after = only_process(redis_runs["everysec"]["report"], "redis-server")["device"]["write_bytes"]
    row = compared_process(cmp, "redis-server")
    assert row["before"]["device_bytes"] == before
    assert row["after"]["device_bytes"] == after
    assert row["ratio"]["device_bytes"] == pytest.approx(after / before, rel=1e-9)
    # always: a sync per SET; everysec: one a second.
    assert row["before"]["syncs"] >= REDIS_SETS
    assert row["after"]["syncs"] <= redis_runs["everysec"]["seconds"] + 10
    assert "small-sync-writes" in gone_ids(cmp, "redis-server")
    assert "small-sync-writes" not in remaining_ids(cmp, "redis-server")


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
    return report, p.stdout


@pytest.mark.skipif(not SQLITE3, reason="sqlite3 not installed")
def test_sqlite_rollback_journal_per_row_against_wal(journaled_fs, tmp_path):
    mnt, loop = journaled_fs
    bad_dir, good_dir = fresh_dir(mnt, "sqlite-delete"), fresh_dir(mnt, "sqlite-wal")
    try:
        bad, bad_json = sqlite_inserts(sqlite_db(bad_dir, "DELETE"), "FULL")
        good, good_json = sqlite_inserts(sqlite_db(good_dir, "WAL"), "NORMAL")
    finally:
        shutil.rmtree(bad_dir, ignore_errors=True)
        shutil.rmtree(good_dir, ignore_errors=True)
    # The journal is created and deleted per transaction: by the report it is gone, so it is
    # named by its filesystem's device and its last name.
    journal = f"{loop}:t.db-journal (deleted or not found)"

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
        # The synced file with the most device bytes: the journal, synced twice per row.
        assert f["target"]["file"] == journal
        assert f["software_advice"]["setting"] == "journal_mode"
        assert "WAL" in f["software_advice"]["change"]
        # Four syncs per row (journal twice, database, directory).
        assert evidence(f, "sync_calls") == 4 * SQLITE_ROWS
    # At least one commit per row (the new journal file), for its four syncs.
    assert evidence(commit, "commits_forced") >= SQLITE_ROWS
    assert evidence(commit, "commits_per_sync") >= SQLITE_ROWS / (4 * SQLITE_ROWS)
    assert commit["stake_bytes"] >= proc["device"]["journal_bytes"]
    # Each commit writes at least a descriptor block, the inode's block and a commit block.
    assert commit["stake_bytes"] >= SQLITE_ROWS * 3 * PAGE
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

    (tmp_path / "delete.json").write_text(bad_json)
    (tmp_path / "wal.json").write_text(good_json)
    cmp = compare_json(tmp_path / "delete.json", tmp_path / "wal.json")
    row = compared_process(cmp, "sqlite3")
    assert row["before"]["syncs"] == 4 * SQLITE_ROWS
    assert row["after"]["syncs"] < 32
    assert row["ratio"]["syncs"] <= 0.1
    assert row["after"]["device_bytes"] * 4 <= row["before"]["device_bytes"]
    assert row["ratio"]["device_bytes"] <= 0.25
    assert {"small-sync-writes", "journal-commit-per-sync"} <= gone_ids(cmp, "sqlite3")
    assert not {"small-sync-writes", "journal-commit-per-sync"} & remaining_ids(cmp, "sqlite3")


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
    return json.loads(out), out


def test_postgres_synchronous_commit_on_against_off(postgres, tmp_path):
    on, on_json = pgbench_traced(postgres, "on")
    off, off_json = pgbench_traced(postgres, "off")
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

    (tmp_path / "on.json").write_text(on_json)
    (tmp_path / "off.json").write_text(off_json)
    cmp = compare_json(tmp_path / "on.json", tmp_path / "off.json")
    # Matched by comm: every postgres process of a report in one row.
    row = compared_process(cmp, "postgres")
    assert row["before"]["syncs"] >= PG_TRANSACTIONS
    assert row["after"]["syncs"] < 32
    assert row["ratio"]["syncs"] <= 0.1
    assert row["after"]["device_bytes"] < row["before"]["device_bytes"]
    assert row["ratio"]["device_bytes"] < 1
    assert "small-sync-writes" in gone_ids(cmp, "postgres")
    assert "small-sync-writes" not in remaining_ids(cmp, "postgres")


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


# ---------------------------------------------------------------------------------------------
# One workload per remaining rule, each with what the workload did worked out here. The bad
# run gives the finding; a cheap run that differs in the one thing the rule is about does not.

def assert_names_the_workload(f, proc, file):
    assert f["target"]["pid"] == proc["pid"]
    assert f["target"]["comm"] == "workload"
    assert f["target"]["file"] == (None if file is None else str(file))
    assert f["target"]["software"] is None and f["software_advice"] is None


SYNC_OPEN_WRITES, SYNC_OPEN_SIZE = 200, 100


@pytest.mark.parametrize("flag, opens_key", [("--osync", "sync"), ("--odsync", "dsync")])
def test_small_writes_through_o_sync_or_o_dsync_give_sync_open_flags(scratch, flag, opens_key):
    target = scratch / "log"
    report, _ = run_json(workload("write", "--file", target, "--count", SYNC_OPEN_WRITES,
                                  "--size", SYNC_OPEN_SIZE, flag), settle=5)
    proc = only_process(report)
    assert proc["opens"][opens_key] == 1
    f = one_finding(report, "sync-open-flags", "workload")
    assert_names_the_workload(f, proc, target)
    assert evidence(f, "sync_opens") == 1  # the workload opens one file, once
    assert evidence(f, "avg_write_bytes") == SYNC_OPEN_SIZE
    # Each synchronous write puts at least its whole 4 KiB block on the disk.
    assert evidence(f, "amplification") >= PAGE / SYNC_OPEN_SIZE

    # The same writes without the flag: buffered, nothing synchronous.
    target.unlink()
    plain, _ = run_json(workload("write", "--file", target, "--count", SYNC_OPEN_WRITES,
                                 "--size", SYNC_OPEN_SIZE), settle=1)
    assert only_process(plain)["opens"][opens_key] == 0
    assert not findings(plain, "sync-open-flags")


DIRECT_WRITES, DIRECT_SMALL = 200, 512


def test_o_direct_writes_under_a_block_give_direct_io_small(journaled_fs):
    # On the test's loop device, whose logical block is 512 bytes whatever the host disk's,
    # ext4 takes them, but not its 4 KiB filesystem block, whose rest it must zero.
    mnt, _ = journaled_fs
    target = mnt / f"direct-{uuid.uuid4().hex[:8]}"
    report, _ = run_json(workload("write", "--file", target, "--count", DIRECT_WRITES,
                                  "--size", DIRECT_SMALL, "--odirect"), settle=2)
    proc = only_process(report)
    assert proc["write"]["calls"] == DIRECT_WRITES and proc["write"]["errors"] == 0
    f = one_finding(report, "direct-io-small", "workload")
    assert_names_the_workload(f, proc, target)
    assert evidence(f, "direct_write_calls") == DIRECT_WRITES
    assert evidence(f, "direct_bytes_per_write") == DIRECT_SMALL
    # Nothing was refused, so the finding shows no figure about refusals.
    assert {e["name"] for e in f["evidence"]} == {"direct_write_calls", "direct_bytes_per_write"}
    # Every write reached the device, as a whole block or more.
    assert f["stake_bytes"] >= DIRECT_WRITES * DIRECT_SMALL


REFUSED_WRITES, MISALIGNED = 50, 100


def test_misaligned_o_direct_writes_are_refused_and_give_direct_io_small(scratch):
    target = scratch / "direct"
    # --expect-einval: the workload exits 0 only if every one of its writes failed with EINVAL.
    report, _ = run_json(workload("write", "--file", target, "--count", REFUSED_WRITES,
                                  "--size", MISALIGNED, "--odirect", "--expect-einval"),
                         settle=2)
    proc = only_process(report)
    assert proc["write"]["errors"] == REFUSED_WRITES and proc["write"]["bytes"] == 0
    f = one_finding(report, "direct-io-small", "workload")
    assert_names_the_workload(f, proc, target)
    assert evidence(f, "direct_writes_rejected") == REFUSED_WRITES
    # None went through, so there is no size of the writes that did to show.
    assert {e["name"] for e in f["evidence"]} == {"direct_writes_rejected"}


def test_aligned_64k_o_direct_writes_give_no_direct_io_small(scratch):
    target = scratch / "direct"
    report, _ = run_json(workload("write", "--file", target, "--count", 64, "--size", "64K",
                                  "--odirect"), settle=2)
    proc = only_process(report)
    assert proc["write"]["calls"] == 64 and proc["write"]["bytes"] == 64 * 65536
    assert proc["opens"]["direct"] == 1
    assert not findings(report, "direct-io-small")


DIRECT_AND_LOG_WRITER = """
import mmap, os, sys
table = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644)
log = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
block = mmap.mmap(-1, 65536)  # page-aligned, as O_DIRECT wants
block.write(b"t" * 65536)
for i in range(int(sys.argv[3])):
    assert os.write(table, block) == 65536
for i in range(int(sys.argv[4])):
    assert os.write(log, b"l" * 49 + b"\\n") == 50
os.close(table)
os.close(log)
"""


def test_one_o_direct_file_and_small_buffered_log_lines_give_no_direct_io_small(scratch):
    # A database's way: whole aligned blocks through O_DIRECT, and a text log of small
    # buffered lines. The process's average write is under a block; its O_DIRECT writes are not.
    writer = scratch / "writer.py"
    writer.write_text(DIRECT_AND_LOG_WRITER)
    blocks, lines = 64, 2000
    report, _ = run_json([sys.executable, "-B", str(writer), str(scratch / "table"),
                          str(scratch / "log"), str(blocks), str(lines)], settle=1)
    proc = only_process(report, os.path.basename(sys.executable)[:15])
    assert proc["opens"]["direct"] == 1
    assert proc["write"]["calls"] == blocks + lines
    assert proc["write"]["bytes"] == blocks * 65536 + lines * 50
    assert proc["write"]["avg_bytes"] < PAGE  # what the old, process-wide rule looked at
    assert not findings(report, "direct-io-small")


TINY_WRITES, TINY_SIZE = 16384, 64  # 1 MiB, 256 whole pages


def test_many_tiny_buffered_writes_give_tiny_buffered_writes(scratch):
    target = scratch / "log"
    # The rule needs no writeback, so the run does not wait for it.
    report, _ = run_json(workload("write", "--file", target, "--count", TINY_WRITES, "--size",
                                  TINY_SIZE), settle=1)
    proc = only_process(report)
    f = one_finding(report, "tiny-buffered-writes", "workload")
    assert_names_the_workload(f, proc, target)
    assert evidence(f, "write_calls") == TINY_WRITES
    assert evidence(f, "avg_write_bytes") == TINY_SIZE
    assert evidence(f, "syncs_per_write") == 0
    assert evidence(f, "writes_per_page") == PAGE / TINY_SIZE

    # The same bytes in whole pages: a page per write.
    target.unlink()
    pages, _ = run_json(workload("write", "--file", target, "--count",
                                 TINY_WRITES * TINY_SIZE // PAGE, "--size", PAGE), settle=1)
    assert only_process(pages)["write"]["bytes"] == TINY_WRITES * TINY_SIZE
    assert not findings(pages, "tiny-buffered-writes")


REWRITES, REWRITE_SIZE, REGION = 1024, 4096, 65536


def test_rewrites_of_one_region_give_overwritten_before_writeback(scratch):
    # 4 MiB written over and over the same 64 KiB: each of its 16 pages is dirtied once, and
    # nothing is written back while the workload runs (the kernel waits 30 s).
    target = scratch / "state"
    report, _ = run_json(workload("write", "--file", target, "--count", REWRITES, "--size",
                                  REWRITE_SIZE, "--overwrite", "--region", REGION), settle=1)
    proc = only_process(report)
    assert proc["sync"]["calls"] == 0
    f = one_finding(report, "overwritten-before-writeback", "workload")
    assert_names_the_workload(f, proc, target)
    assert evidence(f, "app_bytes") == REWRITES * REWRITE_SIZE
    assert evidence(f, "app_bytes_per_dirtied_byte") == pytest.approx(
        REWRITES * REWRITE_SIZE / REGION, rel=0.02)
    assert f["saving_bytes"] == 0

    # The same 4 MiB written once, front to back: every byte is new.
    target.unlink()
    once, _ = run_json(workload("write", "--file", target, "--count", REWRITES, "--size",
                                REWRITE_SIZE), settle=1)
    assert only_process(once)["write"]["bytes"] == REWRITES * REWRITE_SIZE
    assert not findings(once, "overwritten-before-writeback")


NONSTORAGE_WRITES, NONSTORAGE_SIZE = 2000, 100


@pytest.mark.parametrize("pattern", [["pipe"], ["socket", "--family", "unix"],
                                     ["socket", "--family", "tcp"]])
def test_pipe_and_socket_writes_give_nonstorage_writes(pattern):
    # The reading end is a thread of the workload that only reads: the writes are all there is.
    report, _ = run_json(workload(*pattern, "--count", NONSTORAGE_WRITES, "--size",
                                  NONSTORAGE_SIZE), settle=1)
    proc = only_process(report)
    f = one_finding(report, "nonstorage-writes", "workload")
    assert_names_the_workload(f, proc, None)
    assert evidence(f, "nonstorage_calls") == NONSTORAGE_WRITES
    assert evidence(f, "nonstorage_bytes") == NONSTORAGE_WRITES * NONSTORAGE_SIZE
    assert evidence(f, "storage_calls") == 0
    assert f["stake_bytes"] == 0 and f["saving_bytes"] == 0

    # Below the 1000 writes worth a note.
    few, _ = run_json(workload(*pattern, "--count", 999, "--size", NONSTORAGE_SIZE), settle=1)
    assert only_process(few)["nonstorage"]["calls"] == 999
    assert not findings(few, "nonstorage-writes")


TREE_FILES = 100


def test_new_files_fsynced_one_by_one_give_many_files_synced(journaled_fs):
    mnt, _ = journaled_fs
    tree = fresh_dir(mnt, "tree")
    try:
        report, _ = run_json(workload("tree", "--dir", tree, "--files", TREE_FILES, "--size", 1,
                                      "--fsync"), settle=5)
        names = {str(tree / f"f{i:06d}") for i in range(TREE_FILES)}
        shutil.rmtree(tree)
        tree.mkdir()
        unsynced, _ = run_json(workload("tree", "--dir", tree, "--files", TREE_FILES, "--size",
                                        1), settle=1)
    finally:
        shutil.rmtree(tree, ignore_errors=True)

    proc = only_process(report)
    assert proc["sync"]["calls"] == TREE_FILES
    f = one_finding(report, "many-files-synced", "workload")
    assert f["target"]["file"] in names
    assert_names_the_workload(f, proc, f["target"]["file"])
    assert evidence(f, "files_synced") == TREE_FILES
    assert evidence(f, "sync_calls") == TREE_FILES
    # A new file's fsync must commit its inode and its directory entry: a commit each.
    assert evidence(f, "commits_per_sync") >= 0.9

    # The same files, never synced: the periodic commit takes them all.
    assert only_process(unsynced)["sync"]["calls"] == 0
    assert not findings(unsynced, "many-files-synced")


# 50 syncs spread over 5 rounds 1.5 s apart: under the sync rules' 10 syncs a second.
SLOW_FILES, SLOW_ROUNDS, SLOW_HOLD_MS = 10, 5, 1500


def test_new_files_fsynced_slowly_give_journal_metadata_dominant(journaled_fs):
    # Ten 1-byte files created (or truncated) and fsynced, five times, 1.5 s apart: too slow
    # for the sync rules (under 10 syncs/s), but each fsync still commits the journal, which
    # dwarfs the one data block of each file.
    mnt, _ = journaled_fs
    tree = fresh_dir(mnt, "slow")
    syncs = SLOW_FILES * SLOW_ROUNDS
    try:
        report, _ = run_json(workload("tree", "--dir", tree, "--files", SLOW_FILES, "--size", 1,
                                      "--fsync", "--repeat", SLOW_ROUNDS, "--hold-ms",
                                      SLOW_HOLD_MS), settle=5)
        names = {str(tree / f"f{i:06d}") for i in range(SLOW_FILES)}
    finally:
        shutil.rmtree(tree, ignore_errors=True)

    proc = only_process(report)
    assert proc["sync"]["calls"] == syncs
    data = syncs * PAGE  # each 1-byte file takes one 4 KiB block, written at its fsync
    assert proc["device"]["data_bytes"] == data
    f = one_finding(report, "journal-metadata-dominant", "workload")
    assert f["target"]["file"] in names
    assert_names_the_workload(f, proc, f["target"]["file"])
    # Each commit: at least a descriptor block, the inode's block and a commit block.
    overhead = evidence(f, "journal_metadata_bytes")
    assert overhead >= syncs * 3 * PAGE
    assert evidence(f, "journal_metadata_per_data") == pytest.approx(overhead / data, rel=1e-6)
    assert f["saving_bytes"] == overhead - data
    # The sync rules stay silent at this rate, so dominance is the finding that explains it.
    assert not findings(report, "journal-commit-per-sync")
    assert not findings(report, "small-sync-writes")
