#!/usr/bin/env python3
"""demo.py - `make run`: the kit's main demo, step by step, in Bochs.

Each step prints what it is about to show and why, then boots one payload
in Bochs and copies its COM1 output here as it arrives. The steps follow the
course: the capability MSRs first, then a VMCS set up and launched (lab03),
then a virtual-8086 guest whose smsw shows the CR0 mask and shadow (lab04).
A step whose payload this checkout does not have is left out and said so.

Usage: python3 tests/demo.py [--cpu MODEL] [--step N]
"""

import argparse
import os
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lib import emu  # noqa: E402

TOP = os.path.dirname(HERE)


def first_existing(*paths):
    for p in paths:
        if os.path.exists(os.path.join(TOP, p)):
            return os.path.join(TOP, p)
    return None


# (title, explanation, candidate images: solutions first, then the lab folder's build)
STEPS = [
    ("The VMX capability MSRs",
     """Before software may use VMX it must ask the CPU what it supports. The
     answers are read-only MSRs, IA32_VMX_BASIC (0x480) to 0x493, plus
     IA32_FEATURE_CONTROL (0x3A), which the BIOS locks. RDMSR is privileged,
     so this payload boots from a floppy into 64-bit long mode and reads them
     at ring 0. An MSR that the other MSRs say is absent is not read at all:
     reading it would fault (SDM appendix A).""",
     ["build/msrdump/msrdump.img"]),
    ("lab03: a VMCS set up field by field, and a first VM entry",
     """VMXON enters VMX root operation; VMCLEAR and VMPTRLD make a VMCS current.
     The machine[] table pairs every VMCS field encoding with a variable, so
     one loop writes them all whatever their width. The controls are computed
     from the capability MSRs (allowed-0 <= value <= allowed-1), a software
     checker runs the SDM's VM-entry checks, and VMLAUNCH starts a 64-bit
     guest that exits with VMCALL and then HLT.""",
     ["build/solutions/lab03/lab03.img", "build/lab03/lab03.img"]),
    ("lab04: a virtual-8086 guest, and what its smsw sees",
     """A guest running as a virtual-8086 task (how real-mode code ran before
     unrestricted guest). CR0 bits set in the CR0 guest/host mask are owned by
     the host: the guest reads them from the CR0 read shadow. So smsw shows
     the shadow where the mask is 1 and the real CR0 where it is 0.""",
     ["build/solutions/lab04/lab04.img", "build/lab04/lab04.img"]),
]


def main():
    ap = argparse.ArgumentParser(description="The vmxlab main demo.")
    ap.add_argument("--cpu", default=emu.DEFAULT_CPU, help="Bochs CPU model")
    ap.add_argument("--step", type=int, help="run only step N (1-based)")
    a = ap.parse_args()

    steps = list(enumerate(STEPS, 1))
    if a.step:
        steps = [s for s in steps if s[0] == a.step]
    status = 0
    for n, (title, text, images) in steps:
        bar = "=" * 72
        print("\n%s\nStep %d of %d: %s\n%s" % (bar, n, len(STEPS), title, bar))
        print(textwrap.fill(" ".join(text.split()), 72))
        image = first_existing(*images)
        if not image:
            print("\n(this checkout has no %s: step left out)" % " or ".join(images))
            continue
        print("\n--- Bochs (%s) boots %s; COM1 output follows ---\n"
              % (a.cpu, os.path.relpath(image, TOP)), flush=True)
        run = emu.run_bochs(image, cpu=a.cpu, name="demo-step%d" % n, timeout=60, echo=True)
        if run.serial and not run.serial.endswith("\n"):
            print()
        print("\n--- %.1f s; transcript and Bochs log: %s ---"
              % (run.wall, os.path.relpath(run.dir, TOP)))
        if not run.ended_cleanly:
            print("demo: step %d %s" % (n, run.why_stopped()), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
