"""Tests of lab01-vmxmsrs: vmxmsrs.ko and /proc/vmxmsrs, in real kernels.

Runs (each once per test session, shared with tests/test_lab02.py through
testlib.once; built by `make all`):
  * QEMU, Debian's kernel, 2 CPUs (no VMX): both lab modules and
    common/kernel/checks.sh (load, cat, mode, non-root read, dd bs=1 against
    cat, 8 concurrent readers, 20 rmmod/insmod cycles, the kernel log);
  * Bochs corei7_haswell_4770, the minimal kernel, 1 CPU: the same checks;
  * Bochs core2_penryn_t9600 (no EPT, no VPID, no VM functions), 2 CPUs:
    cat only (a 2-CPU Bochs costs twice the host CPU time of a 1-CPU one);
  * Bochs corei7_haswell_4770 running the bare-metal payload msrdump, which
    reads the same MSRs at ring 0 without Linux: the reference for the values.
Expected values come from those runs and from build/tools/vmxinfo (which
decodes with the same lists), never from a copy typed here.
"""

import os
import re
import subprocess
import sys

import pytest

from lib import emu
from lib.testlib import expect, expect_not, expect_clean_end, build_path, once, TestFailure, TOP

sys.path.insert(0, os.path.join(TOP, "common", "kernel"))
import kboot  # noqa: E402

pytestmark = pytest.mark.kernel

HASWELL = "corei7_haswell_4770"
PENRYN = "core2_penryn_t9600"
RAW_LINE = re.compile(r"^0x([0-9a-f]+) (\w+) (?:0x([0-9a-f]{16})|absent: (.+)|(not read.*))$", re.M)
OOPS = r"(WARNING:|BUG:|Oops|Call Trace|general protection fault)"


# --- Shared runs (the same keys as tests/test_lab02.py) ---------------------------
def qemu_checks():
    return once("kmod:qemu-checks", lambda: kboot.checks_run("lab0102-qemu-checks", "debian", cpus=2))


def bochs_checks():
    return once("kmod:bochs-checks", lambda: kboot.checks_run(
        "lab0102-bochs-haswell-checks", "mini", cpu=HASWELL, cpus=1, timeout=300))


def bochs_cat(cpu, cpus):
    ko = kboot.module_path("mini", "sol", "lab01-vmxmsrs", "vmxmsrs")
    return once(("kmod:bochs-cat", cpu, cpus), lambda: kboot.boot_bochs(
        "lab01-bochs-%s-%dcpu" % (cpu, cpus), [ko], kboot.SHOW_SCRIPT, cpu=cpu, cpus=cpus, timeout=240))


def msrdump(cpu):
    image = build_path("msrdump", "msrdump.img")
    return once(("kmod:msrdump", cpu), lambda: emu.run_bochs(
        image, cpu=cpu, name="lab01-msrdump-%s" % cpu, timeout=60))


def vmxmsrs_text(run):
    """The content of /proc/vmxmsrs in a run, or a failure naming the transcript."""
    expect_clean_end(run)
    text = kboot.section(run.serial, "cat /proc/vmxmsrs")
    if text is None:
        raise TestFailure("no `cat /proc/vmxmsrs` in %s/serial.txt" % os.path.relpath(run.dir, TOP))
    return text


def part(text, name):
    """The lines of section `--- NAME: ... ---` of /proc/vmxmsrs."""
    m = re.search(r"^--- %s\b[^\n]*---\n(.*?)(?=^--- |\Z)" % name, text, re.M | re.S)
    if not m:
        raise TestFailure("/proc/vmxmsrs has no `--- %s` section:\n%s" % (name, text[:1500]))
    return m.group(1)


def raw_lines(text):
    """{number: (name, value or None, reason)} from raw lines (module or msrdump)."""
    out = {}
    for m in RAW_LINE.finditer(text):
        number = int(m.group(1), 16)
        value = int(m.group(3), 16) if m.group(3) else None
        out[number] = (m.group(2), value, m.group(4) or m.group(5))
    return out


