"""Benchmarks of lab03 (VMXON, the machine[] self-test, controls, VMLAUNCH of
a 64-bit guest with two VM exits, in Bochs): the wall time of one run of the
solution from power-on (BIOS, floppy load) to the payload ending the run, and
Bochs' own count of the instructions it emulated, which does not depend on
how busy the machine is."""

import re

from lib import emu
from lib.benchlib import bench, bochs_runs, summary
from lib.testlib import build_path

RUNS = 5


@bench("lab03: Bochs power-on to exit, the solution (corei7_haswell_4770)")
def _():
    image = build_path("solutions", "lab03", "lab03.img")
    walls, runs = bochs_runs(image, "bench-lab03", RUNS, timeout=60)
    done = sum(bool(re.search(r"^VMXOFF: ok$", r.serial, re.M)) and "vmxlab: done" in r.serial
               for r in runs)
    lines = [summary("wall", walls, target="<= 1.5 s"),
             "runs that reached 'VMXOFF: ok' and 'vmxlab: done': %d of %d" % (done, RUNS)]
    ticks = sorted(set(t for t in (r.ticks for r in runs) if t))
    if ticks:
        # The same every run (clock: sync=none): differing counts would mean
        # the run is not repeatable, so all of them are shown then.
        lines.append("Bochs ticks (instructions + HLT waits), power-on to exit: %s M "
                     "(ips=%d M in the bochsrc)"
                     % (" / ".join("%.1f" % (t / 1e6) for t in ticks), emu.DEFAULT_IPS // 1000000))
    return lines
