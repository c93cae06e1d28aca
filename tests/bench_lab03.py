"""Benchmarks of lab03 (VMXON, the machine[] self-test, controls, VMLAUNCH of
a 64-bit guest with two VM exits, in Bochs): the wall time of one run of the
solution from power-on (BIOS, floppy load) to the payload ending the run, and
Bochs' own count of the instructions it emulated, which does not depend on
how busy the machine is."""

import re

from lib import emu
from lib.benchlib import bench, timed_runs, summary
from lib.testlib import build_path

RUNS = 5


def last_tick(run):
    """The emulated tick count on the last line of the Bochs log (the line of
    the shutdown-port exit, so the whole run): one tick per instruction, plus
    the ticks Bochs passes over while the CPU waits in HLT (the boot sector's
    floppy waits), which cost almost no wall time."""
    found = re.findall(r"^(\d{6,})[a-z]\[", run.log, re.M)
    return int(found[-1]) if found else None


@bench("lab03: Bochs power-on to exit, the solution (corei7_haswell_4770)")
def _():
    image = build_path("solutions", "lab03", "lab03.img")
    runs = []

    def one(i):
        r = emu.run_bochs(image, name="bench-lab03-%d" % i, timeout=60)
        runs.append(r)
        return r
    walls = timed_runs(one, RUNS)
    done = sum(bool(re.search(r"^VMXOFF: ok$", r.serial, re.M)) and "vmxlab: done" in r.serial
               for r in runs)
    lines = [summary("wall", walls, target="<= 1.5 s"),
             "runs that reached 'VMXOFF: ok' and 'vmxlab: done': %d of %d" % (done, RUNS)]
    ticks = sorted(set(t for t in (last_tick(r) for r in runs) if t))
    if ticks:
        # The same every run (clock: sync=none): differing counts would mean
        # the run is not repeatable, so all of them are shown then.
        lines.append("Bochs ticks (instructions + HLT waits), power-on to exit: %s M "
                     "(ips=%d M in the bochsrc)"
                     % (" / ".join("%.1f" % (t / 1e6) for t in ticks), emu.DEFAULT_IPS // 1000000))
    return lines
