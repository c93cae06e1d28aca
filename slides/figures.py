"""figures.py - the lectures' pictures, drawn as SVG from the kit's own facts.

Each function returns one SVG document; FIGURES names them for the decks
(`![caption](fig/NAME.svg)`). A number, bit position, field name or value
in a picture comes from common/vmx/*.def, common/boot/payload.ld or a kept
transcript of a real run (slides/transcripts/), read through facts.py and
transcripts.py: nothing is typed twice. Where a picture shows a plan (lab05,
which does not exist yet) it says so in the picture.

Text uses DejaVu Sans / DejaVu Sans Mono, the fonts the slides use
(Debian's fonts-dejavu-core). Sizes are in SVG user units; the decks scale
a figure to the slide.
"""

import html
import re

import facts
import transcripts

INK = "#1d2733"
MUTED = "#5b6776"
BLUE = "#1f5fa8"
LIGHT_BLUE = "#dbe8f7"
ORANGE = "#c96a12"
LIGHT_ORANGE = "#fbe6cf"
GREEN = "#2e8b57"
LIGHT_GREEN = "#d8f0e1"
RED = "#b83227"
LIGHT_RED = "#f8dcd8"
GRAY = "#eef1f5"
MID_GRAY = "#c5ccd6"
PURPLE = "#6a4c93"
LIGHT_PURPLE = "#e8def5"
SANS = "DejaVu Sans, sans-serif"
MONO = "DejaVu Sans Mono, monospace"


def text_width(s, size, mono=False, bold=False):
    """Width of S in DejaVu at SIZE: about 0.62 em a glyph (0.7 bold; exactly 0.602 in Mono)."""
    return len(s) * size * (0.602 if mono else 0.7 if bold else 0.62)


class Svg:
    def __init__(self, width, height, title):
        self.w, self.h, self.title = width, height, title
        self.items = []

    def rect(self, x, y, w, h, fill=GRAY, stroke=INK, sw=1.5, rx=0, dash=None, opacity=None):
        extra = (' stroke-dasharray="%s"' % dash if dash else "") + \
                (' fill-opacity="%s"' % opacity if opacity is not None else "")
        self.items.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="%s" fill="%s" '
                          'stroke="%s" stroke-width="%s"%s/>' % (x, y, w, h, rx, fill, stroke, sw, extra))

    def text(self, x, y, s, size=16, anchor="middle", weight="normal", fill=INK, mono=False,
             rotate=None, italic=False):
        tr = ' transform="rotate(%s %.1f %.1f)"' % (rotate, x, y) if rotate is not None else ""
        self.items.append('<text x="%.1f" y="%.1f" font-family="%s" font-size="%s" text-anchor="%s" '
                          'font-weight="%s" fill="%s"%s%s>%s</text>'
                          % (x, y, MONO if mono else SANS, size, anchor, weight, fill,
                             ' font-style="italic"' if italic else "", tr, html.escape(str(s))))

    def line(self, x1, y1, x2, y2, stroke=INK, sw=1.5, arrow=False, dash=None):
        self.items.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%s"%s%s/>'
                          % (x1, y1, x2, y2, stroke, sw,
                             ' marker-end="url(#arrow)"' if arrow else "",
                             ' stroke-dasharray="%s"' % dash if dash else ""))

    def path(self, d, stroke=INK, sw=1.5, fill="none", arrow=False, dash=None):
        self.items.append('<path d="%s" stroke="%s" stroke-width="%s" fill="%s"%s%s/>'
                          % (d, stroke, sw, fill, ' marker-end="url(#arrow)"' if arrow else "",
                             ' stroke-dasharray="%s"' % dash if dash else ""))

    def render(self):
        return ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
                'role="img" aria-label="%s">\n<title>%s</title>\n<defs><marker id="arrow" viewBox="0 0 10 10" '
                'refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="13" markerHeight="13" '
                'orient="auto-start-reverse">'
                '<path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker></defs>\n'
                '<rect width="100%%" height="100%%" fill="#ffffff"/>\n%s\n</svg>\n'
                % (self.w, self.h, self.w, self.h, html.escape(self.title), html.escape(self.title),
                   INK, "\n".join(self.items)))


# --- Bit layouts -------------------------------------------------------------------

def bitfield(svg, x, y, width, fields, total, height=54, colors=None, label_size=15, numbers=True,
             min_widths=None):
    """Draw FIELDS [(name, lsb, msb)] as boxes, bit TOTAL-1 at the left.

    Box widths grow with the bits a field has and with its name; returns
    {name: (x_left, x_right)} for placing values under the boxes."""
    fields = sorted(fields, key=lambda f: -f[1])
    covered = sum(f[2] - f[1] + 1 for f in fields)
    if covered != total:
        raise ValueError("bit layout covers %d of %d bits" % (covered, total))
    def label(f):
        reserved = f[0].startswith("RESERVED") or f[0] in ("0", "reserved")
        return "0" if reserved and f[0] != "reserved (0)" else f[0]
    min_widths = min_widths or {}
    while sum(max(text_width(label(f), label_size, bold=True) + 14, min_widths.get(f[0], 0))
              for f in fields) > width and label_size > 10:
        label_size -= 0.5
    need = [max(text_width(label(f), label_size, bold=True) + 14, min_widths.get(f[0], 0)) for f in fields]
    extra = width - sum(need)
    if extra < 0:
        raise ValueError("bit layout too wide for %d units" % width)
    bits = [f[2] - f[1] + 1 for f in fields]
    widths = [n + extra * b / total for n, b in zip(need, bits)]
    pos, cx = {}, x
    for f, w in zip(fields, widths):
        name, lo, hi = f
        reserved = name.startswith("RESERVED") or name in ("0", "reserved")
        fill = (colors or {}).get(name, GRAY if reserved else LIGHT_BLUE)
        svg.rect(cx, y, w, height, fill=fill)
        svg.text(cx + w / 2, y + height / 2 + label_size * 0.35, label(f),
                 size=label_size, fill=MUTED if reserved else INK, weight="normal" if reserved else "bold")
        if numbers:
            if hi == lo:
                svg.text(cx + w / 2, y - 6, str(hi), size=13, fill=MUTED, mono=True)
            else:
                svg.text(cx + 4, y - 6, str(hi), size=13, fill=MUTED, mono=True, anchor="start")
                svg.text(cx + w - 4, y - 6, str(lo), size=13, fill=MUTED, mono=True, anchor="end")
        pos[name] = (cx, cx + w)
        cx += w
    return pos


