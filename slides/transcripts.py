#!/usr/bin/env python3
"""transcripts.py - the program output the slides show, kept from real runs.

A slide never shows output typed by hand. It shows lines of a transcript in
slides/transcripts/NAME.txt, and each transcript is what one real command
printed: the command a student types (`make run-lab03 SOLUTION=1`, ...),
run by this script. Kept transcripts let `make slides` build without Bochs
runs and without the Linux kernel; `--check` runs every command again and
compares, so a transcript cannot drift from what the kit really prints
(tests/test_slides.py runs the check).

    python3 slides/transcripts.py --update [NAME...]   run and (re)write
    python3 slides/transcripts.py --check [NAME...]    run and compare
    python3 slides/transcripts.py --list               names and commands

File format: the first line is `$ COMMAND`, the rest is its output, without
the progress lines of the kit's kernel tools (`kbuild: ...`, `kboot: ...`).
Lines that differ between two honest runs (the BIOS tick count, a page-table address,
the Debian kernel's version, code addresses that move when the kit's code
changes) are compared with their value masked: see MASKS.

Exit status: 0 all kept transcripts match (or were written), 1 a mismatch or
a failed run (each named, with a diff), 2 bad usage.
"""

import argparse
import concurrent.futures
import difflib
import json
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.path.join(TOP, "slides", "transcripts")

# name: (the command, its lane). "kernel" commands boot Debian's kernel in
# QEMU; the others are bare-metal runs in Bochs. msrdump is `make run`'s
# step 1 (tests/demo.py boots the same image with the same harness).
EMU = ["python3", "tests/lib/emu.py", "bochs", "build/msrdump/msrdump.img"]
TRANSCRIPTS = {
    "msrdump": (EMU, None),
    "msrdump-penryn": (EMU + ["--cpu", "core2_penryn_t9600"], None),
    "lab01-qemu": (["make", "qemu-lab01", "SOLUTION=1"], "kernel"),
    "lab02-qemu": (["make", "qemu-lab02", "SOLUTION=1"], "kernel"),
    "lab03": (["make", "run-lab03", "SOLUTION=1"], None),
    "lab03-break-tr": (["make", "run-lab03", "SOLUTION=1", "BREAK=GUEST_TR_ACCESS_RIGHTS=0x83"], None),
    "lab04": (["make", "run-lab04", "SOLUTION=1"], None),
    "lab04-shadow": (["make", "run-lab04", "SOLUTION=1", "CR0_MASK=0xffffffff", "CR0_SHADOW=0x12345678"], None),
    "lab04-io": (["make", "run-lab04", "SOLUTION=1", "IO_EXITING=1"], None),
}

# Values that honest runs do not share, masked before comparing.
MASKS = [
    (re.compile(r"(bios ticks: 0x)[0-9a-f]+"), r"\1~"),
    (re.compile(r"^(CR[23]: 0x)[0-9a-f]+", re.M), r"\1~"),
    (re.compile(r"kernel \d+\.\d+\.\d+-\d+-amd64"), "kernel ~"),
    (re.compile(r"(CPU vendor )\w+"), r"\1~"),
    (re.compile(r"\b(rip|RIP|region|VMCS:) 0x[0-9a-f]+"), r"\1 0x~"),
    # IO_EXITING=1: each byte the guest sends is an exit line, the tick
    # count's digits too (the guest's own lines are still compared whole).
    (re.compile(r"(port 0x3f8 out size 1 value 0x)[0-9a-f]+"), r"\1~"),
]


def command(name):
    return " ".join(TRANSCRIPTS[name][0])


def path(name):
    return os.path.join(DIR, name + ".txt")


def load(name):
    """(command, [lines]) of a kept transcript."""
    with open(path(name)) as f:
        text = f.read()
    first, _, rest = text.partition("\n")
    if not first.startswith("$ "):
        raise ValueError("%s: the first line must be `$ COMMAND`" % path(name))
    return first[2:], rest.splitlines()


def masked(lines):
    text = "\n".join(lines)
    for rx, repl in MASKS:
        text = rx.sub(repl, text)
    return text.splitlines()


