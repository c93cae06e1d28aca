"""Tests of the VMX fact lists (common/vmx/*.def), their expansions (C headers
in common/include/vmx/, NASM and GNU as includes in build/gen/) and the host
tool vmxinfo.

The cmocka unit tests (tests/unit/, built into build/tests/unit/) give one
result per TAP line. The vmxinfo tests run the real binary; expected values
are SDM facts (field 0x0000400A is the CR3-target count, ...) or come from
another expansion of the same list. The compile tests build the headers the
three ways the kit uses them: hosted, freestanding, and in a Linux module.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from lib.testlib import build_path, run_tap, Skip, TestFailure, TOP

UNIT_SRC = os.path.join(TOP, "tests", "unit")
INCLUDE = os.path.join(TOP, "common", "include")

# --- cmocka unit tests: one pytest item per program ----------------------------

UNIT_PROGRAMS = sorted(os.path.splitext(os.path.basename(src))[0]
                       for src in glob.glob(os.path.join(UNIT_SRC, "test_*.c")))


@pytest.mark.parametrize("program", UNIT_PROGRAMS)
def test_facts_unit_program(program):
    """facts: every TAP line of a cmocka unit program (tests/unit/PROGRAM.c) is ok"""
    results = run_tap([os.path.join(TOP, "build", "tests", "unit", program)])
    failed = ["%s: %s" % (name, msg.strip()) for name, status, msg in results if status == "FAIL"]
    if failed:
        raise TestFailure("%s: %d of %d checks failed:\n%s"
                          % (program, len(failed), len(results), "\n".join(failed)))


# --- vmxinfo -------------------------------------------------------------------

def vmxinfo(*args):
    exe = build_path("tools", "vmxinfo")
    return subprocess.run([exe] + list(args), capture_output=True, text=True, timeout=10)


def ok(*args):
    """Run vmxinfo; it must exit 0 with nothing on stderr. Returns stdout."""
    p = vmxinfo(*args)
    if p.returncode != 0 or p.stderr:
        raise TestFailure("vmxinfo %s: exit %d, stderr %r" % (" ".join(args), p.returncode, p.stderr))
    return p.stdout


def has(text, pattern, what):
    if not re.search(pattern, text, re.M):
        raise TestFailure("%s: /%s/ not found in:\n%s" % (what, pattern, text))


def test_facts_vmxinfo_field_0x0000400a_names_cr3_target_count_32_bit_control_i():
    """facts: vmxinfo field 0x0000400A names CR3_TARGET_COUNT, 32-bit control, index 5"""
    out = ok("field", "0x0000400A")
    has(out, r"^name: CR3_TARGET_COUNT$", "name")
    has(out, r"^description: CR3-target count$", "description")
    has(out, r"^width: 32-bit$", "width")
    has(out, r"^type: control$", "type")
    has(out, r"^access: full$", "access type")
    has(out, r"^index: 5$", "index")


def test_facts_vmxinfo_field_by_name_case_insensitive_with_or_without_vmcs():
    """facts: vmxinfo field by name, case-insensitive, with or without VMCS_"""
    for name in ("GUEST_RIP", "guest_rip", "VMCS_Guest_Rip"):
        out = ok("field", name)
        has(out, r"^name: GUEST_RIP$", name)
        has(out, r"^encoding: 0x0000681e$", name)
        has(out, r"^width: natural-width$", name)
        has(out, r"^type: guest-state$", name)


def test_facts_vmxinfo_field_round_trips_every_field_of_vmxinfo_fields():
    """facts: vmxinfo field round-trips every field of `vmxinfo fields`"""
    listing = ok("fields").splitlines()
    count = int(re.search(r"(\d+) VMCS fields", ok("--version")).group(1))
    if len(listing) != count or count < 150:
        raise TestFailure("`vmxinfo fields` lists %d fields, --version says %d" % (len(listing), count))
    for line in listing:
        enc, width, group, name = line.split()[:4]
        out = ok("field", enc)
        has(out, r"^name: %s$" % name, "field %s" % enc)
        has(out, r"^width: %s$" % re.escape(width), "field %s" % enc)
        if ok("field", name).splitlines()[3] != "encoding: %s" % enc:
            raise TestFailure("field %s by name gives another encoding than %s" % (name, enc))


def def_rows(fname, macro):
    """The argument lists of every MACRO(...) line of common/vmx/<fname>, read
    by Python independently of the C preprocessor."""
    text = open(os.path.join(TOP, "common", "vmx", fname)).read()
    return [[a.strip() for a in m.split(",", 4)]
            for m in re.findall(r"^%s\((.*)\)\s*$" % macro, text, re.M)]


def test_facts_vmxinfo_fields_lists_exactly_the_lines_of_vmcs_fields_def():
    """facts: vmxinfo fields lists exactly the lines of vmcs_fields.def"""
    width = {"16": "16-bit", "32": "32-bit", "64": "64-bit", "NATURAL": "natural-width"}
    group = {"CONTROL": "control", "READ_ONLY": "read-only", "GUEST_STATE": "guest-state",
             "HOST_STATE": "host-state"}
    want = sorted("0x%08x %s %s %s" % (int(r[1], 16), width[r[2]], group[r[3]], r[0])
                  for r in def_rows("vmcs_fields.def", "VMCS_FIELD"))
    got = sorted(" ".join(l.split()[:4]) for l in ok("fields").splitlines())
    if want != got or len(want) < 150:
        raise TestFailure("differences between the list and vmxinfo: %s"
                          % sorted(set(want) ^ set(got))[:10])


def test_facts_vmxinfo_exits_and_errors_list_exactly_the_lines_of_their_def_fil():
    """facts: vmxinfo exits and errors list exactly the lines of their .def files"""
    want = sorted((int(r[1]), r[0]) for r in def_rows("vmx_exit_reasons.def", "VMX_EXIT_REASON"))
    got = sorted((int(l.split()[0]), l.split()[1]) for l in ok("exits").splitlines())
    if want != got or len(want) < 60:
        raise TestFailure("exit reasons differ: %s" % sorted(set(want) ^ set(got))[:10])
    want = sorted((int(r[0]), r[1]) for r in def_rows("vmx_errors.def", "VMX_INSTRUCTION_ERROR"))
    got = sorted((int(l.split()[0]), l.split()[1]) for l in ok("errors").splitlines())
    if want != got or len(want) < 20:
        raise TestFailure("error numbers differ: %s vs %s" % (want, got))


def test_facts_vmxinfo_layouts_layout_and_values_list_exactly_the_lines_of_vmx():
    """facts: vmxinfo layouts, layout and values list exactly the lines of vmx_layouts.def and vmx_values.def"""
    rows = def_rows("vmx_layouts.def", "VMX_BITFIELD")
    want = {}
    for r in rows:
        want.setdefault(r[0], []).append(r[1])
    got = dict((l.split()[0], int(l.split()[1])) for l in ok("layouts").splitlines())
    if got != dict((k, len(v)) for k, v in want.items()) or len(want) < 10:
        raise TestFailure("vmxinfo layouts: %s, the list: %s" % (got, want))
    for layout, names in want.items():
        # "bit  4     NAME ..." or "bits 31:16 NAME ...": the name is the third word
        listed = [l.split()[2] for l in ok("layout", layout.lower()).splitlines()]
        if listed != names:
            raise TestFailure("vmxinfo layout %s lists %s, the list has %s" % (layout, listed, names))
    want = sorted((r[0], r[1], int(r[2], 0)) for r in def_rows("vmx_values.def", "VMX_VALUE"))
    got = sorted((l.split()[0], l.split()[1], int(l.split()[2], 16)) for l in ok("values").splitlines())
    if want != got or len(want) < 50:
        raise TestFailure("values differ: %s" % sorted(set(want) ^ set(got))[:10])
    got = [l.split()[1] for l in ok("values", "activity").splitlines()]
    if got != ["ACTIVE", "HLT", "SHUTDOWN", "WAIT_FOR_SIPI"]:
        raise TestFailure("vmxinfo values ACTIVITY: %s" % got)


def test_facts_vmxinfo_layout_decodes_an_i_o_exit_qualification_v8086_access_ri():
    """facts: vmxinfo layout decodes an I/O exit qualification, v8086 access rights and a #GP exit"""
    # `in al, dx` with DX = 0x3FD (COM1's line status register): SDM 27.2.1,
    # table "Exit Qualification for I/O Instructions": port in bits 31:16, bit 3 = IN,
    # size - 1 = 0.
    out = ok("layout", "IO_QUAL", "0x03FD0008")
    for rx in (r"^PORT: 0x3fd  \(", r"^DIRECTION_IN: yes ", r"^SIZE: 0x0 ", r"^STRING: no ",
               r"^IMMEDIATE: no "):
        has(out, rx, "IO_QUAL 0x03FD0008")
    # Access rights 0xF3 (SDM 26.3.1.2: every segment of a virtual-8086 guest).
    out = ok("layout", "SEG_AR", "0xF3")
    for rx in (r"^TYPE: 0x3 DATA_RW_ACCESSED ", r"^S: yes ", r"^DPL: 0x3 ", r"^P: yes ", r"^UNUSABLE: no "):
        has(out, rx, "SEG_AR 0xF3")
    has(ok("layout", "SEG_AR", "0x8B"), r"^TYPE: 0xb TSS32_BUSY ", "SEG_AR 0x8B (S = 0: a system type)")
    # A #GP with error code as VM-exit interruption information (SDM 24.9.2).
    out = ok("layout", "INTR_INFO_EXIT", "0x80000B0D")
    for rx in (r"^VECTOR: 0xd ", r"^TYPE: 0x3 HARDWARE_EXCEPTION ", r"^ERROR_CODE_VALID: yes ",
               r"^NMI_UNBLOCKING: no ", r"^VALID: yes "):
        has(out, rx, "INTR_INFO_EXIT 0x80000B0D")
    has(ok("layout", "EPTP", "0x501E"), r"^MEMORY_TYPE: 0x6 WB ", "EPTP 0x501E")