def layout_figure(layout, total, title, legend_width=1100, exclude_reserved_legend=True):
    rows = facts.layout(layout)
    # Fill the bits the list leaves out (undefined ones) as reserved boxes.
    fields, bit = [], 0
    for name, lo, hi, desc in rows:
        if lo > bit:
            fields.append(("RESERVED_%d_%d" % (lo - 1, bit), bit, lo - 1))
        fields.append((name, lo, hi))
        bit = hi + 1
    if bit < total:
        fields.append(("RESERVED_%d_%d" % (total - 1, bit), bit, total - 1))
    legend = [(n, lo, hi, d) for n, lo, hi, d in rows if not n.startswith("RESERVED")]
    h = 110 + 26 * len(legend) + 20
    svg = Svg(1160, h, title)
    bitfield(svg, 20, 40, 1120, fields, total)
    y = 130
    for name, lo, hi, desc in legend:
        bits = "%d" % lo if lo == hi else "%d:%d" % (hi, lo)
        svg.text(20, y, bits, size=15, anchor="start", mono=True, fill=MUTED)
        svg.text(95, y, name, size=15, anchor="start", weight="bold")
        d = desc if len(desc) < 80 else desc[:77] + "..."
        svg.text(max(330, 95 + text_width(name, 15, bold=True) + 20), y, d, size=15, anchor="start", fill=MUTED)
        y += 26
    return svg.render()


def fig_io_qual():
    return layout_figure("IO_QUAL", 32, "Exit qualification for I/O instructions (vmx_layouts.def IO_QUAL)")


def fig_seg_ar():
    return layout_figure("SEG_AR", 32, "Guest segment access rights (vmx_layouts.def SEG_AR)")


def fig_eptp():
    return layout_figure("EPTP", 64, "The EPT pointer, a 64-bit VMCS field (vmx_layouts.def EPTP)")


# --- The VMCS field encoding ------------------------------------------------------------

WIDTH_NAMES = {0: "16-bit", 1: "64-bit", 2: "32-bit", 3: "natural"}
TYPE_NAMES = {0: "control", 1: "exit info", 2: "guest state", 3: "host state"}
WIDTH_OF = {"16": 0, "64": 1, "32": 2, "NATURAL": 3}
TYPE_OF = {"CONTROL": 0, "READ_ONLY": 1, "GUEST_STATE": 2, "HOST_STATE": 3}


def check_encodings():
    """SDM 24.11.2 against the kit's list: every field's bits 14:13 and 11:10
    say its width and group, bit 12 and bits 31:15 are 0, bit 0 is 0 (full)."""
    for name, enc, width, group, _ in facts.vmcs_fields():
        if (enc >> 13) & 3 != WIDTH_OF[width] or (enc >> 10) & 3 != TYPE_OF[group] or \
                enc & 0xFFFF9001:
            raise ValueError("vmcs_fields.def: %s 0x%x disagrees with the encoding layout" % (name, enc))


def fig_vmcs_encoding():
    check_encodings()
    fields = [("reserved (0)", 15, 31), ("W", 13, 14), ("0", 12, 12), ("T", 10, 11),
              ("index", 1, 9), ("A", 0, 0)]
    colors = {"W": LIGHT_ORANGE, "T": LIGHT_GREEN, "index": LIGHT_BLUE, "A": LIGHT_PURPLE,
              "reserved (0)": GRAY, "0": GRAY}
    examples = ["GUEST_CS_SELECTOR", "TSC_OFFSET", "VM_EXIT_REASON", "GUEST_RIP", "HOST_RIP"]
    svg = Svg(1160, 150 + 44 * len(examples) + 70, "VMCS field encoding (SDM 24.11.2)")
    x0, width = 330, 810
    pos = bitfield(svg, x0, 40, width, fields, 32, colors=colors, min_widths={"W": 100, "T": 120})
    svg.text(20, 74, "encoding (32 bits)", size=17, anchor="start", weight="bold")
    y = 140
    svg.text(20, y - 20, "fields of common/vmx/vmcs_fields.def", size=14, anchor="start", fill=MUTED)
    for name in examples:
        _, enc, _, _, _ = facts.vmcs_field(name)
        svg.text(20, y + 8, name, size=15, anchor="start", mono=True, weight="bold")
        svg.text(300, y + 8, "0x%04X" % enc, size=15, anchor="end", mono=True, fill=MUTED)
        vals = {"reserved (0)": "0", "W": "%d %s" % ((enc >> 13) & 3, WIDTH_NAMES[(enc >> 13) & 3]),
                "0": "0", "T": "%d %s" % ((enc >> 10) & 3, TYPE_NAMES[(enc >> 10) & 3]),
                "index": str((enc >> 1) & 0x1FF), "A": str(enc & 1)}
        for f, v in vals.items():
            a, b = pos[f]
            svg.rect(a, y - 12, b - a, 30, fill="#ffffff", stroke=MID_GRAY, sw=1)
            svg.text((a + b) / 2, y + 8, v, size=14, fill=INK if f not in ("0", "reserved (0)") else MUTED)
        y += 44
    y += 10
    svg.text(20, y, "W width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural width (64 bits here)", size=15, anchor="start")
    svg.text(20, y + 24, "T type: 0 control, 1 VM-exit information (read-only), 2 guest state, 3 host state", size=15, anchor="start")
    svg.text(20, y + 48, "A: 0 the whole field; 1 the high 32 bits of a 64-bit field (encoding | 1)", size=15, anchor="start")
    return svg.render()


