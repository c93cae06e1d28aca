"""corequery - gdb commands that read the lab05 monitor's structures in a
core (tools/vmxcore/vmxcore.py writes it; common/monitor/host/core.c is
its format). Load them with

    gdb build/.../monitor.elf monitor.core -x tools/vmxcore/corequery.py

and `help user` lists them:

    vmx-info              the core's kit note: build id, panic, modules, each vCPU's end
    vmx-panic             the panicking vCPU and Panic()'s message (mon_shared)
    vmx-vmmaddr           the monitor's exported addresses (.vmmaddr)
    vmx-vcpus             each vCPU and its guests (mon_guests), with their exits
    vmx-exits [VCPU]      a vCPU's VM exits by reason (stat_exits_by_reason)
    vmx-ept GPA [VCPU]    a walk of the vCPU's current guest's EPT for a guest-physical address

Per-vCPU variables (.data, .bss, .statvars) share one monitor address; in
the core each vCPU's copy is also at an alias address (the kit note says
where), which these commands read: `print mon_guests` shows the panicking
vCPU's copy, `vmx-vcpus` both. The names of exit reasons come from the
kit's list, common/vmx/vmx_exit_reasons.def.
"""

import os
import re
import struct

import gdb

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
NOTE_KIT = 0x564D5801                   # common/monitor/host/core.c


def core_path():
    text = gdb.execute("info files", to_string=True)
    m = re.search(r"Local core dump file:\s*`([^']+)'", text)
    if not m:
        raise gdb.GdbError("no core file is open (gdb MONITOR_ELF CORE)")
    return m.group(1)


def kit_note():
    """The core's VMXLAB note as {key: value} and its text."""
    with open(core_path(), "rb") as f:
        data = f.read()
    phoff, phnum = struct.unpack_from("<Q", data, 32)[0], struct.unpack_from("<H", data, 56)[0]
    for i in range(phnum):
        typ, _, off, _, _, size, _, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + 56 * i)
        if typ != 4:
            continue
        at = off
        while at + 12 <= off + size:
            namesz, descsz, ntype = struct.unpack_from("<III", data, at)
            d = at + 12 + ((namesz + 3) & ~3)
            if ntype == NOTE_KIT and data[at + 12:at + 12 + namesz].rstrip(b"\0") == b"VMXLAB":
                text = data[d:d + descsz].rstrip(b"\0").decode(errors="replace")
                keys = {}
                for line in text.splitlines():
                    k, _, v = line.partition(" ")
                    keys.setdefault(k, []).append(v)
                return keys, text
            at = d + ((descsz + 3) & ~3)
    raise gdb.GdbError("this core has no VMXLAB note: not a lab05 monitor core")


def alias(addr, vcpu):
    keys, _ = kit_note()
    base, stride = int(keys["alias-base"][0], 16), int(keys["alias-stride"][0], 16)
    image = int(keys["image-base"][0], 16)
    return base + vcpu * stride + (addr - image)


def per_vcpu(name, vcpu):
    """vCPU `vcpu`'s copy of a per-vCPU variable, as a gdb.Value."""
    sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    if sym is None:
        raise gdb.GdbError("no symbol %s in the monitor ELF" % name)
    v = sym.value()
    return gdb.Value(alias(int(v.address), vcpu)).cast(v.type.pointer()).dereference()


def vcpu_count():
    return int(kit_note()[0]["vcpus"][0])


def exit_names():
    with open(os.path.join(TOP, "common", "vmx", "vmx_exit_reasons.def")) as f:
        return {int(n, 0): name for name, n in
                re.findall(r"^VMX_EXIT_REASON\(\s*(\w+)\s*,\s*(\d+|0x[0-9a-fA-F]+)", f.read(), re.M)}


def read_u64(addr):
    return struct.unpack("<Q", bytes(gdb.selected_inferior().read_memory(addr, 8)))[0]


class VmxCommand(gdb.Command):
    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_USER)


class Info(VmxCommand):
    """vmx-info: the core's kit note (build id, panic, modules, each vCPU's end, the alias addresses)."""

    def __init__(self):
        super().__init__("vmx-info")

    def invoke(self, arg, from_tty):
        print(kit_note()[1])


class Panic(VmxCommand):
    """vmx-panic: the vCPU that panicked and the message Panic() recorded (mon_shared)."""

    def __init__(self):
        super().__init__("vmx-panic")

    def invoke(self, arg, from_tty):
        sh = gdb.parse_and_eval("mon_shared")
        who = int(sh["panic_vcpu_plus1"])
        if not who:
            print("no panic recorded")
            return
        print("vCPU %d panicked: %s" % (who - 1, sh["panic_message"].string()))


