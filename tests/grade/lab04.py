"""tests/grade/lab04.py - lab04 (a virtual-8086 guest; smsw and the CR0
mask/shadow): what a student may change, and the checks.

Declarations only; the engine is tests/lib/gradelib.py (docs/CONTRACTS.md,
"Graders"). Every Bochs check reads the COM1 transcript of a real run of the
student's build (lab04-vm86-guest/ in a fresh copy of the kit). Each parameter
set is an image of its own: the student's build with params.c recompiled
with -D flags and relinked (make lab04-params, see
tools/lab04params/params.py).

Where a check needs "the guest's smsw equals what the host predicted", it
uses a backreference: the value on the `CR0 expected:` line must appear
again on the `guest smsw:` line.
"""
from lib.gradelib import Lab, bochs

# The watchdog, in Bochs ticks: a complete run takes about 52 M (measured by
# tests/bench_lab03.py / bench_lab04.py), so a hung submission stops after
# ~8x that instead of the harness default (about 20 s of wall time).
GRADE_TICKS = 400_000_000

lab = Lab("04",
          files=["vm86_guest.c", "vm86_io.c", "vm86demo.c", "guest.asm"],
          build=["lab04"],
          expect_not=[r"^EXCEPTION:", r"^PANIC:"])
# (No kit_answers: the kit has no code of its own for lab04's TODOs, the
# guest's segments, the I/O qualification and COM1 emulation, the CR0/CR4
# masks and shadows; lab04 links the kit's answers to lab03's, which is
# allowed: lab04 is graded on lab04's work.)

HASWELL = "corei7_haswell_4770"
SMSW_IS_EXPECTED = r"(?s)^CR0 expected: (0x[0-9a-f]{8})$.*^guest smsw: \1$"


def params_run(name, *assignments):
    """A run of the student's image built with these parameters."""
    out = "build/lab04/grade/%s.img" % name
    return lab.run(name, bochs(image=out, cpu=HASWELL, timeout=60, ticks=GRADE_TICKS),
                   build=["lab04-params", "LAB04_OUT=" + out] + list(assignments))


default = lab.run("default", bochs(image="build/lab04/lab04.img", cpu=HASWELL, timeout=60, ticks=GRADE_TICKS))
# The high half of CR0 owned by the host, with a shadow the CPU never has.
high = params_run("mask-high", "CR0_MASK=0xffff0000", "CR0_SHADOW=0x12340000")
only_pe = params_run("mask-pe", "CR0_MASK=0x1", "CR0_SHADOW=0xfffffffe")
io = params_run("io-exiting", "IO_EXITING=1")

lab.check("the guest runs in virtual-8086 mode and prints", 20, default,
          expect=[r"^vmcheck: 0 violation\(s\)$", r"^VMLAUNCH: ok$",
                  r"^guest: hello from virtual-8086 mode$",
                  r"^guest smsw: 0x[0-9a-f]{8}$", r"^guest bios ticks: 0x[0-9a-f]{8}$",
                  r"^guest: done \(its final hlt raised #GP"],
          expect_not=[r"entry failure", r"^VM(LAUNCH|RESUME): VMfail", r"not launching"])
lab.check("smsw hides PE and PG by default (mask 0x80000001, shadow 0)", 10, default,
          expect=[r"^CR0 mask: 0x80000001$", r"^CR0 shadow: 0x00000000$", SMSW_IS_EXPECTED,
                  r"^guest smsw: 0x[0-7][0-9a-f]{6}[02468ace]$"],
          needs=["the guest runs in virtual-8086 mode and prints"])
lab.check("smsw reflects the shadow where the mask is 1", 20, high,
          expect=[r"^CR0 mask: 0xffff0000$", r"^CR0 shadow: 0x12340000$",
                  r"^guest smsw: 0x1234[0-9a-f]{4}$", SMSW_IS_EXPECTED],
          needs=["the guest runs in virtual-8086 mode and prints"])
# Mask/shadow validated over several pairs: the high half, only PE, the default.
lab.check("smsw reflects the real CR0 where the mask is 0", 10, only_pe,
          expect=[r"^CR0 mask: 0x00000001$", r"^guest smsw: 0x[89a-f][0-9a-f]{6}[02468ace]$",
                  SMSW_IS_EXPECTED],
          needs=["the guest runs in virtual-8086 mode and prints"])
lab.check("I/O exits decoded and the UART emulated (IO_EXITING=1)", 20, io,
          expect=[r"^exit: IO_INSTRUCTION qualification 0x3fd0008 port 0x3fd in size 1 value 0x[0-9a-f]*[2367abef][0-9a-f]$",
                  r"^exit: IO_INSTRUCTION qualification 0x3f80000 port 0x3f8 out size 1 value 0x67$",
                  r"^guest: hello from virtual-8086 mode$", SMSW_IS_EXPECTED,
                  r"^exit count: IO_INSTRUCTION [1-9]\d*$"],
          expect_not=[r"TODO\(lab04\)", r"not emulated"],
          needs=["the guest runs in virtual-8086 mode and prints"])
