"""Tests of the boot path (common/boot/), the bare-metal runtime (common/rt/)
and the `make run` payload (common/msrdump/).

Every test boots a real image in Bochs or QEMU through tests/lib/emu.py and
reads COM1. Expected values come from the SDM, from the fact lists in
common/vmx/ (parsed here), from the ELF symbol tables of the images, or from
Python's own printf; the one measured constant, IA32_VMX_BASIC of Bochs'
Haswell, is the value docs/PLATFORM.md records.
"""

import os
import re
import shutil
import subprocess
import tempfile

from lib import emu
from lib.testlib import (expect, expect_not, expect_clean_end, build_path,
                         once, TestFailure, TOP, BUILD)

HASWELL = "corei7_haswell_4770"
PENRYN = "core2_penryn_t9600"
TIGERLAKE = "tigerlake"


def img(*parts):
    return build_path(*parts)


def bochs(image, cpu=HASWELL, name=None):
    """One Bochs run per (image, cpu) for the whole test session."""
    key = ("bochs", image, cpu)
    return once(key, lambda: emu.run_bochs(
        img(*image), cpu=cpu, timeout=60,
        name=name or "boot-%s-%s" % (os.path.splitext(image[-1])[0], cpu)))


def qemu(image):
    key = ("qemu", image)
    return once(key, lambda: emu.run_qemu(
        name="boot-qemu-%s" % os.path.splitext(image[-1])[0], floppy=img(*image), timeout=60))


def symbol(elf, name):
    """Address of `name` in an ELF image (nm)."""
    out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True, timeout=60).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise TestFailure("no symbol %s in %s" % (name, os.path.relpath(elf, TOP)))


def vmx_msr_list():
    """[(name, number)] from common/vmx/vmx_msrs.def, the one source of truth."""
    path = os.path.join(TOP, "common", "vmx", "vmx_msrs.def")
    with open(path) as f:
        rows = re.findall(r"^VMX_MSR\(\s*(\w+)\s*,\s*(0x[0-9A-Fa-f]+)", f.read(), re.M)
    if len(rows) < 20:
        raise TestFailure("could not read the MSR list from %s" % path)
    return [(n, int(v, 16)) for n, v in rows]


HELLO = ("boot", "tests", "hello.img")
FAULT = ("boot", "tests", "fault.img")
HIGHMAP = ("boot", "tests", "highmap.img")
VMXOPS = ("boot", "tests", "vmxops.img")
SETUPFAULT = ("boot", "tests", "setupfault", "setupfault.img")
MSRDUMP = ("msrdump", "msrdump.img")
BIGIMAGE = ("boot", "tests", "bigimage.img")

def cpu_bits():
    """{"CR0_PE": mask, ...} from common/vmx/cpu_bits.def."""
    with open(os.path.join(TOP, "common", "vmx", "cpu_bits.def")) as f:
        rows = re.findall(r"^CPU_REG_BIT\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(\d+)", f.read(), re.M)
    return {"%s_%s" % (reg, name): 1 << int(bit) for reg, name, bit in rows}


BITS = cpu_bits()
CR0_PE, CR0_NE, CR0_NW, CR0_CD, CR0_PG = (BITS["CR0_" + n] for n in ("PE", "NE", "NW", "CD", "PG"))
CR4_PAE = BITS["CR4_PAE"]
EFER_LME, EFER_LMA = BITS["EFER_LME"], BITS["EFER_LMA"]


def check_machine_state(run):
    """What the boot path promises lab_main: 64-bit mode, TR non-zero, caches on."""
    expect_clean_end(run)
    expect(run, r"^hello: lab_main reached$")
    expect(run, r"^vmxlab: done$")
    val = lambda n: int(expect(run, r"^%s: (0x[0-9a-f]+)$" % n).group(1), 16)
    if val("tr") == 0:
        raise TestFailure("TR is 0: the VMCS host TR selector must be non-zero")
    cr0, cr4, efer = val("cr0"), val("cr4"), val("efer")
    if not (cr0 & CR0_PE and cr0 & CR0_PG and cr0 & CR0_NE) or cr0 & (CR0_CD | CR0_NW):
        raise TestFailure("CR0 0x%x: want PE, PG, NE set and CD, NW clear" % cr0)
    if not (cr4 & CR4_PAE) or not (efer & EFER_LME) or not (efer & EFER_LMA):
        raise TestFailure("not in IA-32e mode: CR4 0x%x EFER 0x%x" % (cr4, efer))
    gdt = expect(run, r"^gdtr: base=(0x[0-9a-f]+) limit=(0x[0-9a-f]+)$")
    if int(gdt.group(2), 16) < val("tr") + 15:
        raise TestFailure("the GDT limit does not cover the 16-byte TSS descriptor")


