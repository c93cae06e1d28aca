#!/usr/bin/env python3
"""bundle.py - `make gradescope LAB=NN`: the autograder bundle Gradescope takes.

Writes build/gradescope/labNN/autograder.zip holding, at its root:
  setup.sh         installs the kit's Debian packages (make deps, or make
                   deps-baremetal for the bare-metal labs) and builds what
                   every submission shares;
  run_autograder   grades /autograder/submission into
                   /autograder/results/results.json (tests/grade/driver.py
                   grade --container --gradescope ...);
  gradescope.env   which lab, which dependency set, what to prepare;
  VERSION          the kit's commit, which every results.json records;
  the kit          the handout's files plus the hidden graders
                   (tests/grade/hidden/): no solutions/ (but an earlier
                   lab's that the grader declares as a stand-in, e.g.
                   lab05's solutions/lab04-vm86-guest), no kit tests.
An instructor uploads the zip as the assignment's autograder and picks the
base image that README.md ("Grading on Gradescope") names for the lab.
"""

import argparse
import os
import subprocess
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tools", "starters"))
sys.path.insert(0, os.path.join(TOP, "tests"))
import starters  # noqa: E402
from lib import gradelib  # noqa: E402

# The labs that build kernel modules need Debian's kernel packages.
KERNEL_LABS = ("01", "02")


def bundle(number, out, kit=TOP):
    lab = gradelib.load_lab(number, kit)
    files = starters.handout_files(kit)
    hidden = [f for f in starters.listed_files(kit, "tests/grade/hidden")
              if os.path.isfile(os.path.join(kit, f))]
    # Earlier labs' solutions the lab is graded with (lab05: lab04's).
    hidden += [f for s in lab.stand_ins for f in starters.listed_files(kit, s)]
    commit = gradelib.provenance(kit).get("kit_commit") or "unknown"
    env = ("VMXLAB_LAB=%s\nVMXLAB_DEPS=%s\nVMXLAB_PREPARE=%s\n"
           % (number, "all" if number in KERNEL_LABS else "baremetal",
              "'%s'" % " ".join(lab.prepare or ["build/rt/rt/start.o"])))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(set(files + hidden)):
            z.write(os.path.join(kit, f), f)
        for script in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(script)
            info.external_attr = 0o755 << 16
            with open(os.path.join(HERE, script), "rb") as fh:
                z.writestr(info, fh.read())
        z.writestr("gradescope.env", env)
        z.writestr("VERSION", commit + "\n")
    os.replace(tmp, out)
    print("gradescope: %s (lab%s, %d files, kit %s; base image: %s)"
          % (os.path.relpath(out), number, len(files) + len(hidden) + 4, commit[:12],
             "Debian 12" if number in KERNEL_LABS else "Ubuntu 22.04 or Debian 12"))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lab", required=True)
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.lab not in gradelib.grader_numbers(TOP):
        print("gradescope: LAB=%s has no grader; graders: %s"
              % (a.lab, " ".join(gradelib.grader_numbers(TOP))), file=sys.stderr)
        return 2
    return bundle(a.lab, a.out or os.path.join(TOP, "build", "gradescope", "lab%s" % a.lab,
                                                 "autograder.zip"))


if __name__ == "__main__":
    sys.exit(main())
