"""Tests of lab05: the EPT/VPID monitor linked at the top 64 MiB, run on
Bochs' two CPUs, assembled from the labs (solutions' tree, SOLUTION=1).

Each configuration is built once by `make lab05 SOLUTION=1 VAR=...` (the
config file lab05-ept/monitor.cfg with make variables overriding lines)
and run once per CPU model for the whole session (testlib.once):

    default   monitor.cfg as shipped: vCPU 0 runs vm86, longmode, msrdump,
              vmxprobe, memtest;
              vCPU 1 the same five in another order; on corei7_haswell_4770
              and broadwell_ult (EPT models), and core2_penryn_t9600 (no
              EPT, no VPID: refused before any VM entry)
    none      gphys = none with lab04's guest on both vCPUs, on penryn
    nostats   stats = none: STAT_INC compiled away
    guard1    test = guard1: vCPU 1 overflows its monitor stack
    panic1    test = panic1: vCPU 1 panics on purpose; its core
and, built from a copy of the solution, ept.c with ept_unmap's INVEPT
taken out (test_a_missing_invept_is_reported).

Expected values come from the kit's sources of truth, not from the lab's
output: the address map from common/monitor/layout.h, control bit numbers
from common/vmx/vmx_controls.def, lab04's default CR0 mask and shadow from
its LAB04_PARAM_LIST, the guests' own constants from common/guests/*.c.

Bochs 2.7 with two CPUs ignores the debugger's time breakpoint (`sba`):
only the wall-clock timeout stops a run that hangs, so it is short here
(a whole run takes about 3 s).
"""

import fcntl
import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest

from lib import emu
from lib.testlib import expect, expect_not, expect_clean_end, once, TestFailure, TOP

HASWELL = "corei7_haswell_4770"
BROADWELL = "broadwell_ult"
PENRYN = "core2_penryn_t9600"
EPT_MODELS = (HASWELL, BROADWELL)
RUN_TIMEOUT = 40


# --- sources of truth ----------------------------------------------------------

def layout():
    """{name: int} of the #defines in common/monitor/layout.h."""
    with open(os.path.join(TOP, "common", "monitor", "layout.h")) as f:
        text = f.read()
    out = {}
    for name, value in re.findall(r"^#define\s+(MON_\w+)\s+(0x[0-9A-Fa-f]+|\d+)\b", text, re.M):
        out[name] = int(value, 0)
    out["MON_IMAGE_BASE"] = out["MON_BASE"] + out["MON_IMAGE_OFFSET"]
    return out


def control_bit(word, name):
    with open(os.path.join(TOP, "common", "vmx", "vmx_controls.def")) as f:
        m = re.search(r"VMX_CONTROL_BIT\(\s*%s\s*,\s*%s\s*,\s*(\d+)" % (word, name), f.read())
    assert m, "%s %s not in vmx_controls.def" % (word, name)
    return int(m.group(1))


def guest_constant(guest, name):
    with open(os.path.join(TOP, "common", "guests", guest + ".c")) as f:
        m = re.search(r"\b%s\s*=\s*(0x[0-9A-Fa-f]+|\d+)" % name, f.read())
    assert m, "%s not in common/guests/%s.c" % (name, guest)
    return int(m.group(1), 0)


