"""tests/grade/lab03.py - lab03 (VMCS setup): what a student may change, and the checks.

Declarations only; the engine is tests/lib/gradelib.py (docs/CONTRACTS.md,
"Graders"). Every check reads the COM1 transcript of a real Bochs run of the
student's build (lab03-vmcs-setup/ in a fresh copy of the kit).
"""
from lib.gradelib import Lab, bochs

# The watchdog, in Bochs ticks: a complete run takes about 52 M (measured by
# tests/bench_lab03.py / bench_lab04.py), so a hung submission stops after
# ~8x that instead of the harness default (about 20 s of wall time).
GRADE_TICKS = 400_000_000

# common/vmm/answers/ is the kit's own VMXON sequence, control adjustment
# and machine[] loop (for lab04 and later), and common/include/vmx/capsplit.h
# the split of a capability MSR into allowed 0- and 1-settings that
# adjust_control does itself: lab03's grading copy of the kit has none of
# it, so every point below comes from the student's code. The VM-entry
# checker (common/vmcheck/) uses capsplit.h, so it goes too; lab03.mk then
# builds without it (no LAB03_HAVE_VMCHECK), and no check below reads a
# vmcheck line. The read-back check runs the student's machine_load under
# vmm_machine_readback (common/vmm/machine.c).
lab = Lab("03",
          files=["vmxstep1.c", "vmxstep2.c", "vmxstep3.c", "vmxdemo.c", "lab03.h"],
          build=["lab03"],
          expect_not=[r"^EXCEPTION:", r"^PANIC:"],
          kit_answers=["common/vmm/answers", "common/include/vmx/capsplit.h", "common/vmcheck"])

haswell = lab.run("haswell", bochs(image="build/lab03/lab03.img",
                                   cpu="corei7_haswell_4770", timeout=60, ticks=GRADE_TICKS))
# The same code built with LAB03_BROKEN_CONTROL: it requires one named control
# bit that this CPU does not allow; the control adjustment must refuse it.
broken = lab.run("broken-control", bochs(image="build/lab03/broken/lab03-broken.img",
                                         cpu="corei7_haswell_4770", timeout=60, ticks=GRADE_TICKS),
                 build=["lab03-broken"])

lab.check("VMXON succeeds", 10, haswell,
          expect=[r"^IA32_FEATURE_CONTROL: 0x[0-9a-f]+", r"^VMXON: ok"])
lab.check("machine[] read-back has no mismatch", 20, haswell,
          expect=[r"^machine\[\] read-back: [1-9]\d* fields ok, \d+ skipped, 0 mismatched$"],
          needs=["VMXON succeeds"])
lab.check("VMLAUNCH exits with VMCALL, VMRESUME, then HLT", 20, haswell,
          expect=[r"^machine\[\] load: [1-9]\d* fields written", r"^VMLAUNCH: ok",
                  r"^exit: VMCALL qualification 0x0 ",
                  r"^guest: VMCALL returned rax=0x600df00d$",
                  r"^exit: HLT qualification 0x0 ", r"^VMXOFF: ok$"],
          expect_not=[r"entry failure", r"^VM(LAUNCH|RESUME): VMfail"],
          needs=["VMXON succeeds"])
lab.check("a missing control is reported by name", 10, broken,
          expect=[r"^control [A-Z0-9]+: required bit \d+ [A-Z0-9_]+ is not allowed by "
                  r"IA32_VMX_[A-Z0-9_]+ = 0x[0-9a-f]{16} \(allowed-1 0x[0-9a-f]+\)$",
                  r"stopping before VMLAUNCH"],
          expect_not=[r"^VMLAUNCH: ok", r"^exit: "],
          needs=["VMXON succeeds"])
