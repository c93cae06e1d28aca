#!/usr/bin/env python3
"""starters.py - keep the lab folders' starters in step with solutions/.

The complete code of lab NN lives in solutions/labNN-name/; the student's copy
in labNN-name/ is generated from it. In a solution file each part the student
writes is a region (docs/CONTRACTS.md, "Starters"):

    /* TODO(lab03): what the student writes */      kept in both trees
    /* BEGIN SOLUTION */
    ... the solution ...                             dropped
    /* STARTER: return -1; */                        becomes "return -1;"
    /* END SOLUTION */

Commands (run from the kit root, or pass --root):
    starters.py check      every starter equals what its solution generates
    starters.py generate   (re)write every starter from its solution
    starters.py handout OUT.tar.gz   the student kit, without solutions/
    starters.py files      the files the handout holds, one per line
    starters.py secrets    the telling lines of every solution region

Exit status: 0 when all is well, 1 when a starter drifted or a marker is
malformed (each problem on one line naming the file and line), 2 on bad usage.
"""

import argparse
import difflib
import fnmatch
import os
import re
import subprocess
import sys
import tarfile

# The comment forms a marker may use: (opening, closing). A marker line is one
# whole comment on its own line.
COMMENTS = [(r"/\*", r"\*/"), (r"//", r""), (r";", r""), (r"#", r""), (r"<!--", r"-->")]


def marker_re(word, text=False):
    """A regex for a marker line `<comment> WORD <comment-end>` in any syntax."""
    alts = []
    for open_, close in COMMENTS:
        body = word + (r"(?::[ ]?(?P<t%d>.*?))" % len(alts) if text else "")
        tail = r"\s*" + close if close else ""
        alts.append(r"%s[ \t]*%s%s" % (open_, body, tail))
    return re.compile(r"^(?P<indent>[ \t]*)(?:%s)[ \t]*$" % "|".join(alts))


BEGIN = marker_re("BEGIN SOLUTION")
END = marker_re("END SOLUTION")
STARTER = marker_re("STARTER", text=True)
TODO = re.compile(r"TODO\(lab(\d\d)\)")
SOLUTION_ONLY = "SOLUTION ONLY FILE"

# What a handout leaves out: the solutions, instructor-only graders, the
# grading fixtures, the kit's own tests and benchmarks (they run the
# solutions), CI, and version control. Graders copy the same list per
# submission (tests/lib/gradelib.py), so a lab must build from it.
HANDOUT_EXCLUDE = ["solutions/", "tests/grade/hidden/", "tests/grade/fixtures/", ".ci/", ".git/"]
HANDOUT_EXCLUDE_GLOBS = ["tests/test_*.py", "tests/bench_*.py"]
# ... except the kit's tests that need no solution: the boot path, the fact
# lists and the emulator harness, which `make test` runs in a handout to
# show that the student's machine runs the kit.
HANDOUT_KEEP = ["tests/test_boot.py", "tests/test_facts.py", "tests/test_harness.py"]
# The handout's README is its own (docs/HANDOUT.md): the kit's README.md
# speaks of solutions/, the kit's tests and grading a class.
HANDOUT_README = "docs/HANDOUT.md"
HANDOUT_PREFIX = "vmxlab"


class MarkerError(Exception):
    """A malformed region: the message names the file and line."""


def starter_text(path, text, lab):
    """The starter generated from solution TEXT (of file PATH, lab number LAB).

    Returns None for a solution-only file. Raises MarkerError when a marker is
    malformed; the message says where and what.
    """
    lines = text.splitlines(keepends=True)
    if any(SOLUTION_ONLY in l for l in lines[:10]):
        return None
    out = []
    region = None          # line number of the open BEGIN, or None
    todo_seen = False      # a TODO(labNN) since the last region
    for n, line in enumerate(lines, 1):
        body = line.rstrip("\r\n")
        eol = line[len(body):]
        if BEGIN.match(body):
            if region is not None:
                raise MarkerError("%s:%d: BEGIN SOLUTION inside the region opened at line %d "
                                  "(regions do not nest)" % (path, n, region))
            if not todo_seen:
                raise MarkerError("%s:%d: BEGIN SOLUTION without a TODO(lab%s) comment "
                                  "before it" % (path, n, lab))
            region, todo_seen = n, False
            continue
        if END.match(body):
            if region is None:
                raise MarkerError("%s:%d: END SOLUTION without a BEGIN SOLUTION" % (path, n))
            region = None
            continue
        m = STARTER.match(body)
        if m:
            if region is None:
                raise MarkerError("%s:%d: STARTER: line outside a BEGIN/END SOLUTION region"
                                  % (path, n))
            t = next((v for k, v in m.groupdict().items() if k.startswith("t") and v is not None), "")
            out.append((m.group("indent") + t if t else "") + (eol or "\n"))
            continue
        for t in TODO.findall(body):
            if t != lab:
                raise MarkerError("%s:%d: TODO(lab%s) in a lab%s file" % (path, n, t, lab))
            # Only a TODO the starter keeps counts: one inside a region is
            # dropped with it and tells the student nothing about the next.
            if region is None:
                todo_seen = True
        if region is None:
            out.append(line)
    if region is not None:
        raise MarkerError("%s:%d: BEGIN SOLUTION never ended" % (path, region))
    return "".join(out)


