"""The command line as a user meets it: errors are one line and a non-zero exit."""
import json
import os
import subprocess

import pytest

from conftest import WRITEAMP, only_process, run_json, workload


def writeamp(*args, **kw):
    return subprocess.run([str(WRITEAMP), *map(str, args)], capture_output=True, text=True,
                          timeout=120, **kw)


def assert_one_line_error(p, *needles):
    assert p.returncode != 0
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("writeamp: ")
    for n in needles:
        assert n in lines[0]
    assert "libbpf" not in p.stderr


@pytest.mark.parametrize("args,needle", [
    (["report", "--bogus"], "--bogus"),
    (["report", "-x"], "-x"),
    (["report", "-p"], "-p"),
    (["report", "-p", "abc"], "abc"),
    (["report", "-d", "-1"], "--duration"),
    (["report", "--settle", "3"], "--settle"),
    (["run", "-d", "3", "--", "true"], "-d"),
    (["run"], "no command"),
    (["frobnicate"], "frobnicate"),
    (["report", "--dev", "nosuchdisk"], "nosuchdisk"),
    (["report", "--dev", "999:999"], "999:999"),
])
def test_bad_arguments_get_one_line_and_a_nonzero_exit(args, needle):
    assert_one_line_error(writeamp(*args), needle)


def test_a_pid_that_does_not_exist_is_an_error():
    p = writeamp("report", "-p", 4194303, "-d", 1)
    assert_one_line_error(p, "4194303")


def test_without_privileges_it_says_so_in_one_line():
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        str(WRITEAMP), "report", "-d", "1"], capture_output=True, text=True,
                       timeout=60)
    assert_one_line_error(p, "root", "CAP_BPF")


def run_with_hidden(directory, cmd):
    """Runs cmd in a mount namespace where an empty tmpfs covers directory.

    Propagation is left as it is, since under chroot "/" is no mount point and unshare cannot
    change it; /sys is made private inside the namespace instead, so the tmpfs never leaks out.
    """
    script = f"mount --make-rprivate /sys && mount -t tmpfs none {directory} && exec {cmd}"
    return subprocess.run(["unshare", "--mount", "--propagation", "unchanged", "sh", "-c", script],
                          capture_output=True, text=True, timeout=60)


def test_a_kernel_without_btf_is_an_error_that_says_what_to_do():
    # To writeamp behind the tmpfs, the kernel has no BTF.
    p = run_with_hidden("/sys/kernel/btf", f"{WRITEAMP} report -d 1")
    assert_one_line_error(p, "BTF", "CONFIG_DEBUG_INFO_BTF")


def test_tracefs_is_not_needed(scratch):
    # Only BTF tracepoints are attached, and they need no tracefs: hide it and trace anyway.
    cmd = " ".join(map(str, [WRITEAMP, "run", "--json", "--settle", "0", "--",
                             *workload("write", "--file", scratch / "f", "--count", 5,
                                       "--size", 5)]))
    p = run_with_hidden("/sys/kernel/tracing", cmd)
    assert p.returncode == 0, p.stderr
    assert only_process(json.loads(p.stdout))["write"]["calls"] == 5


def test_help_and_version_exit_0():
    for args in (["--help"], ["report", "--help"], ["run", "--help"], ["--version"]):
        p = writeamp(*args)
        assert p.returncode == 0 and p.stdout and not p.stderr
    assert writeamp("--version").stdout.startswith("writeamp ")


def test_verbose_lists_the_hooks_and_libbpf_stays_quiet_without_it(scratch):
    quiet = writeamp("run", "--settle", "0", "--", "true")
    assert quiet.returncode == 0 and "libbpf" not in quiet.stderr
    loud = writeamp("run", "-v", "--settle", "0", "--", "true")
    assert "attached tp_btf/sys_enter" in loud.stderr
    assert "attached tp_btf/block_bio_queue" in loud.stderr
    assert "attached tp_btf/writeback_dirty_folio" in loud.stderr


def test_run_returns_the_commands_exit_status():
    assert writeamp("run", "--settle", "0", "--", "sh", "-c", "exit 7").returncode == 7
    assert writeamp("run", "--settle", "0", "--", "sh", "-c", "kill -TERM $$").returncode == 143


def test_run_of_a_missing_program_is_one_line_and_127():
    p = writeamp("run", "--settle", "0", "--", "/nonexistent/program")
    assert p.returncode == 127
    assert_one_line_error(p, "/nonexistent/program", "No such file")


def test_probe_read_hooks_measure_the_same_as_typed_reads(scratch):
    """The fallback for kernels without bpf_rdonly_cast, forced on this one."""
    report, _ = run_json(workload("write", "--file", scratch / "f", "--count", 321, "--size",
                                  77, "--fsync-every", 3), "--probe-reads", "-v", settle=0)
    p = only_process(report)
    assert p["write"]["calls"] == 321 and p["write"]["bytes"] == 321 * 77
    assert p["sync"]["fsync"] == 107
    assert any(h["program"] == "sys_enter_probe_read" for h in report["hooks"])


def test_output_file_holds_the_report_and_the_commands_stdout_stays_apart(scratch):
    out = scratch / "report.json"
    cmd = [str(WRITEAMP), "run", "--json", "-o", str(out), "--settle", "0", "--",
           "sh", "-c", f"echo command-output; {' '.join(workload('write', '--file', scratch / 'f', '--count', 100, '--size', 48))}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "command-output\n", "only the command's own output is on stdout"
    report = json.loads(out.read_text())
    proc = only_process(report)
    assert proc["write"]["calls"] == 100 and proc["write"]["bytes"] == 4800


def test_an_output_file_that_cannot_be_created_is_an_error_before_tracing(scratch):
    p = writeamp("run", "-o", str(scratch / "no-such-dir" / "r.json"), "--", "true")
    assert_one_line_error(p, "-o", "No such file")
