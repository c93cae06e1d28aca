"""Benchmark of the VM-entry differential test (tests/test_vmentry.py): the
wall time of the whole test, every case of tests/vmentry/cases.def in Bochs
on the three models (corei7_haswell_4770, core2_penryn_t9600, tigerlake),
as a user runs it:

    python3 -m pytest -m vmentry

timed from outside (the runner's start-up and the table included). Each
summary line of the test gives the span of its Bochs runs per model, which
the benchmark reports too. A failed run is reported, not timed.
"""

import os
import re
import subprocess
import sys
import time

from lib.benchlib import bench, summary
from lib.testlib import TOP

RUNS = 3
TIMEOUT = 300           # seconds for one whole run (the target is 60)


def one_run():
    t0 = time.monotonic()
    # One pytest process (-s: the tables it prints reach us; no -n: the
    # test's own Bochs boots run 4 at a time).
    p = subprocess.run([sys.executable, "-m", "pytest", "-s", "-m", "vmentry", "-p", "no:xdist"],
                       cwd=TOP, capture_output=True, text=True, timeout=TIMEOUT)
    wall = time.monotonic() - t0
    m = re.search(r"^=+ (\d+) passed(?:, (\d+) failed)?", p.stdout, re.M)
    if p.returncode != 0 or not m or m.group(2):
        raise RuntimeError("the differential test failed (exit %d): %s"
                           % (p.returncode, m.group(0) if m else p.stdout[-500:] + p.stderr[-500:]))
    spans = re.findall(r"^(\w+): (\d+) cases: .*?; (\d+) Bochs runs spanned ([\d.]+) s wall$",
                       p.stdout, re.M)
    return wall, int(m.group(1)), spans


@bench("vmentry: the whole differential test, checker vs Bochs on 3 models (pytest -m vmentry)")
def _():
    walls, lines = [], []
    for i in range(RUNS):
        wall, passed, spans = one_run()
        walls.append(wall)
    lines.append(summary("wall", walls, target="< 60 s"))
    lines.append("tests passed per run: %d (one per case, plus one table per model)" % passed)
    for cpu, cases, boots, span in spans:
        lines.append("%s: %s cases in %s Bochs boots, spanning %s s (last run)" % (cpu, cases, boots, span))
    return lines