def run(name):
    """Run NAME's command now; return its output lines (or raise RuntimeError)."""
    cmd = list(TRANSCRIPTS[name][0])
    if cmd[0] == "make":
        cmd.insert(1, "-s")             # make's own lines are not output
    else:
        # the image first (make builds it), then the same run as make run's
        subprocess.run(["make", "-s", cmd[3]], cwd=TOP, check=True, stdout=subprocess.DEVNULL)
        cmd = [sys.executable] + cmd[1:] + ["--name", "slides-" + name, "--timeout", "60"]
    p = subprocess.run(cmd, cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=600)
    # kbuild's and kboot's own progress lines are not the program's output.
    lines = [l for l in p.stdout.splitlines() if not l.startswith(("kboot: ", "kbuild: "))]
    if p.returncode != 0 or not any(l == "vmxlab: done" for l in lines):
        raise RuntimeError("`%s` failed (exit status %d) or did not end with `vmxlab: done`:\n%s"
                           % (" ".join(cmd), p.returncode,
                              "\n".join("    | " + l for l in (p.stdout + p.stderr).splitlines()[-15:])))
    return lines


def run_all(names):
    """{name: lines or RuntimeError}, the emulator runs two at a time."""
    # deps first, alone: two makes must not both install packages.
    subprocess.run(["make", "-s", "deps"], cwd=TOP, check=True, stdout=subprocess.DEVNULL)
    # The kernel labs (QEMU) in one lane, the bare-metal runs in the other:
    # within a lane the builds never race for the same objects.
    lanes = [[n for n in names if TRANSCRIPTS[n][1] == "kernel"],
             [n for n in names if TRANSCRIPTS[n][1] != "kernel"]]

    def lane(ns):
        out = {}
        for n in ns:
            try:
                out[n] = run(n)
            except (RuntimeError, subprocess.SubprocessError, OSError) as e:
                out[n] = RuntimeError(str(e))
        return out

    results = {}
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        for r in ex.map(lane, lanes):
            results.update(r)
    return results


def compare(name, lines):
    """None if kept transcript NAME matches LINES (masked), else a diff."""
    _, kept = load(name)
    a, b = masked(kept), masked(lines)
    if a == b:
        return None
    return "\n".join(difflib.unified_diff(a, b, "kept " + os.path.relpath(path(name), TOP),
                                          "real run", lineterm="", n=1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--update", action="store_true", help="run and write the transcripts")
    g.add_argument("--check", action="store_true", help="run and compare with the kept ones")
    g.add_argument("--list", action="store_true", help="names and commands")
    ap.add_argument("--json", help="--check: also write the results to this JSON file")
    ap.add_argument("names", nargs="*", help="transcripts (default: all)")
    a = ap.parse_args(argv)
    names = a.names or sorted(TRANSCRIPTS)
    unknown = [n for n in names if n not in TRANSCRIPTS]
    if unknown:
        print("transcripts: unknown name(s) %s; the names: %s" % (", ".join(unknown), ", ".join(sorted(TRANSCRIPTS))),
              file=sys.stderr)
        return 2
    if a.list:
        for n in names:
            print("%-16s $ %s" % (n, command(n)))
        return 0
    results = run_all(names)
    bad = 0
    report = {}
    for n in names:
        r = results[n]
        if isinstance(r, Exception):
            print("transcripts: %s: %s" % (n, r), file=sys.stderr)
            report[n] = {"ok": False, "why": str(r)}
            bad += 1
            continue
        if a.update:
            os.makedirs(DIR, exist_ok=True)
            with open(path(n), "w") as f:
                f.write("$ %s\n%s\n" % (command(n), "\n".join(r)))
            print("transcripts: %s: %d lines written to %s" % (n, len(r), os.path.relpath(path(n), TOP)))
            continue
        diff = compare(n, r) if os.path.exists(path(n)) else "no kept transcript %s" % path(n)
        report[n] = {"ok": diff is None, "why": diff or ""}
        if diff:
            bad += 1
            print("transcripts: %s: the kept transcript differs from a real run of `%s` "
                  "(python3 slides/transcripts.py --update %s rewrites it):\n%s" % (n, command(n), n, diff))
        else:
            print("transcripts: %s: matches a real run of `%s`" % (n, command(n)))
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