def test_facts_vmxinfo_fields_group_width_filter():
    """facts: vmxinfo fields --group/--width filter"""
    host16 = ok("fields", "--group", "host", "--width", "16").splitlines()
    if len(host16) != 7 or not all(re.search(r"\s16-bit\s+host-state\s+HOST_\w+_SELECTOR\s", l)
                                   for l in host16):
        raise TestFailure("16-bit host-state fields are the 7 host selectors (SDM B.1.3); got:\n"
                          + "\n".join(host16))
    ro = ok("fields", "--group", "read-only").splitlines()
    if not ro or not all(re.search(r"\sread-only\s", l) for l in ro):
        raise TestFailure("--group read-only listed other fields:\n" + "\n".join(ro))


def test_facts_vmxinfo_field_0x2807_is_the_high_half_of_guest_ia32_efer():
    """facts: vmxinfo field 0x2807 is the high half of GUEST_IA32_EFER"""
    out = ok("field", "0x2807")
    has(out, r"^name: GUEST_IA32_EFER$", "name")
    has(out, r"^access: high \(bits 63:32 of GUEST_IA32_EFER, full encoding 0x00002806\)$", "access")


def test_facts_vmxinfo_field_with_an_undefined_but_well_formed_encoding_decodes():
    """facts: vmxinfo field with an undefined but well-formed encoding decodes its bits, exit 1"""
    p = vmxinfo("field", "0x6C7E")
    if p.returncode != 1 or p.stderr:
        raise TestFailure("exit %d (want 1), stderr %r" % (p.returncode, p.stderr))
    has(p.stdout, r"not a field defined in the SDM", "message")
    has(p.stdout, r"^width: natural-width$", "width")
    has(p.stdout, r"^type: host-state$", "type")
    has(p.stdout, r"^index: 63$", "index")