# --- The VMCS's six groups ------------------------------------------------------------------

def fig_vmcs_groups():
    fields = facts.vmcs_fields()
    groups = {}
    for name, enc, width, group, desc in fields:
        groups.setdefault(facts.six_group(name, group), []).append(name)
    examples = {
        "GUEST": ["GUEST_CR0", "GUEST_CS_ACCESS_RIGHTS", "GUEST_RIP", "GUEST_ACTIVITY_STATE"],
        "HOST": ["HOST_CR3", "HOST_CS_SELECTOR", "HOST_RSP", "HOST_RIP"],
        "EXEC": ["PIN_BASED_VM_EXECUTION_CONTROLS", "EXCEPTION_BITMAP", "CR0_GUEST_HOST_MASK", "EPT_POINTER"],
        "EXIT": ["PRIMARY_VM_EXIT_CONTROLS", "VM_EXIT_MSR_STORE_COUNT", "VM_EXIT_MSR_LOAD_ADDRESS"],
        "ENTRY": ["VM_ENTRY_CONTROLS", "VM_ENTRY_INTERRUPTION_INFORMATION", "VM_ENTRY_MSR_LOAD_COUNT"],
        "INFO": ["VM_EXIT_REASON", "EXIT_QUALIFICATION", "VM_EXIT_INSTRUCTION_LENGTH", "VM_INSTRUCTION_ERROR"],
    }
    colors = {"GUEST": (LIGHT_BLUE, BLUE), "HOST": (LIGHT_ORANGE, ORANGE), "EXEC": (LIGHT_GREEN, GREEN),
              "EXIT": (LIGHT_GREEN, GREEN), "ENTRY": (LIGHT_GREEN, GREEN), "INFO": (GRAY, MUTED)}
    svg = Svg(1160, 500, "The six groups of the VMCS")
    bw, bh, gx, gy = 360, 200, 30, 40
    for i, (key, title, sdm) in enumerate(facts.SIX_GROUPS):
        col, row = i % 3, i // 3
        x, y = 20 + col * (bw + gx), 20 + row * (bh + gy)
        fill, edge = colors[key]
        svg.rect(x, y, bw, bh, fill=fill, stroke=edge, sw=2.5, rx=10)
        svg.text(x + 14, y + 30, title, size=19, anchor="start", weight="bold", fill=edge)
        svg.text(x + 14, y + 54, "SDM %s: %d fields" % (sdm, len(groups.get(key, []))), size=15,
                 anchor="start", fill=INK)
        for k, ex in enumerate(examples[key]):
            if ex not in groups.get(key, []):
                raise ValueError("%s is not a %s field in vmcs_fields.def" % (ex, key))
            svg.text(x + 14, y + 84 + 26 * k, ex, size=13.5, anchor="start", mono=True)
    svg.text(580, 490, "%d fields in common/vmx/vmcs_fields.def; guest, host and the controls are written "
             "by the monitor, exit information by the CPU" % len(fields), size=14, fill=MUTED)
    return svg.render()


# --- Capability MSR: allowed-0 / allowed-1 -----------------------------------------------------

def msr_value(transcript, name):
    _, lines = transcripts.load(transcript)
    for l in lines:
        p = l.split()
        if len(p) == 3 and p[1] == name:
            return int(p[2], 16)
    raise ValueError("transcript %s has no value for %s" % (transcript, name))


def transcript_value(transcript, pattern):
    _, lines = transcripts.load(transcript)
    for l in lines:
        m = re.search(pattern, l)
        if m:
            return int(m.group(1), 16)
    raise ValueError("transcript %s has no line matching %s" % (transcript, pattern))


def bit_grid(svg, x0, y0, col, rows, names, label_w, name_size=13, rotate=True, cell_h=34):
    """Columns for bits 31..0; ROWS [(label, value, style(bit, v) -> (fill, text, text_color))]."""
    xs = {b: x0 + label_w + (31 - b) * col for b in range(32)}
    for b, n in names.items():
        cx = xs[b] + col / 2
        if rotate:
            svg.text(cx + 4, y0 - 8, n, size=name_size, anchor="start", rotate=-70, weight="bold")
        else:
            svg.text(cx, y0 - 8, n, size=name_size, weight="bold")
    for b in range(32):
        if b % 4 == 3 or b == 0:
            pass
    y = y0
    for label, value, style in rows:
        svg.text(x0 + label_w - 10, y + cell_h * 0.65, label, size=15, anchor="end", weight="bold")
        for b in range(32):
            v = (value >> b) & 1
            fill, t, tc = style(b, v)
            svg.rect(xs[b], y, col, cell_h, fill=fill, stroke=MID_GRAY, sw=1)
            svg.text(xs[b] + col / 2, y + cell_h * 0.68, t, size=15, mono=True, fill=tc)
        y += cell_h + 6
    for b in (31, 24, 16, 8, 0):
        svg.text(xs[b] + col / 2, y + 14, str(b), size=12, mono=True, fill=MUTED)
    return y + 20, xs


