"""Benchmarks of lab05 (the EPT/VPID monitor on Bochs' two CPUs): the run's
wall time, the exits each guest takes by reason, and what one VMCALL round
trip through the monitor costs in instructions, with where they go.

Instruction counts are Bochs' own: its TSC advances one tick per emulated
instruction of a CPU, and its debugger traces every instruction a CPU
executes. Two measurements of the VMCALL round trip, from the vmcallbench
guest (common/guests/vmcallbench.c, hypercall MON_HC_BENCH) run alone on
vCPU 0 (VCPU1=none: Bochs interleaves its CPUs; one CPU's ticks are still
its own instructions):

  * the guest's TSC split: guest -> the handler's first mark, the handler,
    the last mark -> the guest (1000 round trips; each split includes the
    marks' own RDTSCs);
  * a debugger trace of one MON_HC_NOP round trip (a hypercall that only
    comes back), from the first instruction of the exit stub (mon_vmexit,
    with a breakpoint conditioned on the guest's RAX = MON_HC_NOP) to
    VMRESUME, every instruction attributed to the function it is in (nm of
    monitor.elf). No bench mark runs in it; the target, at most 100 monitor
    instructions for a VMCALL, is checked against this count.
"""

import bisect
import collections
import os
import re
import subprocess
import threading
import time

from lib import emu
from lib.benchlib import bench
from lib.testlib import TOP

HASWELL = "corei7_haswell_4770"
MON_HC_NOP = 0x1AB05003            # common/guests/hypercall.h


