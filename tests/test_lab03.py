"""Tests of lab03 (VMCS setup) and the monitor pieces in common/vmm/.

Every test boots the lab03 solution image (build/solutions/lab03/) in Bochs
on a real emulated VMX CPU and reads COM1. Expected values are computed here
independently of the C code: field counts and control-bit names from the fact
lists in common/vmx/ (parsed below), instruction addresses from the ELF
(objdump), control bounds from the numbers the run itself printed (so every
CPU model is checked against its own MSRs).

CPU models: corei7_haswell_4770 (the default), core2_penryn_t9600 (no
secondary controls, so fewer VMCS fields) and tigerlake (VMCS revision id 4).
"""

import os
import re
import subprocess

import pytest

from lib import emu
from lib.testlib import (expect, expect_not, expect_clean_end, build_path,
                         once, TestFailure, TOP)

HASWELL = "corei7_haswell_4770"
PENRYN = "core2_penryn_t9600"
TIGERLAKE = "tigerlake"
MODELS = (HASWELL, PENRYN, TIGERLAKE)

SOLUTION = ("solutions", "lab03", "lab03.img")
BROKEN = ("solutions", "lab03", "broken", "lab03-broken.img")
STARTER = ("lab03", "lab03.img")

# Lab03's own hypercall numbers (solutions/lab03-vmcs-setup/lab03.h).
HELLO, ANSWER = 0x1AB03, 0x600DF00D


def bochs(image, cpu=HASWELL, tag="solution"):
    """One Bochs run per (image, cpu) for the whole test session."""
    return once(("lab03", image, cpu), lambda: emu.run_bochs(
        build_path(*image), cpu=cpu, timeout=60, name="lab03-%s-%s" % (tag, cpu)))


def read_def(name):
    with open(os.path.join(TOP, "common", "vmx", name)) as f:
        return f.read()


def vmcs_fields():
    """[(name, encoding, width, group)] of common/vmx/vmcs_fields.def."""
    rows = re.findall(r"^VMCS_FIELD\(\s*(\w+)\s*,\s*(0x[0-9A-Fa-f]+)\s*,\s*(\w+)\s*,\s*(\w+)",
                      read_def("vmcs_fields.def"), re.M)
    if len(rows) < 150:
        raise TestFailure("could not read the field list (%d rows)" % len(rows))
    return [(n, int(e, 16), w, g) for n, e, w, g in rows]


def control_bits():
    """{(WORD, bit): NAME} of common/vmx/vmx_controls.def."""
    rows = re.findall(r"^VMX_CONTROL_BIT\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(\d+)",
                      read_def("vmx_controls.def"), re.M)
    if len(rows) < 50:
        raise TestFailure("could not read the control bits (%d rows)" % len(rows))
    return {(w, int(b)): n for w, n, b in rows}


def disassembly(elf):
    return once(("objdump", elf), lambda: subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", elf], capture_output=True, text=True,
        check=True, timeout=60).stdout)


def function_instructions(elf, function, mnemonic):
    """Addresses of `mnemonic` instructions inside `function` (objdump -d)."""
    text = disassembly(elf)
    m = re.search(r"^[0-9a-f]+ <%s>:\n(.*?)(?:\n\n|\Z)" % re.escape(function), text, re.S | re.M)
    if not m:
        raise TestFailure("no function %s in %s" % (function, os.path.relpath(elf, TOP)))
    return [int(a, 16) for a in re.findall(r"^\s*([0-9a-f]+):\s+%s\b" % mnemonic, m.group(1), re.M)]


def controls(run):
    """{WORD: (value, allowed0, allowed1, msr)} from the `control ...` lines."""
    rows = re.findall(r"^control (\w+): 0x([0-9a-f]+) allowed-0 0x([0-9a-f]+) "
                      r"allowed-1 0x([0-9a-f]+) (\w+)$", run.serial, re.M)
    return {w: (int(v, 16), int(a0, 16), int(a1, 16), msr) for w, v, a0, a1, msr in rows}


def readback(run):
    m = expect(run, r"^machine\[\] read-back: (\d+) fields ok, (\d+) skipped, (\d+) mismatched$")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def skipped(run):
    return set(re.findall(r"^machine\[\] skip: (\w+) ", run.serial, re.M))


# --- The run on each model ------------------------------------------------------