def vmx_msrs_from_list():
    path = os.path.join(TOP, "common", "vmx", "vmx_msrs.def")
    with open(path) as f:
        rows = re.findall(r"^VMX_MSR\(\s*(\w+)\s*,\s*(0x[0-9A-Fa-f]+)", f.read(), re.M)
    if len(rows) < 20:
        raise TestFailure("could not read the MSR list from %s" % path)
    return {int(v, 16): n for n, v in rows}


def vmxinfo(*args):
    tool = build_path("tools", "vmxinfo")
    p = subprocess.run([tool] + [str(a) for a in args], capture_output=True, text=True, timeout=20)
    if p.returncode != 0:
        raise TestFailure("vmxinfo %s failed: %s" % (" ".join(map(str, args)), p.stderr.strip()))
    return p.stdout


def checks(run, pattern):
    """The `check: ...` line matching pattern (a regex after `check: `)."""
    return expect(run, r"^check: " + pattern)


# --- QEMU, Debian's kernel, no VMX ------------------------------------------------
def test_lab01_qemu_debian_kernel_vmxmsrs_ko_loads_proc_vmxmsrs_says_no_vmx_in():
    """lab01: QEMU (Debian kernel): vmxmsrs.ko loads; /proc/vmxmsrs says no VMX in one line"""
    run = qemu_checks()
    checks(run, r"loaded vmxmsrs$")
    text = vmxmsrs_text(run)
    lines = [l for l in text.splitlines() if l.strip()]
    if len(lines) != 1:
        raise TestFailure("expected one line without VMX, got %d:\n%s" % (len(lines), text))
    m = re.match(r"^vmx: no: CPU vendor (\S+), CPUID\.1:ECX\[5\] \(VMX\) = 0: ", lines[0])
    if not m:
        raise TestFailure("the no-VMX line does not name the vendor and CPUID.1:ECX[5]: %r" % lines[0])
    if not re.fullmatch(r"[A-Za-z ]{12}", m.group(1)):
        raise TestFailure("the vendor %r is not a 12-character CPUID vendor string" % m.group(1))


# --- Bochs, minimal kernel, VMX ------------------------------------------------------
def test_lab01_bochs_haswell_every_raw_line_of_proc_vmxmsrs_equals_what_bare_me():
    """lab01: Bochs haswell: every raw line of /proc/vmxmsrs equals what bare-metal msrdump reads"""
    mine = raw_lines(part(vmxmsrs_text(bochs_checks()), "raw"))
    ref_run = msrdump(HASWELL)
    expect_clean_end(ref_run)
    ref = raw_lines(ref_run.serial.replace("\r", ""))
    listed = vmx_msrs_from_list()
    if sorted(mine) != sorted(listed):
        raise TestFailure("raw section MSRs %s differ from common/vmx/vmx_msrs.def %s"
                          % ([hex(n) for n in sorted(mine)], [hex(n) for n in sorted(listed)]))
    if sorted(ref) != sorted(listed):
        raise TestFailure("msrdump listed %s, not every MSR of the list (%s/serial.txt)"
                          % ([hex(n) for n in sorted(ref)], os.path.relpath(ref_run.dir, TOP)))
    bad = []
    for number, (name, value, reason) in sorted(mine.items()):
        rname, rvalue, rreason = ref[number]
        if name != listed[number] or value != rvalue or (value is None) != (rvalue is None):
            bad.append("0x%x %s: module %s, msrdump %s" % (
                number, name, "0x%016x" % value if value is not None else "absent (%s)" % reason,
                "0x%016x" % rvalue if rvalue is not None else "absent (%s)" % rreason))
    if bad:
        raise TestFailure("values differ from the bare-metal reading:\n  " + "\n  ".join(bad))
    if mine[0x480][1] is None or mine[0x48c][1] is None:
        raise TestFailure("haswell must have IA32_VMX_BASIC and IA32_VMX_EPT_VPID_CAP")