def test_boot_bochs_haswell_boots_the_floppy_into_64_bit_mode_and_reaches_lab_m():
    """boot: Bochs (haswell) boots the floppy into 64-bit mode and reaches lab_main"""
    check_machine_state(bochs(HELLO))


def test_boot_qemu_fda_isa_debug_exit_boots_the_same_image_to_lab_main():
    """boot: QEMU (-fda, isa-debug-exit) boots the same image to lab_main"""
    check_machine_state(qemu(HELLO))


def test_boot_printf_formats_like_c_s_printf_d_u_x_x_lx_llu_lld_c_s_p_0_width():
    """boot: printf formats like C's printf (%d %u %x %X %lx %llu %lld %c %s %p, 0 - width)"""
    run = bochs(HELLO)
    line = expect(run, r"^printf: .*$").group(0)
    # The same format and values as tests/payloads/hello.c, formatted by Python.
    fmt = "printf: [%5d] [%-5d] [%05d] [%x] [%X] [%08x] [%d] [%d] [%c] [%s] [%-4s] [0x%016x]"
    want = fmt % (42, 42, -42, 0xbeef, 0xbeef, 0x1234, 18446744073709551615,
                  -9223372036854775807 - 1, "z", "str", "ab", 0x1000)
    if line != want:
        raise TestFailure("printf printed\n  %r\nwant\n  %r" % (line, want))
    expect(run, r"^puthex: %s$" % ("0x%016x" % 0x0123456789abcdef))


def test_boot_page_alloc_returns_4_kib_aligned_pages_above_the_payload():
    """boot: page_alloc returns 4 KiB-aligned pages above the payload"""
    run = bochs(HELLO)
    a, b = (int(x, 16) for x in expect(run, r"^page_alloc: (0x[0-9a-f]+) (0x[0-9a-f]+)$").groups())
    free_start = symbol(img(*HELLO[:-1], "hello.elf"), "__free_start")
    if a % 4096 or b % 4096 or a < free_start or b <= a:
        raise TestFailure("pages 0x%x 0x%x (free pool starts at 0x%x)" % (a, b, free_start))


def check_fault(run, elf):
    expect_clean_end(run)
    m = expect(run, r"^EXCEPTION: vector=14 #PF error=(0x[0-9a-f]+) rip=(0x[0-9a-f]+) cs=0x8 "
                    r"rflags=0x[0-9a-f]+ rsp=0x[0-9a-f]+ cr2=(0x[0-9a-f]+) cr0=0x[0-9a-f]+ "
                    r"cr3=0x[0-9a-f]+ cr4=0x[0-9a-f]+$", "the #PF report")
    err, rip, cr2 = (int(x, 16) for x in m.groups())
    want_rip = symbol(elf, "fault_instruction")
    if rip != want_rip:
        raise TestFailure("reported RIP 0x%x, but fault_instruction is at 0x%x" % (rip, want_rip))
    if cr2 != 1 << 32 or err != 0x2:    # write to a not-present page (SDM 4.7)
        raise TestFailure("CR2 0x%x error 0x%x: want 0x100000000 and 0x2" % (cr2, err))
    expect_not(run, r"still running|^vmxlab: done", "output after the fault")


def test_boot_a_140_kib_image_many_tracks_both_heads_64_kib_dma_pages_loads_int():
    """boot: a 140 KiB image (many tracks, both heads, 64 KiB DMA pages) loads intact in Bochs and QEMU"""
    size = os.path.getsize(img(*BIGIMAGE[:-1], "bigimage.bin"))
    if 0x8000 + size <= 0x20000:        # loaded at 0x8000 (payload.ld)
        raise TestFailure("bigimage.bin is only %d bytes: it no longer crosses two 64 KiB pages" % size)
    for run in (bochs(BIGIMAGE), qemu(BIGIMAGE)):
        expect_clean_end(run)
        expect(run, r"^bigimage: 32768 dwords, 0 wrong$")
        expect(run, r"^vmxlab: done$")