def build(*variables):
    p = subprocess.run(["make", "--no-print-directory", "-s", "-C", TOP, "lab05", "SOLUTION=1"] +
                       list(variables), capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("make lab05 %s: %s%s" % (" ".join(variables), p.stdout, p.stderr))
    return os.path.join(TOP, p.stdout.strip().splitlines()[-1])


def timed_run(image, name, marks=()):
    """Run the image; also note when the first and the last guest line
    reached the serial file, and the first line matching each regex of
    marks (polled every 10 ms)."""
    path = os.path.join(TOP, "results", name, "serial.txt")
    seen = {}
    done = threading.Event()

    def watch():
        while not done.is_set():
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except OSError:
                text = ""
            guest_lines = re.findall(r"^\[vcpu\d \w+\] .*\n", text, re.M)
            if text.startswith("host:") and "first" not in seen:
                seen["first"] = time.monotonic()
            if guest_lines and guest_lines[-1] != seen.get("last_line"):
                seen["last_line"], seen["last"] = guest_lines[-1], time.monotonic()
            for rx in marks:
                if rx not in seen and re.search(rx, text, re.M):
                    seen[rx] = time.monotonic()
            time.sleep(0.01)

    if os.path.exists(path):
        os.unlink(path)                 # the last bench's transcript
    t = threading.Thread(target=watch, daemon=True)
    t0 = time.monotonic()
    t.start()
    try:
        run = emu.run_bochs(image, cpu=HASWELL, cpus=2, timeout=60, name=name, com2=True)
    finally:
        done.set()
        t.join()
    run.marks = {rx: seen[rx] - t0 for rx in marks if rx in seen}
    return run, seen.get("first", t0) - t0, seen.get("last", t0) - t0


@bench("lab05: the default run on two vCPUs (corei7_haswell_4770): time, and exits per guest and reason")
def _():
    run, first, last = timed_run(build(), "bench-lab05")
    lines = ["wall: %.2f s in all; the host's first line at %.2f s, the last guest line at %.2f s "
             "(target: boot to the last guest line <= 2 s)" % (run.wall, first, last)]
    if run.ticks:
        lines.append("Bochs ticks, power-on to exit: %.1f M" % (run.ticks / 1e6))
    for m in re.finditer(r"^\[vcpu(\d) (\w+)\] monitor: guest \w+ exits by reason: (.*)$", run.serial, re.M):
        total = sum(int(n) for n in re.findall(r" (\d+)(?:,|$)", m.group(3)))
        lines.append("vCPU %s %-9s %5d exits: %s" % (m.group(1), m.group(2), total, m.group(3)))
    if len(lines) < 12:
        raise RuntimeError("expected 10 `exits by reason` lines in %s/serial.txt" % run.dir)
    return lines


def function_of(elf):
    """rip -> the name of the function it is in. NASM's local labels
    (mon_vmexit.pushed) are symbols too: they count as their function;
    GCC's clones (run_guest.isra.0) are functions of their own."""
    out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
    syms = sorted((int(a, 16), n) for a, t, n in
                  (l.split() for l in out.splitlines() if len(l.split()) == 3)
                  if t in "tTwW" and ("." not in n or
                                      n.split(".")[1].startswith(("isra", "part", "constprop", "cold"))))
    addrs = [a for a, _ in syms]
    return lambda rip: syms[bisect.bisect_right(addrs, rip) - 1][1]


@bench("lab05: one VMCALL round trip through the monitor, in instructions (vmcallbench on vCPU 0 alone)")
def _():
    image = build("VCPU0=vmcallbench", "VCPU1=none")
    elf = os.path.join(os.path.dirname(image), "monitor.elf")
    run = emu.run_bochs(image, cpu=HASWELL, cpus=2, timeout=60, name="bench-lab05-vmcall")
    m = re.search(r"vmcallbench: (\d+) VMCALL round trips: guest->handler (\d+), handler (\d+), "
                  r"handler->guest (\d+) ticks", run.serial)
    e = re.search(r"vmcallbench: (\d+) empty rounds .*: (\d+) ticks", run.serial)
    if not m or not e:
        raise RuntimeError("no vmcallbench lines in %s/serial.txt" % run.dir)
    n = int(m.group(1))
    to_h, h, to_g = (int(m.group(i)) / n for i in (2, 3, 4))
    empty = int(e.group(2)) / int(e.group(1))
    lines = ["guest TSC: %.0f ticks per round trip (guest -> handler %.0f, handler %.0f, handler -> guest "
             "%.0f), the empty loop %.0f" % (to_h + h + to_g, to_h, h, to_g, empty)]

    # The trace of one round trip.
    stub = int(subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
               .split(" T mon_vmexit\n")[0].rsplit("\n", 1)[-1], 16)
    traced = emu.run_bochs(image, cpu=HASWELL, cpus=2, timeout=60, name="bench-lab05-vmcall-trace",
                           rc_extra=['lb 0x%x if "rax==0x%x"' % (stub, MON_HC_NOP), "c", "d 1",
                                     "trace on", "s 0 300", "trace off"])
    with open(os.path.join(traced.dir, "stdout.txt"), errors="replace") as f:
        trace = f.read()
    fn = function_of(elf)
    per = collections.Counter()
    order = []
    for t in re.finditer(r"^\(0\)\.\[\d+\] \[0x[0-9a-f]+\] [0-9a-f]{4}:([0-9a-f]{16}) .*?: (\w+)", trace, re.M):
        rip = int(t.group(1), 16)
        if rip < 0xFFFFFFFF80000000:
            break                           # back in the guest
        name = fn(rip)
        per[name] += 1
        if not order or order[-1] != name:
            order.append(name)
        if t.group(2) == "vmresume":
            break
    if not per:
        raise RuntimeError("no instruction trace in %s/stdout.txt" % traced.dir)
    total = sum(per.values())
    lines.append("traced MON_HC_NOP round trip: %d monitor instructions from the exit stub's first to "
                 "VMRESUME (target <= 100)" % total)
    lines += ["  %-22s %3d" % (f, k) for f, k in per.most_common()]
    lines.append("  path: " + " > ".join(order))
    return lines


@bench("lab05: writing a core after a panic (TEST=panic1), and a stats dump")
def _():
    panic, core = r"^host: panic on vCPU", r"^host: core of vCPU \d+'s panic on COM2: (\d+) bytes"
    run, _, _ = timed_run(build("TEST=panic1"), "bench-lab05-core", marks=(panic, core))
    m = re.search(core, run.serial, re.M)
    if not m or panic not in run.marks or core not in run.marks:
        raise RuntimeError("no core written: see %s/serial.txt" % run.dir)
    lines = ["core: %s bytes on COM2 in %.2f s wall from the panic line to the host's core line "
             "(target < 5 s); the whole run %.2f s" % (m.group(1), run.marks[core] - run.marks[panic], run.wall)]
    d = re.findall(r"^host: vCPU (\d)'s counters: (\d+) bytes", run.serial, re.M)
    lines += ["stats dump of vCPU %s: %s bytes" % x for x in d]
    return lines
