#!/usr/bin/env python3
"""params.py - lab04's run parameters: check them, and patch them into an image.

`make run-lab04 CR0_MASK=0x80000001 CR0_SHADOW=0x0` runs the lab with other
values than the defaults. The image is built once; this script checks every
value BEFORE anything is built or run, then copies the image and writes the
values into the copy's parameter block (struct lab04_params, params.c), which
it finds by its magic string. One copy per parameter set, in its own folder
(build/lab04/params-<hash>/lab04.img), so any number of runs with different
values can happen at the same time.

The parameters, their order and their defaults are read from the
LAB04_PARAM_LIST X-macro in lab04.h (next to this file): that list is the
only place they are written down.

Commands (exit status 2 and one line naming the variable on a bad value):
    params.py names                       the parameter names, one line
    params.py check [--command-line 'NAME...'] NAME=VALUE...
                                          check only; --command-line lists the
                                          names of every variable given on the
                                          make command line, and one that looks
                                          like a misspelled parameter is refused
    params.py patch BASE.img [--out OUT.img] NAME=VALUE...
                                          check, copy, patch; print the copy's path
Values: decimal (1234) or hex (0x4d2), at most 32 bits.

A misspelled parameter would otherwise be just another make variable, silently
ignored: `make run-lab04 CR0MASK=1` would run with the default mask. So a
command-line name that is not a parameter but is close to one (the same
letters ignoring case and underscores, or one letter added, removed, changed
or two swapped; two such edits for names of 12 letters or more) is refused
with the parameter it resembles. Other names (SOLUTION, BOCHS_CPU, V, ...)
are not parameters and are left alone.
"""

import hashlib
import os
import re
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = os.path.join(HERE, "lab04.h")
MAGIC = b"vmxlab-lab04-p1\0"         # LAB04_PARAMS_MAGIC + its NUL: 16 bytes

# Parameters that are switches or counts, not bit masks.
LIMITS = {
    "IO_EXITING": (0, 1, "must be 0 or 1"),
    "EXIT_LOG": (0, 1, "must be 0 or 1"),
    "IO_BURST": (0, 1000000, "must be at most 1000000 (reads timed by the guest)"),
}


class ParamError(ValueError):
    """A bad parameter; the message is one line naming it."""


def param_list(header=HEADER):
    """[(name, default, description)] in the order of LAB04_PARAM_LIST."""
    with open(header) as f:
        text = f.read()
    start = text.index("#define LAB04_PARAM_LIST")
    end = text.index("\n\n", start)
    items = re.findall(r'X\((\w+),\s*(0x[0-9A-Fa-f]+|\d+),\s*"([^"]*)"\)', text[start:end])
    if not items:
        raise RuntimeError("%s: no LAB04_PARAM_LIST entries found" % header)
    return [(n, int(d, 0), desc) for n, d, desc in items]


def parse_value(name, text):
    """The number `text` given for `name`, or ParamError."""
    if not re.fullmatch(r"0[xX][0-9a-fA-F]+|[0-9]+", text):
        raise ParamError("%s=%s is not a number: write decimal digits, or 0x and hex digits"
                         % (name, text))
    value = int(text, 16) if text[:2].lower() == "0x" else int(text, 10)
    if value > 0xFFFFFFFF:
        raise ParamError("%s=%s is wider than 32 bits (at most 0xffffffff)" % (name, text))
    if name in LIMITS:
        lo, hi, why = LIMITS[name]
        if not lo <= value <= hi:
            raise ParamError("%s=%s: %s" % (name, text, why))
    return value


def _letters(name):
    """A name as compared for misspellings: upper case, no '_' or '-'."""
    return name.upper().replace("_", "").replace("-", "")


def _edits(a, b):
    """Letters added, removed, changed, or adjacent pairs swapped, to turn a
    into b (the optimal-string-alignment edit distance)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def resembles(name, names):
    """The parameters `name` (not one of them) is probably a misspelling of,
    closest first; [] when it resembles none."""
    close = []
    for n in names:
        edits = _edits(_letters(name), _letters(n))
        if edits <= (2 if len(_letters(n)) >= 12 else 1):
            close.append((edits, n))
    best = min((e for e, _ in close), default=None)
    return [n for e, n in close if e == best]


def check(assignments, header=HEADER, others=()):
    """{name: value} from ["NAME=VALUE", ...] or a dict of strings/ints.
    `others`: the names of other variables given with them (make's command
    line); one that resembles a parameter is refused as a misspelling."""
    names = [n for n, _, _ in param_list(header)]
    for name in others:
        close = resembles(name, names) if name not in names else []
        if close:
            raise ParamError("%s is not a lab04 parameter; did you mean %s?"
                             % (name, " or ".join(close)))
    if isinstance(assignments, dict):
        pairs = [(k, str(v) if not isinstance(v, int) else hex(v)) for k, v in assignments.items()]
    else:
        pairs = []
        for a in assignments:
            if "=" not in a:
                raise ParamError("%r is not NAME=VALUE" % a)
            pairs.append(tuple(a.split("=", 1)))
    values = {}
    for name, text in pairs:
        if name not in names:
            raise ParamError("%s is not a lab04 parameter; they are: %s" % (name, " ".join(names)))
        values[name] = parse_value(name, text.strip())
    return values


def variant(values):
    """A short name for a parameter set: the folder of its image."""
    key = ",".join("%s=0x%08x" % (k, values[k]) for k in sorted(values))
    return "params-" + hashlib.sha1(key.encode()).hexdigest()[:10]


def patch(base, values, out=None, header=HEADER):
    """Copy image `base` with `values` written into its parameter block.
    Returns the copy's path (default: <dir of base>/params-<hash>/<name>)."""
    params = param_list(header)
    with open(base, "rb") as f:
        image = bytearray(f.read())
    at = image.find(MAGIC)
    if at < 0 or image.find(MAGIC, at + 1) >= 0:
        raise ParamError("%s: %s parameter block (magic %r) in the image"
                         % (base, "no" if at < 0 else "more than one", MAGIC))
    block = at + len(MAGIC)
    fmt = "<I%dI" % len(params)
    given, *current = struct.unpack_from(fmt, image, block)
    for i, (name, _, _) in enumerate(params):
        if name in values:
            current[i] = values[name]
            given |= 1 << i
    struct.pack_into(fmt, image, block, given, *current)
    if out is None:
        out = os.path.join(os.path.dirname(base), variant(values), os.path.basename(base))
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    # A temporary file of its own (unique across processes and threads), then
    # an atomic rename: parallel runs never see half a file.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(out)), suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(image)
    os.replace(tmp, out)
    return out


def main(argv):
    if not argv or argv[0] not in ("names", "check", "patch"):
        print(__doc__.strip().split("\n\n")[-2], file=sys.stderr)
        return 2
    try:
        if argv[0] == "names":
            print(" ".join(n for n, _, _ in param_list()))
        elif argv[0] == "check":
            args, others = argv[1:], []
            if "--command-line" in args:
                i = args.index("--command-line")
                others = args[i + 1].split() if i + 1 < len(args) else []
                del args[i:i + 2]
            check(args, others=others)
        else:
            args, out = argv[1:], None
            if "--out" in args:
                i = args.index("--out")
                out = args[i + 1] if i + 1 < len(args) else None
                del args[i:i + 2]
            if not args:
                raise ParamError("patch needs the image to copy")
            base, assignments = args[0], args[1:]
            print(patch(base, check(assignments), out))
    except ParamError as e:
        print(str(e))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