BAD_INPUT = [
    ("unknown field name", ["field", "GUEST_RIPX"], r"unknown field name 'GUEST_RIPX'"),
    ("malformed number", ["field", "0x12G"], r"malformed number '0x12G'"),
    ("malformed number (bare 0x)", ["field", "0x"], r"malformed number '0x'"),
    ("negative number", ["field", "-2"], r"malformed number '-2'"),
    ("number too large", ["field", "0x100000000"], r"number too large"),
    ("reserved bits 31:15", ["field", "0x00018000"], r"reserved bits set.*0x00018000"),
    ("reserved bit 12", ["field", "0x00001000"], r"reserved bits set.*0x00001000"),
    ("high half of a 32-bit field", ["field", "0x0000400B"], r"high.*32-bit.*only 64-bit fields"),
    ("high half of a natural-width field", ["field", "0x0000681F"], r"high.*natural-width"),
    ("unknown command", ["frobnicate"], r"unknown command 'frobnicate'"),
    ("unknown option", ["--frob"], r"unknown option '--frob'"),
    ("no command", [], r"no command given"),
    ("missing argument", ["field"], r"'field' needs"),
    ("too many arguments", ["field", "1", "2"], r"too many arguments for 'field'"),
    ("unknown group", ["fields", "--group", "guests"], r"unknown group 'guests'"),
    ("unknown width", ["fields", "--width", "8"], r"unknown width '8'"),
    ("unknown MSR name", ["msr", "IA32_VMX_NOPE", "1"], r"unknown MSR name 'IA32_VMX_NOPE'"),
    ("MSR value too large", ["msr", "0x482", "0x10000000000000000"], r"number too large.*MSR value"),
    ("malformed MSR value", ["msr", "0x482", "12x"], r"malformed number '12x'"),
    ("unknown exit reason name", ["exit", "NOT_A_REASON"], r"unknown exit reason name 'NOT_A_REASON'"),
    ("error number too large", ["error", "99999999999"], r"number too large"),
    ("unknown layout", ["layout", "NO_SUCH_LAYOUT"], r"unknown layout 'NO_SUCH_LAYOUT'"),
    ("malformed layout value", ["layout", "IO_QUAL", "0xZZ"], r"malformed number '0xZZ'"),
    ("unknown value set", ["values", "NO_SUCH_SET"], r"unknown value set 'NO_SUCH_SET'"),
]


