#!/usr/bin/python3
# run.py: runs the unit tests (cmocka binaries) and the live tests (pytest) and sums them up.
"""Runs every unit test binary OUTPUT/tests/test_* (OUTPUT from the environment, default
.output) with cmocka's TAP output, then pytest on tests/live, and prints each failing test with
its output. The last line of stdout is always "N passed, M failed"; skipped tests, if any, are
counted on the line before. The exit status is 0 iff nothing failed and something passed.

usage: run.py [--unit-only | --live-only] [-k EXPR] [-v] [-- PYTEST_ARGS...]
"""
import argparse
import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT_DIR = os.environ.get("OUTPUT", ".output")
UNIT_BIN_DIR = os.path.join(ROOT, OUTPUT_DIR, "tests")
UNIT_PREFIX = "test_"
LIVE_DIR = "tests/live"
FIXTURES_DIR = os.path.join(ROOT, "tests", "unit", "fixtures")
UNIT_TIMEOUT_S = 300
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where python3-pytest installs pytest
PYTEST_NO_TESTS = 5  # pytest's exit status when nothing was collected (or all deselected)

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"

TAP_PLAN = re.compile(r"^1\.\.(\d+)$")
# cmocka writes "ok 1 - name", "not ok 2 - name" and, for skipped tests, "not ok 3 # SKIP name".
TAP_RESULT = re.compile(r"^(ok|not ok) (\d+)(?: - (.*?))?(?: # (SKIP|TODO)\b ?(.*))?$")
TAP_GROUP_SUMMARY = re.compile(r"^# (ok|not ok) - ")
TAP_DIAGNOSTIC = "# "
JUNIT_SECTION = re.compile(r"^-+ Captured .* -+$")


class Result:
    def __init__(self, name, status, output=""):
        self.name = name
        self.status = status
        self.output = output


def signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "signal %d" % number


def tap_results(binary, text):
    """Returns (results, tests planned, output after the last result) from cmocka's TAP.

    A test's output is what the test printed before its result line plus the diagnostics
    ("# ...") after it.
    """
    results = []
    planned = 0
    pending = []  # lines printed by the test that is running
    for line in text.splitlines():
        plan = TAP_PLAN.match(line)
        result = TAP_RESULT.match(line)
        if plan:
            planned += int(plan.group(1))
        elif result:
            ok, number, name, directive, directive_text = result.groups()
            name = name or directive_text or "#" + number
            if directive == "SKIP":
                status = SKIPPED
            else:
                status = PASSED if ok == "ok" else FAILED
            results.append(Result("%s: %s" % (binary, name), status, "".join(pending)))
            pending = []
        elif TAP_GROUP_SUMMARY.match(line):
            continue
        elif line.startswith(TAP_DIAGNOSTIC) and results:
            results[-1].output += line[len(TAP_DIAGNOSTIC):] + "\n"
        else:
            pending.append(line + "\n")
    return results, planned, "".join(pending)


def unit_env():
    env = dict(os.environ)
    env["CMOCKA_MESSAGE_OUTPUT"] = "TAP"
    env.pop("CMOCKA_XML_FILE", None)
    env.setdefault("WRITEAMP_FIXTURES", FIXTURES_DIR)
    return env


def unit_binaries():
    if not os.path.isdir(UNIT_BIN_DIR):
        return []
    paths = []
    for name in sorted(os.listdir(UNIT_BIN_DIR)):
        path = os.path.join(UNIT_BIN_DIR, name)
        if name.startswith(UNIT_PREFIX) and os.path.isfile(path) and os.access(path, os.X_OK):
            paths.append(path)
    return paths


def abnormal_end(binary, returncode, results, planned, trailing, stderr):
    """The failures a binary's exit reveals beyond its TAP results: a crash, tests that never
    ran, a non-zero status without a failed test."""
    failed = [r for r in results if r.status == FAILED]
    missing = planned - len(results)
    last = results[-1].name.split(": ", 1)[1] if results else None
    where = "after %s" % last if last else "before its first test"
    output = trailing + stderr
    if returncode < 0:
        reason = "killed by %s %s" % (signal_name(-returncode), where)
    elif missing > 0:
        reason = "exited with status %d %s" % (returncode, where)
    elif not results:
        reason = "reported no test results (exit status %d)" % returncode
    elif returncode != 0 and not failed:
        reason = "exited with status %d although every test passed" % returncode
    else:
        return []
    extra = [Result("%s: %s" % (binary, reason), FAILED, output)]
    for i in range(len(results) + 2, planned + 1):
        extra.append(Result("%s: test #%d did not run" % (binary, i), FAILED))
    return extra