@pytest.mark.parametrize("cpu", MODELS)
def test_lab03_vmxon_read_back_with_0_mismatched_every_field_accounted_for(cpu):
    """lab03: CPU: VMXON, read-back with 0 mismatched, every field accounted for"""
    run = bochs(SOLUTION, cpu)
    expect_clean_end(run)
    expect(run, r"^lab03: ")
    expect(run, r"^VMXON: ok")
    ok, skip, bad = readback(run)
    if bad != 0:
        raise TestFailure("%d mismatched fields on %s:\n%s" % (bad, cpu, "\n".join(
            re.findall(r"^machine\[\] mismatch: .*$", run.serial, re.M))))
    total = len(vmcs_fields())
    banner = int(expect(run, r"^lab03: .*machine\[\] \((\d+) components\)").group(1))
    if banner != total or ok + skip != total:
        raise TestFailure("vmcs_fields.def has %d fields; the run counted %d, %d ok + %d skipped"
                          % (total, banner, ok, skip))
    if len(skipped(run)) != skip:
        raise TestFailure("%d skipped but %d `machine[] skip:` lines" % (skip, len(skipped(run))))
    expect_not(run, r"^EXCEPTION:|^PANIC:")

@pytest.mark.parametrize("cpu", MODELS)
def test_lab03_vmlaunch_exits_with_vmcall_at_the_guest_s_vmcall_vmresume_then_h(cpu):
    """lab03: CPU: VMLAUNCH exits with VMCALL at the guest's vmcall, VMRESUME, then HLT"""
    run = bochs(SOLUTION, cpu)
    elf = build_path(*SOLUTION[:-1], "lab03.elf")
    vmcalls = function_instructions(elf, "guest_main", "vmcall")
    hlts = function_instructions(elf, "guest_main", "hlt")
    m = expect(run, r"^exit: VMCALL qualification 0x0 rip 0x([0-9a-f]+) length (\d+)$")
    if int(m.group(1), 16) not in vmcalls or int(m.group(2)) != 3:
        raise TestFailure("VMCALL exit at rip 0x%s length %s; guest_main's vmcall is at %s (3 bytes)"
                          % (m.group(1), m.group(2), [hex(a) for a in vmcalls]))
    expect(run, r"^guest rax: 0x%x \(hello\)$" % HELLO, "the guest's RAX saved by the exit stub")
    expect(run, r"^guest: VMCALL returned rax=0x%x$" % ANSWER, "the host's RAX loaded on VMRESUME")
    m = expect(run, r"^exit: HLT qualification 0x0 rip 0x([0-9a-f]+) length 1$")
    if int(m.group(1), 16) not in hlts:
        raise TestFailure("HLT exit at rip 0x%s; guest_main's hlt is at %s"
                          % (m.group(1), [hex(a) for a in hlts]))
    order = [l for l in run.serial.splitlines()
             if re.match(r"^(VMLAUNCH|VMRESUME|exit:|VMXOFF)", l)]
    want = ["VMLAUNCH", "exit: VMCALL", "VMRESUME", "exit: HLT", "VMXOFF"]
    if [next(w for w in want if l.startswith(w)) for l in order] != want:
        raise TestFailure("the sequence was %s, not %s" % (order, want))
    expect(run, r"^exit count: HLT 1$")
    expect(run, r"^exit count: VMCALL 1$")
    expect(run, r"^exits: 2$")
    expect(run, r"^vmcheck: 0 violation\(s\)$", "the software checker's verdict")