@pytest.mark.parametrize("label,args,pattern", BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_facts_vmxinfo_bad_input(label, args, pattern):
    """facts: vmxinfo bad input: LABEL -> exit 2, one line naming it"""
    p = vmxinfo(*args)
    lines = p.stderr.splitlines()
    if p.returncode != 2:
        raise TestFailure("vmxinfo %s: exit %d, want 2" % (" ".join(args), p.returncode))
    if len(lines) != 1 or not lines[0].startswith("vmxinfo: error: "):
        raise TestFailure("vmxinfo %s: want one line 'vmxinfo: error: ...' on stderr, got %r"
                          % (" ".join(args), p.stderr))
    if not re.search(pattern, lines[0]):
        raise TestFailure("vmxinfo %s: message %r does not match /%s/" % (" ".join(args), lines[0], pattern))
    if p.stdout:
        raise TestFailure("vmxinfo %s: printed on stdout too: %r" % (" ".join(args), p.stdout))


def test_facts_vmxinfo_msr_0x482_decodes_each_control_as_must_be_0_must_be_1_ma():
    """facts: vmxinfo msr 0x482 decodes each control as must-be-0/must-be-1/may-be-either"""
    out = ok("msr", "0x482", "0xF7F9FFFE0401E172")
    has(out, r"^0x482 IA32_VMX_PROCBASED_CTLS 0xf7f9fffe0401e172$", "first line")
    has(out, r"^  bit  7  HLT_EXITING +may-be-either$", "HLT exiting (allowed-0 0, allowed-1 1)")
    has(out, r"^  bit 15  CR3_LOAD_EXITING +must-be-1$", "CR3-load exiting (allowed-0 1)")
    has(out, r"^  bit 27  MONITOR_TRAP_FLAG +must-be-0$", "MTF (allowed-1 0)")
    # every named control of the word is shown: as many as the C table has
    named = re.findall(r"^  bit +\d+  (?!\()\w+ +(must-be-0|must-be-1|may-be-either)$", out, re.M)
    proc = [l for l in open(os.path.join(TOP, "common", "vmx", "vmx_controls.def"))
            if re.match(r"VMX_CONTROL_BIT\(PROC,", l)]
    if len(named) != len(proc):
        raise TestFailure("%d named PROC bits shown, vmx_controls.def has %d" % (len(named), len(proc)))


def test_facts_vmxinfo_msr_ia32_vmx_basic_decodes_bochs_haswell_value():
    """facts: vmxinfo msr IA32_VMX_BASIC decodes Bochs' Haswell value"""
    out = ok("msr", "IA32_VMX_BASIC", "0x00D810000000002B")
    has(out, r"^  VMCS_REVISION_ID: +0x2b ", "revision")
    has(out, r"^  VMCS_REGION_SIZE: +4096 bytes", "region size")
    has(out, r"^  VMCS_MEMORY_TYPE: +6 write-back", "memory type")
    has(out, r"^  TRUE_CONTROLS: +yes", "TRUE controls")
    has(out, r"^  INS_OUTS_REPORTING: +yes", "INS/OUTS")


def test_facts_vmxinfo_msrs_lists_ia32_feature_control_and_0x480_0x493():
    """facts: vmxinfo msrs lists IA32_FEATURE_CONTROL and 0x480-0x493"""
    nums = [int(l.split()[0], 16) for l in ok("msrs").splitlines()]
    want = [0x3A] + list(range(0x480, 0x494))
    if nums != want:
        raise TestFailure("vmxinfo msrs lists %s" % [hex(n) for n in nums])


def test_facts_vmxinfo_exit_48_is_ept_violation_and_back_exit_35_is_undefined():
    """facts: vmxinfo exit 48 is EPT_VIOLATION and back; exit 35 is undefined"""
    has(ok("exit", "48"), r"^name: EPT_VIOLATION$", "exit 48")
    has(ok("exit", "ept_violation"), r"^basic_exit_reason: 48$", "exit EPT_VIOLATION")
    out = ok("exit", "0x80000021")
    has(out, r"^basic_exit_reason: 33$", "basic reason of 0x80000021")
    has(out, r"^vm_entry_failure: yes", "bit 31")
    p = vmxinfo("exit", "35")
    if p.returncode != 1 or "not an exit reason defined in the SDM" not in p.stdout:
        raise TestFailure("exit 35: exit %d, %r" % (p.returncode, p.stdout))


def test_facts_vmxinfo_error_7_is_vm_entry_with_invalid_control_field_s():
    """facts: vmxinfo error 7 is 'VM entry with invalid control field(s)'"""
    has(ok("error", "7"), r"^description: VM entry with invalid control field\(s\)$", "error 7")
    has(ok("error", "7"), r"^name: VMENTRY_INVALID_CONTROL_FIELDS$", "error 7 name")
    p = vmxinfo("error", "14")
    if p.returncode != 1:
        raise TestFailure("error 14 (unused in the SDM): exit %d, want 1" % p.returncode)


def test_facts_vmxinfo_help_is_a_manual_and_every_examples_line_runs():
    """facts: vmxinfo --help is a manual and every EXAMPLES line runs"""
    text = ok("--help")
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS", "EXAMPLES"):
        has(text, r"^%s$" % section, "section")
    examples = text.split("\nEXAMPLES\n", 1)[1]
    cmds = re.findall(r"^    vmxinfo (.*?)(?:\s{2,}.*)?$", examples, re.M)
    if len(cmds) < 5:
        raise TestFailure("EXAMPLES has %d commands" % len(cmds))
    for c in cmds:
        ok(*c.split())
    has(ok("--version"), r"^vmxinfo \(vmxlab\) \S+: \d+ VMCS fields", "--version")


# --- the headers compile everywhere the kit uses them --------------------------

HEADERS = ["types.h", "fields.h", "msrs.h", "controls.h", "exit_reasons.h", "errors.h",
           "cpu_bits.h", "decode.h", "layouts.h", "values.h"]

SAMPLE = r"""
%(includes)s
%(prelude)s
static void sink(void *ctx, const char *fmt, ...) { (void)ctx; (void)fmt; }
int facts_sample(void);
int facts_sample(void)
{
	struct vmx_printer p = { sink, VMX_NULL };
	vmcs_write_checked(VMCS_GUEST_RIP, VMCS_WIDTH_NATURAL);
	vmcs_write_checked(VMCS_GUEST_CS_SELECTOR, VMCS_WIDTH_16);
	vmx_decode_msr(&p, IA32_VMX_BASIC, 0x00D810000000002BULL);
	vmx_decode_msr(&p, IA32_VMX_PROCBASED_CTLS, 0xF7F9FFFE0401E172ULL);
	vmx_print_exit_reason(&p, VMX_EXIT_REASON_EPT_VIOLATION);
	return (int)VMCS_FIELD_COUNT + (int)(VMX_PROC2_ENABLE_EPT & 1) + (int)CPU_CR0_PE;
}
"""

CHECKED = r"""
#define vmcs_write_checked(enc, width) do { VMCS_ASSERT_WIDTH(enc, width); } while (0)
"""


def compile_sample(tmp, flags, prelude="", extra=""):
    src = os.path.join(tmp, "sample.c")
    with open(src, "w") as f:
        f.write(SAMPLE % {"includes": "\n".join('#include "vmx/%s"' % h for h in HEADERS),
                          "prelude": CHECKED + prelude} + extra)
    return subprocess.run(["gcc"] + flags + ["-I", INCLUDE, "-c", src, "-o",
                                             os.path.join(tmp, "sample.o")],
                          capture_output=True, text=True, timeout=60)


def test_facts_headers_compile_hosted_with_wall_wextra_werror():
    """facts: headers compile hosted with -Wall -Wextra -Werror"""
    with tempfile.TemporaryDirectory() as tmp:
        p = compile_sample(tmp, ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"],
                           prelude="#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n")
        if p.returncode:
            raise TestFailure("hosted build failed:\n" + p.stderr)


def test_facts_headers_compile_freestanding_ffreestanding_nostdlib():
    """facts: headers compile freestanding (-ffreestanding -nostdlib)"""
    with tempfile.TemporaryDirectory() as tmp:
        p = compile_sample(tmp, ["-std=gnu11", "-O2", "-ffreestanding", "-nostdlib", "-mno-red-zone",
                                 "-mgeneral-regs-only", "-Wall", "-Wextra", "-Werror"])
        if p.returncode:
            raise TestFailure("freestanding build failed:\n" + p.stderr)


def test_facts_a_16_bit_accessor_on_a_natural_width_field_does_not_compile():
    """facts: a 16-bit accessor on a natural-width field does not compile"""
    with tempfile.TemporaryDirectory() as tmp:
        p = compile_sample(tmp, ["-O2", "-Wall", "-Werror"], extra=r"""
int bad(void);
int bad(void) { vmcs_write_checked(VMCS_GUEST_RIP, VMCS_WIDTH_16); return 0; }
""")
        if p.returncode == 0:
            raise TestFailure("VMCS_ASSERT_WIDTH(VMCS_GUEST_RIP, VMCS_WIDTH_16) compiled")
        if "wrong width" not in p.stderr:
            raise TestFailure("the build failed, but not with the width message:\n" + p.stderr)


def kernel_build_dir():
    for d in sorted(glob.glob("/usr/src/linux-headers-*-amd64"), reverse=True):
        if os.path.exists(os.path.join(d, "Makefile")):
            return d
    return None


KMOD = r"""
#include <linux/module.h>
#include <linux/kernel.h>
#include <asm/vmx.h>          /* Linux's own VMX names: ours must not clash */
#include <asm/msr-index.h>
%(includes)s
static void kprint(void *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}
static int __init facts_init(void)
{
	struct vmx_printer p = { kprint, NULL };

	VMCS_ASSERT_WIDTH(VMCS_GUEST_RIP, VMCS_WIDTH_NATURAL);
	vmx_decode_msr(&p, IA32_VMX_BASIC, 0x00D810000000002BULL);
	vmx_decode_msr(&p, IA32_VMX_CR0_FIXED0, 0x80000021ULL);
	vmx_print_exit_reason(&p, VMX_EXIT_REASON_HLT);
	return vmcs_field_by_name("guest_rip") ? 0 : -EINVAL;
}
static void __exit facts_exit(void) { }
module_init(facts_init);
module_exit(facts_exit);
MODULE_LICENSE("GPL");
"""


def test_facts_headers_compile_in_a_linux_6_1_module_next_to_asm_vmx_h_warnings():
    """facts: headers compile in a Linux 6.1 module next to <asm/vmx.h>, warnings as errors"""
    kdir = kernel_build_dir()
    if not kdir:
        raise Skip("no /usr/src/linux-headers-*-amd64 (make deps installs linux-headers-amd64)")
    out = os.path.join(TOP, "build", "facts-check", "kmod")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with open(os.path.join(out, "facts_kmod.c"), "w") as f:
        f.write(KMOD % {"includes": "\n".join('#include "vmx/%s"' % h for h in HEADERS)})
    with open(os.path.join(out, "Kbuild"), "w") as f:
        f.write("obj-m := facts_kmod.o\nccflags-y := -I%s -Werror\n" % INCLUDE)
    p = subprocess.run(["make", "-C", kdir, "M=" + out, "modules"], capture_output=True,
                       text=True, timeout=300)
    if p.returncode or not os.path.exists(os.path.join(out, "facts_kmod.ko")):
        raise TestFailure("module build failed:\n" + p.stdout[-3000:] + p.stderr[-3000:])


# --- the NASM and GNU as expansions agree with C --------------------------------

def gen_names():
    """{name: kind} of every numeric %define in build/gen/vmx_facts.inc."""
    path = build_path("gen", "vmx_facts.inc")
    names = re.findall(r"^%define (\w+) (?!\")", open(path).read(), re.M)
    if len(names) < 500:
        raise TestFailure("%s has only %d numeric defines" % (path, len(names)))
    return names


def test_facts_nasm_and_gnu_as_includes_give_every_name_the_value_c_gives_it():
    """facts: NASM and GNU as includes give every name the value C gives it"""
    names = gen_names()
    gas = open(build_path("gen", "vmx_facts.S")).read()
    gas_names = re.findall(r"^\.equ (\w+),", gas, re.M)
    if sorted(gas_names) != sorted(names):
        raise TestFailure("vmx_facts.S and vmx_facts.inc define different names: %s"
                          % sorted(set(gas_names) ^ set(names))[:10])
    # VMX_WORD_*_FIELD/_MSR/_TRUE_MSR exist only for assembly: C has the table
    c_names = [n for n in names if not re.match(r"VMX_WORD_\w+_(FIELD|MSR|TRUE_MSR)$", n)]
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "v.asm"), "w") as f:
            f.write('%%include "vmx_facts.inc"\nbits 64\n%s\n' % "\n".join("dq %s" % n for n in names))
        with open(os.path.join(tmp, "v.s"), "w") as f:
            f.write('.include "vmx_facts.S"\n%s\n' % "\n".join(".quad %s" % n for n in names))
        with open(os.path.join(tmp, "v.c"), "w") as f:
            f.write('#include <stdio.h>\n%s\nint main(void){\n%s\n'
                    'return 0;}\n' % ("\n".join('#include "vmx/%s"' % h for h in HEADERS), "\n".join(
                        'printf("%%s %%llx\\n", "%s", (unsigned long long)(%s));' % (n, n)
                        for n in c_names)))
        inc = os.path.join(TOP, "build", "gen") + "/"
        steps = [["nasm", "-f", "bin", "-I", inc, "v.asm", "-o", "nasm.bin"],
                 ["as", "-I", inc, "v.s", "-o", "v.o"],
                 ["objcopy", "-O", "binary", "-j", ".text", "v.o", "gas.bin"],
                 ["gcc", "-O0", "-I", INCLUDE, "v.c", "-o", "v"]]
        for s in steps:
            p = subprocess.run(s, cwd=tmp, capture_output=True, text=True, timeout=120)
            if p.returncode:
                raise TestFailure("%s failed:\n%s" % (" ".join(s), p.stderr[-3000:]))
        nasm = open(os.path.join(tmp, "nasm.bin"), "rb").read()
        gasb = open(os.path.join(tmp, "gas.bin"), "rb").read()
        c_vals = dict(l.split() for l in subprocess.run(
            [os.path.join(tmp, "v")], capture_output=True, text=True, timeout=60).stdout.splitlines())
    if nasm != gasb or len(nasm) != 8 * len(names):
        raise TestFailure("NASM and GNU as give different values (%d vs %d bytes)" % (len(nasm), len(gasb)))
    wrong = []
    for i, n in enumerate(names):
        v = int.from_bytes(nasm[8 * i:8 * i + 8], "little")
        if n in c_vals and int(c_vals[n], 16) != v:
            wrong.append("%s: asm 0x%x, C 0x%s" % (n, v, c_vals[n]))
    if wrong or len(c_vals) != len(c_names):
        raise TestFailure("%d of %d names differ:\n%s" % (len(wrong), len(c_names), "\n".join(wrong[:20])))