def run_unit_binary(path):
    binary = os.path.basename(path)
    try:
        proc = subprocess.run([path], cwd=ROOT, env=unit_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=UNIT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode(errors="replace")
        results, _, _ = tap_results(binary, output)
        return results + [Result("%s: timed out after %d s" % (binary, UNIT_TIMEOUT_S),
                                 FAILED, output)]
    except OSError as e:
        return [Result("%s: cannot run: %s" % (binary, e), FAILED)]
    stdout = proc.stdout.decode(errors="replace")
    stderr = proc.stderr.decode(errors="replace")
    results, planned, trailing = tap_results(binary, stdout)
    failed = [r for r in results if r.status == FAILED]
    # stderr cannot be told apart by test (TAP is on stdout): show it once, with the first.
    if failed and stderr:
        failed[0].output += "--- stderr of %s\n%s" % (binary, stderr)
    return results + abnormal_end(binary, proc.returncode, results, planned, trailing,
                                  stderr)


def run_unit(verbose):
    results = []
    for path in unit_binaries():
        if verbose:
            print("== %s" % os.path.relpath(path, ROOT), flush=True)
        results += run_unit_binary(path)
    return results


def has_live_tests():
    live = os.path.join(ROOT, LIVE_DIR)
    for _, _, files in os.walk(live):
        for name in files:
            if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
                return True
    return False


def junit_case_name(case):
    classname = case.get("classname", "")
    name = case.get("name", "?")
    return "%s::%s" % (classname, name) if classname else name


def captured_sections(text):
    """pytest's "--- Captured Out ---" sections of a junit system-out/err, the empty ones
    dropped."""
    kept = []
    header, body = None, []
    for line in text.splitlines() + [None]:
        if line is None or JUNIT_SECTION.match(line):
            if header is not None and "".join(body).strip():
                kept.append(header + "\n" + "\n".join(body).strip("\n") + "\n")
            header, body = line, []
        elif header is not None:
            body.append(line)
    return "".join(kept)


def junit_results(path):
    results = []
    root = ElementTree.parse(path).getroot()
    for case in root.iter("testcase"):
        status = PASSED
        output = ""
        for child in case:
            if child.tag in ("failure", "error"):
                status = FAILED
                message = child.get("message", "")
                output += "%s: %s\n%s\n" % (child.tag, message, child.text or "")
            elif child.tag == "skipped" and status != FAILED:
                status = SKIPPED
                output += child.get("message", "") + "\n"
        if status == FAILED:
            for child in case:
                if child.tag in ("system-out", "system-err"):
                    output += captured_sections(child.text or "")
        results.append(Result(junit_case_name(case), status, output))
    return results


def pytest_python():
    """This interpreter if it has pytest, else the system's: `python3` may be another one."""
    if importlib.util.find_spec("pytest") or not os.access(SYSTEM_PYTHON, os.X_OK):
        return sys.executable
    return SYSTEM_PYTHON


def run_live(k_expr, pytest_args, verbose):
    if not has_live_tests():
        return []
    with tempfile.TemporaryDirectory() as tmp:
        junit = os.path.join(tmp, "junit.xml")
        cmd = [pytest_python(), "-m", "pytest", LIVE_DIR, "-p", "no:cacheprovider", "-q",
               "--junitxml=" + junit, "-o", "junit_logging=all"]  # all: captured output too
        if k_expr is not None:
            cmd += ["-k", k_expr]
        cmd += pytest_args
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              check=False)
        output = proc.stdout.decode(errors="replace")
        if verbose:
            print(output, end="", flush=True)
        try:
            results = junit_results(junit)
        except (OSError, ElementTree.ParseError):
            results = []
    if proc.returncode not in (0, PYTEST_NO_TESTS) and not any(
            r.status == FAILED for r in results):
        results.append(Result("pytest: exit status %d" % proc.returncode, FAILED, output))
    return results


def indent(text):
    return "".join("    " + line + "\n" for line in text.rstrip("\n").splitlines())


def report(results, verbose):
    for r in results:
        if r.status == FAILED:
            print("FAIL %s" % r.name)
            if r.output.strip():
                print(indent(r.output), end="")
        elif verbose:
            print("%s %s" % ("PASS" if r.status == PASSED else "SKIP", r.name))
    passed = sum(r.status == PASSED for r in results)
    failed = sum(r.status == FAILED for r in results)
    skipped = sum(r.status == SKIPPED for r in results)
    if skipped:
        print("%d skipped" % skipped)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return passed, failed


def parse_args(argv):
    if "--" in argv:
        split = argv.index("--")
        argv, pytest_args = argv[:split], argv[split + 1:]
    else:
        pytest_args = []
    parser = argparse.ArgumentParser(
        description="Run writeamp's unit and live tests.",
        usage="%(prog)s [--unit-only | --live-only] [-k EXPR] [-v] [-- PYTEST_ARGS...]",
        epilog="Arguments after -- go to pytest unchanged. The unit test binaries are looked "
        "for in $OUTPUT/tests (default .output/tests).")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--unit-only", action="store_true", help="only the cmocka unit tests")
    which.add_argument("--live-only", action="store_true", help="only the pytest live tests")
    parser.add_argument("-k", dest="k_expr", metavar="EXPR",
                        help="select live tests by pytest's -k EXPR")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list passing tests too, and show pytest's own output")
    args = parser.parse_args(argv)
    args.pytest_args = pytest_args
    return args


def main(argv):
    args = parse_args(argv)
    results = []
    if not args.live_only:
        results += run_unit(args.verbose)
    if not args.unit_only:
        results += run_live(args.k_expr, args.pytest_args, args.verbose)
    passed, failed = report(results, args.verbose)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