def listed_files(root, under):
    """Files under ROOT/UNDER that git tracks or would track (not ignored).

    Outside a git checkout (a handout), every file not matched by .gitignore.
    """
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard", "--", under],
                             capture_output=True, check=True).stdout.decode()
        files = [f for f in out.split("\0") if f]
        if files:       # nothing listed: ROOT is a folder git ignores (a copy under build/)
            return sorted(f for f in set(files) if os.path.isfile(os.path.join(root, f)))
    except (subprocess.CalledProcessError, FileNotFoundError):
        pass
    ignore = []
    gi = os.path.join(root, ".gitignore")
    if os.path.exists(gi):
        for l in open(gi):
            l = l.strip()
            if l and not l.startswith("#") and not l.startswith("!"):
                ignore.append(l)

    def ignored(rel, isdir):
        for p in ignore:
            d = p.endswith("/")
            p = p.rstrip("/")
            if d and not isdir:
                continue
            if p.startswith("/"):
                if fnmatch.fnmatch(rel, p[1:]):
                    return True
            elif fnmatch.fnmatch(os.path.basename(rel), p) or fnmatch.fnmatch(rel, p):
                return True
        return False

    files = []
    top = os.path.join(root, under)
    for d, dirs, names in os.walk(top):
        reld = os.path.relpath(d, root)
        reld = "" if reld == "." else reld + "/"
        dirs[:] = sorted(x for x in dirs if x != ".git" and not ignored(reld + x, True))
        files += [reld + x for x in names if not ignored(reld + x, False)]
    return sorted(files)


def lab_pairs(root):
    """(lab number, solution path, starter path) for every solution file."""
    pairs = []
    sol = os.path.join(root, "solutions")
    if not os.path.isdir(sol):
        return pairs
    for f in listed_files(root, "solutions"):
        parts = f.split("/")
        m = re.match(r"lab(\d\d)-", parts[1]) if len(parts) > 2 else None
        if not m:
            continue
        pairs.append((m.group(1), f, "/".join(parts[1:])))
    return pairs


def read(root, rel):
    with open(os.path.join(root, rel), "rb") as f:
        return f.read()


def expected_starter(root, lab, sol):
    """Bytes of the starter SOL generates, or None for a solution-only file."""
    data = read(root, sol)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data                     # binary: copied as it is
    s = starter_text(sol, text, lab)
    return None if s is None else s.encode("utf-8")


def cmd_check(root):
    problems = 0
    pairs = lab_pairs(root)
    for lab, sol, st in pairs:
        try:
            want = expected_starter(root, lab, sol)
        except MarkerError as e:
            print("check-starters: %s" % e)
            problems += 1
            continue
        have_path = os.path.join(root, st)
        if want is None:
            if os.path.exists(have_path):
                print("check-starters: %s: %s is marked '%s' but the lab folder has it"
                      % (st, sol, SOLUTION_ONLY))
                problems += 1
            continue
        if not os.path.exists(have_path):
            print("check-starters: %s: missing (generate it with `make starters`)" % st)
            problems += 1
            continue
        have = read(root, st)
        if have != want:
            problems += 1
            print("check-starters: %s differs from what %s generates:" % (st, sol))
            try:
                diff = difflib.unified_diff(want.decode().splitlines(True),
                                            have.decode().splitlines(True),
                                            "generated from " + sol, st, n=2)
                sys.stdout.writelines(("    " + l if l.endswith("\n") else "    " + l + "\n")
                                      for l in list(diff)[:60])
            except UnicodeDecodeError:
                print("    (binary files differ)")
    print("check-starters: %d solution files, %d problems" % (len(pairs), problems))
    return 1 if problems else 0