def fig_cap_rule():
    msr = "IA32_VMX_TRUE_PROCBASED_CTLS"
    v = msr_value("msrdump", msr)
    a0, a1 = v & 0xFFFFFFFF, v >> 32
    chosen = transcript_value("lab03", r"^control PROC: 0x([0-9a-f]+) ")
    names = facts.control_bits("PROC")
    svg = Svg(1160, 560, "Allowed-0 and allowed-1 settings of %s" % msr)
    svg.text(20, 26, "%s = 0x%016x  (Bochs corei7_haswell_4770, make run step 1)" % (msr, v),
             size=16, anchor="start", mono=True)

    def plain(b, bit):
        return ("#ffffff", str(bit), INK)

    def rule(b, bit):
        if (a0 >> b) & 1:
            return (LIGHT_GREEN, "1", GREEN)
        if not (a1 >> b) & 1:
            return (LIGHT_RED, "0", RED)
        return ("#ffffff", "·", MUTED)

    def lab03(b, bit):
        if (a0 >> b) & 1:
            return (LIGHT_GREEN, str(bit), INK)
        if bit:
            return (LIGHT_ORANGE, str(bit), ORANGE)
        return ("#ffffff", str(bit), MUTED)

    col, label_w = 26, 232
    y, xs = bit_grid(svg, 20, 262, col, [
        ("allowed-0 (bits 31:0)", a0, plain),
        ("allowed-1 (bits 63:32)", a1, plain),
        ("so the bit is", 0, rule),
        ("lab03 writes 0x%08x" % chosen, chosen, lab03),
    ], names, label_w)
    # Legend.
    ly = y + 12
    items = [(LIGHT_GREEN, GREEN, "1", "must be 1 (allowed-0 has 1)"),
             (LIGHT_RED, RED, "0", "must be 0 (allowed-1 has 0)"),
             ("#ffffff", MUTED, "·", "the monitor chooses"),
             (LIGHT_ORANGE, ORANGE, "1", "chosen by lab03 (HLT_EXITING)")]
    lx = 20
    for fill, tc, t, label in items:
        svg.rect(lx, ly, 26, 26, fill=fill, stroke=MID_GRAY, sw=1)
        svg.text(lx + 13, ly + 19, t, size=15, mono=True, fill=tc)
        svg.text(lx + 34, ly + 19, label, size=15, anchor="start")
        lx += 44 + text_width(label, 15)
    svg.text(20, ly + 60, "value = (wanted | allowed-0) & allowed-1, and a wanted bit that allowed-1 "
             "forbids is an error, said by name", size=17, anchor="start", weight="bold")
    if chosen & ~a1 or (a0 & ~chosen):
        raise ValueError("lab03's PROC 0x%x is outside the bounds of %s" % (chosen, msr))
    return svg.render()


# --- CR0 guest/host mask and read shadow --------------------------------------------------------

def cr0_figure(transcript):
    vals = {}
    for key in ("actual", "mask", "shadow", "expected"):
        vals[key] = transcript_value(transcript, r"^CR0 %s: 0x([0-9a-f]+)$" % key)
    smsw = transcript_value(transcript, r"^guest smsw: 0x([0-9a-f]+)$")
    act, mask, shadow = vals["actual"], vals["mask"], vals["shadow"]
    seen = (act & ~mask) | (shadow & mask)
    if seen != vals["expected"] or seen != smsw:
        raise ValueError("transcript %s: guest smsw 0x%x is not (actual & ~mask) | (shadow & mask) = 0x%x"
                         % (transcript, smsw, seen))
    cmd, _ = transcripts.load(transcript)
    names = {b: n for b, (n, d) in facts.cpu_bits("CR0").items()}
    svg = Svg(1160, 350, "CR0 as the guest reads it: mask and read shadow (%s)" % cmd)
    svg.text(20, 24, "$ " + cmd, size=15, anchor="start", mono=True, fill=MUTED)
    col, label_w = 28, 232

    def actual(b, v):
        owned = (mask >> b) & 1
        return (GRAY if owned else LIGHT_BLUE, str(v), MUTED if owned else INK)

    def maskrow(b, v):
        return (LIGHT_ORANGE if v else "#ffffff", str(v), ORANGE if v else MUTED)

    def shadowrow(b, v):
        owned = (mask >> b) & 1
        return (LIGHT_ORANGE if owned else GRAY, str(v), INK if owned else MUTED)

    def seenrow(b, v):
        owned = (mask >> b) & 1
        return (LIGHT_ORANGE if owned else LIGHT_BLUE, str(v), INK)

    y, xs = bit_grid(svg, 20, 70, col, [
        ("CR0 (actual)", act, actual),
        ("CR0 guest/host mask", mask, maskrow),
        ("CR0 read shadow", shadow, shadowrow),
        ("guest smsw reads", seen, seenrow),
    ], names, label_w, rotate=False)
    for i, (label, v) in enumerate((("actual", act), ("mask", mask), ("shadow", shadow), ("smsw", seen))):
        svg.text(20 + label_w + 32 * col + 12, 70 + i * 40 + 23, "0x%08x" % v, size=15, anchor="start", mono=True)
    ly = y + 16
    svg.rect(20, ly, 26, 26, fill=LIGHT_BLUE, stroke=MID_GRAY, sw=1)
    svg.text(54, ly + 19, "mask 0: the guest owns the bit and reads the real CR0", size=15, anchor="start")
    svg.rect(600, ly, 26, 26, fill=LIGHT_ORANGE, stroke=MID_GRAY, sw=1)
    svg.text(634, ly + 19, "mask 1: the host owns it; reads see the shadow", size=15, anchor="start")
    svg.text(20, ly + 62, "guest reads = (actual & ~mask) | (shadow & mask)", size=18, anchor="start",
             weight="bold", mono=True)
    return svg.render()


def fig_cr0_view():
    return cr0_figure("lab04")


def fig_cr0_view_shadow():
    return cr0_figure("lab04-shadow")


# --- VMX operation: root, non-root, and the transitions ---------------------------------------------