# --- Booting without a floppy controller (int 13h) ----------------------------
#
# The same .img attached as a hard disk: the BIOS passes DL = 0x80 and the
# boot sector reads through int 13h (AH=42h when the BIOS has it). Test
# builds of the boot sector (bootsect.asm's BOOT_SELFTEST_* hooks) stand
# for what the emulators do not have: a drive A: with no controller behind
# it (a USB stick shown as a floppy), a BIOS without AH=42h.

BOOTSECT = os.path.join(TOP, "common", "boot", "bootsect.asm")
SECTOR_BYTES = 512
HDD_HEADS, HDD_SPT = 2, 18      # Bochs' ata0-master geometry for the flat 1.44 MB image


def nasm_bootsect(sectors, defines, out):
    p = subprocess.run(["nasm", "-f", "bin", "-I", os.path.join(BUILD, "gen") + "/",
                        "-DPAYLOAD_SECTORS=%d" % sectors]
                       + ["-D%s" % d for d in defines] + [BOOTSECT, "-o", out],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise TestFailure("nasm %s failed:\n%s" % (" ".join(defines), p.stderr))
    with open(out, "rb") as f:
        return f.read()


def variant(image, *defines):
    """IMAGE with its boot sector assembled again with -D DEFINES, under
    build/boot/tests/variants/. Assembled without them first, the sector
    must equal the image's own (the image is current and this is how
    mk/baremetal.mk makes it)."""
    def make():
        path = img(*image)
        payload = img(*image[:-1], image[-1][:-len(".img")] + ".bin")
        sectors = (os.path.getsize(payload) + SECTOR_BYTES - 1) // SECTOR_BYTES
        out_dir = os.path.join(BUILD, "boot", "tests", "variants")
        os.makedirs(out_dir, exist_ok=True)
        stem = os.path.join(out_dir, "%s-%s" % (image[-1][:-len(".img")],
                                                "-".join(d.lower() for d in defines)))
        with open(path, "rb") as f:
            original = f.read()
        if nasm_bootsect(sectors, (), stem + ".plain.bs") != original[:SECTOR_BYTES]:
            raise TestFailure("%s does not start with bootsect.asm assembled for %d sectors: "
                              "run `make all`" % (os.path.relpath(path, TOP), sectors))
        sector = nasm_bootsect(sectors, defines, stem + ".bs")
        if sector == original[:SECTOR_BYTES]:
            raise TestFailure("-D%s changed nothing in the boot sector" % " -D".join(defines))
        with open(stem + ".img", "wb") as f:
            f.write(sector + original[SECTOR_BYTES:])
        return stem + ".img"
    return once(("variant", image, defines), make)


def qemu_hdd(path, name, timeout=60):
    """QEMU, no floppy: PATH (a copy) is the IDE primary master, booted with -boot c."""
    def run():
        with tempfile.TemporaryDirectory() as d:
            disk = os.path.join(d, "hdd.img")
            shutil.copyfile(path, disk)
            return emu.run_qemu(name=name, timeout=timeout,
                                extra=["-drive", "if=ide,format=raw,file=%s" % disk, "-boot", "c"])
    return once(("qemu-hdd", path, name), run)


def bochs_hdd(path, name):
    """Bochs with PATH (a copy) as ata0-master, a flat disk of 2 heads and 18
    sectors per track; the later `boot: disk` wins over emu.py's `boot: floppy`
    (checked in the log), so the BIOS boots it with DL = 0x80."""
    def run():
        size = os.path.getsize(path)
        if size % (HDD_HEADS * HDD_SPT * SECTOR_BYTES):
            raise TestFailure("%s: %d bytes is not whole cylinders" % (path, size))
        with tempfile.TemporaryDirectory() as d:
            disk = os.path.join(d, "hdd.img")
            shutil.copyfile(path, disk)
            r = emu.run_bochs(path, timeout=60, name=name, bochsrc_extra=[
                "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
                "ata0-master: type=disk, path=%s, mode=flat, cylinders=%d, heads=%d, spt=%d"
                % (disk, size // (HDD_HEADS * HDD_SPT * SECTOR_BYTES), HDD_HEADS, HDD_SPT),
                "boot: disk"])
        if "Using boot sequence disk" not in r.log:
            raise TestFailure("Bochs did not boot from the hard disk (see %s/bochs.log)" % r.dir)
        return r
    return once(("bochs-hdd", path, name), run)


def check_bigimage(run):
    expect_clean_end(run)
    expect(run, r"^bigimage: 32768 dwords, 0 wrong$")
    expect(run, r"^vmxlab: done$")


# The Bochs BIOS logs this when int 13h AH=41h is asked about a floppy: the
# boot sector turned to the BIOS for drive A:.
BOCHS_FLOPPY_AH41 = "int13_diskette: unsupported AH=41"


def check_floppy_fallback(bochs_run, qemu_run):
    for run in (bochs_run, qemu_run):
        check_bigimage(run)
    if BOCHS_FLOPPY_AH41 not in bochs_run.log:
        raise TestFailure("Bochs never logged %r: the image did not load through int 13h "
                          "(see %s/bochs.log)" % (BOCHS_FLOPPY_AH41, bochs_run.dir))
    plain = bochs(BIGIMAGE)
    if BOCHS_FLOPPY_AH41 in plain.log:
        raise TestFailure("the plain floppy image called int 13h too (see %s/bochs.log): "
                          "its controller path failed" % plain.dir)


def test_boot_qemu_boots_the_image_as_an_ide_hard_disk_dl_0x80_int_13h_to_lab_m():
    """boot: QEMU boots the image as an IDE hard disk (DL=0x80, int 13h) to lab_main"""
    check_machine_state(qemu_hdd(img(*HELLO), "boot-qemuhdd-hello"))


def test_boot_bochs_boots_the_image_as_an_ata_hard_disk_boot_disk_int_13h_to_la():
    """boot: Bochs boots the image as an ATA hard disk (boot: disk, int 13h) to lab_main"""
    check_machine_state(bochs_hdd(img(*HELLO), "boot-bochshdd-hello"))


def test_boot_the_140_kib_image_loads_intact_from_a_hard_disk_in_qemu_and_bochs():
    """boot: the 140 KiB image loads intact from a hard disk in QEMU and Bochs (AH=42h)"""
    for run in (qemu_hdd(img(*BIGIMAGE), "boot-qemuhdd-bigimage"),
                bochs_hdd(img(*BIGIMAGE), "boot-bochshdd-bigimage")):
        check_bigimage(run)


def test_boot_the_140_kib_image_loads_intact_from_a_hard_disk_by_ah_08h_geometr():
    """boot: the 140 KiB image loads intact from a hard disk by AH=08h geometry + AH=02h CHS reads (QEMU, Bochs; test build that ignores AH=41h)"""
    path = variant(BIGIMAGE, "BOOT_SELFTEST_NO_EXT")
    for run in (qemu_hdd(path, "boot-qemuhdd-bigimage-chs"),
                bochs_hdd(path, "boot-bochshdd-bigimage-chs")):
        check_bigimage(run)


def test_boot_drive_a_with_no_floppy_controller_answering_falls_back_to_int_13h():
    """boot: drive A: with no floppy controller answering falls back to int 13h (Bochs, QEMU)"""
    path = variant(BIGIMAGE, "BOOT_SELFTEST_NO_FDC")
    check_floppy_fallback(
        once(("bochs-nofdc",), lambda: emu.run_bochs(path, timeout=60, name="boot-nofdc-bigimage")),
        once(("qemu-nofdc",), lambda: emu.run_qemu(name="boot-qemu-nofdc-bigimage", floppy=path,
                                                   timeout=60)))


def test_boot_a_floppy_read_whose_irq_6_never_comes_times_out_and_falls_back_to():
    """boot: a floppy read whose IRQ 6 never comes times out and falls back to int 13h (Bochs, QEMU)"""
    path = variant(BIGIMAGE, "BOOT_SELFTEST_NO_IRQ")
    check_floppy_fallback(
        once(("bochs-noirq",), lambda: emu.run_bochs(path, timeout=60, name="boot-noirq-bigimage")),
        once(("qemu-noirq",), lambda: emu.run_qemu(name="boot-qemu-noirq-bigimage", floppy=path,
                                                   timeout=60)))


def test_boot_a_hard_disk_shorter_than_the_image_stops_with_the_boot_sector_s_o():
    """boot: a hard disk shorter than the image stops with the boot sector's one int 13h error line"""
    with open(BOOTSECT) as f:
        m = re.search(r'^msg_int13_error:\s+db\s+"([^"]+)", 13, 10, 0', f.read(), re.M)
    if not m:
        raise TestFailure("no msg_int13_error in %s" % os.path.relpath(BOOTSECT, TOP))
    d = os.path.join(BUILD, "boot", "tests", "variants")
    os.makedirs(d, exist_ok=True)
    short = os.path.join(d, "hello-short.img")
    with open(img(*HELLO), "rb") as f:
        head = f.read(16 * SECTOR_BYTES)        # the payload needs more than 15 sectors
    if os.path.getsize(img(*HELLO[:-1], "hello.bin")) <= len(head) - SECTOR_BYTES:
        raise TestFailure("hello.bin fits in %d bytes: the disk would not be short" % len(head))
    with open(short, "wb") as f:
        f.write(head)
    # The boot sector halts for good after the message: the run ends by its timeout.
    run = qemu_hdd(short, "boot-qemuhdd-short", timeout=8)
    lines = run.serial.splitlines()
    if lines != [m.group(1)]:
        raise TestFailure("COM1 printed %r, want exactly [%r]" % (lines, m.group(1)))


def test_boot_a_pf_in_the_payload_prints_one_exception_line_vector_error_rip_cr():
    """boot: a #PF in the payload prints one EXCEPTION line (vector, error, RIP, CR2) and ends the run (Bochs)"""
    check_fault(bochs(FAULT), img(*FAULT[:-1], "fault.elf"))


def test_boot_a_pf_in_the_payload_is_reported_in_qemu_too():
    """boot: a #PF in the payload is reported in QEMU too"""
    check_fault(qemu(FAULT), img(*FAULT[:-1], "fault.elf"))


def test_boot_a_fault_during_32_bit_setup_is_reported_by_setup_s_own_idt_not_a():
    """boot: a fault during 32-bit setup is reported by setup's own IDT, not a triple fault"""
    run = bochs(SETUPFAULT)
    expect_clean_end(run)
    m = expect(run, r"^EXCEPTION: vector=0x00000006 in boot setup \(32-bit protected mode\) "
                    r"error=0x00000000 eip=(0x[0-9a-f]{8})$")
    elf = img(*SETUPFAULT[:-1], "setupfault.elf")
    start = symbol(elf, "protected_mode_entry")
    if not start < int(m.group(1), 16) < symbol(elf, "build_page_tables"):
        raise TestFailure("EIP %s is not in setup's 32-bit code" % m.group(1))
    expect_not(run, r"triple fault", "triple fault")
    if "triple fault" in run.log:
        raise TestFailure("Bochs logged a triple fault")


def test_boot_code_linked_at_0xfffffffffc000000_high_runs_and_reads_its_own_add():
    """boot: code linked at 0xFFFFFFFFFC000000 (.high) runs and reads its own address back"""
    run = bochs(HIGHMAP)
    expect_clean_end(run)
    expect_not(run, r"FAILED")
    oks = re.findall(r"^high: .*: ok$", run.serial, re.M)
    if len(oks) != 5:
        raise TestFailure("want 5 'high: ...: ok' lines, got %d:\n%s" % (len(oks), run.serial))
    elf = img(*HIGHMAP[:-1], "highmap.elf")
    fn = symbol(elf, "high_where")
    linked = int(expect(run, r"^high: high_where is linked at (0x[0-9a-f]+)$").group(1), 16)
    rip = int(expect(run, r"^high: rip read back (0x[0-9a-f]+)$").group(1), 16)
    if linked != fn or not (0xFFFFFFFFFC000000 <= fn <= rip < fn + 64):
        raise TestFailure("high_where at 0x%x (ELF 0x%x), RIP read back 0x%x" % (linked, fn, rip))
    expect(run, r"^vmxlab: done$")


def test_boot_every_vmx_wrapper_returns_the_sdm_s_vmsucceed_vmfailinvalid_vmfai():
    """boot: every VMX wrapper returns the SDM's VMsucceed/VMfailInvalid/VMfailValid in Bochs"""
    run = bochs(VMXOPS)
    expect_clean_end(run)
    expect_not(run, r"FAILED|^EXCEPTION")
    expect(run, r"^vmxops: vmlaunch with all controls 0: VMfailValid error=7 ok$")
    expect(run, r"^vmxops: vmread without a current VMCS: VMfailInvalid ok$")
    expect(run, r"^vmxops: 0 failed$")


def test_boot_a_typed_vmcs_accessor_of_the_wrong_width_does_not_compile():
    """boot: a typed VMCS accessor of the wrong width does not compile"""
    src = ('#include "rt.h"\n'
           'void f(uint64_t v) { vmcs_write16(VMCS_%s, v); }\n')
    flags = ["gcc", "-O2", "-ffreestanding", "-mcmodel=kernel", "-mgeneral-regs-only",
             "-mno-red-zone", "-fno-pic", "-I", os.path.join(TOP, "common", "include"), "-c"]
    with tempfile.TemporaryDirectory() as d:
        results = {}
        for field in ("GUEST_CS_SELECTOR", "GUEST_RIP"):
            path = os.path.join(d, "%s.c" % field)
            with open(path, "w") as f:
                f.write(src % field)
            p = subprocess.run(flags + [path, "-o", path + ".o"], capture_output=True, text=True, timeout=120)
            results[field] = p
    if results["GUEST_CS_SELECTOR"].returncode != 0:
        raise TestFailure("a correct 16-bit write did not compile:\n" + results["GUEST_CS_SELECTOR"].stderr)
    bad = results["GUEST_RIP"]
    if bad.returncode == 0 or "wrong width" not in bad.stderr:
        raise TestFailure("vmcs_write16(VMCS_GUEST_RIP) compiled (or failed for another reason):\n"
                          + bad.stderr)


def check_msr_listing(run):
    """Every MSR of vmx_msrs.def appears exactly once: with a value, or absent."""
    expect_clean_end(run)
    expect_not(run, r"^EXCEPTION", "exception (an absent MSR read?)")
    expect(run, r"^cpu vendor: GenuineIntel$")
    expect(run, r"^vmx: yes")
    listed = {}
    for name, number in vmx_msr_list():
        lines = re.findall(r"^0x%x %s (0x[0-9a-f]{16}|absent: .+)$" % (number, name),
                           run.serial, re.M)
        if len(lines) != 1:
            raise TestFailure("MSR 0x%x %s listed %d times (want 1)" % (number, name, len(lines)))
        listed[name] = lines[0]
    expect(run, r"^IA32_VMX_BASIC decoded:$")
    expect(run, r"^vmxlab: done$")
    return listed


def test_msrdump_haswell_lists_every_vmx_msr_ia32_vmx_basic_0x00d810000000002b():
    """msrdump: haswell lists every VMX MSR, IA32_VMX_BASIC = 0x00d810000000002b, and decodes it"""
    run = bochs(MSRDUMP)
    listed = check_msr_listing(run)
    expect(run, r"^0x480 IA32_VMX_BASIC 0x00d810000000002b$")
    for name in ("IA32_VMX_EPT_VPID_CAP", "IA32_VMX_VMFUNC", "IA32_VMX_PROCBASED_CTLS2"):
        if listed[name].startswith("absent"):
            raise TestFailure("%s is absent on haswell, which has EPT/VPID/VM functions" % name)
    expect(run, r"^  VMCS_REVISION_ID: +0x2b\b")
    expect(run, r"^  VMCS_REGION_SIZE: +4096 bytes\b")


def test_msrdump_penryn_lists_ept_vpid_cap_and_vmfunc_as_absent_with_reasons_an():
    """msrdump: penryn lists EPT_VPID_CAP and VMFUNC as absent with reasons, and does not fault"""
    run = bochs(MSRDUMP, PENRYN)
    listed = check_msr_listing(run)
    for name in ("IA32_VMX_EPT_VPID_CAP", "IA32_VMX_VMFUNC"):
        if not re.match(r"absent: \S.{10,}", listed[name]):
            raise TestFailure("%s on penryn: %r, want 'absent: <reason>'" % (name, listed[name]))


def test_msrdump_tigerlake_reports_vmcs_revision_id_4():
    """msrdump: tigerlake reports VMCS revision id 4"""
    run = bochs(MSRDUMP, TIGERLAKE)
    listed = check_msr_listing(run)
    basic = int(listed["IA32_VMX_BASIC"], 16)
    if basic & 0x7FFFFFFF != 4:
        raise TestFailure("IA32_VMX_BASIC 0x%x: revision id %d, want 4" % (basic, basic & 0x7FFFFFFF))
    expect(run, r"^  VMCS_REVISION_ID: +0x4\b")


def test_msrdump_qemu_tcg_no_vmx_says_so_in_one_line_and_reads_no_vmx_msr():
    """msrdump: QEMU TCG (no VMX) says so in one line and reads no VMX MSR"""
    run = qemu(MSRDUMP)
    expect_clean_end(run)
    expect(run, r"^vmx: no: .*CPUID\.1:ECX\[5\]")
    expect_not(run, r"^0x[0-9a-f]+ IA32_", "an MSR line")
    expect_not(run, r"^EXCEPTION")
    expect(run, r"^vmxlab: done$")
