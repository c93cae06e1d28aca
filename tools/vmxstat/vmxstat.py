#!/usr/bin/env python3
"""vmxstat - the lab05 monitor's counters, from the raw dumps it writes on
COM2, named from the monitor ELF.

The monitor keeps its counters in the section .statvars, one copy per vCPU
(common/monitor/stats.h). At the end of a run the host side writes each
vCPU's copy raw on COM2, and a guest may ask for one mid-run (hypercall
MON_HC_STATS): a record is a struct mon_statdump_header (common/monitor/
layout.h: "VMXSTAT1", vCPU, reason, the monitor's 20-byte GNU build id,
size, the .statvars address) and then `size` bytes. Nothing in the dump
names anything: the names are the ELF's symbols in .statvars (stat_NAME,
with their sizes: an array is a symbol of 8 * n bytes) and its .statnames
entries for the elements of an array (`name=a,b,c`, or `*exit_reason`: the
VM exit reasons of common/vmx/vmx_exit_reasons.def, or `*port`: I/O ports,
the last element counting every port from its index up).

A dump from another build of the monitor is refused: its build id is not
the ELF's. A dump cut short is refused too.

Usage:
  vmxstat.py MONITOR_ELF DUMP [--all] [--csv FILE] [--json FILE] [--png FILE]
    the table of every non-zero counter per vCPU and the total (the last
    end-of-run record of each vCPU; --all: every record, in order), and
    optionally the same as CSV or JSON, and a bar chart of VM exits by
    reason per vCPU (gnuplot)
"""

import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

from elftools.elf.elffile import ELFFile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
MAGIC = b"VMXSTAT1"
CORE_MAGIC = b"VMXCORE1"                  # struct mon_core_header: same size, u64 size last
HEADER = struct.Struct("<8sII20sIQ")      # struct mon_statdump_header
REASONS = {0: "end of run", 1: "guest VMCALL"}


class VmxstatError(Exception):
    pass


def exit_reason_names():
    """{number: name} from common/vmx/vmx_exit_reasons.def (the kit's list)."""
    path = os.path.join(TOP, "common", "vmx", "vmx_exit_reasons.def")
    with open(path) as f:
        return {int(n, 0): name for name, n in
                re.findall(r"^VMX_EXIT_REASON\(\s*(\w+)\s*,\s*(\d+|0x[0-9a-fA-F]+)", f.read(), re.M)}


