"""tests/grade/lab02.py - lab02 (sysregs.ko, /proc/sysregs): what a student may
change, and the checks.

Declarations only; the engine is tests/lib/gradelib.py (docs/CONTRACTS.md,
"Graders"). The student's sysregs.c is built in a fresh copy of the kit and
run in real kernels:
  qemu-check-lab02  Debian's kernel in QEMU + common/kernel/checks.sh: load,
                    cat, mode, non-root read, dd bs=1, 8 readers, 20 reloads
  run-lab02         the minimal kernel in Bochs (corei7_haswell_4770). It has
                    CONFIG_DEBUG_PREEMPT: reading per-CPU registers without
                    disabling preemption logs "BUG: using smp_processor_id()
                    in preemptible", which fails that run's checks.
The expected bits are facts of any 64-bit Linux kernel: CR0.PE and PG, CR4.PAE,
EFER.LME and LMA are set; CR3 is never 0. CR2 and CR8 are not 0 either, so a
module that leaves them unread (0) fails: `cat` itself page-faults before it
reads the file (CR2 = that address), and Linux 6.1 sets every local APIC's
TPR to 0x10 at boot and never changes it (arch/x86/kernel/apic/apic.c,
setup_local_APIC), so CR8 (TPR bits 7:4) is 1.
"""
from lib.gradelib import Lab, make

lab = Lab("02",
          files=["sysregs.c"],
          build=["lab02"],
          prepare=["kernel"],
          shared_build=["build/kernel/obj", "build/kernel/linux-source-6.1"],
          expect_not=[r"WARNING:|BUG:|Oops|general protection fault"],
          # The bare-metal runtime's CPU header (its read_crN() are the control-register reads of lab02's TODO)
          # does not compile in a module (<stdint.h>), but the grading copy
          # leaves it out all the same: points come from the student's asm.
          kit_answers=["common/include/rt_cpu.h"])

qemu_run = lab.run("qemu", make("qemu-check-lab02", timeout=240))
bochs_run = lab.run("haswell", make("run-lab02", "BOCHS_CPU=corei7_haswell_4770", timeout=240))

HEX = r"0x[0-9a-f]{16}"
NONZERO = r"0x(?!0{16})[0-9a-f]{16}"     # 16 hex digits, not all 0

lab.check("builds and loads into Debian's kernel", 10, qemu_run,
          expect=[r"^check: loaded sysregs$", r"^cpu: \d+$"])
lab.check("CR0 read: PE and PG set", 15, qemu_run,
          expect=[r"^CR0: %s PE\b.* PG$" % HEX],
          needs=["builds and loads into Debian's kernel"])
lab.check("CR4 read: PAE set", 10, qemu_run,
          expect=[r"^CR4: %s .*\bPAE\b" % HEX],
          needs=["builds and loads into Debian's kernel"])
lab.check("EFER read: LME and LMA set", 15, qemu_run,
          expect=[r"^EFER: %s .*\bLME LMA\b" % HEX],
          needs=["builds and loads into Debian's kernel"])
lab.check("CR2, CR3, CR8 read", 10, qemu_run,
          expect=[r"^CR2: %s" % NONZERO, r"^CR3: %s" % NONZERO, r"^CR8: %s" % NONZERO],
          needs=["builds and loads into Debian's kernel"])
lab.check("0400: a non-root read is refused", 10, qemu_run,
          expect=[r"^check: mode /proc/sysregs 400$",
                  r"^check: nonroot /proc/sysregs refused: .*Permission denied"],
          needs=["builds and loads into Debian's kernel"])
lab.check("20 unload/load cycles, readers and dd bs=1 agree", 10, qemu_run,
          expect=[r"^check: cycles sysregs 20 of 20$", r"^check: unloaded sysregs, /proc/sysregs gone$",
                  r"^check: concurrent /proc/sysregs 8 of 8 identical$", r"^check: ddcmp /proc/sysregs same "],
          needs=["builds and loads into Debian's kernel"])
lab.check("one CPU, preemption disabled (minimal kernel, DEBUG_PREEMPT)", 20, bochs_run,
          expect=[r"^cpu: \d+$", r"^CR0: %s PE\b.* PG$" % HEX, r"^EFER: %s .*\bLME LMA\b" % HEX],
          needs=["CR0 read: PE and PG set"])
