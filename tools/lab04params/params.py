#!/usr/bin/env python3
"""params.py - lab04's run parameters: check them, and name the image of a
parameter set.

`make run-lab04 CR0_MASK=0x80000001 CR0_SHADOW=0x0` runs lab04 with other
values than the defaults. lab04-vm86-guest/lab.mk asks this script, while
make reads the makefiles (so before anything is built or run):
  - whether every value is good (`check`): a bad one stops make with one line
    naming it;
  - the folder of the set's image (`variant`): build/lab04/params-<hash>/;
  - the two -D flags that compile the set into params.c (`defines`):
        -DLAB04_PARAMS_GIVEN=0x...      bit i: parameter i was given
        -DLAB04_PARAMS_VALUES=v0,v1,... every value, in the list's order
Make then compiles params.c again with those flags and links it with the
lab's other objects into build/lab04/params-<hash>/lab04.img. A set is built
once; different sets have different folders, so runs with different values
can happen at the same time.

The parameters, their order and their defaults are read from the
LAB04_PARAM_LIST X-macro in lab04-vm86-guest/lab04.h: that list is the only
place they are written down.

Commands (exit status 2 and one line naming the variable on a bad value):
    params.py names                       the parameter names, one line
    params.py check [--command-line 'NAME...'] NAME=VALUE...
                                          check only; --command-line lists the
                                          names of every variable given on the
                                          make command line, and one that looks
                                          like a misspelled parameter is refused
    params.py variant NAME=VALUE...       check; print the set's folder name
    params.py defines NAME=VALUE...       check; print the -D flags for params.c
Values: decimal (1234) or hex (0x4d2), at most 32 bits.

From Python (the kit's tests and benchmarks): check(), variant(), and
image(values, solution=False, out=None), which runs `make lab04-params` and
returns the path of the set's image.

A misspelled parameter would otherwise be just another make variable, silently
ignored: `make run-lab04 CR0MASK=1` would run with the default mask. So a
command-line name that is not a parameter but is close to one (the same
letters ignoring case and underscores, or one letter added, removed, changed
or two swapped; two such edits for names of 12 letters or more) is refused
with the parameter it resembles. Other names (SOLUTION, BOCHS_CPU, V, ...)
are not parameters and are left alone.
"""

import fcntl
import hashlib
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = os.path.join(TOP, "lab04-vm86-guest", "lab04.h")

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


def defines(values, header=HEADER):
    """The -D flags that compile the set `values` into params.c."""
    given, every = 0, []
    for i, (name, default, _) in enumerate(param_list(header)):
        if name in values:
            given |= 1 << i
        every.append("0x%08x" % values.get(name, default))
    return "-DLAB04_PARAMS_GIVEN=0x%08x -DLAB04_PARAMS_VALUES=%s" % (given, ",".join(every))


def image(values, solution=False, out=None, top=TOP):
    """Build the image of parameter set `values` (a dict, as check() returns)
    with `make lab04-params` and return its path: the solution's
    (build/solutions/lab04/params-<hash>/lab04.img) or the lab folder's, or
    a copy at `out`. Two callers building the same set take turns."""
    values = check(values)
    args = ["%s=0x%08x" % (k, v) for k, v in sorted(values.items())]
    cmd = ["make", "--no-print-directory", "-s", "-C", top, "lab04-params",
           "SOLUTION=%d" % (1 if solution else 0)] + args
    if out:
        cmd.append("LAB04_OUT=" + os.path.abspath(out))
    lock_dir = os.path.join(top, "build", "lab04")
    os.makedirs(lock_dir, exist_ok=True)
    with open(os.path.join(lock_dir, ".%s.lock" % variant(values)), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0 or not p.stdout.strip():
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return os.path.join(top, p.stdout.strip().splitlines()[-1])


def main(argv):
    if not argv or argv[0] not in ("names", "check", "variant", "defines"):
        print(next(p for p in __doc__.split("\n\n") if p.startswith("Commands")), file=sys.stderr)
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
        elif argv[0] == "variant":
            print(variant(check(argv[1:])))
        else:
            print(defines(check(argv[1:])))
    except ParamError as e:
        print(str(e))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
