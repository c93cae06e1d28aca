"""tests/grade/lab01.py - lab01 (vmxmsrs.ko, /proc/vmxmsrs): what a student may
change, and the checks.

Declarations only; the engine is tests/lib/gradelib.py (docs/CONTRACTS.md,
"Graders"). The student's vmxmsrs.c is built in a fresh copy of the kit,
against Debian's kernel (QEMU, no VMX) and against the minimal kernel (Bochs,
VMX), and the checks read the console of real boots:
  qemu-check-lab01   QEMU + common/kernel/checks.sh: load, no-VMX line, mode,
                     non-root read, dd bs=1, 8 readers, 20 reloads, dmesg
  bochs-check-lab01  Bochs corei7_haswell_4770 + the same checks.sh, on the
                     full 16 KiB file (VMX): dd bs=1 and 8 readers read it
                     through several seq_file buffers, which the one-line
                     no-VMX file of the QEMU run never does
  run-lab01 (penryn) Bochs core2_penryn_t9600: no EPT/VPID, no VM functions
The minimal kernel is built once in the kit (`make kernel`) and shared.
"""
from lib.gradelib import Lab, make

lab = Lab("01",
          files=["vmxmsrs.c"],
          build=["lab01"],
          prepare=["kernel"],
          shared_build=["build/kernel/obj", "build/kernel/linux-source-6.1"],
          expect_not=[r"WARNING:|BUG:|Oops|general protection fault"],
          # The bare-metal runtime's CPU header (its rdmsr() is the RDMSR asm of lab01's TODO)
          # does not compile in a module (<stdint.h>), but the grading copy
          # leaves it out all the same: points come from the student's asm.
          kit_answers=["common/include/rt_cpu.h"])

qemu_run = lab.run("qemu", make("qemu-check-lab01", timeout=240))
haswell = lab.run("haswell", make("bochs-check-lab01", "BOCHS_CPU=corei7_haswell_4770", timeout=240))
penryn = lab.run("penryn", make("run-lab01", "BOCHS_CPU=core2_penryn_t9600", timeout=240))

HEX = r"0x[0-9a-f]{16}"

lab.check("builds and loads into Debian's kernel", 10, qemu_run,
          expect=[r"^check: loaded vmxmsrs$"])
lab.check("no VMX: one line naming the vendor and CPUID.1:ECX[5]", 10, qemu_run,
          expect=[r"^vmxlab: ---- cat /proc/vmxmsrs ----\nvmx: no: CPU vendor \S+, CPUID\.1:ECX\[5\] "
                  r"\(VMX\) = 0: [^\n]*\nvmxlab: ---- end of /proc/vmxmsrs ----$"],
          needs=["builds and loads into Debian's kernel"])
lab.check("0444, readable by a non-root user", 5, qemu_run,
          expect=[r"^check: mode /proc/vmxmsrs 444$", r"^check: nonroot /proc/vmxmsrs readable$"],
          needs=["builds and loads into Debian's kernel"])
lab.check("20 unload/load cycles, the file gone after each", 10, qemu_run,
          expect=[r"^check: cycles vmxmsrs 20 of 20$", r"^check: unloaded vmxmsrs, /proc/vmxmsrs gone$"],
          expect_not=[r"^check: cycle \d+:"],
          needs=["builds and loads into Debian's kernel"])
lab.check("the eleven classic MSRs read with RDMSR (haswell)", 25, haswell,
          expect=[r"^vmx: yes: CPU vendor GenuineIntel"]
          + [r"^0x48%s IA32_VMX_\w+ %s$" % (d, HEX) for d in "0123456789a"]
          + [r"^0x480 IA32_VMX_BASIC 0x00d810000000002b$"],
          expect_not=[r"not read \(TODO\(lab01\)"])
lab.check("8 concurrent readers and dd bs=1 agree with cat (haswell, the 16 KiB file)", 5, haswell,
          expect=[r"^check: concurrent /proc/vmxmsrs 8 of 8 identical$",
                  # 5000+ bytes: more than one 4 KiB page went through the read path
                  r"^check: ddcmp /proc/vmxmsrs same \((\d{5,}|[5-9]\d{3}) bytes by dd"],
          needs=["the eleven classic MSRs read with RDMSR (haswell)"])
lab.check("optional MSRs decided from the classic ones (haswell)", 10, haswell,
          expect=[r"^0x48c IA32_VMX_EPT_VPID_CAP %s$" % HEX, r"^0x48e IA32_VMX_TRUE_PROCBASED_CTLS %s$" % HEX,
                  r"^0x492 IA32_VMX_PROCBASED_CTLS3 absent: "],
          needs=["the eleven classic MSRs read with RDMSR (haswell)"])
lab.check("decoded section: revision, TRUE controls, control bits (haswell)", 15, haswell,
          expect=[r"^  VMCS_REVISION_ID: +0x2b ", r"^  TRUE_CONTROLS: +yes ",
                  r"^  bit  7  HLT_EXITING +may-be-either$", r"^  CR4 fixed to 1: VMXE$"],
          needs=["the eleven classic MSRs read with RDMSR (haswell)"])
lab.check("penryn: EPT_VPID_CAP and VMFUNC absent, with reasons", 10, penryn,
          expect=[r"^0x480 IA32_VMX_BASIC %s$" % HEX,
                  r"^0x48c IA32_VMX_EPT_VPID_CAP absent: .*(EPT|VPID)",
                  r"^0x491 IA32_VMX_VMFUNC absent: .*VM_FUNCTIONS"],
          needs=["the eleven classic MSRs read with RDMSR (haswell)"])