def test_lab01_bochs_penryn_2_cpus_the_msrs_are_read_on_both_cpus_and_they_agre():
    """lab01: Bochs penryn, 2 CPUs: the MSRs are read on both CPUs and they agree"""
    text = vmxmsrs_text(bochs_cat(PENRYN, 2))
    expect(text, r"^vmx: yes: CPU vendor GenuineIntel, CPUID\.1:ECX\[5\] \(VMX\) = 1$")
    expect(part(text, "cpus"), r"^cpus: all 2 online CPUs agree$")
    expect_not(text, r"^cpu \d+ differs")


def test_lab01_bochs_haswell_decoded_control_words_agree_with_vmxinfo_on_the_sa():
    """lab01: Bochs haswell: decoded control words agree with vmxinfo on the same values (0x482 too)"""
    text = vmxmsrs_text(bochs_checks())
    raw = raw_lines(part(text, "raw"))
    decoded = part(text, "decoded")
    # Each decoded MSR block starts with its raw line and runs to the next
    # blank line; vmxinfo prints the same block for the same value.
    blocks = re.findall(r"^(0x[0-9a-f]+) \w+ (0x[0-9a-f]{16})\n((?:  .*\n)*)", decoded, re.M)
    if len(blocks) < 8:
        raise TestFailure("only %d decoded MSR blocks in:\n%s" % (len(blocks), decoded[:2000]))
    seen = set()
    for number, value, body in blocks:
        n = int(number, 16)
        if raw.get(n, (None, None))[1] != int(value, 16):
            raise TestFailure("decoded %s shows %s, the raw section %s" % (number, value, raw.get(n)))
        ref = vmxinfo("msr", number, value)
        mine = "%s %s %s\n%s" % (number, raw[n][0], value, body)
        # The module may add lines of its own after the decoder's (the
        # default1 note); vmxinfo's block must be there, whole and in order.
        if not mine.startswith(ref):
            raise TestFailure("decoded %s differs from `vmxinfo msr %s %s`:\n--- vmxinfo\n%s--- module\n%s"
                              % (number, number, value, ref, mine))
        seen.add(n)
    for n in (0x3a, 0x480, 0x48e, 0x485, 0x48c):
        if n not in seen:
            raise TestFailure("no decoded block for 0x%x" % n)
    # PROC is decoded from IA32_VMX_TRUE_PROCBASED_CTLS (0x48e); what 0x482
    # adds is the default1 bits the TRUE MSR frees. They must be exactly the
    # bits vmxinfo calls must-be-1 in 0x482 and may-be-either in 0x48e.
    def settings(number):
        out = vmxinfo("msr", hex(number), "0x%016x" % raw[number][1])
        return {int(b): (name, s) for b, name, s in re.findall(r"^  bit +(\d+)  (\S+(?: \S+)*?) +(\S+)$", out, re.M)}
    plain, true = settings(0x482), settings(0x48e)
    want = sorted(b for b in plain if plain[b][1] == "must-be-1" and true.get(b, ("", ""))[1] == "may-be-either")
    m = re.search(r"^PROC \(.*?\n(?:.*\n)*?  default1 bits the TRUE MSR lets be 0 \(IA32_VMX_PROCBASED_CTLS says must-be-1\): (.*)$",
                  decoded, re.M)
    if not m:
        raise TestFailure("no default1 line for PROC in the decoded section")
    names = [plain[b][0] if not plain[b][0].startswith("(") else "bit%d" % b for b in want]
    if m.group(1).split() != (names or ["none"]):
        raise TestFailure("default1 bits of 0x482: module says %r, vmxinfo on 0x482/0x48e gives %r"
                          % (m.group(1), names))


