#!/usr/bin/env python3
"""bench.py - `make bench`: run every benchmark in tests/bench_*.py and print
what it measured. Numbers, not verdicts: targets are shown beside them.

Usage: python3 tests/bench.py [--only REGEX]
"""

import argparse
import importlib.util
import os
import re
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lib import benchlib  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description="Run the vmxlab benchmarks.")
    ap.add_argument("--only", help="run only benchmarks whose name matches this regex")
    a = ap.parse_args()
    for fname in sorted(os.listdir(HERE)):
        if fname.startswith("bench_") and fname.endswith(".py"):
            spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(HERE, fname))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
    status = 0
    for name, fn in benchlib.REGISTRY:
        if a.only and not re.search(a.only, name):
            continue
        print("== %s" % name, flush=True)
        t0 = time.monotonic()
        try:
            for line in fn():
                print("   " + line, flush=True)
        except Exception:
            status = 1
            print("   error: the benchmark failed:\n   " +
                  traceback.format_exc().replace("\n", "\n   "))
        print("   (%.1f s)" % (time.monotonic() - t0), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
