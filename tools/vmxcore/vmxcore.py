#!/usr/bin/env python3
"""vmxcore - take the lab05 monitor's core out of the COM2 file, check it
against the monitor ELF, and write it where gdb can open it.

After a panic the host side writes, on COM2, a struct mon_core_header
(common/monitor/layout.h: "VMXCORE1", the panicking vCPU, the monitor's
20-byte GNU build id, the size) and then an ELF core file
(common/monitor/host/core.c). COM2 may carry stats records (VMXSTAT1) before
it; they are skipped.

The core carries the monitor ELF the host side had, without debug
information (the image has no room for more). vmxcore puts the full ELF of
the same build id in its place ("ELF within ELF": the core alone is enough
for `vmxcore.py --extract-elf`), and refuses:
  - a core from another build (its build id is not the ELF's),
  - a core cut short (fewer bytes than its header says, or segments that
    end past the end of the file),
  - a file with no core in it.

Usage:
  vmxcore.py MONITOR_ELF COM2_FILE OUT_CORE      take the core out
  vmxcore.py --check MONITOR_ELF CORE            check a core file
  vmxcore.py --extract-elf CORE OUT_ELF          the monitor ELF inside a core
"""

import argparse
import struct
import sys

STAT_HEADER = struct.Struct("<8sII20sIQ")      # struct mon_statdump_header
CORE_HEADER = struct.Struct("<8sII20sIQ")      # struct mon_core_header
EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD, PT_NOTE = 1, 4
NOTE_KIT, NOTE_ELF = 0x564d5801, 0x564d5802      # common/monitor/host/core.c


class CoreError(Exception):
    pass


def build_id_of(elf_bytes, what):
    """The GNU build id of an ELF (its NT_GNU_BUILD_ID note)."""
    from io import BytesIO
    from elftools.elf.elffile import ELFFile
    try:
        elf = ELFFile(BytesIO(elf_bytes))
    except Exception as e:                      # noqa: BLE001  any parse error is "not an ELF"
        raise CoreError("%s is not an ELF file (%s)" % (what, e))
    for sec in elf.iter_sections():
        if sec["sh_type"] == "SHT_NOTE":
            for n in sec.iter_notes():
                if n["n_type"] == "NT_GNU_BUILD_ID":
                    return bytes.fromhex(n["n_desc"])
    raise CoreError("%s has no GNU build id" % what)