def lab04_default(name):
    spec = importlib.util.spec_from_file_location(
        "lab04_params", os.path.join(TOP, "tools", "lab04params", "params.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return dict((n, d) for n, d, _ in mod.param_list())[name]


# --- builds and runs -------------------------------------------------------------

def build(variables=(), out=None, src=None):
    """`make lab05 SOLUTION=1 variables...` (one make at a time: the
    variants share the guests' payloads); the image's path."""
    cmd = ["make", "--no-print-directory", "-s", "-C", TOP, "lab05", "SOLUTION=1"] + list(variables)
    if out:
        cmd.append("LAB05_OUT=" + out)
    if src:
        cmd.append("LAB05_SRC=" + src)
    os.makedirs(os.path.join(TOP, "build", "lab05"), exist_ok=True)
    with open(os.path.join(TOP, "build", "lab05", ".test.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise TestFailure("%s: exit %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return os.path.join(TOP, p.stdout.strip().splitlines()[-1])


def image(config):
    return once(("lab05-image", config), lambda: build(CONFIGS[config]))


CONFIGS = {
    "default": (),
    "nostats": ("STATS=none",),
    "none": ("GPHYS=none", "VCPU0=vm86", "VCPU1=vm86"),
    "guard1": ("TEST=guard1",),
    "panic1": ("TEST=panic1",),
}


def lab05(config="default", cpu=HASWELL):
    def run():
        return emu.run_bochs(image(config), cpu=cpu, cpus=2, timeout=RUN_TIMEOUT,
                             name="lab05-%s-%s" % (config, cpu), com2=True)
    return once(("lab05-run", config, cpu), run)


def lines_of(run, vcpu, guest=None):
    """The lines one vCPU printed (its guest's, or its monitor's when
    guest is None), without the prefix."""
    pre = "[vcpu%d%s] " % (vcpu, " " + guest if guest else "")
    return [l[len(pre):] for l in run.serial.splitlines() if l.startswith(pre)]


def text_of(run, vcpu, guest=None):
    return "\n".join(lines_of(run, vcpu, guest))


# monitor.cfg's default: every guest on both vCPUs, in two orders.
GUESTS = {0: ("vm86", "longmode", "msrdump", "vmxprobe", "memtest"),
          1: ("msrdump", "vmxprobe", "memtest", "vm86", "longmode")}


# --- the image ---------------------------------------------------------------------

def sections(elf):
    """{name: (addr, size, flags)} of the ELF's sections, from readelf."""
    out = subprocess.run(["readelf", "-SW", elf], capture_output=True, text=True, check=True).stdout
    got = {}
    for m in re.finditer(r"^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]{16})\s+[0-9a-f]+\s+([0-9a-f]+)"
                         r"\s+[0-9a-f]+\s+(\S*)", out, re.M):
        got[m.group(1)] = (int(m.group(2), 16), int(m.group(3), 16), m.group(4))
    return got


def symbols(elf):
    out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
    return {m.group(3): int(m.group(1), 16)
            for m in re.finditer(r"^([0-9a-f]{16}) (\w) (\S+)$", out, re.M)}


def monitor_elf(config="default"):
    return os.path.join(os.path.dirname(image(config)), "monitor.elf")


def test_monitor_sections_land_where_layout_h_says():
    L = layout()
    elf = monitor_elf()
    s = sections(elf)
    page = L["MON_PAGE"]
    order = [".text", ".rodata", ".data", ".bss", ".shared", ".statvars", ".vmmaddr"]
    for name in order:
        assert name in s, "%s: no %s section" % (elf, name)
    assert s[".text"][0] == L["MON_IMAGE_BASE"], ".text at 0x%x, not MON_IMAGE_BASE" % s[".text"][0]
    # The reserved area (one slot per vCPU) ends before the image.
    assert L["MON_VCPUS"] * L["MON_SLOT_SIZE"] <= L["MON_IMAGE_OFFSET"]
    addrs = [s[n][0] for n in order]
    assert addrs == sorted(addrs), "sections out of order: %s" % list(zip(order, map(hex, addrs)))
    top = L["MON_BASE"] + L["MON_SIZE"]
    for name, (addr, size, flags) in s.items():
        if "A" in flags:
            assert L["MON_IMAGE_BASE"] <= addr and addr + size <= top, \
                "%s at 0x%x+0x%x is outside the last 64 MiB" % (name, addr, size)
    # Pages hold one kind: what each vCPU has its own copy of (.data .bss,
    # .statvars) never shares a page with what is shared.
    for name in (".data", ".shared", ".statvars", ".vmmaddr"):
        assert s[name][0] % page == 0, "%s at 0x%x is not page-aligned" % (name, s[name][0])
    assert s[".rodata"][0] + s[".rodata"][1] <= s[".data"][0]
    assert s[".bss"][0] + s[".bss"][1] <= s[".shared"][0]
    assert s[".shared"][0] + s[".shared"][1] <= s[".statvars"][0]
    sym = symbols(elf)
    assert sym["mon_start"] == L["MON_IMAGE_BASE"], "mon_start is not the image's first instruction"
    assert s[".shared"][0] <= sym["mon_shared"] < s[".shared"][0] + s[".shared"][1]
    stat_syms = [n for n in sym if n.startswith("stat_")]
    assert stat_syms, "no stat_ counters"
    for n in stat_syms:
        assert s[".statvars"][0] <= sym[n] < s[".statvars"][0] + s[".statvars"][1], n
    # A build id (gdb and the stats decoder match dumps to this build).
    notes = subprocess.run(["readelf", "-n", elf], capture_output=True, text=True).stdout
    assert re.search(r"Build ID: [0-9a-f]{40}", notes), notes


def test_segments_are_never_writable_and_executable():
    out = subprocess.run(["readelf", "-lW", monitor_elf()], capture_output=True, text=True,
                         check=True).stdout
    loads = re.findall(r"^\s*LOAD\s+\S+\s+(0x[0-9a-f]+)\s+\S+\s+\S+\s+\S+\s+([RWE ]+?)\s+0x", out, re.M)
    assert loads, out
    for addr, flags in loads:
        assert not ("W" in flags and "E" in flags), "segment at %s is %s" % (addr, flags)


def test_vmmaddr_table_names_monitor_symbols():
    """Every .vmmaddr entry (struct mon_vmmaddr: 24-byte name, address,
    size) names a symbol of the monitor at the address it gives."""
    elf = monitor_elf()
    s, sym = sections(elf), symbols(elf)
    raw = subprocess.run(["objcopy", "-O", "binary", "--only-section=.vmmaddr", elf, "/dev/stdout"],
                         capture_output=True, check=True).stdout
    end = sym["__mon_vmmaddr_end"] - s[".vmmaddr"][0]
    entries = [raw[i:i + 40] for i in range(0, end, 40)]
    assert len(entries) >= 5, "only %d .vmmaddr entries" % len(entries)
    names = set()
    for e in entries:
        name = e[:24].split(b"\0")[0].decode()
        addr = int.from_bytes(e[24:32], "little")
        assert sym.get(name) == addr, ".vmmaddr %s = 0x%x, nm says %s" % (name, addr, sym.get(name))
        names.add(name)
    assert {"mon_shared", "mon_guests", "mon_vcpu"} <= names


# --- the guests, on two EPT models ---------------------------------------------------

@pytest.mark.parametrize("cpu", EPT_MODELS)
def test_both_vcpus_run_all_their_guests(cpu):
    run = lab05("default", cpu)
    expect_clean_end(run)
    expect(run, r"^host: vCPU 0: done$")
    expect(run, r"^host: vCPU 1: done$")
    for v, guests in GUESTS.items():
        mon = text_of(run, v)
        expect(mon, r"^monitor: vCPU %d at 0x%x " % (v, layout()["MON_IMAGE_BASE"]))
        expect(mon, r"^monitor: %d guests run, VMXOFF done" % len(guests))
        vpids = []
        for g in guests:
            t = text_of(run, v, g)
            vpids.append(int(expect(t, r"^monitor: guest %s \(.*\), VPID (\d+)$" % g).group(1)))
            expect(t, r"^monitor: EPT pointer 0x[0-9a-f]+, VPID %d$" % vpids[-1])
            expect(t, r"^VMLAUNCH: ok$")
            expect(t, r"^monitor: guest %s (ended|stopped) after \d+ exits" % g)
        assert 0 not in vpids and len(set(vpids)) == len(vpids), "vCPU %d VPIDs %s" % (v, vpids)
    vpid_all = re.findall(r"^\[vcpu\d \w+\] monitor: guest \w+ \(.*\), VPID (\d+)$", run.serial, re.M)
    n = sum(len(g) for g in GUESTS.values())
    assert len(vpid_all) == n and len(set(vpid_all)) == n, "VPIDs %s: one per guest" % vpid_all
    # Every line is the host's or carries its vCPU (and guest).
    for line in run.serial.splitlines():
        assert re.match(r"(host: |vmxlab: |\[vcpu[01]( \w+)?\] )", line), "unprefixed line %r" % line


@pytest.mark.parametrize("cpu", EPT_MODELS)
@pytest.mark.parametrize("vcpu", (0, 1))
def test_vm86_guest_behind_ept_obeys_the_cr0_mask_and_shadow(cpu, vcpu):
    run = lab05("default", cpu)
    t = text_of(run, vcpu, "vm86")
    m = expect(t, r"^monitor: lab04's guest code at guest-physical (0x[0-9a-f]+), "
                  r"host-physical (0x[0-9a-f]+) \(EPT\)")
    assert int(m.group(1), 16) != int(m.group(2), 16), "EPT moved nothing: %s" % m.group(0)
    expect(t, r"^guest: hello from virtual-8086 mode$")
    # The CR0 the guest runs with: IA32_VMX_CR0_FIXED0 | ET (guests.c),
    # FIXED0 as the vCPU's lab03 lines print it; smsw reads through the
    # mask and shadow of lab04's defaults (SDM 25.3).
    fixed0 = int(expect(text_of(run, vcpu), r"IA32_VMX_CR0_FIXED0 (0x[0-9a-f]+)").group(1), 16)
    mask, shadow = lab04_default("CR0_MASK"), lab04_default("CR0_SHADOW")
    want = (((fixed0 | 0x10) & ~mask) | (shadow & mask)) & 0xFFFFFFFF
    expect(t, r"^guest smsw: 0x%08x$" % want, "smsw = (CR0 & ~mask) | (shadow & mask)")


@pytest.mark.parametrize("cpu", EPT_MODELS)
@pytest.mark.parametrize("vcpu", (0, 1))
def test_real_mode_guest_reaches_long_mode(cpu, vcpu):
    t = text_of(lab05("default", cpu), vcpu, "longmode")
    steps = [r"^monitor: CR0\.PE 0 -> 1 \(protected mode\)$",
             r"^monitor: CR0\.PG 0 -> 1 \(paging on\)$",
             r"^monitor: EFER\.LMA 0 -> 1 \(IA-32e mode: long mode\)$",
             r"^longmode: hello from 64-bit long mode: CR0 0x[0-9a-f]+ \(PE 1 PG 1\), EFER 0x[0-9a-f]+ \(LMA 1\)$",
             r"^monitor: the guest wrote 0x0 to the emulator-exit port: guest ended$"]
    at = 0
    for s in steps:
        m = re.compile(s, re.M).search(t, at)
        if not m:
            raise TestFailure("longmode: /%s/ not found after the steps before it:\n%s" % (s, t))
        at = m.end()


@pytest.mark.parametrize("cpu", EPT_MODELS)
@pytest.mark.parametrize("vcpu", (0, 1))
def test_guests_see_no_vmx(cpu, vcpu):
    run = lab05("default", cpu)
    expect(text_of(run, vcpu, "msrdump"), r"^vmx: no: CPUID\.1:ECX\[5\] is 0")
    t = text_of(run, vcpu, "vmxprobe")
    expect(t, r"^vmxprobe: CPUID\.1:ECX\.VMX = 0, CR4\.VMXE = 0$")
    expect(t, r"^monitor: RDMSR of MSR 0x480 \(IA32_VMX_BASIC\): #GP")
    expect(t, r"^EXCEPTION: vector=13 #GP")
    expect_not(t, r"VMX is not hidden")


@pytest.mark.parametrize("cpu", EPT_MODELS)
def test_memtest_demand_paging_copy_on_write_and_outside_ram(cpu):
    run = lab05("default", cpu)
    touch = guest_constant("memtest", "TOUCH_PAGES")
    outside = guest_constant("memtest", "OUTSIDE")
    for v in (0, 1):
        t = text_of(run, v, "memtest")
        expect(t, r"^memtest: touched %d pages" % touch)
        m = expect(t, r"^monitor: guest memtest stopped after \d+ exits \((\d+) demand-paging faults, "
                      r"(\d+) copy-on-write faults\)")
        assert int(m.group(1)) >= touch and int(m.group(2)) >= 1, m.group(0)
        expect(t, r"^monitor: copy-on-write: the guest wrote its shared page 0x%x" %
               guest_constant("memtest", "IMAGE_PAGE"))
        expect(t, r"^memtest: gave page 0x[0-9a-f]+ back \(hypercall result 0\); it now reads 0x0$")
        expect(t, r"^stopped: read of guest-physical 0x%x, outside its RAM 0x0-0x[0-9a-f]+ "
                  r"\(walk allowed ---; linear address valid, the final address\)$" % outside)
        expect_not(t, r"the monitor did not stop me")
    # The memtest of vCPU 1 stopped; vCPU 0's guests all ran anyway (and
    # the other way round): each vCPU reports done.
    expect(run, r"^host: vCPU 0: done$")
    expect(run, r"^host: vCPU 1: done$")


@pytest.mark.parametrize("cpu", EPT_MODELS)
def test_isolation_no_guest_reads_another_guests_canary(cpu):
    run = lab05("default", cpu)
    for v in (0, 1):
        expect(text_of(run, v, "memtest"), r'^memtest: 0x%x holds "" before my canary$' %
               guest_constant("memtest", "CANARY_GPA"))
    expect_not(run, r"holds \"canary", "a guest reading another guest's canary")


def test_invalidation_record_follows_the_discipline():
    """From the record (gphys_ept.c): each change that removes or narrows a
    translation is followed by an INVEPT before the guest runs again; no
    INVEPT is made that nothing needed; changes at a guest-physical
    address's own EPT violation (copy-on-write) make none (SDM 28.3.3.1)."""
    run = lab05("default", HASWELL)
    total_narrow = 0
    for v, guests in GUESTS.items():
        for g in guests:
            lines = lines_of(run, v, g)
            narrowed = invepts = own = 0
            pending = False
            for line in lines:
                if re.match(r"ept record: 0x[0-9a-f]+ \S+ -> \S+.*: removes or narrows", line):
                    narrowed += 1
                    pending = True
                elif line == "ept record: INVEPT single-context":
                    assert pending, "%s: an INVEPT nothing needed" % g
                    invepts += 1
                    pending = False
                elif re.match(r"ept record: .* at its own EPT violation: no INVEPT needed", line):
                    own += 1
                elif line.startswith("monitor: hypercall") or line.startswith("memtest:"):
                    assert not pending, "%s: the guest ran on before the INVEPT: %r" % (g, line)
            s = re.search(r"^ept record: (\d+) added, (\d+) widened, (\d+) changed at their own violation, "
                          r"(\d+) narrowed or removed; (\d+) INVEPT; discipline: ok \(0 missing, 0 not needed\)$",
                          "\n".join(lines), re.M)
            assert s, "%s: no clean discipline summary:\n%s" % (g, "\n".join(lines))
            assert (int(s.group(3)), int(s.group(4)), int(s.group(5))) == (own, narrowed, invepts), \
                "%s: the summary %s disagrees with the lines (%d own, %d narrowed, %d INVEPT)" % (
                    g, s.group(0), own, narrowed, invepts)
            cow = len([l for l in lines if l.startswith("monitor: copy-on-write:")])
            assert own == cow, "%s: %d copy-on-write faults, %d changes at their own violation" % (g, cow, own)
            total_narrow += narrowed
    assert total_narrow >= 2, "the memtests give a page back: at least 2 narrowing changes"


def test_a_missing_invept_is_reported():
    """The record is not a rubber stamp: the solution's ept.c with the
    INVEPT after an unmap taken out makes it report one missing."""
    def run():
        src = os.path.join(TOP, "build", "lab05", "test-noinvept", "src")
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(os.path.join(TOP, "solutions", "lab05-ept"), src)
        path = os.path.join(src, "ept.c")
        with open(path) as f:
            text = f.read()
        broken = re.sub(r"(ept_set\(ept, e, 0, gpa\);\s*)ept_invept\(ept\);", r"\1", text)
        assert broken != text, "ept_unmap's INVEPT not found in the solution"
        with open(path, "w") as f:
            f.write(broken)
        img = build(out=os.path.join(TOP, "build", "lab05", "test-noinvept", "out"), src=src)
        return emu.run_bochs(img, cpu=HASWELL, cpus=2, timeout=RUN_TIMEOUT, name="lab05-noinvept")
    r = once(("lab05-noinvept",), run)
    t = text_of(r, 0, "memtest")
    expect(t, r"^ept record: .*discipline: (?!ok)")
    expect(t, r"[1-9]\d* missing")


# --- refusals, gphys = none, the guard page --------------------------------------------

def test_penryn_refuses_gphys_ept_naming_the_bits():
    run = lab05("default", PENRYN)
    expect_clean_end(run)
    for v in (0, 1):
        t = text_of(run, v)
        for name in ("ENABLE_EPT", "ENABLE_VPID", "UNRESTRICTED_GUEST"):
            expect(t, r"^monitor: gphys = ept needs %s: IA32_VMX_PROCBASED_CTLS2 allowed-1 bit %d is 0" %
                   (name, control_bit("PROC2", name)))
        expect(t, r"^monitor: refused: gphys = ept needs what this CPU lacks")
        expect(run, r"^host: vCPU %d: refused$" % v)
    expect_not(run, r"VMLAUNCH|VMXON: ok", "a VM entry (or VMXON) before the refusal")


def test_gphys_none_runs_lab04s_guest_without_ept_or_vpid():
    run = lab05("none", PENRYN)
    expect_clean_end(run)
    for v in (0, 1):
        t = text_of(run, v, "vm86")
        expect(t, r"^monitor: guest vm86 \(lab04's virtual-8086 guest\), no VPID \(gphys = none")
        expect(t, r"^monitor: lab04's guest code at guest-physical = host-physical 0x[0-9a-f]+ \(gphys none\)$")
        expect(t, r"^guest: hello from virtual-8086 mode$")
        expect(t, r"^monitor: guest vm86 ended after \d+ exits")
        expect(run, r"^host: vCPU %d: done$" % v)
    expect_not(run, r"EPT pointer")


def test_stack_overflow_hits_the_guard_page_and_names_the_vcpu():
    run = lab05("guard1", HASWELL)
    expect_clean_end(run)
    expect(run, r"^host: vCPU 1: panicked$")
    expect(run, r"^host: panic on vCPU 1: monitor exception #PF: vCPU 1 touched 0x[0-9a-f]+, "
                r"the guard page below its monitor stack \(the stack overflowed\)")
    # vCPU 0 is stopped by the panic (or was done), cleanly: every line of
    # the run is still whole and prefixed.
    expect(run, r"^host: vCPU 0: (done|stopped \(the other vCPU panicked\))$")
    for line in run.serial.splitlines():
        assert re.match(r"(host: |vmxlab: |\[vcpu[01]( \w+)?\] )", line), "broken line %r" % line
    with open(os.path.join(run.dir, "bochs.log"), errors="replace") as f:
        assert "triple fault" not in f.read().lower()


@pytest.mark.parametrize("variables,message", [
    (("GPHYS=none",), r"gphys = none cannot run guest longmode on vcpu0: it starts in real mode"),
    (("GPHYS=nested",), r"gphys = nested is not a choice: gphys is one of ept \| none"),
    (("VCPU1=vm86 nosuchguest",), r"'nosuchguest' is not a guest; the guests are: "),
    (("TEST=guard7",), r"test = guard7 is not a choice"),
])
def test_config_refusals_name_the_problem(variables, message):
    p = subprocess.run(["make", "--no-print-directory", "-s", "-C", TOP, "lab05", "SOLUTION=1"] +
                       list(variables), capture_output=True, text=True, timeout=120)
    assert p.returncode != 0, "make lab05 %s was accepted" % " ".join(variables)
    assert re.search(message, p.stdout + p.stderr), p.stdout + p.stderr


# --- the statistics ----------------------------------------------------------------

def stat_sites(elf):
    """The addresses in .stat_sites (stats.h: one per STAT_INC site)."""
    from elftools.elf.elffile import ELFFile
    with open(elf, "rb") as f:
        sec = ELFFile(f).get_section_by_name(".stat_sites")
        data = sec.data() if sec is not None else b""
    return [int.from_bytes(data[i:i + 8], "little") for i in range(0, len(data), 8)]


def disassemble(elf):
    """{address: (mnemonic, operands, comment)} of the monitor's .text."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-j", ".text", elf],
                         capture_output=True, text=True, check=True).stdout
    insns = {}
    for m in re.finditer(r"^[ \t]*([0-9a-f]+):[ \t]+(\S+)[ \t]*([^#\n]*?)[ \t]*(?:#[ \t]*(.*))?$", out, re.M):
        insns[int(m.group(1), 16)] = (m.group(2), m.group(3), m.group(4) or "")
    return insns


def statvars_target(insn, statvars):
    """The .statvars address an instruction's memory operand names, or None:
    RIP-relative (objdump's comment gives the address) or an absolute
    displacement (the kernel code model: sign-extended 32 bits)."""
    lo, hi = statvars
    mnemonic, operands, comment = insn
    m = re.match(r"([0-9a-f]{16})", comment)
    if m and lo <= int(m.group(1), 16) < hi:
        return int(m.group(1), 16)
    m = re.match(r"(-?0x[0-9a-f]+)\(,%r\w+,8\)$", operands)
    if m:
        a = int(m.group(1), 16) & 0xFFFFFFFFFFFFFFFF
        if lo <= a < hi:
            return a
    return None


def test_every_stat_inc_is_one_instruction():
    """Every STAT_INC site of the linked monitor is a single `inc` of a
    .statvars address (RIP-relative, or base + index for an array element
    indexed by a register), and every counter has a site."""
    elf = monitor_elf()
    s, sym = sections(elf), symbols(elf)
    statvars = (s[".statvars"][0], s[".statvars"][0] + s[".statvars"][1])
    insns = disassemble(elf)
    sites = stat_sites(elf)
    assert len(sites) >= 10, "only %d STAT_INC sites" % len(sites)
    hit = set()
    for site in sites:
        insn = insns.get(site)
        assert insn, "STAT_INC site 0x%x is not an instruction boundary" % site
        assert insn[0] in ("inc", "incq"), "STAT_INC site 0x%x is %s %s, not one inc" % (site, insn[0], insn[1])
        target = statvars_target(insn, statvars)
        assert target is not None, "STAT_INC site 0x%x (%s %s) names no .statvars address" % (site, insn[0], insn[1])
        hit.add(max((a, n) for n, a in sym.items() if n.startswith("stat_") and a <= target)[1])
    counters = {n for n, a in sym.items() if n.startswith("stat_") and statvars[0] <= a < statvars[1]}
    assert counters <= hit, "counters no STAT_INC increments: %s" % sorted(counters - hit)


def test_stats_none_compiles_stat_inc_away():
    elf = monitor_elf("nostats")
    assert stat_sites(elf) == [], "stats = none still has STAT_INC sites"
    assert not [n for n in symbols(elf) if n.startswith("stat_")], "stats = none still has counters"
    s = sections(elf)
    assert s.get(".statvars", (0, 0, ""))[1] == 0, ".statvars is not empty with stats = none"


def vmxstat(*args):
    return subprocess.run([sys.executable, os.path.join(TOP, "tools", "vmxstat", "vmxstat.py")] + list(args),
                          capture_output=True, text=True, timeout=120)


def test_vmxstat_names_the_counters_of_the_run():
    run = lab05("default", HASWELL)
    out = os.path.join(run.dir, "vmxstat")
    os.makedirs(out, exist_ok=True)
    p = vmxstat(monitor_elf(), run.com2, "--json", os.path.join(out, "s.json"), "--png", os.path.join(out, "e.png"))
    assert p.returncode == 0, p.stderr
    import json
    with open(os.path.join(out, "s.json")) as f:
        t = json.load(f)
    assert set(t) == {"vCPU 0", "vCPU 1", "total"}, list(t)
    for v in (0, 1):
        c = t["vCPU %d" % v]
        assert c["guest_runs"] == len(GUESTS[v])
        # memtest makes two hypercalls (a page given back, the counters).
        assert c["exits_by_reason[VMCALL]"] == c["vmcalls"] == 2
        # What the monitor's lines say the guests did, counted there.
        demand = sum(int(n) for n in re.findall(r"^\[vcpu%d \w+\] monitor: guest \w+ (?:ended|stopped) after "
                                                r"\d+ exits \((\d+) demand-paging" % v, run.serial, re.M))
        assert c["ept_faults[demand]"] == demand, (c, demand)
        assert c["ept_faults[outside RAM]"] == 1
        assert c["invept"] == 1
        assert c["io_by_port[0x3f8]"] > 0
        exits = sum(int(n) for n in re.findall(r"^\[vcpu%d \w+\] monitor: guest \w+ (?:ended|stopped) after "
                                               r"(\d+) exits" % v, run.serial, re.M))
        assert sum(n for k, n in c.items() if k.startswith("exits_by_reason[")) == exits
    assert os.path.getsize(os.path.join(out, "e.png")) > 1000
    with open(os.path.join(out, "e.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    # The mid-run dumps the memtests asked for are there too.
    p = vmxstat(monitor_elf(), run.com2, "--all")
    assert p.stdout.count("guest VMCALL") == 2 and p.stdout.count("end of run") == 2, p.stdout


def test_vmxstat_refuses_another_builds_dump_and_a_cut_one():
    run = lab05("default", HASWELL)
    other = monitor_elf("guard1")       # the same sources, another config: another build id
    p = vmxstat(other, run.com2)
    assert p.returncode == 1 and "from another build of the monitor" in p.stderr, p.stderr
    cut = os.path.join(run.dir, "com2-cut.bin")
    with open(run.com2, "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[:len(data) - 100])
    p = vmxstat(monitor_elf(), cut)
    assert p.returncode == 1 and "cut short" in p.stderr, p.stderr
    p = vmxstat(monitor_elf("nostats"), run.com2)
    assert p.returncode == 1 and "stats = none" in p.stderr, p.stderr


# --- the core --------------------------------------------------------------------------

def core_of_panic():
    """The panic1 run's core, taken out of COM2 by vmxcore: (run, core path)."""
    run = lab05("panic1", HASWELL)
    path = os.path.join(run.dir, "monitor.core")

    def take():
        p = subprocess.run([sys.executable, os.path.join(TOP, "tools", "vmxcore", "vmxcore.py"),
                            monitor_elf("panic1"), run.com2, path], capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise TestFailure("vmxcore: %s" % p.stderr)
        return path
    return run, once(("lab05-core", run.dir), take)


def gdb(core, *commands):
    p = subprocess.run(["gdb", "-q", "-batch", "-nx", "-x", os.path.join(TOP, "tools", "vmxcore", "corequery.py")] +
                       [a for c in commands for a in ("-ex", c)] + [monitor_elf("panic1"), core],
                       capture_output=True, text=True, timeout=120)
    return p.stdout + p.stderr


def test_panic_stops_the_other_vcpu_and_writes_a_core():
    run = lab05("panic1", HASWELL)
    expect_clean_end(run)
    expect(run, r"^\[vcpu1\] PANIC: test = panic1: a panic on purpose, at guest memtest's hypercall MON_HC_STATS")
    expect(run, r"^host: vCPU 1: panicked$")
    expect(run, r"^host: vCPU 0: (stopped \(the other vCPU panicked\)|done)$")
    expect(run, r"^host: core of vCPU 1's panic on COM2: \d+ bytes")
    # The stats dumps before the core are still read (vmxstat skips the core).
    p = vmxstat(monitor_elf("panic1"), run.com2)
    assert p.returncode == 0 and "vCPU 1" in p.stdout, p.stdout + p.stderr


def test_gdb_opens_the_core_backtrace_through_panic_and_the_exit_stub():
    run, core = core_of_panic()
    out = gdb(core, "info threads", "bt", "print mon_vcpu", "print mon_shared.panic_vcpu_plus1")
    # Both vCPUs are threads; the panicking one (LWP = vCPU + 1) is current.
    assert re.search(r"^\* 1\s+LWP 2\s", out, re.M) and re.search(r"^  2\s+LWP 1\s", out, re.M), out
    frames = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+)", out, re.M)
    for f in ("Panic", "mon_exit_handler", "mon_vmexit", "run_guest", "mon_run_guests", "mon_main", "mon_start"):
        assert f in frames, "frame %s not in the backtrace:\n%s" % (f, out)
    assert frames.index("mon_vmexit") < frames.index("run_guest"), out
    assert frames[-1] == "mon_start", "the backtrace does not end at mon_start:\n%s" % out
    # A global of the panicking vCPU's copy, and the shared area.
    assert re.search(r"^\$1 = 1$", out, re.M), out
    assert re.search(r"^\$2 = 2$", out, re.M), out


def test_corequery_reads_the_vcpus_exits_and_ept():
    run, core = core_of_panic()
    out = gdb(core, "help user", "vmx-panic", "vmx-vcpus", "vmx-exits 1", "vmx-ept 0x8000 1")
    for c in ("vmx-info", "vmx-panic", "vmx-vcpus", "vmx-exits", "vmx-ept", "vmx-vmmaddr"):
        assert re.search(r"^%s -- " % c, out, re.M), "help user does not list %s:\n%s" % (c, out)
    assert "vCPU 1 panicked: test = panic1: a panic on purpose" in out, out
    # The guests that ended on vCPU 1 had the exits the monitor printed.
    for g in ("msrdump", "vmxprobe"):
        n = expect(text_of(run, 1, g), r"^monitor: guest %s ended after (\d+) exits" % g).group(1)
        assert re.search(r"^  guest %s\s+VPID \d+\s+ended\s+%s exits" % (g, n), out, re.M), (g, n, out)
    # memtest's two hypercalls (the page given back, the counters) are vCPU 1's VMCALL exits.
    assert re.search(r"^vCPU 1 VMCALL\s+2$", out, re.M), out
    # 0x8000 was copied on write: the walk ends at a writable page of vCPU 1's own.
    m = re.search(r"^guest-physical 0x8000 -> host-physical (0x[0-9a-f]+) \(rwx, memory type 6\)$", out, re.M)
    assert m, out
    eptp = int(expect(text_of(run, 1, "memtest"), r"^monitor: EPT pointer (0x[0-9a-f]+), VPID").group(1), 16)
    assert re.search(r"^PML4E \[  0\] at 0x%x:" % (eptp & ~0xFFF), out, re.M), (hex(eptp), out)


def test_vmxcore_refuses_a_cut_core_and_another_builds():
    run, core = core_of_panic()
    tool = os.path.join(TOP, "tools", "vmxcore", "vmxcore.py")
    with open(run.com2, "rb") as f:
        data = f.read()
    cut = os.path.join(run.dir, "com2-cut.bin")
    with open(cut, "wb") as f:
        f.write(data[:len(data) - 5000])
    p = subprocess.run([sys.executable, tool, monitor_elf("panic1"), cut, os.path.join(run.dir, "cut.core")],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "cut short" in p.stderr, p.stderr
    p = subprocess.run([sys.executable, tool, monitor_elf("default"), run.com2, os.path.join(run.dir, "x.core")],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "another build of the monitor" in p.stderr, p.stderr
    with open(core, "rb") as f:
        whole = f.read()
    with open(os.path.join(run.dir, "cut.core"), "wb") as f:
        f.write(whole[:len(whole) // 2])
    p = subprocess.run([sys.executable, tool, "--check", monitor_elf("panic1"), os.path.join(run.dir, "cut.core")],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "cut short" in p.stderr, p.stderr
    p = subprocess.run([sys.executable, tool, "--check", monitor_elf("panic1"), core], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