class Vmmaddr(VmxCommand):
    """vmx-vmmaddr: the monitor's exported addresses, from its .vmmaddr table in the core."""

    def __init__(self):
        super().__init__("vmx-vmmaddr")

    def invoke(self, arg, from_tty):
        start = int(gdb.parse_and_eval("(unsigned long)&__mon_vmmaddr_start"))
        end = int(gdb.parse_and_eval("(unsigned long)&__mon_vmmaddr_end"))
        mem = bytes(gdb.selected_inferior().read_memory(start, end - start))
        for i in range(0, len(mem) - 39, 40):
            name = mem[i:i + 24].split(b"\0")[0].decode()
            addr, size = struct.unpack_from("<QQ", mem, i + 24)
            print("%-24s 0x%016x %6d bytes" % (name, addr, size))


class Vcpus(VmxCommand):
    """vmx-vcpus: each vCPU, how it ended, and its guests (mon_guests) with their exits and faults."""

    def __init__(self):
        super().__init__("vmx-vcpus")

    def invoke(self, arg, from_tty):
        keys, _ = kit_note()
        states = {0: "running", 1: "ended", 2: "stopped"}
        for line in keys.get("vcpu", []):
            parts = line.split()
            v = int(parts[0])
            print("vCPU %d: %s, current guest's EPT PML4 %s" % (v, parts[1], parts[3]))
            guests = per_vcpu("mon_guests", v)
            n = guests.type.range()[1] + 1
            for i in range(n):
                g = guests[i]
                if not int(g["vpid"]) and not int(g["exits"]):
                    continue        # not run on this vCPU (the other's, or not reached)
                state = int(g["state"])
                print("  guest %-10s VPID %-3d %-8s %6d exits, %d demand-paging faults, %d copy-on-write"
                      % (g["name"].string(), int(g["vpid"]), states.get(state, str(state)),
                         int(g["exits"]), int(g["demand_faults"]), int(g["cow_faults"])))


class Exits(VmxCommand):
    """vmx-exits [VCPU]: a vCPU's VM exits by reason (its stat_exits_by_reason; default: the panicking vCPU)."""

    def __init__(self):
        super().__init__("vmx-exits")

    def invoke(self, arg, from_tty):
        keys, _ = kit_note()
        v = int(arg) if arg.strip() else int(keys["panic-vcpu"][0])
        if not 0 <= v < vcpu_count():
            raise gdb.GdbError("no vCPU %d" % v)
        counts = per_vcpu("stat_exits_by_reason", v)
        names = exit_names()
        total = 0
        for r in range(counts.type.range()[1] + 1):
            c = int(counts[r])
            if c:
                total += c
                print("vCPU %d %-28s %8d" % (v, names.get(r, "reason %d" % r), c))
        print("vCPU %d %-28s %8d" % (v, "total", total))


class Ept(VmxCommand):
    """vmx-ept GPA [VCPU]: walk the EPT of the vCPU's current guest for a guest-physical address."""

    def __init__(self):
        super().__init__("vmx-ept")

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        if not args:
            raise gdb.GdbError("usage: vmx-ept GPA [VCPU]")
        gpa = int(gdb.parse_and_eval(args[0]))
        keys, _ = kit_note()
        v = int(args[1]) if len(args) > 1 else int(keys["panic-vcpu"][0])
        table = int(gdb.parse_and_eval("mon_shared.vcpu[%d].ept_pml4" % v))
        if not table:
            raise gdb.GdbError("vCPU %d had no guest with EPT" % v)
        for level, name, shift in ((4, "PML4E", 39), (3, "PDPTE", 30), (2, "PDE", 21), (1, "PTE", 12)):
            index = (gpa >> shift) & 511
            try:
                e = read_u64(table + 8 * index)
            except gdb.MemoryError:
                raise gdb.GdbError("the EPT table at 0x%x is not in the core" % table)
            perms = "".join(c if e & b else "-" for c, b in (("r", 1), ("w", 2), ("x", 4)))
            print("%-5s [%3d] at 0x%x: 0x%016x %s" % (name, index, table + 8 * index, e, perms))
            if not e & 7:
                print("0x%x is not mapped (vCPU %d's current guest)" % (gpa, v))
                return
            if level == 1 or (level in (2, 3) and e & 0x80):
                size = 1 << shift
                hpa = (e & 0x000FFFFFFFFFF000 & ~(size - 1)) | (gpa & (size - 1))
                print("guest-physical 0x%x -> host-physical 0x%x (%s, memory type %d)"
                      % (gpa, hpa, perms, (e >> 3) & 7))
                return
            table = e & 0x000FFFFFFFFFF000


for command in (Info, Panic, Vmmaddr, Vcpus, Exits, Ept):
    command()