def cmd_generate(root):
    bad = 0
    for lab, sol, st in lab_pairs(root):
        try:
            want = expected_starter(root, lab, sol)
        except MarkerError as e:
            print("starters: %s" % e)
            bad += 1
            continue
        dst = os.path.join(root, st)
        if want is None:
            continue
        if os.path.exists(dst) and read(root, st) == want:
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as f:
            f.write(want)
        os.chmod(dst, os.stat(os.path.join(root, sol)).st_mode & 0o777)
        print("starters: wrote %s" % st)
    return 1 if bad else 0


def handout_files(root):
    """The files a student kit holds (relative paths)."""
    out = []
    for f in listed_files(root, "."):
        if any(f.startswith(p) for p in HANDOUT_EXCLUDE):
            continue
        if any(fnmatch.fnmatch(f, g) for g in HANDOUT_EXCLUDE_GLOBS) and f not in HANDOUT_KEEP:
            continue
        out.append(f)
    return out


def handout_name(root, f):
    """Where file F of the kit at ROOT goes in the handout (None: left out)."""
    if f == "README.md" and os.path.exists(os.path.join(root, HANDOUT_README)):
        return None
    return "README.md" if f == HANDOUT_README else f


def regions(root, minlen=12):
    """Every solution region and its telling lines: [(where, [lines])].

    A telling line is a stripped, non-comment line of MINLEN+ characters
    that the file's generated starter does not also hold (code around a
    region, or a STARTER: stub, is no secret).
    """
    out = []
    for lab, sol, st in lab_pairs(root):
        try:
            text = read(root, sol).decode("utf-8")
            starter = starter_text(sol, text, lab) or ""
        except (UnicodeDecodeError, MarkerError):
            continue
        public = set(l.strip() for l in starter.splitlines())
        inside, start, lines = False, 0, []
        for n, line in enumerate(text.splitlines(), 1):
            if BEGIN.match(line):
                inside, start, lines = True, n, []
            elif END.match(line):
                inside = False
                if lines:
                    out.append(("%s:%d" % (sol, start), sorted(set(lines))))
            elif inside:
                t = line.strip()
                if len(t) >= minlen and t not in public and \
                        not re.match(r"^(/\*|\*|//|;|#|<!--)", t) and not STARTER.match(line):
                    lines.append(t)
    return out


def secrets(root, minlen=12):
    """Every telling solution line (see regions())."""
    return sorted(set(l for _, lines in regions(root, minlen) for l in lines))


def leaks(root, texts, minlen=12):
    """Which files of TEXTS ({name: text}) reveal a solution region.

    A file reveals a region when it holds at least 3 of the region's telling
    lines and at least a third of them (2 of a region of 2-5 lines): one
    common line (`return 0;`, a `case` label) is a coincidence, a third of
    a region is a copy, or a rewrite close enough to read the answer from.
    """
    found = []
    for where, lines in regions(root, minlen):
        if len(lines) < 2:
            continue
        need = 2 if len(lines) <= 5 else max(3, (len(lines) + 2) // 3)
        for name, text in texts.items():
            have = set(l.strip() for l in text.splitlines())
            hits = [l for l in lines if l in have]
            if len(hits) >= need:
                found.append("%s reveals the solution region at %s (%d of its %d lines, e.g. %r)"
                             % (name, where, len(hits), len(lines), hits[0]))
    return found


def cmd_handout(root, out):
    files = handout_files(root)
    texts = {}
    for f in files:
        data = read(root, f)
        if b"\0" not in data[:4096]:
            texts[f] = data.decode("utf-8", "replace")
    bad = leaks(root, texts)
    if bad:
        for b in bad:
            print("handout: %s" % b)
        print("handout: not written: %d solution region(s) would be revealed" % len(bad))
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w:gz") as tar:
        for f in files:
            name = handout_name(root, f)
            if name is None:
                continue
            info = tar.gettarinfo(os.path.join(root, f), HANDOUT_PREFIX + "/" + name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with open(os.path.join(root, f), "rb") as fh:
                tar.addfile(info, fh)
    os.replace(tmp, out)
    print("handout: %s (%d files, no solutions/, no solution region revealed)" % (out, len(files)))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="Keep starters in step with solutions/.")
    ap.add_argument("--root", default=os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
    ap.add_argument("command", choices=["check", "generate", "handout", "files", "secrets"])
    ap.add_argument("out", nargs="?")
    a = ap.parse_args(argv)
    if a.command == "check":
        return cmd_check(a.root)
    if a.command == "generate":
        return cmd_generate(a.root)
    if a.command == "handout":
        if not a.out:
            ap.error("handout needs the output path, e.g. build/handout/vmxlab-handout.tar.gz")
        return cmd_handout(a.root, a.out)
    if a.command == "files":
        print("\n".join(handout_files(a.root)))
        return 0
    print("\n".join(secrets(a.root)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