@pytest.mark.parametrize("cpu", MODELS)
def test_lab03_each_control_within_allowed_0_value_allowed_1_needed_bits_set(cpu):
    """lab03: CPU: each control within allowed-0 <= value <= allowed-1, needed bits set"""
    run = bochs(SOLUTION, cpu)
    c = controls(run)
    if sorted(c) != ["ENTRY", "EXIT", "PIN", "PROC", "PROC2"]:
        raise TestFailure("control lines for %s, want PIN PROC PROC2 EXIT ENTRY" % sorted(c))
    if c["PROC2"][0] != 0 or c["PROC"][0] & (1 << 31):
        raise TestFailure("lab03 keeps the secondary controls off: PROC2 0x%x, PROC 0x%x"
                          % (c["PROC2"][0], c["PROC"][0]))
    basic = int(expect(run, r"^IA32_VMX_BASIC: 0x([0-9a-f]+)$").group(1), 16)
    true_ctls = (basic >> 55) & 1
    bits = control_bits()
    need = {"PROC": "HLT_EXITING", "EXIT": "HOST_ADDRESS_SPACE_SIZE", "ENTRY": "IA_32E_MODE_GUEST"}
    for word, (value, a0, a1, msr) in c.items():
        if value & a0 != a0:
            raise TestFailure("%s 0x%x lacks must-be-1 bits 0x%x" % (word, value, a0 & ~value))
        if value & ~a1:
            raise TestFailure("%s 0x%x has must-be-0 bits 0x%x" % (word, value, value & ~a1))
        if word != "PROC2" and ("_TRUE_" in msr) != bool(true_ctls):
            raise TestFailure("%s bounds from %s, but IA32_VMX_BASIC bit 55 is %d"
                              % (word, msr, true_ctls))
        if word in need:
            bit = next(b for (w, b), n in bits.items() if w == word and n == need[word])
            if not value & (1 << bit):
                raise TestFailure("%s 0x%x lacks %s (bit %d)" % (word, value, need[word], bit))


def test_lab03_tigerlake_the_vmcs_revision_id_is_4_and_comes_from_ia32_vmx_basi():
    """lab03: tigerlake: the VMCS revision id is 4 and comes from IA32_VMX_BASIC"""
    run = bochs(SOLUTION, TIGERLAKE)
    basic = int(expect(run, r"^IA32_VMX_BASIC: 0x([0-9a-f]+)$").group(1), 16)
    rev = int(expect(run, r"^VMCS revision id: 0x([0-9a-f]+)$").group(1), 16)
    if rev != basic & 0x7FFFFFFF or rev != 4:
        raise TestFailure("revision id 0x%x, IA32_VMX_BASIC 0x%x (tigerlake reports 4)" % (rev, basic))


def test_lab03_penryn_lacks_the_ept_vpid_fields_haswell_has_and_says_why():
    """lab03: penryn lacks the EPT/VPID fields haswell has, and says why"""
    has, pen = bochs(SOLUTION, HASWELL), bochs(SOLUTION, PENRYN)
    ok_h, skip_h, _ = readback(has)
    ok_p, skip_p, _ = readback(pen)
    if not ok_p < ok_h:
        raise TestFailure("penryn read back %d fields, haswell %d: penryn should have fewer" % (ok_p, ok_h))
    # The reason, from the run's own PROC2 bounds: no ENABLE_EPT / ENABLE_VPID allowed-1.
    bits = {n: b for (w, b), n in control_bits().items() if w == "PROC2"}
    a1_h, a1_p = controls(has)["PROC2"][2], controls(pen)["PROC2"][2]
    for name in ("ENABLE_EPT", "ENABLE_VPID"):
        if a1_p & (1 << bits[name]) or not a1_h & (1 << bits[name]):
            raise TestFailure("PROC2 allowed-1: haswell 0x%x, penryn 0x%x; %s should be only haswell's"
                              % (a1_h, a1_p, name))
    # Fields that exist only with EPT and VPID, which penryn lacks.
    for f in ("EPT_POINTER", "VIRTUAL_PROCESSOR_IDENTIFIER"):
        if f not in skipped(pen):
            raise TestFailure("penryn did not skip %s" % f)
        if f in skipped(has):
            raise TestFailure("haswell skipped %s" % f)
    expect(pen, r"^machine\[\] skip: EPT_POINTER \(error 12\)$")
    # A machine[] loop never writes the read-only fields (VM-exit
    # information), so the read-back test skips every one the CPU has, on
    # every model, and counts them in its summary.
    ro = {n for n, _, _, g in vmcs_fields() if g == "READ_ONLY"}
    for run in (pen, has):
        m = expect(run, r"^machine\[\] skipped: (\d+) not supported .*, (\d+) read-only "
                        r"\(VM-exit information\)$")
        ro_lines = set(re.findall(r"^machine\[\] skip: (\w+) \(read-only\)$", run.serial, re.M))
        if not ro <= skipped(run) or not ro_lines <= ro or len(ro_lines) != int(m.group(2)):
            raise TestFailure("%s: every read-only field must be skipped (%s missing), %s counted "
                              "read-only, %d skip lines" % (run.name, sorted(ro - skipped(run)),
                                                            m.group(2), len(ro_lines)))
    if skipped(has) - skipped(pen):
        raise TestFailure("haswell lacks fields penryn has: %s" % sorted(skipped(has) - skipped(pen)))


