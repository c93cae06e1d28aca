"""demo.py - `make run`: the kit's main demo, step by step, in Bochs.

Each step prints what it is about to show and why, then boots one payload
in Bochs and copies its COM1 output here as it arrives. The steps follow the
course: the capability MSRs first, then a VMCS set up and launched (lab03),
then a virtual-8086 guest whose smsw shows the CR0 mask and shadow (lab04),
then the lab05 monitor: EPT and VPID on two CPUs, built from the labs.

Each step then checks its transcript for the lines it exists to show. A step
fails (the demo stops, exit status 1) when the emulator crashed or a line is
missing, with the step's name, what is missing and the emulator's last
lines. In the student handout (no solutions/) steps 2 and 3 boot the
student's own lab03 and lab04: a line missing there means the step waits for
the student's TODO, which is said, and is not a failure.

Usage: python3 tests/demo.py [--cpu MODEL] [--step N] [--images]
  --images  print the image each step boots (make builds exactly these)
"""

import argparse
import os
import re
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lib import emu  # noqa: E402

TOP = os.path.dirname(HERE)
# The handout (`make handout`) has no solutions/: the demo boots the
# student's tree instead; `make run` builds the images --images names.
HANDOUT = not os.path.isdir(os.path.join(TOP, "solutions"))


class Step:
    """One step: what it shows, the image it boots (the kit's solution, or in
    the handout the student's build), and the lines that prove it showed it."""

    def __init__(self, title, text, image, student_image, expect, todo=None, cpus=1):
        self.title, self.text, self.expect, self.todo, self.cpus = title, text, expect, todo, cpus
        self.image = student_image if HANDOUT and student_image else image


STEPS = [
    Step("The VMX capability MSRs",
         """Before software may use VMX it must ask the CPU what it supports. The
         answers are read-only MSRs, IA32_VMX_BASIC (0x480) to 0x493, plus
         IA32_FEATURE_CONTROL (0x3A), which the BIOS locks. RDMSR is privileged,
         so this payload boots from a floppy into 64-bit long mode and reads them
         at ring 0. An MSR that the other MSRs say is absent is not read at all:
         reading it would fault (SDM appendix A).""",
         "build/msrdump/msrdump.img", None,
         [r"^0x480 IA32_VMX_BASIC 0x[0-9a-f]{16}$", r"^vmxlab: done$"]),
    Step("lab03: a VMCS set up field by field, and a first VM entry",
         """VMXON enters VMX root operation; VMCLEAR and VMPTRLD make a VMCS current.
         The machine[] table pairs every VMCS field encoding with a variable, so
         one loop writes them all whatever their width. The controls are computed
         from the capability MSRs (allowed-0 <= value <= allowed-1), a software
         checker runs the SDM's VM-entry checks, and VMLAUNCH starts a 64-bit
         guest that exits with VMCALL and then HLT.""",
         "build/solutions/lab03/lab03.img", "build/lab03/lab03.img",
         [r"^VMXON: ok\b", r"^VMLAUNCH: ok$", r"^exit: VMCALL ", r"^VMXOFF: ok$"],
         todo=("lab03", "lab03-vmcs-setup")),
    Step("lab04: a virtual-8086 guest, and what its smsw sees",
         """A guest running as a virtual-8086 task (how real-mode code ran before
         unrestricted guest). CR0 bits set in the CR0 guest/host mask are owned by
         the host: the guest reads them from the CR0 read shadow. So smsw shows
         the shadow where the mask is 1 and the real CR0 where it is 0.""",
         "build/solutions/lab04/lab04.img", "build/lab04/lab04.img",
         [r"^guest: hello from virtual-8086 mode$", r"^guest smsw: 0x[0-9a-f]{8}$",
          r"^VMLAUNCH: ok$", r"^vmxlab: done$"],
         todo=("lab04", "lab04-vm86-guest")),
    Step("lab05: a monitor with EPT and VPID on two CPUs, built from the labs",
         """A monitor linked at the top 64 MiB runs on both CPUs, each with its own
         stack, VMCS and guests, as lab05-ept/monitor.cfg says. Its VMXON and
         machine[] loop are lab03's, its virtual-8086 guest and I/O exits lab04's,
         its EPT and VPID lab05's. EPT gives every guest its own guest-physical
         memory: lab04's guest moved elsewhere, a guest started in real mode that
         switches to long mode, guests that look for VMX and find none, and one
         whose pages appear on first touch, are copied on first write, and which
         is stopped when it reads outside its RAM while the others go on.""",
         "build/solutions/lab05/demo/lab05.img", "build/lab05/demo/lab05.img",
         [r"^\[vcpu0 vm86\] guest: hello from virtual-8086 mode$",
          r"^\[vcpu0 longmode\] longmode: hello from 64-bit long mode",
          r"^\[vcpu1 vmxprobe\] vmxprobe: CPUID\.1:ECX\.VMX = 0, CR4\.VMXE = 0$",
          r"^\[vcpu\d memtest\] stopped: read of guest-physical 0x[0-9a-f]+, outside its RAM",
          r"^host: vCPU 0: done$", r"^host: vCPU 1: done$"],
         todo=("lab05", "lab05-ept"), cpus=2),
]