def fig_vmx_modes():
    svg = Svg(1160, 470, "VMX root and non-root operation")
    # non-root band
    svg.rect(150, 20, 990, 170, fill=LIGHT_BLUE, stroke=BLUE, sw=2, rx=12)
    svg.text(170, 48, "VMX non-root operation: the guests", size=18, anchor="start", weight="bold", fill=BLUE)
    for i, (name, vmcs) in enumerate((("guest A", "VMCS A"), ("guest B", "VMCS B"))):
        x = 260 + i * 440
        svg.rect(x, 64, 300, 110, fill="#ffffff", stroke=BLUE, sw=1.5, rx=8)
        svg.text(x + 150, 92, name, size=17, weight="bold")
        svg.text(x + 150, 118, "its own kernel at CPL 0,", size=14, fill=MUTED)
        svg.text(x + 150, 138, "its applications at CPL 3", size=14, fill=MUTED)
        svg.rect(x + 90, 148, 120, 22, fill=LIGHT_GREEN, stroke=GREEN, sw=1, rx=4)
        svg.text(x + 150, 164, vmcs, size=13, fill=GREEN, weight="bold")
    # root band
    svg.rect(150, 290, 990, 110, fill=LIGHT_ORANGE, stroke=ORANGE, sw=2, rx=12)
    svg.text(170, 318, "VMX root operation: the monitor (VMM)", size=18, anchor="start", weight="bold", fill=ORANGE)
    svg.text(170, 346, "owns the real CPU, memory and devices; fills each guest's VMCS;", size=15, anchor="start")
    svg.text(170, 368, "handles every VM exit, then resumes the guest", size=15, anchor="start")
    # transitions
    for i in range(2):
        x = 410 + i * 440
        svg.line(x - 40, 288, x - 40, 192, stroke=GREEN, sw=3, arrow=True)
        svg.text(x - 50, 250, "VM entry", size=15, anchor="end", fill=GREEN, weight="bold")
        svg.text(x - 50, 270, "VMLAUNCH / VMRESUME", size=12, anchor="end", fill=GREEN, mono=True)
        svg.line(x + 40, 192, x + 40, 288, stroke=RED, sw=3, arrow=True)
        svg.text(x + 50, 250, "VM exit", size=15, anchor="start", fill=RED, weight="bold")
        svg.text(x + 50, 270, "reason, qualification", size=12, anchor="start", fill=RED)
    # outside VMX
    svg.rect(10, 290, 120, 110, fill=GRAY, stroke=MUTED, sw=1.5, rx=10)
    svg.text(70, 335, "outside", size=15, weight="bold", fill=MUTED)
    svg.text(70, 355, "VMX", size=15, weight="bold", fill=MUTED)
    svg.path("M 70 402 C 70 450, 150 450, 190 402", stroke=INK, sw=2, arrow=True)
    svg.text(150, 462, "VMXON", size=14, mono=True, weight="bold")
    svg.path("M 1100 402 C 1100 460, 200 470, 90 404", stroke=MUTED, sw=1.5, arrow=True, dash="6 4")
    svg.text(700, 462, "VMXOFF", size=14, mono=True, weight="bold", fill=MUTED)
    return svg.render()


# --- EPT ----------------------------------------------------------------------------------

def fig_ept_walk():
    eptp = {n: (lo, hi) for n, lo, hi, d in facts.layout("EPTP")}
    lo, hi = eptp["PML4_ADDRESS"]
    svg = Svg(1160, 520, "The EPT walk of a guest-physical address (4 levels)")
    # The guest-physical address.
    segs = [("EPT PML4 index", 39, 47), ("EPT PDPT index", 30, 38), ("EPT PD index", 21, 29),
            ("EPT PT index", 12, 20), ("page offset", 0, 11)]
    svg.text(20, 46, "guest-physical", size=16, anchor="start", weight="bold")
    svg.text(20, 66, "address", size=16, anchor="start", weight="bold")
    x, segx = 180, {}
    for name, l, h in segs:
        w = 190
        svg.rect(x, 30, w, 46, fill=LIGHT_BLUE if "index" in name else LIGHT_PURPLE)
        svg.text(x + w / 2, 59, name, size=15, weight="bold")
        svg.text(x + 4, 24, str(h), size=12, anchor="start", mono=True, fill=MUTED)
        svg.text(x + w - 4, 24, str(l), size=12, anchor="end", mono=True, fill=MUTED)
        segx[name] = x + w / 2
        x += w
    # EPTP.
    svg.rect(20, 170, 130, 60, fill=LIGHT_GREEN, stroke=GREEN, sw=2, rx=6)
    svg.text(85, 196, "EPTP", size=17, weight="bold", fill=GREEN)
    svg.text(85, 218, "bits %d:%d" % (hi, lo), size=13, mono=True)
    # Four tables.
    tables = ["EPT PML4", "EPT PDPT", "EPT PD", "EPT PT"]
    tx0, tw, th, ty = 200, 130, 250, 150
    entry_y = [ty + 60, ty + 150, ty + 100, ty + 190]
    for i, t in enumerate(tables):
        x = tx0 + i * 200
        svg.rect(x, ty, tw, th, fill="#ffffff", stroke=INK, sw=1.5)
        for k in range(1, 10):
            svg.line(x, ty + k * 25, x + tw, ty + k * 25, stroke=MID_GRAY, sw=1)
        ey = entry_y[i]
        svg.rect(x, ey - 12, tw, 25, fill=LIGHT_ORANGE, stroke=ORANGE, sw=2)
        svg.text(x + tw / 2, ey + 6, "entry", size=13, weight="bold", fill=ORANGE)
        svg.text(x + tw / 2, ty + th + 24, t, size=15, weight="bold")
        svg.text(x + tw / 2, ty + th + 44, "512 x 8 bytes", size=13, fill=MUTED)
        # the index selects the entry
        seg = segs[i][0]
        svg.path("M %.1f 78 L %.1f %.1f" % (segx[seg], x + tw / 2, ey - 14), stroke=BLUE, sw=1.5, arrow=True,
                 dash="5 4")
        # base of this table comes from the previous entry (or EPTP)
        if i == 0:
            svg.line(150, 200, x - 2, ty + 2, stroke=GREEN, sw=2.5, arrow=True)
        else:
            px = tx0 + (i - 1) * 200 + tw
            svg.line(px, entry_y[i - 1], x - 2, ty + 2, stroke=ORANGE, sw=2.5, arrow=True)
    # The page.
    px = tx0 + 4 * 200
    svg.rect(px, ty + 40, 150, 170, fill=LIGHT_PURPLE, stroke=PURPLE, sw=2)
    svg.text(px + 75, ty + 80, "4 KiB page", size=16, weight="bold", fill=PURPLE)
    svg.text(px + 75, ty + 102, "host-physical", size=14)
    svg.rect(px, ty + 140, 150, 22, fill="#ffffff", stroke=PURPLE, sw=1.5)
    svg.text(px + 75, ty + 156, "the byte", size=13, weight="bold")
    svg.line(tx0 + 3 * 200 + tw, entry_y[3], px - 2, ty + 42, stroke=ORANGE, sw=2.5, arrow=True)
    svg.path("M %.1f 78 L %.1f %.1f" % (segx["page offset"], px + 75, ty + 138), stroke=PURPLE, sw=1.5,
             arrow=True, dash="5 4")
    svg.text(20, 480, "Each entry: read / write / execute bits (all 0: not present), the address of the next "
             "table or page,", size=15, anchor="start")
    svg.text(20, 502, "and in a leaf the memory type. Bit 7 set in a PDPT or PD entry: a 1 GiB or 2 MiB page, "
             "the walk stops there.", size=15, anchor="start")
    return svg.render()


