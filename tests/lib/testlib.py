"""testlib.py - the kit's test registry and expectations.

A test is a function registered with @test("area: what it checks"). It passes
when it returns, fails when it raises (TestFailure or AssertionError carry a
message for the reader), and is skipped when it raises Skip(reason).

    from lib import emu
    from lib.testlib import test, expect

    @test("boot: reaches lab_main in Bochs")
    def _():
        run = emu.run_bochs("build/msrdump/msrdump.img", name="boot-haswell")
        expect(run, r"^vmxlab: done$")

Expensive runs shared by several tests go through once(key, fn): the first
caller runs fn, concurrent callers wait for it, later ones get the cached
result. A group test (tap_tests) expands one program's TAP output into one
result per `ok` / `not ok` line.
"""

import os
import re
import subprocess
import threading

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, "build")

REGISTRY = []           # [(name, fn, kind)] in registration order


class TestFailure(Exception):
    """A check that did not hold; the message says which and where to look."""


class Skip(Exception):
    """The test cannot run here; the message says why."""


def test(name):
    """Register fn as a test named `name` (names are unique)."""
    def register(fn):
        if any(n == name for n, _, _ in REGISTRY):
            raise ValueError("two tests are named %r" % name)
        REGISTRY.append((name, fn, "single"))
        return fn
    return register


def group(name):
    """Register fn as a group: it returns [(subname, status, message)],
    status in PASS/FAIL/SKIP; each becomes one result named `name: subname`."""
    def register(fn):
        REGISTRY.append((name, fn, "group"))
        return fn
    return register


def tap_tests(name, cmd, cwd=TOP, timeout=120):
    """Register a group that runs `cmd` and reads its TAP lines."""
    @group(name)
    def _():
        try:
            p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                               env=dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP"))
        except FileNotFoundError:
            return [("run", "FAIL", "%s is not built (make all)" % cmd[0])]
        except subprocess.TimeoutExpired:
            return [("run", "FAIL", "%s did not finish in %d s" % (" ".join(cmd), timeout))]
        return parse_tap(p.stdout + p.stderr, p.returncode, " ".join(cmd))


def parse_tap(text, returncode=0, what="program"):
    """[(name, PASS|FAIL|SKIP, message)] from TAP output. A plan line `1..N`
    that the results do not reach (the program stopped early and still
    exited 0) adds a failure, as does a non-zero exit with no failure."""
    results, detail, plan = [], [], None
    for line in text.splitlines():
        p = re.match(r"^1\.\.(\d+)\s*$", line)
        if p and plan is None:
            plan = int(p.group(1))
            continue
        m = re.match(r"^(not ok|ok)\s+\d+\s*-?\s*(.*?)(\s+#\s*(SKIP|skip)\b(.*))?$", line)
        if m:
            status = "SKIP" if m.group(3) else ("PASS" if m.group(1) == "ok" else "FAIL")
            results.append([m.group(2).strip(), status, m.group(5) or ""])
            detail = results[-1]
        elif line.startswith("#") and results and detail[1] == "FAIL":
            detail[2] += line.lstrip("# ") + "\n"
    reported = len(results)
    if not results:
        results.append(["run", "FAIL", "%s printed no TAP results (exit %s):\n%s"
                        % (what, returncode, text[-2000:])])
    elif returncode != 0 and all(r[1] != "FAIL" for r in results):
        results.append(["exit status", "FAIL", "%s exited with %s" % (what, returncode)])
    if plan is not None and reported and reported != plan:
        results.append(["plan", "FAIL", "%s planned %d tests (1..%d) and reported %d"
                        % (what, plan, plan, reported)])
    return [tuple(r) for r in results]


_once_lock = threading.Lock()
_once = {}


def once(key, fn):
    """Run fn() once per key for the whole test run; share its result (or its exception)."""
    with _once_lock:
        entry = _once.get(key)
        if entry is None:
            entry = {"event": threading.Event()}
            _once[key] = entry
            mine = True
        else:
            mine = False
    if mine:
        try:
            entry["value"] = fn()
        except BaseException as e:      # shared with every waiter
            entry["error"] = e
        entry["event"].set()
    else:
        entry["event"].wait()
    if "error" in entry:
        raise entry["error"]
    return entry["value"]


def _text_of(run):
    return run if isinstance(run, str) else run.serial


def _where(run):
    if isinstance(run, str):
        return ""
    tail = "\n".join("    | " + l for l in run.serial.splitlines()[-15:])
    return "\n  run: %s (%s)\n  serial transcript: %s/serial.txt\n  last lines:\n%s" % (
        run.name, run.why_stopped(), os.path.relpath(run.dir, TOP), tail or "    | (no output)")


def expect(run, pattern, what=None):
    """The serial transcript (or a string) matches regex `pattern` (multiline).
    Returns the match so a test can read groups from it."""
    m = re.search(pattern, _text_of(run), re.M)
    if not m:
        raise TestFailure("expected %s: /%s/ not found%s" % (what or "a line", pattern, _where(run)))
    return m


def expect_not(run, pattern, what=None):
    """No line of the transcript matches `pattern`."""
    m = re.search(pattern, _text_of(run), re.M)
    if m:
        raise TestFailure("unexpected %s: /%s/ matched %r%s" % (what or "line", pattern,
                                                             m.group(0)[:200], _where(run)))


def expect_clean_end(run):
    """The run ended by itself (not a timeout, watchdog or flood)."""
    if not run.ended_cleanly:
        raise TestFailure("the run was %s%s" % (run.why_stopped(), _where(run)))


def build_path(*parts):
    """A path under build/, failing clearly when it was not built."""
    p = os.path.join(BUILD, *parts)
    if not os.path.exists(p):
        raise TestFailure("%s is missing: run `make all` first" % os.path.relpath(p, TOP))
    return p
