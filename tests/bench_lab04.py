"""Benchmarks of lab04 (a virtual-8086 guest under VMX, in Bochs): the wall
time of the whole demo, and what one I/O-instruction VM exit costs.

The I/O exit cost is measured inside the guest: with IO_BURST=N the guest
reads the UART line status register N times between two RDTSCs (guest.asm,
step 4). Bochs advances the TSC by one tick per emulated instruction, and
while the CPU waits in HLT it passes over the ticks of the wait without
emulating anything (measured here as well: the passed-through loop, IN +
DEC + JNZ, costs 3 ticks per read). No HLT runs between the guest's two
RDTSCs, so that delta is an instruction count: for the exiting run it counts
the VM exit, the host's handler (vm86_io.c, via common/vmm) and the
VMRESUME. EXIT_LOG=0 keeps the host from printing a line per exit, which
would measure the UART instead.

The power-on-to-exit count is not: it is the tick count of Bochs' last log
line, i.e. the instructions emulated plus the ticks passed over in HLT
waits (the boot sector waits for the floppy controller's IRQ 6 with HLT).
Divided by the ips of the bochsrc (emu.DEFAULT_IPS) it is emulated time.
"""

import importlib.util
import os
import re

from lib import emu
from lib.benchlib import bench, bochs_runs, summary
from lib.testlib import build_path, TOP

_spec = importlib.util.spec_from_file_location(
    "lab04_params_bench", os.path.join(TOP, "tools", "lab04params", "params.py"))
PARAMS = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(PARAMS)

RUNS = 5
BURST = 10000


@bench("lab04: Bochs power-on to exit, default parameters (corei7_haswell_4770)")
def _():
    image = build_path("solutions", "lab04", "lab04.img")
    walls, runs = bochs_runs(image, "bench-lab04", RUNS, timeout=60)
    done = sum("guest: done" in r.serial for r in runs)
    ticks = [t for t in (r.ticks for r in runs) if t]
    lines = [summary("wall", walls, target="<= 1.5 s"),
             "runs whose guest reached its final hlt: %d of %d" % (done, RUNS)]
    if ticks:
        # Independent of the machine's load: Bochs' own tick count, which is
        # instructions emulated + ticks passed over while halted.
        lines.append("emulated ticks, power-on to exit: %.1f M (instructions + skipped HLT "
                     "waits; %.2f s of emulated time at the bochsrc's ips = %.0f M)"
                     % (ticks[0] / 1e6, ticks[0] / emu.DEFAULT_IPS, emu.DEFAULT_IPS / 1e6))
    return lines


def burst(io_exiting):
    values = {"IO_BURST": BURST, "EXIT_LOG": 0, "IO_EXITING": 1 if io_exiting else 0}
    image = PARAMS.image(PARAMS.check(values), solution=True)
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
