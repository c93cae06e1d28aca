"""Benchmarks of the kernel-module labs (issue 3): the minimal kernel's build
time, one lab run in QEMU and in Bochs, and the wall time of these labs' tests.

The kernel build is not redone here (2 to 4 minutes on 2 cores: measured
123 s to 217 s on a loaded machine): mk/kernel.mk records the seconds of its
last build in build/kernel/build-seconds.
"""

import os
import subprocess
import sys
import time

from lib.benchlib import bench, summary
from lib.testlib import TOP, BUILD


def timed(cmd, n=3):
    walls = []
    for _ in range(n):
        t0 = time.monotonic()
        p = subprocess.run(cmd, cwd=TOP, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           timeout=1800)      # may build the minimal kernel (~3 min)
        if p.returncode != 0:
            raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), p.stderr[-2000:]))
        walls.append(time.monotonic() - t0)
    return walls


@bench("lab01/lab02: minimal kernel build, lab runs in QEMU and Bochs")
def _():
    lines = []
    rec = os.path.join(BUILD, "kernel", "build-seconds")
    if os.path.exists(rec):
        with open(rec) as f:
            lines.append("minimal kernel build (last build, -j2): %s s (target < 300 s)" % f.read().strip())
    else:
        lines.append("minimal kernel build: not recorded (build/kernel/build-seconds is made by `make kernel`)")
    lines.append(summary("make qemu-lab01 SOLUTION=1 (Debian kernel, QEMU TCG)",
                         timed(["make", "-s", "qemu-lab01", "SOLUTION=1"]), target="< 15 s"))
    lines.append(summary("make run-lab01 SOLUTION=1 (minimal kernel, Bochs haswell)",
                         timed(["make", "-s", "run-lab01", "SOLUTION=1"]), target="< 20 s"))
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "pytest", "-n", "auto", "tests/test_lab01.py",
                        "tests/test_lab02.py"], cwd=TOP, capture_output=True, text=True, timeout=1800)
    last = (p.stdout.strip().splitlines() or ["(no output)"])[-1]
    lines.append("tests of lab01+lab02 (kernel built): %.1f s wall; %s" % (time.monotonic() - t0, last))
    return lines
