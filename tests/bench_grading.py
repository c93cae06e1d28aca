"""Benchmarks of the grading machinery (make bench).

  * seconds to grade one submission (a solution) of every lab that has a
    grader, and of the fixtures laid over the real kit: lab98 (bare metal,
    tests/grade/fixtures/bmlab) and lab97 (kernel module, .../kmodlab):
    kit copy, kit build, emulator run(s), checks;
  * a class of 100 copies of a bare-metal solution (lab03) on 2 cores
    (make grade-class), every build and run in the bubblewrap sandbox
    (target: under 3 minutes).
Every grading here runs sandboxed (tests/lib/sandbox.py), as instructors' do.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time

from lib import gradelib
from lib.benchlib import bench

TOP = gradelib.TOP
SCRATCH = os.path.join(TOP, "build", "grade-bench")
DRIVER = os.path.join(TOP, "tests", "grade", "driver.py")
BMLAB = os.path.join(TOP, "tests", "grade", "fixtures", "bmlab")
KMODLAB = os.path.join(TOP, "tests", "grade", "fixtures", "kmodlab")


def labs():
    """[(label, kit, lab number)]: the real graders, then the fixture."""
    out = [("lab%s" % n, TOP, n) for n in gradelib.grader_numbers(TOP)]
    kit = gradelib.compose_kit(os.path.join(SCRATCH, "bm-kit"), TOP, BMLAB)
    out.append(("lab98 fixture (bare metal)", kit, "98"))
    kbuild = os.path.join(TOP, "build", "kernel")
    if all(os.path.isdir(os.path.join(kbuild, d)) for d in ("obj", "linux-source-6.1")):
        kit = gradelib.compose_kit(os.path.join(SCRATCH, "km-kit"), TOP, KMODLAB)
        os.makedirs(os.path.join(kit, "build", "kernel"))
        for d in ("obj", "linux-source-6.1"):
            os.symlink(os.path.join(kbuild, d), os.path.join(kit, "build", "kernel", d))
        out.append(("lab97 fixture (kernel module: QEMU + Bochs runs)", kit, "97"))
    return out


def is_bare_metal(lab):
    return all(r.spec.kind == "bochs" and r.spec.kw.get("boot", "floppy") == "floppy" for r in lab.runs)


def grade_solution(kit, n, tag):
    folder = gradelib.lab_folder(n, kit)
    base = os.path.join(SCRATCH, tag)
    t0 = time.monotonic()
    r = gradelib.grade(n, os.path.join(kit, "solutions", folder), os.path.join(base, "work"),
                       os.path.join(base, "results"), kit, say=None)
    dt = time.monotonic() - t0
    shutil.rmtree(os.path.join(base, "work"), ignore_errors=True)
    return dt, r


@bench("grading: seconds to grade one submission (solution), per lab, sandboxed")
def _():
    lines = []
    for label, kit, n in labs():
        times = []
        for i in range(3):
            dt, r = grade_solution(kit, n, "one-lab%s" % n)
            times.append(dt)
        lines.append("%s: median %.2f s, max %.2f s over 3 (score %d/%d, build %.2f s)"
                     % (label, statistics.median(times), max(times), r["score"], r["total"],
                        r["build"]["seconds"]))
    return lines


CLASS = 100


@bench("grading: a class of 100 copies of a bare-metal solution on 2 cores, sandboxed")
def _():
    choices = [(label, kit, n) for label, kit, n in labs()
               if is_bare_metal(gradelib.load_lab(n, kit))]
    label, kit, n = choices[0]
    folder = gradelib.lab_folder(n, kit)
    subs = os.path.join(SCRATCH, "class", "submissions")
    shutil.rmtree(os.path.dirname(subs), ignore_errors=True)
    for i in range(CLASS):
        shutil.copytree(os.path.join(kit, "solutions", folder), os.path.join(subs, "s%02d" % i, folder))
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, DRIVER, "--kit", kit, "class", subs, "--lab", n, "--jobs", "2",
                        "--work", os.path.join(SCRATCH, "class", "work"),
                        "--results", os.path.join(SCRATCH, "class", "results")],
                       capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    rows = open(os.path.join(SCRATCH, "class", "results", "grades.csv")).read().splitlines()[1:]
    total = gradelib.load_lab(n, kit).total
    full = sum(1 for r in rows if r.split(",")[-1] == str(total))
    return ["lab: %s (exit %d)" % (label, p.returncode),
            "class of %d on 2 cores, sandboxed: %.1f s wall, %.2f s per student (target < 180 s)"
            % (CLASS, wall, wall / CLASS),
            "rows: %d, at full marks: %d" % (len(rows), full)]