# --- Failures, explained -----------------------------------------------------------

@pytest.mark.parametrize("cpu", MODELS)
def test_lab03_a_required_control_the_cpu_lacks_is_reported_by_bit_name_word_an(cpu):
    """lab03: CPU: a required control the CPU lacks is reported by bit name, word and MSR"""
    run = bochs(BROKEN, cpu, "broken")
    expect_clean_end(run)
    m = expect(run, r"^control (\w+): required bit (\d+) (\w+) is not allowed by (\w+) = "
                    r"0x([0-9a-f]{16}) \(allowed-1 0x([0-9a-f]+)\)$")
    word, bit, name, msr, value, a1 = m.group(1), int(m.group(2)), m.group(3), m.group(4), \
        int(m.group(5), 16), int(m.group(6), 16)
    if control_bits().get((word, bit)) != name:
        raise TestFailure("bit %d of %s is %s in vmx_controls.def, the run said %s"
                          % (bit, word, control_bits().get((word, bit)), name))
    if a1 != value >> 32 or a1 & (1 << bit):
        raise TestFailure("%s = 0x%x: allowed-1 0x%x; bit %d must be clear there" % (msr, value, a1, bit))
    expect(run, r"^lab03: test mode: requiring control %s bit %d %s" % (word, bit, name))
    expect(run, r"stopping before VMLAUNCH")
    expect_not(run, r"^VMLAUNCH|^exit: ")
    expect(run, r"^VMXOFF: ok$")


