"""Tests of lab04 (a virtual-8086 guest whose smsw shows the CR0 guest/host
mask and read shadow), run on the solution image in Bochs.

Every expected value is computed here, independently of the lab's code:
the CR0 a guest should read is (actual & ~mask) | (shadow & mask) (SDM vol.
3C 25.3), computed from the `CR0 actual` line the host prints and the mask
and shadow THIS test chose; the I/O exit qualification is decoded here with
the layout of SDM table "Exit Qualification for I/O Instructions"; bit names
come from common/vmx/cpu_bits.def.

SMSW width: with a 32-bit register operand SMSW stores CR0 bits 31:0 on
P6-family and later processors (SDM vol. 2B, SMSW; bits 31:16 were undefined
on older ones). Bochs 2.7 stores all 32 bits (measured: mask 0xffffffff,
shadow 0x12345678 gives `guest smsw: 0x12345678`), so all 32 bits are
compared.

Each parameter set is an image of its own, built by `make lab04-params`
(tools/lab04params/params.py: params.c recompiled with -D flags, relinked)
into build/solutions/lab04/params-<hash>/, once per session.
"""

import importlib.util
import os
import random
import re
import subprocess

import pytest

from lib import emu
from lib.testlib import (expect, expect_not, expect_clean_end, build_path,
                         once, TestFailure, TOP)

HASWELL = "corei7_haswell_4770"
SOLUTION_IMG = ("solutions", "lab04", "lab04.img")
STARTER_IMG = ("lab04", "lab04.img")
SEED = 4004                     # the random mask/shadow pairs (printed in their names)