def fig_two_stage():
    svg = Svg(1160, 520, "Two translations: guest page tables, then EPT")
    boxes = [("guest-virtual", "address", LIGHT_BLUE, BLUE), ("guest-physical", "address", LIGHT_PURPLE, PURPLE),
             ("host-physical", "address", LIGHT_ORANGE, ORANGE)]
    for i, (a, b, fill, edge) in enumerate(boxes):
        x = 20 + i * 420
        svg.rect(x, 20, 260, 70, fill=fill, stroke=edge, sw=2, rx=8)
        svg.text(x + 130, 50, a, size=18, weight="bold", fill=edge)
        svg.text(x + 130, 74, b, size=15)
    svg.line(282, 55, 438, 55, sw=2.5, arrow=True)
    svg.text(360, 42, "guest page tables", size=14, weight="bold")
    svg.text(360, 78, "root: guest CR3", size=13, fill=MUTED)
    svg.line(702, 55, 858, 55, sw=2.5, arrow=True)
    svg.text(780, 42, "EPT", size=14, weight="bold")
    svg.text(780, 78, "root: EPTP (VMCS)", size=13, fill=MUTED)
    # The 2-D walk: each guest table is itself at a guest-physical address.
    svg.text(20, 140, "A TLB miss, both 4-level: every guest table address is guest-physical, so EPT "
             "translates it first", size=16, anchor="start", weight="bold")
    rows = ["guest CR3", "guest PML4E", "guest PDPTE", "guest PDE", "guest PTE"]
    cols = ["EPT PML4", "EPT PDPT", "EPT PD", "EPT PT"]
    x0, y0, cw, ch = 190, 190, 118, 46
    for j, c in enumerate(cols):
        svg.text(x0 + j * cw + cw / 2, y0 - 12, c, size=14, weight="bold", fill=ORANGE)
    svg.text(x0 + 4 * cw + 20 + 70, y0 - 12, "then read", size=14, weight="bold", fill=BLUE)
    n = 0
    for i, r in enumerate(rows):
        y = y0 + i * (ch + 8)
        svg.text(x0 - 12, y + ch * 0.62, ("%s -> gPA" % r) if i < 4 else "final gPA", size=14, anchor="end")
        for j in range(4):
            n += 1
            svg.rect(x0 + j * cw + 4, y, cw - 8, ch, fill=LIGHT_ORANGE, stroke=ORANGE, sw=1.2, rx=4)
            svg.text(x0 + j * cw + cw / 2, y + ch * 0.64, str(n), size=16, mono=True, weight="bold")
        if i < 4:
            n += 1
            svg.rect(x0 + 4 * cw + 20, y, 140, ch, fill=LIGHT_BLUE, stroke=BLUE, sw=1.2, rx=4)
            svg.text(x0 + 4 * cw + 90, y + ch * 0.64, "%d: %s" % (n, rows[i + 1].replace("guest ", "") if i < 3
                                                                   else "PTE"), size=14, mono=True, weight="bold")
    svg.text(x0 + 4 * cw + 190, y0 + 40, "(4 + 1) x (4 + 1) - 1", size=17, anchor="start", mono=True, weight="bold")
    svg.text(x0 + 4 * cw + 190, y0 + 66, "= %d memory reads" % n, size=17, anchor="start", weight="bold")
    svg.text(x0 + 4 * cw + 190, y0 + 100, "instead of 4 without EPT:", size=15, anchor="start")
    svg.text(x0 + 4 * cw + 190, y0 + 122, "why the TLB matters more", size=15, anchor="start")
    svg.text(x0 + 4 * cw + 190, y0 + 144, "under EPT, and why VPID", size=15, anchor="start")
    svg.text(x0 + 4 * cw + 190, y0 + 166, "keeps it across VM exits", size=15, anchor="start")
    return svg.render()