def break_run(field, value, cpu=HASWELL):
    """The solution built with BREAK=FIELD=VALUE (lab.mk), run once."""
    def go():
        target = os.path.join("build", "solutions", "lab03", "break", "%s-%s" % (field, value),
                              "lab03-break.img")
        p = subprocess.run(["make", "-s", "SOLUTION=1", "BREAK=%s=%s" % (field, value), target],
                           cwd=TOP, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise TestFailure("make BREAK=%s=%s failed:\n%s" % (field, value, p.stdout + p.stderr))
        return emu.run_bochs(os.path.join(TOP, target), cpu=cpu, timeout=60,
                             name="lab03-break-%s-%s" % (field, value))
    return once(("lab03-break", field, value, cpu), go)


def test_lab03_a_bad_guest_tr_type_is_an_entry_failure_explained_by_reason_and():
    """lab03: a bad guest TR type is an entry failure, explained by reason and qualification"""
    run = break_run("GUEST_TR_ACCESS_RIGHTS", "0x83")
    expect(run, r"^lab03: test mode: VMWRITE GUEST_TR_ACCESS_RIGHTS = 0x83$")
    expect(run, r"^exit: ENTRY_FAILURE_INVALID_GUEST_STATE \(entry failure, reason 0x80000021\) "
                r"qualification 0x0$")
    expect(run, r"^entry failure: VM-entry failure due to invalid guest state$")
    expect(run, r"^entry failure qualification: 0x0 = ")
    expect_not(run, r"^VMLAUNCH: ok|^exit: VMCALL")
    expect(run, r"^VMXOFF: ok$")


def test_lab03_an_invalid_vmcs_link_pointer_entry_failure_with_qualification_4():
    """lab03: an invalid VMCS link pointer: entry failure with qualification 4, explained"""
    run = break_run("VMCS_LINK_POINTER", "0")
    expect(run, r"^exit: ENTRY_FAILURE_INVALID_GUEST_STATE \(entry failure, reason 0x80000021\) "
                r"qualification 0x4$")
    expect(run, r"^entry failure qualification: 0x4 = VMCS_LINK_POINTER: ")
    expect_not(run, r"^VMLAUNCH: ok")


def test_lab03_vmlaunch_with_a_control_the_cpu_forbids_vmfailvalid_error_7_by_n():
    """lab03: VMLAUNCH with a control the CPU forbids: VMfailValid error 7 by name"""
    run = break_run("PIN_BASED_VM_EXECUTION_CONTROLS", "0")
    expect(run, r"^VMLAUNCH: VMfailValid, VM-instruction error 7: VM entry with invalid control field\(s\)$")
    expect_not(run, r"^exit: ")


def test_lab03_vmlaunch_with_a_null_host_cs_vmfailvalid_error_8_by_name():
    """lab03: VMLAUNCH with a null host CS: VMfailValid error 8 by name"""
    run = break_run("HOST_CS_SELECTOR", "0")
    expect(run, r"^VMLAUNCH: VMfailValid, VM-instruction error 8: VM entry with invalid host-state field\(s\)$")
    expect_not(run, r"^exit: ")


def test_lab03_make_rejects_a_malformed_break_with_a_one_line_message():
    """lab03: make rejects a malformed BREAK with a one-line message"""
    for arg, msg in (("BREAK=NOT_A_FIELD=1", "is not a VMCS field name"),
                     ("BREAK=GUEST_RIP=zz", "is not a number"),
                     ("BREAK=GUEST_RIP", "must be FIELD=VALUE")):
        p = subprocess.run(["make", "-s", arg, "lab03"], cwd=TOP, capture_output=True, text=True,
                           timeout=60)
        if p.returncode == 0 or msg not in p.stderr:
            raise TestFailure("make %s: exit %d, stderr %r (want %r)" % (arg, p.returncode,
                                                                          p.stderr.strip(), msg))


# --- The starter ------------------------------------------------------------------

def test_lab03_the_untouched_starter_builds_runs_to_the_end_and_stops_at_its_to():
    """lab03: the untouched starter builds, runs to the end and stops at its TODO"""
    import sys
    sys.path.insert(0, os.path.join(TOP, "tools", "starters"))
    import starters
    pristine = all(
        open(os.path.join(TOP, st), "rb").read() == starters.expected_starter(TOP, lab, sol)
        for lab, sol, st in starters.lab_pairs(TOP) if lab == "03"
        and starters.expected_starter(TOP, lab, sol) is not None)
    run = bochs(STARTER, HASWELL, "starter")
    expect_clean_end(run)
    expect(run, r"^vmxlab: done$")
    expect_not(run, r"^EXCEPTION:|^PANIC:")
    if pristine:
        expect(run, r"^VMXON: not done yet \(TODO\(lab03\) in vmxdemo\.c\)$")
        expect_not(run, r"^machine\[\] read-back:")


# --- common/vmm as lab04 and lab05 use it (build/vmm/vmm-test.img) -----------------

VMM_TEST = ("vmm", "vmm-test.img")

@pytest.mark.parametrize("cpu", MODELS)
def test_vmm_every_gpr_survives_the_exit_stub_both_ways_kit_vmxon_adjust_load(cpu):
    """vmm: CPU: every GPR survives the exit stub both ways; kit VMXON, adjust, load"""
    run = bochs(VMM_TEST, cpu, "vmm-test")
    expect_clean_end(run)
    expect(run, r"^VMXON: ok")
    expect(run, r"^machine\[\] read-back: \d+ fields ok, \d+ skipped, 0 mismatched$")
    m = expect(run, r"^vmm test: requiring PIN bit (\d+), outside allowed-1 0x([0-9a-f]+)$")
    bit = int(m.group(1))
    name = control_bits().get(("PIN", bit), "(unnamed)")
    expect(run, r"^control PIN: required bit %d %s is not allowed by IA32_VMX_\w+ = 0x[0-9a-f]{16}"
                % (bit, re.escape(name)))
    expect(run, r"^vmm test: vmm_control_adjust refused: yes$")
    expect(run, r"^machine\[\] load: \d+ fields written")
    expect(run, r"^vmm test: GPRs saved on exit: 15/15 ok$")
    expect(run, r"^vmm test: GPRs loaded on entry: 15/15 ok$")
    expect(run, r"^exit: HLT qualification 0x0 ")
    # vmm_run_to_exit and the exit counts: launched once, 2 VMCALLs, 1 HLT.
    expect(run, r"^VMLAUNCH: ok$")
    expect_not(run, r"^VMRESUME: |^VMLAUNCH: (entry failed|VMfail)")
    expect(run, r"^exit count: HLT 1$")
    expect(run, r"^exit count: VMCALL 2$")
    expect(run, r"^exits: 3$")
    expect(run, r"^VMXOFF: ok$")
    expect_not(run, r"^EXCEPTION:|^PANIC:|^vmm test: .*reg\[")