def read(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise CoreError("cannot read %s %s: %s" % (what, path, e.strerror))


def find_core(com2, path):
    """The ELF core bytes and its header fields, from a COM2 file."""
    at = 0
    while at + 8 <= len(com2):
        magic = com2[at:at + 8]
        if magic == b"VMXSTAT1":
            if len(com2) - at < STAT_HEADER.size:
                break
            size = STAT_HEADER.unpack_from(com2, at)[4]
            at += STAT_HEADER.size + size
        elif magic == b"VMXCORE1":
            if len(com2) - at < CORE_HEADER.size:
                raise CoreError("%s: the core's header is cut short" % path)
            _, vcpu, _, build_id, _, size = CORE_HEADER.unpack_from(com2, at)
            core = com2[at + CORE_HEADER.size:at + CORE_HEADER.size + size]
            if len(core) < size:
                raise CoreError("%s: the core is cut short: %d of its %d bytes are there"
                                % (path, len(core), size))
            return core, vcpu, build_id
        else:
            raise CoreError("%s: unknown record at offset %d (neither VMXSTAT1 nor VMXCORE1)" % (path, at))
    raise CoreError("%s holds no core (no VMXCORE1 record: did the monitor panic? make core-lab05 "
                    "panics it on purpose)" % path)


def parse(core, what):
    """(ELF header fields, [program headers], [(name, type, desc, offset of desc)])."""
    if len(core) < EHDR.size or core[:4] != b"\x7fELF":
        raise CoreError("%s is not an ELF file" % what)
    eh = EHDR.unpack_from(core, 0)
    if eh[1] != 4:
        raise CoreError("%s is an ELF file but not a core (e_type %d)" % (what, eh[1]))
    phoff, phnum = eh[5], eh[10]
    if phoff + phnum * PHDR.size > len(core):
        raise CoreError("%s is cut short: its program headers end past the end of the file" % what)
    phs = [list(PHDR.unpack_from(core, phoff + i * PHDR.size)) for i in range(phnum)]
    notes = []
    for ph in phs:
        # p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
        if ph[2] + ph[5] > len(core):
            raise CoreError("%s is cut short: a segment at 0x%x needs bytes up to %d, the file has %d"
                            % (what, ph[3], ph[2] + ph[5], len(core)))
        if ph[0] == PT_NOTE:
            at, end = ph[2], ph[2] + ph[5]
            while at + 12 <= end:
                namesz, descsz, typ = struct.unpack_from("<III", core, at)
                name = core[at + 12:at + 12 + namesz].rstrip(b"\0").decode(errors="replace")
                d = at + 12 + ((namesz + 3) & ~3)
                notes.append((name, typ, core[d:d + descsz], d))
                at = d + ((descsz + 3) & ~3)
    return eh, phs, notes


def kit_note(notes):
    for name, typ, desc, _ in notes:
        if name == "VMXLAB" and typ == NOTE_KIT:
            return desc.rstrip(b"\0").decode(errors="replace")
    raise CoreError("the core has no VMXLAB note: not a lab05 monitor core")


def check(core, elf_bytes, what, elf_path):
    _, _, notes = parse(core, what)
    text = kit_note(notes)
    m = [l.split()[1] for l in text.splitlines() if l.startswith("build-id ")]
    want = build_id_of(elf_bytes, elf_path).hex()
    if not m or m[0] != want:
        raise CoreError("%s is from another build of the monitor: its build id %s is not %s's %s"
                        % (what, m[0] if m else "(none)", elf_path, want))
    return notes


def replace_elf(core, full_elf):
    """The core with its embedded monitor ELF replaced (offsets moved)."""
    eh, phs, notes = parse(core, "the core")
    out = bytearray()
    body = bytearray()
    for name, typ, desc, _ in notes:
        if name == "VMXLAB" and typ == NOTE_ELF:
            desc = full_elf
        n = name.encode() + b"\0"
        body += struct.pack("<III", len(n), len(desc), typ) + n + b"\0" * (-len(n) % 4)
        body += desc + b"\0" * (-len(desc) % 4)
    header_len = EHDR.size + len(phs) * PHDR.size
    data_at = (header_len + len(body) + 4095) & ~4095     # p_offset = p_vaddr modulo the page
    shift = data_at - min(ph[2] for ph in phs if ph[0] == PT_LOAD)
    out += core[:EHDR.size]
    for ph in phs:
        ph = list(ph)
        if ph[0] == PT_NOTE:
            ph[2], ph[5] = header_len, len(body)
        elif ph[0] == PT_LOAD:
            ph[2] += shift
        out += PHDR.pack(*ph)
    out += body + b"\0" * (data_at - header_len - len(body))
    first = min(ph[2] for ph in phs if ph[0] == PT_LOAD)
    out += core[first:]
    return bytes(out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="vmxcore", description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="check CORE against MONITOR_ELF")
    ap.add_argument("--extract-elf", action="store_true", help="write the monitor ELF inside CORE to OUT")
    ap.add_argument("args", nargs="+")
    a = ap.parse_args(argv)
    try:
        if a.extract_elf:
            core_path, out = a.args
            _, _, notes = parse(read(core_path, "the core"), core_path)
            elf = [d for n, t, d, _ in notes if n == "VMXLAB" and t == NOTE_ELF]
            if not elf:
                raise CoreError("%s carries no monitor ELF" % core_path)
            with open(out, "wb") as f:
                f.write(elf[0])
            print("vmxcore: the monitor ELF in %s: %s (%d bytes)" % (core_path, out, len(elf[0])))
        elif a.check:
            elf_path, core_path = a.args
            elf = read(elf_path, "the monitor ELF")
            check(read(core_path, "the core"), elf, core_path, elf_path)
            print("vmxcore: %s is a complete core of %s's build" % (core_path, elf_path))
        else:
            elf_path, com2_path, out = a.args
            elf = read(elf_path, "the monitor ELF")
            core, vcpu, build_id = find_core(read(com2_path, "the COM2 file"), com2_path)
            if build_id != build_id_of(elf, elf_path):
                raise CoreError("%s: the core is from another build of the monitor: its build id %s is "
                                "not %s's %s" % (com2_path, build_id.hex(), elf_path,
                                                 build_id_of(elf, elf_path).hex()))
            check(core, elf, com2_path, elf_path)
            full = replace_elf(core, elf)
            with open(out, "wb") as f:
                f.write(full)
            print("vmxcore: %s: the core of vCPU %d's panic, %d bytes (%d as written on COM2; the "
                  "full monitor ELF put in)" % (out, vcpu, len(full), len(core)))
    except (CoreError, ValueError) as e:
        print("vmxcore: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