def _load_params():
    spec = importlib.util.spec_from_file_location(
        "lab04_params", os.path.join(TOP, "tools", "lab04params", "params.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


PARAMS = _load_params()


def cpu_bits():
    """{"CR0_PE": mask, ...} from common/vmx/cpu_bits.def."""
    with open(os.path.join(TOP, "common", "vmx", "cpu_bits.def")) as f:
        rows = re.findall(r"^CPU_REG_BIT\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(\d+)", f.read(), re.M)
    return {"%s_%s" % (reg, name): 1 << int(bit) for reg, name, bit in rows}


BITS = cpu_bits()
CR0_PE, CR0_NE, CR0_ET, CR0_MP, CR0_PG = (BITS["CR0_" + n] for n in ("PE", "NE", "ET", "MP", "PG"))


def lab04(values=None, cpu=HASWELL, image=SOLUTION_IMG):
    """One Bochs run per (parameter set, cpu, image) for the whole session."""
    values = dict(values or {})
    checked = PARAMS.check({k: v for k, v in values.items()})
    key = ("lab04", tuple(sorted(checked.items())), cpu, image)

    def run():
        base = build_path(*image)
        # One image per (values, image), built with -D flags by make
        # lab04-params and shared by the runs on every CPU model.
        path = once(("lab04-image", tuple(sorted(checked.items())), image),
                    lambda: PARAMS.image(checked, solution=(image == SOLUTION_IMG))) if checked else base
        tag = PARAMS.variant(checked) if checked else "default"
        return emu.run_bochs(path, cpu=cpu, timeout=90,
                             name="lab04-%s-%s-%s" % (image[0], tag, cpu))
    return once(key, run)


def number(run, label):
    """The value of the line `label: 0x...`."""
    m = expect(run, r"^%s: (0x[0-9a-f]+)\b" % re.escape(label), "a `%s:` line" % label)
    return int(m.group(1), 16)


def guest_view(actual, mask, shadow):
    return ((actual & ~mask) | (shadow & mask)) & 0xFFFFFFFF


def fixed0():
    """IA32_VMX_CR0_FIXED0 as a default lab04 run prints it."""
    return number(lab04(), "IA32_VMX_CR0_FIXED0")


def check_smsw(run, mask, shadow):
    """The host printed the mask and shadow the test chose, and the guest's
    smsw equals what the test computes from `CR0 actual`."""
    expect_clean_end(run)
    expect_not(run, r"^EXCEPTION:")
    expect(run, r"^vmcheck: 0 violation\(s\)$")
    if number(run, "CR0 mask") != mask or number(run, "CR0 shadow") != shadow:
        raise TestFailure("the run printed CR0 mask 0x%08x shadow 0x%08x, the test gave 0x%08x 0x%08x (%s)"
                          % (number(run, "CR0 mask"), number(run, "CR0 shadow"), mask, shadow, run.dir))
    actual = number(run, "CR0 actual")
    want = guest_view(actual, mask, shadow)
    if number(run, "CR0 expected") != want:
        raise TestFailure("host's CR0 expected 0x%08x, the test computes 0x%08x from actual 0x%08x (%s)"
                          % (number(run, "CR0 expected"), want, actual, run.dir))
    smsw = number(run, "guest smsw")
    if smsw != want:
        raise TestFailure("guest smsw 0x%08x, expected 0x%08x = (actual 0x%08x & ~mask 0x%08x) | "
                          "(shadow 0x%08x & mask) (%s/serial.txt)" % (smsw, want, actual, mask, shadow, run.dir))
    # The CR0 the guest ran with (saved by the VM exit) is the host's prediction.
    if number(run, "CR0 after exit") != actual:
        raise TestFailure("CR0 after exit 0x%08x differs from CR0 actual 0x%08x (%s)"
                          % (number(run, "CR0 after exit"), actual, run.dir))
    expect(run, r"^guest: done \(its final hlt raised #GP")
    expect(run, r"^vmxlab: done$")


def guest_lines(run):
    return [l for l in run.serial.splitlines() if l.startswith("guest")
            and not l.startswith("guest: done") and not l.startswith("guest: stopped")]


def check_io_exits(run):
    """With IO_EXITING=1: every port access exited; each exit line's decoded
    fields agree with this test's decoding of its qualification (SDM table
    "Exit Qualification for I/O Instructions"); the count is two per byte the guest printed (one LSR read, one THR
    write: the emulated LSR always says "empty")."""
    lines = re.findall(r"^exit: IO_INSTRUCTION qualification (0x[0-9a-f]+) port (0x[0-9a-f]+) "
                       r"(in|out) size (\d)( immediate)? value (0x[0-9a-f]+)$", run.serial, re.M)
    if not lines:
        raise TestFailure("no decoded IO_INSTRUCTION exit lines (%s/serial.txt)" % run.dir)
    for q, port, direction, size, imm, value in lines:
        q = int(q, 16)
        decoded = ((q >> 16) & 0xFFFF, "in" if q & 8 else "out", (q & 7) + 1, bool(q & 0x40))
        if decoded != (int(port, 16), direction, int(size), bool(imm)):
            raise TestFailure("qualification 0x%x decodes to port 0x%x %s size %d immediate %s, "
                              "the host printed port %s %s size %s%s" % ((q,) + decoded + (port, direction, size, imm)))
        if decoded[0] == 0x3FD and direction == "in" and int(value, 16) & 0x20 == 0:
            raise TestFailure("an emulated LSR read returned 0x%s without THRE" % value)
    printed = sum(len(l) + 1 for l in guest_lines(run))        # + the newline
    count = number_dec(run, "exit count: IO_INSTRUCTION")
    if count != len(lines) or count != 2 * printed:
        raise TestFailure("IO_INSTRUCTION exits: %d counted, %d lines, but the guest printed %d bytes "
                          "(expected 2 exits per byte) (%s/serial.txt)" % (count, len(lines), printed, run.dir))
    m = expect(run, r"^io emulated: (\d+) bytes sent, (\d+) LSR reads, 0 other$")
    if int(m.group(1)) != printed or int(m.group(2)) != printed:
        raise TestFailure("io emulated line %r, the guest printed %d bytes" % (m.group(0), printed))


def number_dec(run, label):
    m = expect(run, r"^%s (\d+)$" % re.escape(label))
    return int(m.group(1))


# --- The mask/shadow pairs -------------------------------------------------

def pairs():
    """(name, mask, shadow); mask None = IA32_VMX_CR0_FIXED0, read from a run."""
    rnd = random.Random(SEED)
    out = [
        ("0/0", 0, 0),
        ("all ones", 0xFFFFFFFF, 0xFFFFFFFF),
        ("all ones, shadow 0", 0xFFFFFFFF, 0),
        ("only PE", CR0_PE, 0xFFFFFFFF & ~CR0_PE),      # other shadow bits must not leak
        ("only PG", CR0_PG, 0xFFFFFFFF & ~CR0_PG),
        ("the bits fixed to 1", None, 0),
        ("the default", 0x80000001, 0),
    ]
    for i in range(3):
        out.append(("random %d (seed %d)" % (i + 1, SEED), rnd.getrandbits(32), rnd.getrandbits(32)))
    return out


def pair_id(name, mask, shadow, io_exiting):
    label = "mask %s shadow 0x%08x" % ("FIXED0" if mask is None else "0x%08x" % mask, shadow)
    return "%s (%s)%s" % (name, label, ", IO_EXITING=1" if io_exiting else "")


PAIRS = [(n, m, s, io) for io in (False, True) for n, m, s in pairs()]


@pytest.mark.parametrize("name,mask,shadow,io_exiting", PAIRS, ids=[pair_id(*p) for p in PAIRS])
def test_lab04_guest_smsw_is_cr0_expected(name, mask, shadow, io_exiting):
    """lab04: guest smsw = CR0 expected, for a mask/shadow pair (and with IO_EXITING=1)"""
    m = fixed0() if mask is None else mask
    values = {"CR0_MASK": m, "CR0_SHADOW": shadow}
    if io_exiting:
        values["IO_EXITING"] = 1
    run = lab04(values)
    check_smsw(run, m, shadow)
    if io_exiting:
        check_io_exits(run)
    else:
        expect_not(run, r"^exit: IO_INSTRUCTION", "I/O exit (COM1 should pass through)")


def test_lab04_the_default_run_shows_the_guest_believing_it_is_in_real_mode_pe():
    """lab04: the default run shows the guest believing it is in real mode (PE, PG hidden)"""
    run = lab04()
    check_smsw(run, 0x80000001, 0)
    if number(run, "guest smsw") & (CR0_PE | CR0_PG):
        raise TestFailure("PE or PG visible to the guest: %s" % run.dir)
    expect(run, r"^params: the defaults")


def test_lab04_the_guest_reads_the_bios_tick_count_at_0040_006c_as_the_host_see():
    """lab04: the guest reads the BIOS tick count at 0040:006C as the host sees it"""
    run = lab04()
    host = number(run, "host bios ticks")
    guest = number(run, "guest bios ticks")
    if host != guest:
        raise TestFailure("guest read 0x%08x at 0040:006C, the host 0x%08x at physical 0x46C (%s)"
                          % (guest, host, run.dir))


def test_lab04_the_final_hlt_is_a_gp_exception_exit_vector_13_error_code_0_at_g():
    """lab04: the final hlt is a #GP exception exit (vector 13, error code 0) at guest_final_hlt"""
    run = lab04()
    elf = build_path("solutions", "lab04", "lab04.elf")
    syms = {}
    for line in subprocess.run(["nm", elf], capture_output=True, text=True, check=True, timeout=60).stdout.splitlines():
        p = line.split()
        if len(p) == 3:
            syms[p[2]] = int(p[0], 16)
    ip = syms["guest_final_hlt"] - syms["guest_image_start"]
    expect(run, r"^exit: EXCEPTION_OR_NMI qualification 0x0 rip 0x%x length 1$" % ip)
    expect(run, r"^exception: vector 13 #GP, hardware exception, error code 0x0, at 1000:%04x$" % ip)
    expect(run, r"^exit count: EXCEPTION_OR_NMI 1$")
    expect(run, r"^exits: 1$")


def test_lab04_exception_bitmap_0x100_reports_the_guest_s_df_as_an_exception_ex():
    """lab04: EXCEPTION_BITMAP=0x100 reports the guest's #DF as an exception exit with vector and error code"""
    run = lab04({"EXCEPTION_BITMAP": 0x100})
    expect_clean_end(run)
    # #GP (not intercepted) finds no guest IDT (limit 0): the second fault
    # while delivering the first makes a double fault, which is intercepted.
    expect(run, r"^exit: EXCEPTION_OR_NMI qualification 0x0 ")
    expect(run, r"^exception: vector 8 #DF, hardware exception, error code 0x0, at 1000:[0-9a-f]{4}$")
    expect(run, r"^guest: stopped by this exception$")
    expect_not(run, r"^exception: vector 13")


def test_lab04_exception_bitmap_0_lets_the_gp_escalate_to_a_triple_fault_exit():
    """lab04: EXCEPTION_BITMAP=0 lets the #GP escalate to a TRIPLE_FAULT exit"""
    run = lab04({"EXCEPTION_BITMAP": 0})
    expect_clean_end(run)
    expect(run, r"^exit: TRIPLE_FAULT qualification 0x0 ")
    expect_not(run, r"^exit: EXCEPTION_OR_NMI")
    expect(run, r"^exit count: TRIPLE_FAULT 1$")


def test_lab04_exception_bitmap_0xffffffff_still_ends_at_the_gp_of_the_final_hl():
    """lab04: EXCEPTION_BITMAP=0xffffffff still ends at the #GP of the final hlt"""
    run = lab04({"EXCEPTION_BITMAP": 0xFFFFFFFF})
    expect(run, r"^exception: vector 13 #GP, hardware exception, error code 0x0")
    expect(run, r"^guest: done ")


def test_lab04_a_guest_cr0_without_pe_and_pg_is_refused_by_the_checker_before_l():
    """lab04: a GUEST_CR0 without PE and PG is refused by the checker before launch, naming the bits"""
    run = lab04({"GUEST_CR0": CR0_NE | CR0_ET})
    expect_clean_end(run)
    expect(run, r"^vmcheck: GUEST_CR0_FIXED_BITS \(SDM 26\.3\.1\.1\): .*\[GUEST_CR0=0x30\]$")
    expect(run, r"^GUEST_CR0 0x00000030 lacks bits IA32_VMX_CR0_FIXED0 \(0x[0-9a-f]+\) requires: PE PG$")
    expect(run, r"^lab04: the checker refuses this VMCS; not launching$")
    expect_not(run, r"^VMLAUNCH")
    expect_not(run, r"^guest smsw")


def test_lab04_a_guest_cr0_without_ne_is_refused_by_the_checker_naming_ne():
    """lab04: a GUEST_CR0 without NE is refused by the checker, naming NE"""
    run = lab04({"GUEST_CR0": CR0_PG | CR0_ET | CR0_PE})
    expect(run, r"^vmcheck: GUEST_CR0_FIXED_BITS ")
    expect(run, r"^GUEST_CR0 0x80000011 lacks bits IA32_VMX_CR0_FIXED0 \(0x[0-9a-f]+\) requires: NE$")
    expect_not(run, r"^VMLAUNCH")


def test_lab04_an_allowed_guest_cr0_with_mp_is_what_the_guest_runs_with():
    """lab04: an allowed GUEST_CR0 (with MP) is what the guest runs with"""
    cr0 = fixed0() | CR0_ET | CR0_MP
    run = lab04({"GUEST_CR0": cr0, "CR0_MASK": 0, "CR0_SHADOW": 0})
    check_smsw(run, 0, 0)
    if number(run, "CR0 actual") != cr0 or number(run, "guest smsw") != cr0:
        raise TestFailure("GUEST_CR0=0x%08x but actual 0x%08x, smsw 0x%08x (%s)"
                          % (cr0, number(run, "CR0 actual"), number(run, "guest smsw"), run.dir))


def make(*args):
    p = subprocess.run(["make", "--no-print-directory", "-C", TOP] + list(args),
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr



def expect_refused(arg, pattern):
    """`make -n run-lab04 SOLUTION=1 ARG` stops with exit 2 and one line
    matching PATTERN. (-n: even the recipes are only printed; the check runs
    while make reads lab.mk, so a bad value stops before any of that.)"""
    rc, out = make("-n", "run-lab04", "SOLUTION=1", arg)
    lines = [l for l in out.splitlines() if l.strip()]
    if rc != 2 or len(lines) != 1 or not re.search(pattern, lines[0]):
        raise TestFailure("make run-lab04 %s: exit %d, output %r; wanted exit 2 and one line /%s/"
                          % (arg, rc, out[-500:], pattern))


def test_lab04_make_run_lab04_refuses_malformed_and_too_wide_values_before_buil():
    """lab04: make run-lab04 refuses malformed and too-wide values before building, naming them"""
    cases = [("CR0_MASK=0x1g", r"CR0_MASK=0x1g is not a number"),
             ("CR0_SHADOW=0x100000000", r"CR0_SHADOW=0x100000000 is wider than 32 bits"),
             ("EXCEPTION_BITMAP=12a", r"EXCEPTION_BITMAP=12a is not a number"),
             ("CR4_MASK=-1", r"CR4_MASK=-1 is not a number"),
             ("GUEST_CR0=99999999999", r"GUEST_CR0=99999999999 is wider than 32 bits"),
             ("IO_EXITING=2", r"IO_EXITING=2: must be 0 or 1")]
    for arg, pattern in cases:
        expect_refused(arg, pattern)


def test_lab04_make_run_lab04_refuses_a_misspelled_parameter_naming_the_real_on():
    """lab04: make run-lab04 refuses a misspelled parameter, naming the real one, and leaves other variables alone"""
    cases = [("CR0MASK=1", r"CR0MASK is not a lab04 parameter; did you mean CR0_MASK\?"),
             ("cr0_shadow=0x8", r"cr0_shadow is not a lab04 parameter; did you mean CR0_SHADOW\?"),
             ("IO_EXITNG=1", r"IO_EXITNG is not a lab04 parameter; did you mean IO_EXITING\?"),
             ("EXCEPTION_BITMASK=0", r"EXCEPTION_BITMASK is not a lab04 parameter; "
                                     r"did you mean EXCEPTION_BITMAP\?"),
             ("CR_MASK=1", r"CR_MASK is not a lab04 parameter; did you mean CR0_MASK or CR4_MASK\?")]
    for arg, pattern in cases:
        expect_refused(arg, pattern)
    # The kit's own variables, and names that resemble no parameter, still pass.
    others = ["BOCHS_CPU=" + HASWELL, "V=1", "KVM=0", "SHADOW=1", "FOO_MASK=1", "CR0_MASK=0x1",
              "LAB04_OUT=" + os.path.join(TOP, "build", "solutions", "lab04", "unused", "lab04.img")]
    rc, out = make("-n", "run-lab04", "SOLUTION=1", *others)
    if rc != 0 or "not a lab04 parameter" in out:
        raise TestFailure("make -n run-lab04 %s: exit %d, output %r; wanted exit 0"
                          % (" ".join(others), rc, out[-500:]))


def test_lab04_make_lab04_params_writes_the_image_the_grader_runs():
    """lab04: make lab04-params writes the parameter set's image the grader runs"""
    out_img = os.path.join(TOP, "build", "solutions", "lab04", "test-lab04-params", "lab04.img")
    rc, out = make("lab04-params", "SOLUTION=1", "CR0_MASK=0x8", "CR0_SHADOW=0x8",
                   "LAB04_OUT=" + out_img)
    if rc != 0 or out.strip().splitlines()[-1] != out_img:
        raise TestFailure("make lab04-params: exit %d, output %r" % (rc, out[-500:]))
    run = once(("lab04-params-image",), lambda: emu.run_bochs(out_img, timeout=90,
                                                              name="lab04-make-lab04-params"))
    expect(run, r"^param CR0_MASK: 0x00000008 \(from the make command line\)$")
    check_smsw(run, 0x8, 0x8)


def test_lab04_the_untouched_starter_builds_runs_and_stops_cleanly_the_checker():
    """lab04: the untouched starter builds, runs and stops cleanly (the checker refuses its guest state)"""
    run = lab04(image=STARTER_IMG)
    expect_clean_end(run)
    expect_not(run, r"^EXCEPTION:")
    expect(run, r"^vmcheck: GUEST_V86_")
    expect(run, r"^lab04: the checker refuses this VMCS; not launching$")
    expect(run, r"^vmxlab: done$")


def test_lab04_qemu_tcg_says_there_is_no_vmx_and_ends_cleanly():
    """lab04: QEMU (TCG) says there is no VMX and ends cleanly"""
    run = once(("lab04-qemu",), lambda: emu.run_qemu(
        name="lab04-qemu-tcg", floppy=build_path(*SOLUTION_IMG), timeout=60))
    expect_clean_end(run)
    expect(run, r"^VMXON: .*\bno VMX\b")      # the wording is common/vmm/vmxon.c's
    expect_not(run, r"^VMLAUNCH")
    expect(run, r"^vmxlab: done$")


@pytest.mark.parametrize("cpu", ["core2_penryn_t9600", "tigerlake"])
def test_lab04_guest_smsw_is_cr0_expected_on(cpu):
    """lab04: guest smsw = CR0 expected on CPU"""
    check_smsw(lab04({"CR0_MASK": 0x80000021, "CR0_SHADOW": 0x00000010}, cpu=cpu),
               0x80000021, 0x00000010)