def fig_vpid_tlb():
    svg = Svg(1160, 410, "A TLB tagged with VPIDs")
    svg.text(20, 30, "TLB entries carry the VPID of whoever created them (and, with EPT, the EPTP they came from)",
             size=16, anchor="start", weight="bold")
    head = ["VPID", "linear page", "physical page", "created by"]
    widths = [80, 230, 140, 250]
    rows = [("0", "0xffffffff81000000", "frame 1", "the monitor (VMX root)", LIGHT_ORANGE),
            ("1", "0xffffffff81000000", "frame 2", "guest A's kernel", LIGHT_BLUE),
            ("1", "0x0000000000400000", "frame 3", "guest A's process", LIGHT_BLUE),
            ("2", "0xffffffff81000000", "frame 4", "guest B's kernel", LIGHT_GREEN),
            ("2", "0x0000000000400000", "frame 5", "guest B's process", LIGHT_GREEN)]
    x0, y0, rh = 20, 60, 40
    x = x0
    for h, w in zip(head, widths):
        svg.rect(x, y0, w, rh, fill=GRAY, stroke=MID_GRAY, sw=1)
        svg.text(x + w / 2, y0 + 26, h, size=15, weight="bold")
        x += w
    for i, (vpid, lin, phys, who, fill) in enumerate(rows):
        y = y0 + (i + 1) * rh
        x = x0
        for v, w in zip((vpid, lin, phys, who), widths):
            svg.rect(x, y, w, rh, fill=fill, stroke=MID_GRAY, sw=1)
            svg.text(x + w / 2, y + 26, v, size=14, mono=v not in (who, phys))
            x += w
    svg.text(20, y0 + 6 * rh + 30, "The same linear page in three address spaces: three entries, told apart by their VPID.",
             size=15, anchor="start")
    svg.text(20, y0 + 6 * rh + 54, "Without ENABLE_VPID, guests run with VPID 0 like the monitor,",
             size=15, anchor="start")
    svg.text(20, y0 + 6 * rh + 78, "so every VM entry and every VM exit flushes the VPID 0 entries.",
             size=15, anchor="start")
    bx = 780
    svg.rect(bx, 60, 360, 150, fill="#ffffff", stroke=BLUE, sw=2, rx=8)
    svg.text(bx + 16, 88, "INVVPID type, operand VPID", size=15, anchor="start", weight="bold", fill=BLUE)
    for k, t in enumerate(["0 one linear address", "1 single context (one VPID)", "2 all contexts (VPID != 0)",
                           "3 single context, keep globals"]):
        svg.text(bx + 16, 116 + 24 * k, t, size=14, anchor="start")
    svg.rect(bx, 230, 360, 110, fill="#ffffff", stroke=ORANGE, sw=2, rx=8)
    svg.text(bx + 16, 258, "INVEPT type, operand EPTP", size=15, anchor="start", weight="bold", fill=ORANGE)
    for k, t in enumerate(["1 single context (one EPTP)", "2 all contexts"]):
        svg.text(bx + 16, 286 + 24 * k, t, size=14, anchor="start")
    svg.text(bx, 370, "after changing a guest's EPT: INVEPT", size=14, anchor="start", fill=MUTED)
    svg.text(bx, 392, "reusing a VPID for another vCPU: INVVPID", size=14, anchor="start", fill=MUTED)
    return svg.render()


# --- The monitor's address space (lab05: common/monitor/layout.h) ---------------------------------

def fig_monitor_map():
    L = facts.monitor_layout()
    base, size = L["MON_BASE"], L["MON_SIZE"]
    top = (base + size - 1) & 0xFFFFFFFFFFFFFFFF
    svg = Svg(1160, 560, "The lab05 monitor's 64 MiB at the top of the address space (layout.h)")
    slot = lambda off: "+0x%X" % off
    # Regions from low to high addresses (drawn bottom-up), not to scale.
    regions = [
        ("guard page", GRAY, "%s: unmapped, an overflow faults" % slot(L["MON_SLOT_GUARD_LOW"])),
        ("monitor stack", LIGHT_ORANGE, "%s: %d pages, HOST_RSP of the vCPU's VMCSs" %
         (slot(L["MON_SLOT_STACK"]), L["MON_STACK_PAGES"])),
        ("guard page", GRAY, slot(L["MON_SLOT_GUARD_MID"])),
        ("exception stack", LIGHT_ORANGE, "%s: TSS.IST1, reports a guard-page fault" % slot(L["MON_SLOT_IST"])),
        ("GDT, IDT, TSS", LIGHT_ORANGE, "%s %s %s: HOST_GDTR/IDTR/TR_BASE" %
         (slot(L["MON_SLOT_GDT"]), slot(L["MON_SLOT_IDT"]), slot(L["MON_SLOT_TSS"]))),
        ("... one slot per vCPU", "#ffffff", "0x%X bytes each, %d vCPUs" % (L["MON_SLOT_SIZE"], L["MON_VCPUS"])),
        (".text, .rodata", LIGHT_BLUE, "+0x%X: the linked modules, one copy" % L["MON_IMAGE_OFFSET"]),
        (".data, .bss", LIGHT_BLUE, "one copy per vCPU, same address"),
        (".shared", LIGHT_GREEN, "one copy: results, the panic record (the host reads it)"),
        (".statvars", LIGHT_GREEN, "counters: one copy per vCPU, same address"),
        (".vmmaddr", LIGHT_PURPLE, "table: where the key structures are (for a core)"),
        ("free", "#ffffff", ""),
    ]
    x, w, y_bottom, rh = 330, 300, 520, 38
    svg.text(x + w / 2, 26, "virtual addresses, high at the top (not to scale)", size=14, fill=MUTED)
    for i, (name, fill, note) in enumerate(regions):
        y = y_bottom - (i + 1) * rh
        svg.rect(x, y, w, rh, fill=fill, stroke=INK if fill != GRAY else MUTED, sw=1.2,
                 dash="5 3" if "guard" in name else None)
        svg.text(x + w / 2, y + 25, name, size=15, weight="bold" if "guard" not in name else "normal",
                 fill=INK if "guard" not in name else MUTED)
        if note:
            svg.text(x + w + 16, y + 25, note, size=14, anchor="start", fill=MUTED)
    svg.text(x - 12, y_bottom + 5, "0x%016X" % base, size=14, anchor="end", mono=True, weight="bold")
    svg.text(x - 12, y_bottom - len(regions) * rh + 5, "0x%016X" % top, size=14, anchor="end", mono=True,
             weight="bold")
    svg.text(x - 12, y_bottom - 20, "MON_BASE", size=13, anchor="end", fill=MUTED)
    svg.text(x - 12, y_bottom - len(regions) * rh + 25, "+ %d MiB - 1" % (size >> 20), size=13, anchor="end",
             fill=MUTED)
    # Brackets for the reserved area and the image.
    def bracket(i0, i1, label):
        y0, y1 = y_bottom - i0 * rh, y_bottom - (i1 + 1) * rh
        svg.path("M %d %.1f L %d %.1f L %d %.1f L %d %.1f" % (x - 150, y0 - 2, x - 160, y0 - 2, x - 160, y1 + 2,
                                                              x - 150, y1 + 2), sw=1.5)
        for k, part in enumerate(label.split("\n")):
            svg.text(x - 168, (y0 + y1) / 2 + 5 + 18 * k - 9 * (label.count("\n")), part, size=14, anchor="end",
                     weight="bold")
    bracket(0, 5, "reserved:\na slot\nper vCPU")
    bracket(6, 10, "the monitor\nimage")
    return svg.render()


