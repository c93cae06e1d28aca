"""Benchmarks of lab04 (a virtual-8086 guest under VMX, in Bochs): the wall
time of the whole demo, and what one I/O-instruction VM exit costs.

The I/O exit cost is measured inside the guest: with IO_BURST=N the guest
reads the UART line status register N times between two RDTSCs (guest.asm,
step 4). Bochs advances the TSC by one per emulated instruction (measured
here as well: the passed-through loop, IN + DEC + JNZ, costs 3 ticks per
read), so the TSC delta is an instruction count: for the exiting run it
counts the VM exit, the host's handler (vm86_io.c, via common/vmm) and the
VMRESUME. EXIT_LOG=0 keeps the host from printing a line per exit, which
would measure the UART instead.
"""

import importlib.util
import os
import re

from lib import emu
from lib.benchlib import bench, timed_runs, summary
from lib.testlib import build_path, TOP

_spec = importlib.util.spec_from_file_location(
    "lab04_params_bench", os.path.join(TOP, "lab04-vm86-guest", "params.py"))
PARAMS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(PARAMS)

RUNS = 5
BURST = 10000


@bench("lab04: Bochs power-on to exit, default parameters (corei7_haswell_4770)")
def _():
    image = build_path("solutions", "lab04", "lab04.img")
    runs = []

    def one(i):
        r = emu.run_bochs(image, name="bench-lab04-%d" % i, timeout=60)
        runs.append(r)
        return r
    walls = timed_runs(one, RUNS)
    done = sum("guest: done" in r.serial for r in runs)
    ticks = [t for t in (last_tick(r) for r in runs) if t]
    lines = [summary("wall", walls, target="<= 1.5 s"),
             "runs whose guest reached its final hlt: %d of %d" % (done, RUNS)]
    if ticks:
        # Independent of the machine's load: Bochs' own instruction count.
        lines.append("emulated instructions, power-on to exit: %.1f M (%.2f s at the bochsrc's "
                     "60 M instructions/s)" % (ticks[0] / 1e6, ticks[0] / 60e6))
    return lines


def last_tick(run):
    """The emulated tick count of the last line of the Bochs log."""
    found = re.findall(r"^(\d{6,})[a-z]\[", run.log, re.M)
    return int(found[-1]) if found else None


def burst(io_exiting):
    values = {"IO_BURST": BURST, "EXIT_LOG": 0, "IO_EXITING": 1 if io_exiting else 0}
    image = PARAMS.patch(build_path("solutions", "lab04", "lab04.img"),
                                    PARAMS.check(values))
    run = emu.run_bochs(image, name="bench-lab04-burst-%s" % ("exit" if io_exiting else "pass"),
                        timeout=120)
    m = re.search(r"^guest io burst: (\d+) reads, tsc delta (0x[0-9a-f]+)$", run.serial, re.M)
    if not m:
        raise RuntimeError("no `guest io burst` line in %s/serial.txt" % run.dir)
    return int(m.group(2), 16) / int(m.group(1)), run


@bench("lab04: one I/O exit round trip, in emulated instructions (guest TSC, %d LSR reads)" % BURST)
def _():
    passed, _ = burst(False)
    exiting, run = burst(True)
    exits = re.search(r"^exit count: IO_INSTRUCTION (\d+)$", run.serial, re.M)
    return ["UART passed through (I/O bitmaps): %.1f instructions per LSR read "
            "(the loop is IN, DEC, JNZ: 3)" % passed,
            "every IN exits (IO_EXITING=1): %.1f instructions per LSR read" % exiting,
            "round trip: %.0f instructions per I/O exit (VM exit + host handler + VMRESUME; "
            "no target yet)" % (exiting - passed + 1),
            "I/O exits in that run: %s" % (exits.group(1) if exits else "?")]