def run_step(n, step, cpu):
    """Boot the step's image; return 'ok', 'waits' or 'failed' (after saying why)."""
    bar = "=" * 72
    print("\n%s\nStep %d of %d: %s\n%s" % (bar, n, len(STEPS), step.title, bar))
    print(textwrap.fill(" ".join(step.text.split()), 72))
    image = os.path.join(TOP, step.image)
    name = "step %d (%s)" % (n, step.title.split(":")[0])
    if not os.path.exists(image):
        print("demo: %s failed: %s is not built (make run builds it)" % (name, step.image),
              file=sys.stderr)
        return "failed"
    print("\n--- Bochs (%s) boots %s; COM1 output follows ---\n" % (cpu, step.image), flush=True)
    try:
        run = emu.run_bochs(image, cpu=cpu, name="demo-step%d" % n, timeout=60, echo=True,
                            cpus=step.cpus)
    except emu.EmulatorCrashed as e:
        print("\ndemo: %s failed: %s" % (name, e), file=sys.stderr)
        return "failed"
    if run.serial and not run.serial.endswith("\n"):
        print()
    print("\n--- %.1f s; transcript and Bochs log: %s ---" % (run.wall, os.path.relpath(run.dir, TOP)))
    missing = [rx for rx in step.expect if not re.search(rx, run.serial, re.M)]
    if not missing and run.ended_cleanly:
        return "ok"
    if HANDOUT and step.todo and missing:
        lab, folder = step.todo
        print("demo: %s waits for your TODO(%s) work in %s/ (not shown yet: %s); "
              "%s/README.md says what to do, `grep -n 'TODO(%s)' %s/*` finds the places"
              % (name, lab, folder, ", ".join("/%s/" % m for m in missing), folder, lab, folder))
        return "waits"
    why = run.why_stopped() if not run.ended_cleanly else \
        "its transcript lacks %s" % ", ".join("/%s/" % m for m in missing)
    print("demo: %s failed: %s\n  transcript: %s/serial.txt\n%s"
          % (name, why, os.path.relpath(run.dir, TOP), run.output_tail()), file=sys.stderr)
    return "failed"


def main():
    ap = argparse.ArgumentParser(description="The vmxlab main demo.")
    ap.add_argument("--cpu", default=emu.DEFAULT_CPU, help="Bochs CPU model")
    ap.add_argument("--step", type=int, help="run only step N (1-based)")
    ap.add_argument("--images", action="store_true", help="print the images the steps boot")
    a = ap.parse_args()
    if a.images:
        print(" ".join(s.image for s in STEPS))
        return 0

    steps = list(enumerate(STEPS, 1))
    if a.step:
        steps = [s for s in steps if s[0] == a.step]
    waits = []
    for n, step in steps:
        try:
            outcome = run_step(n, step, a.cpu)
        except (emu.EmulatorMissing, FileNotFoundError) as e:
            print("demo: step %d failed: %s" % (n, e), file=sys.stderr)
            outcome = "failed"
        if outcome == "failed":
            print("demo: stopped at step %d of %d" % (n, len(STEPS)), file=sys.stderr)
            return 1
        if outcome == "waits":
            waits.append(n)
    if waits:
        print("\ndemo: every step that can run ran; step(s) %s wait for your lab work"
              % ", ".join(map(str, waits)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