def fig_monitor_modules():
    svg = Svg(1160, 430, "Monitor composition: modules, chosen by lab05-ept/monitor.cfg, linked into one image")
    # hv has one alternative today (vt); the others are the config's keys.
    modules = [("hv", ["vt", "svm?"], "VMX exits (an AMD SVM one would sit beside it)")]
    modules += [(k, alts, meaning.split(":")[0]) for k, alts, _, meaning in facts.monitor_modules()]
    svg.text(20, 28, "Each module: its own object and sections; the monitor's own sections: "
             ".shared, .statvars, .vmmaddr", size=15, anchor="start")
    y = 60
    for i, (name, alts, what) in enumerate(modules):
        yy = y + i * 68
        svg.rect(20, yy, 120, 52, fill=LIGHT_BLUE, stroke=BLUE, sw=1.5, rx=6)
        svg.text(80, yy + 32, name, size=17, weight="bold", mono=True)
        for k, a in enumerate(alts[:2]):
            svg.rect(160 + k * 120, yy + 6, 108, 40, fill=LIGHT_GREEN if k == 0 else "#ffffff",
                     stroke=GREEN if k == 0 else MID_GRAY, sw=1.5, rx=5)
            svg.text(214 + k * 120, yy + 32, a, size=15, mono=True, weight="bold" if k == 0 else "normal",
                     fill=INK if k == 0 else MUTED)
        svg.text(420, yy + 32, what[:34], size=14, anchor="start", fill=MUTED)
        svg.line(600, yy + 26, 700, 210, stroke=GREEN, sw=1.5, arrow=True)
    svg.rect(705, 150, 160, 120, fill=LIGHT_ORANGE, stroke=ORANGE, sw=2, rx=8)
    svg.text(785, 200, "linker", size=18, weight="bold")
    svg.text(785, 224, "(GNU ld)", size=14, fill=MUTED)
    svg.line(867, 210, 925, 210, sw=2.5, arrow=True)
    svg.rect(930, 110, 210, 200, fill=LIGHT_PURPLE, stroke=PURPLE, sw=2, rx=8)
    svg.text(1035, 160, "one monitor", size=17, weight="bold")
    svg.text(1035, 184, "image", size=17, weight="bold")
    svg.text(1035, 220, "mapped at the top", size=14)
    svg.text(1035, 240, "64 MiB, the same", size=14)
    svg.text(1035, 260, "address on every vCPU", size=14)
    svg.text(20, 420, "green: the default in monitor.cfg; a make variable picks another (make run-lab05 GPHYS=none)", size=14,
             anchor="start", fill=MUTED)
    return svg.render()


FIGURES = {
    "vmx-modes": fig_vmx_modes,
    "vmcs-groups": fig_vmcs_groups,
    "vmcs-encoding": fig_vmcs_encoding,
    "cap-rule": fig_cap_rule,
    "cr0-view": fig_cr0_view,
    "cr0-view-shadow": fig_cr0_view_shadow,
    "io-qual": fig_io_qual,
    "seg-ar": fig_seg_ar,
    "eptp": fig_eptp,
    "ept-walk": fig_ept_walk,
    "two-stage": fig_two_stage,
    "vpid-tlb": fig_vpid_tlb,
    "monitor-map": fig_monitor_map,
    "monitor-modules": fig_monitor_modules,
}


# --- Tables ------------------------------------------------------------------------------

def table_memory_types():
    rows = ["| value | type | where |", "|---|---|---|"]
    for name, value, desc in facts.values("MEMORY_TYPE"):
        where = ("IA32_PAT only" if name == "UC_MINUS" else
                 "EPT leaf entries, the EPTP (its tables), PAT" if name in ("UC", "WB") else
                 "EPT leaf entries, PAT")
        rows.append("| %d | %s | %s |" % (value, desc, where))
    return "\n".join(rows)


def table_vmcs_groups():
    counts = {}
    for name, enc, width, group, desc in facts.vmcs_fields():
        counts[facts.six_group(name, group)] = counts.get(facts.six_group(name, group), 0) + 1
    rows = ["| group | SDM | fields |", "|---|---|---|"]
    for key, title, sdm in facts.SIX_GROUPS:
        rows.append("| %s | %s | %d |" % (title, sdm, counts.get(key, 0)))
    return "\n".join(rows)


def reg_bits_table(reg, only=None):
    def table():
        rows = ["| bit | name | meaning |", "|---|---|---|"]
        for bit, (name, desc) in sorted(facts.cpu_bits(reg).items()):
            if only is None or name in only:
                rows.append("| %d | %s | %s |" % (bit, name, desc))
        return "\n".join(rows)
    return table


def table_v86_segment():
    rows = ["| ES CS SS DS FS GS | value | SDM 26.3.1.2 |", "|---|---|---|"]
    for name, value, desc in facts.values("V86_SEGMENT"):
        field = {"BASE_SHIFT": "base", "LIMIT": "limit", "ACCESS_RIGHTS": "access rights"}.get(name, name)
        shown = "selector << %d" % value if name == "BASE_SHIFT" else "0x%X" % value
        rows.append("| %s | %s | %s |" % (field, shown, desc))
    return "\n".join(rows)


TABLES = {
    "memory-types": table_memory_types,
    "vmcs-groups": table_vmcs_groups,
    "cr0-bits": reg_bits_table("CR0"),
    "efer-bits": reg_bits_table("EFER"),
    "cr4-bits-some": reg_bits_table("CR4", {"VME", "PAE", "PGE", "LA57", "VMXE", "PCIDE", "SMEP", "SMAP"}),
    "v86-segment": table_v86_segment,
}
