"""Tests of lab02-sysregs: sysregs.ko and /proc/sysregs, in real kernels.

The runs are shared with tests/test_lab01.py (same testlib.once keys): QEMU
with Debian's kernel (2 CPUs) and Bochs haswell with the minimal kernel
(1 CPU), loading both lab modules and running common/kernel/checks.sh.
The bit names expected come from common/vmx/cpu_bits.def (parsed here); the
states expected are architectural facts of a 64-bit Linux kernel: paging and
protection on (CR0.PE, CR0.PG), PAE paging (CR4.PAE), long mode enabled and
active (EFER.LME, EFER.LMA); CR3 (the page tables) is not 0, nor CR2 (`cat`
page-faults before it reads the file) nor CR8 (Linux 6.1 sets each local
APIC's TPR to 0x10 at boot, arch/x86/kernel/apic/apic.c setup_local_APIC:
CR8 = TPR bits 7:4 = 1), so a register left unread (0) fails.
"""

import os
import re
import sys

import pytest

from lib.testlib import expect, expect_not, expect_clean_end, once, TestFailure, TOP

sys.path.insert(0, os.path.join(TOP, "common", "kernel"))
import kboot  # noqa: E402

pytestmark = pytest.mark.kernel

HASWELL = "corei7_haswell_4770"
REG_LINE = re.compile(r"^(CR0|CR2|CR3|CR4|CR8|EFER): 0x([0-9a-f]{16})(.*)$", re.M)


def qemu_checks():
    return once("kmod:qemu-checks", lambda: kboot.checks_run("lab0102-qemu-checks", "debian", cpus=2))


def bochs_checks():
    return once("kmod:bochs-checks", lambda: kboot.checks_run(
        "lab0102-bochs-haswell-checks", "mini", cpu=HASWELL, cpus=1, timeout=300))


def cpu_bits():
    """{reg: {bit: name}} from common/vmx/cpu_bits.def."""
    path = os.path.join(TOP, "common", "vmx", "cpu_bits.def")
    out = {}
    with open(path) as f:
        for reg, name, bit in re.findall(r"^CPU_REG_BIT\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(\d+)", f.read(), re.M):
            out.setdefault(reg, {})[int(bit)] = name
    if not out.get("CR0") or not out.get("EFER"):
        raise TestFailure("could not read the bit list from %s" % path)
    return out


def sysregs(run):
    """{reg: (value, [names])} from /proc/sysregs in the run, and the CPU line."""
    expect_clean_end(run)
    text = kboot.section(run.serial, "cat /proc/sysregs")
    if text is None:
        raise TestFailure("no `cat /proc/sysregs` in %s/serial.txt" % os.path.relpath(run.dir, TOP))
    regs = {m.group(1): (int(m.group(2), 16), m.group(3).split()) for m in REG_LINE.finditer(text)}
    missing = {"CR0", "CR2", "CR3", "CR4", "CR8", "EFER"} - set(regs)
    if missing:
        raise TestFailure("/proc/sysregs lacks %s:\n%s" % (", ".join(sorted(missing)), text))
    expect(text, r"^cpu: \d+$", "the CPU number")
    return regs


def check_registers(run):
    regs = sysregs(run)
    bits = cpu_bits()
    for reg, need in (("CR0", ("PE", "PG")), ("CR4", ("PAE",)), ("EFER", ("LME", "LMA"))):
        value, names = regs[reg]
        for n in need:
            if n not in names:
                raise TestFailure("%s = 0x%016x does not list %s: %s" % (reg, value, n, names))
        # The names listed are exactly the named bits set in the value.
        want = [bits[reg][b] for b in sorted(bits[reg]) if (value >> b) & 1]
        if names != want:
            raise TestFailure("%s = 0x%016x: the file names %s, cpu_bits.def gives %s" % (reg, value, names, want))
    for reg in ("CR2", "CR3", "CR8"):
        if regs[reg][0] == 0:
            raise TestFailure("%s is 0: not read? (%s)" % (reg, os.path.relpath(run.dir, TOP)))
    return regs


def test_lab02_qemu_debian_kernel_proc_sysregs_shows_cr0_pe_pg_cr4_pae_efer_lme():
    """lab02: QEMU (Debian kernel): /proc/sysregs shows CR0 PE PG, CR4 PAE, EFER LME LMA"""
    check_registers(qemu_checks())


def test_lab02_bochs_haswell_minimal_kernel_proc_sysregs_shows_cr0_pe_pg_cr4_pa():
    """lab02: Bochs haswell (minimal kernel): /proc/sysregs shows CR0 PE PG, CR4 PAE, EFER LME LMA; CR4.VMXE clear"""
    regs = check_registers(bochs_checks())
    if "VMXE" in regs["CR4"][1]:
        raise TestFailure("CR4.VMXE is set although nothing executed VMXON: %s" % (regs["CR4"],))


def test_lab02_proc_sysregs_is_0400_and_a_non_root_read_is_refused_qemu_and_boc():
    """lab02: /proc/sysregs is 0400 and a non-root read is refused (QEMU and Bochs)"""
    for run in (qemu_checks(), bochs_checks()):
        expect(run, r"^check: mode /proc/sysregs 400$")
        expect(run, r"^check: nonroot /proc/sysregs refused: .*Permission denied")


def test_lab02_insmod_rmmod_20_times_proc_sysregs_gone_after_each_rmmod_qemu_an():
    """lab02: insmod/rmmod 20 times, /proc/sysregs gone after each rmmod (QEMU and Bochs)"""
    for run in (qemu_checks(), bochs_checks()):
        expect_not(run, r"^check: cycle \d+:", "failed cycle")
        expect(run, r"^check: cycles sysregs 20 of 20$")
        expect(run, r"^check: unloaded sysregs, /proc/sysregs gone$")


def test_lab02_8_concurrent_readers_and_dd_bs_1_agree_with_cat_on_cpu_0_qemu_an():
    """lab02: 8 concurrent readers and dd bs=1 agree with cat on CPU 0 (QEMU and Bochs)"""
    for run in (qemu_checks(), bochs_checks()):
        expect(run, r"^check: concurrent /proc/sysregs 8 of 8 identical$")
        m = expect(run, r"^check: ddcmp /proc/sysregs (\S+) \((\d+) bytes by dd, (\d+) by cat\)$")
        if m.group(1) != "same":
            raise TestFailure("dd bs=1 and cat differ: %s (%s)" % (m.group(0), run.dir))


def test_lab02_no_warn_bug_or_oops_after_sysregs_ko_qemu_and_bochs():
    """lab02: no WARN, BUG or Oops after sysregs.ko (QEMU and Bochs)"""
    for run in (qemu_checks(), bochs_checks()):
        log = kboot.section(run.serial, "dmesg")
        if log is None:
            raise TestFailure("no dmesg section in %s/serial.txt" % os.path.relpath(run.dir, TOP))
        expect(log, r"sysregs: /proc/sysregs removed", "module message in the log")
        expect_not(log, r"(WARNING:|BUG:|Oops|Call Trace|general protection fault)", "kernel warning")