class Monitor:
    """What the ELF says about the counters."""

    def __init__(self, path):
        try:
            f = open(path, "rb")
        except OSError as e:
            raise VmxstatError("cannot read the monitor ELF %s: %s" % (path, e.strerror))
        with f:
            elf = ELFFile(f)
            sv = elf.get_section_by_name(".statvars")
            if sv is None or sv["sh_size"] == 0:
                raise VmxstatError("%s has no counters (.statvars is empty: built with stats = none?)" % path)
            self.va, self.size = sv["sh_addr"], sv["sh_size"]
            note = elf.get_section_by_name(".note.gnu.build-id")
            self.build_id = None
            for n in (note.iter_notes() if note else ()):
                if n["n_type"] == "NT_GNU_BUILD_ID":
                    self.build_id = bytes.fromhex(n["n_desc"])
            if not self.build_id:
                raise VmxstatError("%s has no GNU build id: a dump cannot be matched to it" % path)
            self.counters = []          # (name, offset, count), in address order
            for sym in elf.get_section_by_name(".symtab").iter_symbols():
                v, size = sym["st_value"], sym["st_size"]
                if sym.name.startswith("stat_") and self.va <= v < self.va + self.size and size:
                    self.counters.append((sym.name[5:], v - self.va, size // 8))
            self.counters.sort(key=lambda c: c[1])
            names = elf.get_section_by_name(".statnames")
            self.index_names = {}
            if names is not None:
                for entry in names.data().split(b"\0"):
                    if b"=" in entry:
                        k, v = entry.decode().split("=", 1)
                        self.index_names[k] = v
        self.path = path
        self._reasons = None

    def element(self, name, i, count):
        how = self.index_names.get(name)
        if how == "*exit_reason":
            if self._reasons is None:
                self._reasons = exit_reason_names()
            return self._reasons.get(i, "reason %d" % i)
        if how == "*port":
            return "0x%x and up" % i if i == count - 1 else "0x%x" % i
        if how:
            parts = how.split(",")
            if i < len(parts):
                return parts[i]
        return str(i)

    def decode(self, raw):
        """[(counter, element or None, value, order)] of the non-zero
        counters; order sorts them as the ELF lays them out."""
        out = []
        for name, off, count in self.counters:
            for i in range(count):
                (value,) = struct.unpack_from("<Q", raw, off + 8 * i)
                if value:
                    out.append((name, self.element(name, i, count) if count > 1 else None, value, off + 8 * i))
        return out


def read_dump(path, mon):
    """[(vcpu, reason, raw bytes)] of the dump's records, checked."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise VmxstatError("cannot read the dump %s: %s" % (path, e.strerror))
    records, at = [], 0
    if not data:
        raise VmxstatError("%s is empty: no stats dump was written (was COM2 on? make stats-lab05 "
                           "turns it on)" % path)
    while at < len(data):
        if len(data) - at < HEADER.size:
            raise VmxstatError("%s: cut short: %d bytes at offset %d, a record header has %d"
                               % (path, len(data) - at, at, HEADER.size))
        magic, vcpu, reason, build_id, size, va = HEADER.unpack_from(data, at)
        if magic == CORE_MAGIC:
            # A core after a panic (tools/vmxcore reads it): its header has
            # the same size, its last field the core's size.
            at += HEADER.size + va
            continue
        if magic != MAGIC:
            raise VmxstatError("%s: no VMXSTAT1 record at offset %d (not a stats dump, or corrupt)"
                               % (path, at))
        if build_id != mon.build_id:
            raise VmxstatError("%s: the dump at offset %d is from another build of the monitor: its build id "
                               "%s is not %s's %s" % (path, at, build_id.hex(), mon.path, mon.build_id.hex()))
        if va != mon.va or size != mon.size:
            raise VmxstatError("%s: the dump at offset %d says .statvars at 0x%x, %d bytes; the ELF says "
                               "0x%x, %d bytes" % (path, at, va, size, mon.va, mon.size))
        at += HEADER.size
        if len(data) - at < size:
            raise VmxstatError("%s: cut short: vCPU %d's record needs %d bytes of counters, %d are there"
                               % (path, vcpu, size, len(data) - at))
        records.append((vcpu, reason, data[at:at + size]))
        at += size
    return records


def label(name, element):
    return name if element is None else "%s[%s]" % (name, element)


def tables(mon, records, every=False):
    """[(title, {label: value})]: each vCPU's last end-of-run record (or
    every record), then the total."""
    chosen = []
    if every:
        chosen = [("vCPU %d (%s)" % (v, REASONS.get(r, r)), raw) for v, r, raw in records]
    else:
        last = {}
        for v, r, raw in records:
            if r == 0 or v not in last:
                last[v] = raw
        chosen = [("vCPU %d" % v, last[v]) for v in sorted(last)]
    out, order = [], {}
    for title, raw in chosen:
        row = {}
        for n, e, val, at in mon.decode(raw):
            row[label(n, e)] = val
            order[label(n, e)] = at
        out.append((title, row))
    if not every and len(out) > 1:
        total = {}
        for _, t in out:
            for k, v in t.items():
                total[k] = total.get(k, 0) + v
        out.append(("total", total))
    # Every table in the ELF's order of the counters.
    return [(title, dict(sorted(t.items(), key=lambda kv: order[kv[0]]))) for title, t in out]


def all_keys(ts):
    """The counters of every table, in the order of the fullest one (the
    total, when there is one)."""
    keys = list(max(ts, key=lambda t: len(t[1]))[1])
    for _, t in ts:
        keys += [k for k in t if k not in keys]
    return keys


def print_table(ts):
    keys = all_keys(ts)
    width = max([len(k) for k in keys] + [8])
    print("%-*s %s" % (width, "counter", " ".join("%12s" % title for title, _ in ts)))
    for k in keys:
        print("%-*s %s" % (width, k, " ".join("%12d" % t.get(k, 0) for _, t in ts)))


def write_png(ts, path):
    """A bar chart of VM exits by reason, one bar group per reason and one
    bar per vCPU (gnuplot)."""
    vcpus = [(title, t) for title, t in ts if title != "total"]
    reasons = []
    for _, t in vcpus:
        reasons += [k for k in t if k.startswith("exits_by_reason[") and k not in reasons]
    if not reasons:
        raise VmxstatError("no VM exits counted: nothing to draw")
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "exits.dat")
        with open(data, "w") as f:
            f.write("reason %s\n" % " ".join('"%s"' % title for title, _ in vcpus))
            for r in reasons:
                f.write('"%s" %s\n' % (r[len("exits_by_reason["):-1],
                                       " ".join(str(t.get(r, 0)) for _, t in vcpus)))
        script = "\n".join([
            "set terminal png size 1000,600 noenhanced", "set bmargin 10",
            "set output '%s'" % path.replace("'", "''"),
            "set title 'VM exits by reason, per vCPU (the lab05 monitor)'",
            "set style data histograms", "set style histogram clustered gap 1",
            "set style fill solid 0.8 border -1", "set key autotitle columnhead",
            "set logscale y", "set yrange [0.8:*]", "set ylabel 'exits (log scale)'",
            "set xtics rotate by -30 left", "set grid ytics",
            "plot " + ", ".join("'%s' using %d:xtic(1)" % (data, i + 2) for i in range(len(vcpus))),
        ])
        try:
            p = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True, timeout=60)
        except FileNotFoundError:
            raise VmxstatError("gnuplot is not installed (make deps installs gnuplot-nox)")
        if p.returncode != 0 or not os.path.exists(path):
            raise VmxstatError("gnuplot failed: %s" % p.stderr.strip())


def main(argv=None):
    ap = argparse.ArgumentParser(prog="vmxstat", description=__doc__.split("\n")[0])
    ap.add_argument("elf", help="the monitor ELF the dump came from (monitor.elf)")
    ap.add_argument("dump", help="the COM2 file (results/<run>/com2.bin)")
    ap.add_argument("--all", action="store_true", help="every record, not each vCPU's last")
    ap.add_argument("--csv")
    ap.add_argument("--json")
    ap.add_argument("--png")
    a = ap.parse_args(argv)
    try:
        mon = Monitor(a.elf)
        records = read_dump(a.dump, mon)
        ts = tables(mon, records, a.all)
        counters = sum(count for _, _, count in mon.counters)
        print("vmxstat: %s: %d records, %d bytes each (a %d-byte header and %d bytes of .statvars); "
              "%d counters per vCPU in %d arrays and scalars; build id %s"
              % (a.dump, len(records), HEADER.size + mon.size, HEADER.size, mon.size, counters,
                 len(mon.counters), mon.build_id.hex()))
        print_table(ts)
        if a.csv:
            with open(a.csv, "w") as f:
                f.write("counter,%s\n" % ",".join(title for title, _ in ts))
                for k in all_keys(ts):
                    f.write('"%s",%s\n' % (k, ",".join(str(t.get(k, 0)) for _, t in ts)))
        if a.json:
            with open(a.json, "w") as f:
                json.dump({title: t for title, t in ts}, f, indent=1)
        if a.png:
            write_png(ts, a.png)
            print("vmxstat: exits by reason per vCPU drawn in %s" % a.png)
    except VmxstatError as e:
        print("vmxstat: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
