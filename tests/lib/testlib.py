"""testlib.py - what the kit's tests share: expectations, shared runs, TAP.

The tests are plain pytest tests (tests/test_*.py, run by `make test`:
pytest -n auto, Debian's python3-pytest, -xdist and -timeout). A test
fails when it raises TestFailure (an AssertionError with a message for the
reader) and is skipped when it raises Skip(reason) (pytest's own skip).

    from lib import emu
    from lib.testlib import expect

    def test_boot_reaches_lab_main_in_bochs():
        run = emu.run_bochs("build/msrdump/msrdump.img", name="boot-haswell")
        expect(run, r"^vmxlab: done$")

Expensive runs shared by several tests go through once(key, fn): the first
caller runs fn, later callers get its result (or its exception), in this
process and in the other pytest-xdist workers of the same `make test`: the
result is kept in build/test-shared/ under a file lock, so a Bochs boot of
the Linux kernel that lab01's and lab02's tests both read runs once per
session, whichever worker asks first. TAP output of the cmocka unit tests
is read by parse_tap.
"""

import fcntl
import hashlib
import os
import pickle
import re
import subprocess
import threading

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, "build")
SHARED = os.path.join(BUILD, "test-shared")

try:
    import pytest
    Skip = pytest.skip.Exception       # raise Skip("why"): the test is skipped
except ImportError:                     # the benches import this file without pytest
    class Skip(Exception):
        """The test cannot run here; the message says why."""


class TestFailure(AssertionError):
    """A check that did not hold; the message says which and where to look."""
    __test__ = False                    # not a test class, whatever its name


def run_tap(cmd, cwd=TOP, timeout=120):
    """Run a cmocka unit-test program; [(name, PASS|FAIL|SKIP, message)]."""
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


_once_lock = threading.RLock()      # once() may call once() for another key
_once = {}


def _session():
    """This `make test`'s id: conftest.py sets it before the xdist workers start."""
    return os.environ.get("VMXLAB_TEST_SESSION", "pid-%d" % os.getpid())


def once(key, fn):
    """Run fn() once per key for the whole test session, in whichever
    process asks first; share its result (or its exception) with every
    later caller, in this process and in the other xdist workers."""
    with _once_lock:
        if key in _once:
            kind, value = _once[key]
            if kind == "error":
                raise value
            return value
        name = hashlib.sha1(repr(key).encode()).hexdigest()[:16]
        os.makedirs(SHARED, exist_ok=True)
        path = os.path.join(SHARED, "%s.%s.pickle" % (_session(), name))
        with open(path + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)        # another worker may be running fn
            shared = None
            if os.path.exists(path):
                try:
                    with open(path, "rb") as f:
                        shared = pickle.load(f)
                except Exception:                   # noqa: BLE001  unreadable: run it here
                    shared = None
            if shared:
                kind, value = shared
            else:
                try:
                    kind, value = "value", fn()
                except BaseException as e:          # noqa: BLE001  shared with every waiter
                    kind, value = "error", e
                try:
                    with open(path + ".tmp", "wb") as f:
                        pickle.dump((kind, value), f)
                    os.replace(path + ".tmp", path)
                except (pickle.PicklingError, TypeError, AttributeError):
                    pass                            # not shareable: other workers run it again
        _once[key] = (kind, value)
    if kind == "error":
        raise value
    return value


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
