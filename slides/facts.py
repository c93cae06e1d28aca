"""facts.py - the kit's VMX facts as Python data, for the slides' figures and tables.

Reads the X-macro lists of common/vmx/*.def (the kit's one source of truth:
every VMCS field, control bit, bit layout, value) and the numbers of the
memory map in common/boot/payload.ld. Nothing here types a fact twice: a
figure that shows an encoding, a count or a bit position takes it from here.

Every function returns plain tuples/dicts; FILES lists what was read, so the
build can say which files a deck depends on.
"""

import os
import re

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = set()


def _read(rel):
    FILES.add(rel)
    with open(os.path.join(TOP, rel)) as f:
        return f.read()


def _split_args(s):
    """Split 'A, 0x10, "x, y"' into ['A', '0x10', 'x, y'] (quotes removed)."""
    out, cur, quoted = [], "", False
    for ch in s:
        if ch == '"':
            quoted = not quoted
            continue
        if ch == "," and not quoted:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    out.append(cur.strip())
    return out


def macro_lines(rel, macro):
    """The argument lists of every `MACRO(...)` line of list file REL."""
    rows = []
    for line in _read(rel).splitlines():
        m = re.match(r"^%s\((.*)\)\s*$" % re.escape(macro), line.strip())
        if m:
            rows.append(_split_args(m.group(1)))
    return rows


def num(s):
    return int(s, 0)


def vmcs_fields():
    """[(name, encoding, width, group, description)] from vmcs_fields.def."""
    return [(n, num(e), w, g, d) for n, e, w, g, d in
            macro_lines("common/vmx/vmcs_fields.def", "VMCS_FIELD")]


def vmcs_field(name):
    for f in vmcs_fields():
        if f[0] == name:
            return f
    raise KeyError("%s is not in common/vmx/vmcs_fields.def" % name)


# The SDM's six groups (24.3): the list's CONTROL group is three of them,
# told apart by the field names the SDM gives them (24.6, 24.7, 24.8).
SIX_GROUPS = [
    ("GUEST", "Guest-state area", "24.4"),
    ("HOST", "Host-state area", "24.5"),
    ("EXEC", "VM-execution control fields", "24.6"),
    ("EXIT", "VM-exit control fields", "24.7"),
    ("ENTRY", "VM-entry control fields", "24.8"),
    ("INFO", "VM-exit information fields", "24.9"),
]


def six_group(name, group):
    if group == "GUEST_STATE":
        return "GUEST"
    if group == "HOST_STATE":
        return "HOST"
    if group == "READ_ONLY":
        return "INFO"
    if re.match(r"^(PRIMARY_|SECONDARY_)?VM_EXIT_", name):
        return "EXIT"
    if name.startswith("VM_ENTRY_"):
        return "ENTRY"
    return "EXEC"


def layout(name):
    """[(field, lsb, msb, description)] of one layout of vmx_layouts.def, low bits first."""
    rows = [(f, num(lo), num(hi), d) for lay, f, lo, hi, d in
            macro_lines("common/vmx/vmx_layouts.def", "VMX_BITFIELD") if lay == name]
    if not rows:
        raise KeyError("layout %s is not in common/vmx/vmx_layouts.def" % name)
    return sorted(rows, key=lambda r: r[1])


def values(set_name):
    """[(name, value, description)] of one set of vmx_values.def."""
    rows = [(n, num(v), d) for s, n, v, d in
            macro_lines("common/vmx/vmx_values.def", "VMX_VALUE") if s == set_name]
    if not rows:
        raise KeyError("value set %s is not in common/vmx/vmx_values.def" % set_name)
    return rows


def control_bits(word):
    """{bit: name} of one control word of vmx_controls.def."""
    return {num(b): n for w, n, b, d in
            macro_lines("common/vmx/vmx_controls.def", "VMX_CONTROL_BIT") if w == word}


def control_word(word):
    """(word, field, msr, true_msr, description) of vmx_controls.def."""
    for row in macro_lines("common/vmx/vmx_controls.def", "VMX_CONTROL_WORD"):
        if row[0] == word:
            return tuple(row)
    raise KeyError(word)


def cpu_bits(reg):
    """{bit: (name, description)} of one register of cpu_bits.def."""
    return {num(b): (n, d) for r, n, b, d in
            macro_lines("common/vmx/cpu_bits.def", "CPU_REG_BIT") if r == reg}


def msr_number(name):
    for row in macro_lines("common/vmx/vmx_msrs.def", "VMX_MSR"):
        if row[0] == name:
            return num(row[1])
    raise KeyError("%s is not in common/vmx/vmx_msrs.def" % name)


def msr_fields(msr):
    """[(field, lsb, msb, description)] of one MSR of vmx_msr_fields.def."""
    return [(n, num(lo), num(hi), d) for m, n, lo, hi, d in
            macro_lines("common/vmx/vmx_msr_fields.def", "VMX_MSR_FIELD") if m == msr]


def linker_symbols():
    """NAME = value; assignments of common/boot/payload.ld that are plain numbers."""
    syms = {}
    for m in re.finditer(r"^(\w+)\s*=\s*(0x[0-9A-Fa-f]+|\d+)\s*;", _read("common/boot/payload.ld"), re.M):
        syms[m.group(1)] = int(m.group(2), 0)
    return syms


def monitor_layout():
    """NAME -> value of the #defines of common/monitor/layout.h (the lab05
    monitor's address map)."""
    out = {}
    for m in re.finditer(r"^#define\s+(MON_\w+)\s+(0x[0-9A-Fa-f]+|\d+)\b", _read("common/monitor/layout.h"), re.M):
        out[m.group(1)] = int(m.group(2), 0)
    return out


def monitor_modules():
    """[(key, alternatives, default, meaning)] of lab05's config
    (tools/monitorcfg/monitorcfg.py KEYS), the keys with alternatives."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("monitorcfg_facts",
                                                  os.path.join(TOP, "tools", "monitorcfg", "monitorcfg.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return [(k, list(v[0]), v[1], v[2]) for k, v in mod.KEYS.items() if v[0] and k != "test"]