# --- decoders on capability values measured in Bochs -----------------------------
# Inputs: IA32_VMX_PROCBASED_CTLS / _CTLS2 / _BASIC as Bochs 2.7 reported them
# (build/msrdump in `make run`, results/boot-msrdump-<cpu>/serial.txt).
# Expected: the feature table of docs/PLATFORM.md, measured separately by
# running guests (EPT, VPID, unrestricted guest, VMCS shadowing, MTF).
MEASURED = {
    "core2_penryn_t9600": (0xf7f9fffe0401e172, 0x0000004100000000, 0x00d810000000002b,
                           dict(EPT=0, VPID=0, UG=0, SHADOW=0, MTF=0)),
    "corei7_haswell_4770": (0xf7f9fffe0401e172, 0x00047fff00000000, 0x00d810000000002b,
                            dict(EPT=1, VPID=1, UG=1, SHADOW=1, MTF=0)),
    "tigerlake": (0xfff9fffe0401e172, 0x02977fff00000000, 0x01d8100000000004,
                  dict(EPT=1, VPID=1, UG=1, SHADOW=1, MTF=1)),
}


def test_facts_vmxinfo_decodes_of_bochs_measured_msrs_match_platform_md_s_featu():
    """facts: vmxinfo decodes of Bochs' measured MSRs match PLATFORM.md's feature table"""
    bits = {"EPT": "ENABLE_EPT", "VPID": "ENABLE_VPID", "UG": "UNRESTRICTED_GUEST",
            "SHADOW": "VMCS_SHADOWING"}
    for cpu, (proc, proc2, basic, want) in MEASURED.items():
        out = ok("msr", "IA32_VMX_PROCBASED_CTLS2", "0x%x" % proc2)
        for key, name in bits.items():
            has(out, r"^  bit +\d+  %s +%s$" % (name, "may-be-either" if want[key] else "must-be-0"),
                "%s %s" % (cpu, name))
        has(ok("msr", "0x482", "0x%x" % proc),
            r"^  bit 27  MONITOR_TRAP_FLAG +%s$" % ("may-be-either" if want["MTF"] else "must-be-0"),
            "%s MTF" % cpu)
        rev = "0x4" if cpu == "tigerlake" else "0x2b"   # PLATFORM.md: revision ids
        has(ok("msr", "IA32_VMX_BASIC", "0x%x" % basic), r"^  VMCS_REVISION_ID: +%s " % rev,
            "%s revision" % cpu)


def test_facts_typed_vmcs_access_refuses_a_wrong_width_at_every_optimisation_level():
    """facts: make check-typed: a VMCS access of the wrong width, or through a
    variable of another width, does not compile, at -O0 as at -O2"""
    p = subprocess.run(["make", "--no-print-directory", "-C", TOP, "check-typed"], capture_output=True,
                       text=True, timeout=300)
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines or not re.match(r"^check-typed: \d+ checks, 0 failed$", lines[-1]):
        raise TestFailure("make check-typed: exit %d:\n%s%s" % (p.returncode, p.stdout[-3000:], p.stderr[-2000:]))
    bad = [l for l in lines[:-1] if not l.endswith(" ok")]
    if bad:
        raise TestFailure("make check-typed: lines that are not ok:\n%s" % "\n".join(bad))