def test_lab01_bochs_penryn_ia32_vmx_ept_vpid_cap_and_ia32_vmx_vmfunc_are_absen():
    """lab01: Bochs penryn: IA32_VMX_EPT_VPID_CAP and IA32_VMX_VMFUNC are absent with reasons"""
    run = bochs_cat(PENRYN, 2)
    text = vmxmsrs_text(run)
    raw = raw_lines(part(text, "raw"))
    for n in (0x48c, 0x491):
        name, value, reason = raw.get(n, (None, None, None))
        if value is not None or not reason or reason.startswith("not read"):
            raise TestFailure("0x%x %s should be absent with a reason, is %r" % (n, name, (value, reason)))
    expect(text, r"^0x48c IA32_VMX_EPT_VPID_CAP absent: .*(EPT|VPID)")
    expect(text, r"^0x491 IA32_VMX_VMFUNC absent: .*VM_FUNCTIONS")
    if raw[0x480][1] is None:
        raise TestFailure("penryn has VMX: IA32_VMX_BASIC must be read")
    expect_not(run, OOPS, "kernel warning")
    # the same lines as bare metal on the same model
    ref = raw_lines(msrdump(PENRYN).serial.replace("\r", ""))
    if {n: v[1] for n, v in ref.items()} != {n: v[1] for n, v in raw.items()}:
        raise TestFailure("the module's raw values differ from msrdump's on penryn:\n%s\n%s"
                          % (sorted(raw.items()), sorted(ref.items())))


# --- Robustness (both kernels) -------------------------------------------------
def test_lab01_insmod_rmmod_20_times_proc_vmxmsrs_gone_after_each_rmmod_qemu_an():
    """lab01: insmod/rmmod 20 times, /proc/vmxmsrs gone after each rmmod (QEMU and Bochs)"""
    for run in (qemu_checks(), bochs_checks()):
        expect_not(run, r"^check: cycle \d+:", "failed cycle")
        checks(run, r"cycles vmxmsrs 20 of 20$")
        checks(run, r"unloaded vmxmsrs, /proc/vmxmsrs gone$")


def test_lab01_8_concurrent_readers_and_dd_bs_1_get_the_same_bytes_as_cat_qemu():
    """lab01: 8 concurrent readers and dd bs=1 get the same bytes as cat (QEMU and Bochs)"""
    for run in (qemu_checks(), bochs_checks()):
        checks(run, r"concurrent /proc/vmxmsrs 8 of 8 identical$")
        m = checks(run, r"ddcmp /proc/vmxmsrs (\S+) \((\d+) bytes by dd, (\d+) by cat\)$")
        if m.group(1) != "same" or m.group(2) != m.group(3):
            raise TestFailure("dd bs=1 and cat differ: %s (%s)" % (m.group(0), run.dir))
    m = checks(bochs_checks(), r"ddcmp /proc/vmxmsrs same \((\d+) bytes")
    if int(m.group(1)) < 4096:
        raise TestFailure("the haswell file is only %s bytes: the multi-page seq_file path was not used"
                          % m.group(1))


def test_lab01_proc_vmxmsrs_is_0444_and_a_non_root_user_can_read_it():
    """lab01: /proc/vmxmsrs is 0444 and a non-root user can read it"""
    for run in (qemu_checks(), bochs_checks()):
        checks(run, r"mode /proc/vmxmsrs 444$")
        checks(run, r"nonroot /proc/vmxmsrs readable$")


def test_lab01_lab02_no_warn_bug_or_oops_in_the_kernel_log_qemu_and_bochs():
    """lab01/lab02: no WARN, BUG or Oops in the kernel log (QEMU and Bochs)"""
    for run in (qemu_checks(), bochs_checks()):
        log = kboot.section(run.serial, "dmesg")
        if log is None:
            raise TestFailure("no dmesg section in %s/serial.txt" % os.path.relpath(run.dir, TOP))
        expect(log, r"vmxmsrs: /proc/vmxmsrs removed", "module message in the log")
        expect_not(log, OOPS, "kernel warning")
