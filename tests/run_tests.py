#!/usr/bin/env python3
"""run_tests.py - run the kit's tests: every tests/test_*.py, several at a time.

Usage: python3 tests/run_tests.py [--only REGEX] [--jobs N] [--list]

Prints one line per result (PASS, FAIL with its message, SKIP with its
reason) and ends with the line `N passed, N failed, N skipped`. The exit
status is 1 when anything failed (or nothing ran), else 0. Emulator runs
keep their transcripts under results/ (see tests/lib/emu.py).
"""

import argparse
import concurrent.futures
import importlib.util
import os
import re
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from lib import emu, testlib  # noqa: E402


def load_tests():
    for fname in sorted(os.listdir(HERE)):
        if fname.startswith("test_") and fname.endswith(".py"):
            spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(HERE, fname))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)


def run_one(name, fn, kind):
    """-> [(name, status, message, seconds)]"""
    t0 = time.monotonic()
    try:
        if kind == "group":
            out = [("%s: %s" % (name, sub), st, msg) for sub, st, msg in fn()]
            if not out:         # a group that reports nothing must not vanish from the counts
                out = [(name, "FAIL", "the group reported no results")]
        else:
            fn()
            out = [(name, "PASS", "")]
    except testlib.Skip as e:
        out = [(name, "SKIP", str(e))]
    except (testlib.TestFailure, AssertionError, emu.EmulatorCrashed) as e:
        out = [(name, "FAIL", str(e) or "assertion failed")]
    except Exception:
        out = [(name, "FAIL", "error in the test itself:\n" + traceback.format_exc())]
    dt = time.monotonic() - t0
    return [(n, s, m, dt) for n, s, m in out]


def main():
    ap = argparse.ArgumentParser(description="Run the vmxlab test suite.")
    ap.add_argument("--only", help="run only tests whose name matches this regex")
    ap.add_argument("--jobs", "-j", type=int, default=4, help="tests run at once (default 4)")
    ap.add_argument("--list", action="store_true", help="list the tests and exit")
    a = ap.parse_args()

    load_tests()
    tests = testlib.REGISTRY
    if a.only:
        rx = re.compile(a.only)
        tests = [t for t in tests if rx.search(t[0])]
    if a.list:
        for name, _, kind in tests:
            print(name + (" (group)" if kind == "group" else ""))
        return 0

    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    failures = []
    lock = threading.Lock()
    t0 = time.monotonic()

    def report(results):
        with lock:
            for name, status, msg, dt in results:
                counts[status] += 1
                line = "%-4s %s" % (status, name)
                if status == "SKIP":
                    line += "  (%s)" % msg
                elif dt >= 0.5:
                    line += "  (%.1fs)" % dt
                print(line, flush=True)
                if status == "FAIL":
                    failures.append(name)
                    print("     " + msg.replace("\n", "\n     "), flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        futs = [pool.submit(run_one, *t) for t in tests]
        for f in concurrent.futures.as_completed(futs):
            report(f.result())

    total = time.monotonic() - t0
    if failures:
        print("\nFailed:\n  " + "\n  ".join(failures))
    print("\ntests took %.0f s; transcripts of emulator runs are under results/" % total)
    print("%d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    if counts["PASS"] + counts["FAIL"] == 0:
        print("error: no test ran", file=sys.stderr)
        return 1
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
