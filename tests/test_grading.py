"""Tests of the grading machinery: starters, make grade, make grade-class, handout.

Two kinds of kit are graded here:
  * the toy kit in tests/grade/fixtures/toykit (one boot-sector lab, lab99,
    with a solution, a generated starter and a grader). The class test makes
    its synthetic submissions from it (complete, empty, not compiling,
    hanging, triple-faulting, flooding COM1, forbidden Makefile and scripts,
    files that try to reach outside the kit) and grades them in real Bochs.
  * the real kit: every lab that has a grader (tests/grade/labNN.py) is
    graded with its solution (full marks) and its untouched starter (builds,
    scores less). These tests grow as the lab graders arrive.
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time

from lib import gradelib
import pytest

from lib.testlib import TestFailure, Skip, once

TOP = gradelib.TOP
TOY = os.path.join(TOP, "tests", "grade", "fixtures", "toykit")
DRIVER = os.path.join(TOP, "tests", "grade", "driver.py")
STARTERS = os.path.join(TOP, "tools", "starters", "starters.py")
# One scratch folder per test process: several `make test`s may run at once
# in one tree. Folders of processes that ended are removed.
SCRATCH_ROOT = os.path.join(TOP, "build", "grade-test")
SCRATCH = os.path.join(SCRATCH_ROOT, "pid-%d" % os.getpid())
if os.path.isdir(SCRATCH_ROOT):
    for _d in os.listdir(SCRATCH_ROOT):
        _m = re.match(r"^pid-(\d+)$", _d)
        if not _m or not os.path.exists("/proc/%s" % _m.group(1)):
            shutil.rmtree(os.path.join(SCRATCH_ROOT, _d), ignore_errors=True)


def scratch(name):
    d = os.path.join(SCRATCH, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def sh(cmd, timeout=600, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    return p.returncode, p.stdout + p.stderr


# --- Starters -----------------------------------------------------------------

def test_grading_check_starters_every_starter_in_the_kit_equals_its_solution():
    """grading: check-starters: every starter in the kit equals its solution"""
    rc, out = sh([sys.executable, STARTERS, "check"])
    if rc != 0:
        raise TestFailure("make check-starters failed:\n" + out[-3000:])
    rc, out = sh([sys.executable, STARTERS, "--root", TOY, "check"])
    if rc != 0 or "1 solution files, 0 problems" not in out:
        raise TestFailure("the toy kit's starter drifted:\n" + out)


def test_grading_check_starters_finds_a_drifted_starter_and_malformed_markers():
    """grading: check-starters finds a drifted starter and malformed markers"""
    d = scratch("starters")
    os.makedirs(os.path.join(d, "solutions", "lab07-x"))
    os.makedirs(os.path.join(d, "lab07-x"))
    sol = ("int f(void)\n{\n\t/* TODO(lab07): return the answer */\n\t/* BEGIN SOLUTION */\n"
           "\treturn 42;\n\t/* STARTER: return -1; */\n\t/* END SOLUTION */\n}\n")
    open(os.path.join(d, "solutions", "lab07-x", "f.c"), "w").write(sol)
    open(os.path.join(d, "solutions", "lab07-x", "same.h"), "w").write("#define X 1\n")
    rc, out = sh([sys.executable, STARTERS, "--root", d, "generate"])
    got = open(os.path.join(d, "lab07-x", "f.c")).read()
    want = "int f(void)\n{\n\t/* TODO(lab07): return the answer */\n\treturn -1;\n}\n"
    if rc != 0 or got != want:
        raise TestFailure("generate wrote %r, expected %r (%s)" % (got, want, out))
    if open(os.path.join(d, "lab07-x", "same.h")).read() != "#define X 1\n":
        raise TestFailure("a file without markers was not copied as it is")
    rc, out = sh([sys.executable, STARTERS, "--root", d, "check"])
    if rc != 0:
        raise TestFailure("check failed right after generate:\n" + out)
    # A student-side edit of the starter is drift.
    open(os.path.join(d, "lab07-x", "f.c"), "w").write(want.replace("-1", "0"))
    rc, out = sh([sys.executable, STARTERS, "--root", d, "check"])
    if rc != 1 or "lab07-x/f.c differs" not in out or "+\treturn 0;" not in out:
        raise TestFailure("a drifted starter was not reported with a diff (exit %d):\n%s" % (rc, out))
    # Malformed regions: each named by file and line.
    cases = {
        "/* BEGIN SOLUTION */\nx\n/* END SOLUTION */\n": r"f\.c:1: BEGIN SOLUTION without a TODO\(lab07\)",
        "/* TODO(lab07) */\n/* BEGIN SOLUTION */\nx\n": r"f\.c:2: BEGIN SOLUTION never ended",
        "x\n/* END SOLUTION */\n": r"f\.c:2: END SOLUTION without a BEGIN",
        "/* TODO(lab07) */\n/* BEGIN SOLUTION */\n/* BEGIN SOLUTION */\n": r"f\.c:3: .*do not nest",
        "/* TODO(lab03): wrong lab */\n": r"f\.c:1: TODO\(lab03\) in a lab07 file",
        # the second region's only TODO is inside the first region (dropped from the starter)
        "/* TODO(lab07) */\n/* BEGIN SOLUTION */\n/* TODO(lab07) */\n/* END SOLUTION */\n"
        "/* BEGIN SOLUTION */\nx\n/* END SOLUTION */\n": r"f\.c:5: BEGIN SOLUTION without a TODO\(lab07\)",
    }
    for text, rx in cases.items():
        open(os.path.join(d, "solutions", "lab07-x", "f.c"), "w").write(text)
        rc, out = sh([sys.executable, STARTERS, "--root", d, "check"])
        if rc != 1 or not re.search(rx, out):
            raise TestFailure("malformed markers %r: expected /%s/, got (exit %d):\n%s" % (text, rx, rc, out))


# --- The toy kit: one submission through the make grade command line ------------

def toy_grade(tag, *args):
    """The driver's `grade` on the toy kit; TAG keeps concurrent tests apart."""
    rc, out = sh([sys.executable, DRIVER, "--kit", TOY, "grade", "--work",
                  os.path.join(SCRATCH, "toy-work-" + tag), "--results",
                  os.path.join(SCRATCH, "toy-results-" + tag)] + list(args), timeout=120)
    return rc, out


def test_grading_make_grade_output_ok_fail_skip_lines_score_exit_status_toy_lab():
    """grading: make grade output: OK/FAIL/SKIP lines, Score, exit status (toy lab)"""
    rc, out = toy_grade("output", "--solution")
    for rx in [r"^boots: OK \(5/5\)$", r"^answer: OK \(10/10\)$", r"^finishes: OK \(5/5\)$",
               r"^Score: 20/20$"]:
        if not re.search(rx, out, re.M):
            raise TestFailure("solution: /%s/ not in:\n%s" % (rx, out))
    if rc != 0:
        raise TestFailure("full marks must exit 0, got %d" % rc)
    rc, out = toy_grade("output")       # the untouched starter of the toy kit
    for rx in [r"^boots: OK \(5/5\)$", r"^answer: FAIL \(0/10\)\n    MISSING '\^answer: 42\$'\n",
               r"    log: \S+serial\.txt$", r"^Score: 10/20$"]:
        if not re.search(rx, out, re.M):
            raise TestFailure("starter: /%s/ not in:\n%s" % (rx, out))
    if rc != 1:
        raise TestFailure("below full marks must exit 1, got %d" % rc)


def test_grading_make_grade_submission_dir_takes_only_the_lab_s_files_and_says():
    """grading: make grade SUBMISSION=DIR takes only the lab's files and says what it left"""
    d = scratch("toy-submission")
    sub = os.path.join(d, "alice", "lab99-toy")
    os.makedirs(sub)
    shutil.copy(SOLUTION_ASM, os.path.join(sub, "toy.asm"))
    marker = os.path.join(d, "MARKER")
    open(os.path.join(sub, "Makefile"), "w").write("%%:\n\ttouch %s\n" % marker)
    for where in (os.path.join(d, "alice"), sub):       # a student folder, or the lab folder itself
        rc, out = toy_grade("submission", "--submission", where)
        if rc != 0 or not re.search(r"^Score: 20/20$", out, re.M) or \
                not re.search(r"^note: not taken \(not a lab99 student file\): Makefile$", out, re.M):
            raise TestFailure("SUBMISSION=%s (exit %d):\n%s" % (where, rc, out))
    os.unlink(os.path.join(sub, "toy.asm"))
    rc, out = toy_grade("submission", "--submission", sub)
    if rc != 1 or "note: lab99-toy/toy.asm is missing from the submission" not in out:
        raise TestFailure("a missing file is not reported (exit %d):\n%s" % (rc, out))
    if os.path.exists(marker):
        raise TestFailure("the submitted Makefile ran")


def test_grading_hidden_graders_add_checks_and_the_handout_leaves_them_out():
    """grading: hidden graders add checks, and the handout leaves them out"""
    kit = gradelib.compose_kit(os.path.join(SCRATCH, "toy-hidden"), TOY)
    os.makedirs(os.path.join(kit, "tests", "grade", "hidden"))
    open(os.path.join(kit, "tests", "grade", "hidden", "lab99.py"), "w").write(
        "def extend(lab):\n"
        "    lab.check(\"hidden: done after answer\", 7, lab.runs[0],\n"
        "              expect=[r\"^answer: 42\\ntoy: done$\"], needs=[\"answer\"])\n")
    lab = gradelib.load_lab("99", kit)
    if lab.total != 27 or lab.checks[-1].name != "hidden: done after answer":
        raise TestFailure("the hidden check was not added: %s" % [c.name for c in lab.checks])
    base = os.path.join(SCRATCH, "toy-hidden-grade")
    r = gradelib.grade("99", os.path.join(kit, "solutions", "lab99-toy"), os.path.join(base, "w"),
                       os.path.join(base, "r"), kit, say=None)
    if r["score"] != 27:
        raise TestFailure("solution with the hidden check: %d/27: %s" % (r["score"], r["checks"]))
    names, problems = check_handout(kit, os.path.join(base, "h.tar.gz"))
    if problems or any("hidden" in n for n in names) or not names:
        raise TestFailure("handout: %s %s" % (problems, names))


# --- The toy kit: a class of synthetic submissions --------------------------------

SOLUTION_ASM = os.path.join(TOY, "solutions", "lab99-toy", "toy.asm")


def toy_variant(replace_from, replace_to):
    text = open(SOLUTION_ASM).read()
    if replace_from not in text:
        raise TestFailure("the toy solution no longer has %r" % replace_from)
    return text.replace(replace_from, replace_to, 1)


def make_class(root, marker):
    """The synthetic class: {student: expected total}; writes the folders under ROOT."""
    sol = open(SOLUTION_ASM).read()
    students = {}

    def student(name, total, files):
        students[name] = total
        for rel, content in files.items():
            p = os.path.join(root, name, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            if isinstance(content, tuple):              # ("symlink", target)
                os.symlink(content[1], p)
            else:
                open(p, "w").write(content)

    student("a-complete", 20, {"lab99-toy/toy.asm": sol})
    student("b-empty", 0, {"notes.txt": "nothing here\n"})
    student("c-nocompile", 0, {"lab99/toy.asm": sol.replace("mov si, hello", "mov si, hello,,oops")})
    student("d-hangs", 0, {"lab99-toy/toy.asm": toy_variant("\tcall uart_init\n", "\tjmp $\n")})
    student("e-triplefault", 0, {"lab99-toy/toy.asm": toy_variant(
        "\tcall uart_init\n", "\tlidt [zero_idt]\n\tint3\nzero_idt: dw 0, 0, 0\n")})
    bad_make = "lab99:\n\ttouch %s\n%%:\n\ttouch %s\n" % (marker, marker)
    student("f-forbidden", 20, {
        "lab99-toy/toy.asm": sol,
        "lab99-toy/Makefile": bad_make, "lab99-toy/GNUmakefile": bad_make,
        "lab99-toy/lab.mk": bad_make, "GNUmakefile": bad_make, "Makefile": bad_make,
        "lab99-toy/grade.sh": "#!/bin/sh\ntouch %s\n" % marker,
        "tests/grade/lab99.py": "import os\nos.system('touch %s')\n" % marker})
    student("g-floods", 0, {"lab99-toy/toy.asm": toy_variant(
        "\tmov si, done\n", "flood:\tmov si, hello\n\tcall puts\n\tjmp flood\n")})
    student("h-escapes", 10, {"lab99-toy/toy.asm": '%include "/etc/hostname"\n' + sol})
    student("i-symlink", 10, {"lab99-toy/toy.asm": ("symlink", os.path.join(root, "a-complete",
                                                                              "lab99-toy", "toy.asm"))})
    student("j-untouched", 10, {"lab99-toy/toy.asm": open(os.path.join(TOY, "lab99-toy", "toy.asm")).read()})
    student("k-linked-folder", 0, {"lab99-toy": ("symlink", os.path.join(root, "a-complete", "lab99-toy"))})
    student("z-complete", 20, {"lab99_final/toy.asm": sol, "lab99_final/extra.c": "int x;\n"})
    return students


def toy_class():
    def go():
        root = scratch("toy-class")
        subs = os.path.join(root, "submissions")
        os.makedirs(subs)
        marker = os.path.join(root, "MARKER-forbidden-file-ran")
        expected = make_class(subs, marker)
        open(os.path.join(subs, "stray-file.txt"), "w").write("not a student\n")
        t0 = time.monotonic()
        rc, out = sh([sys.executable, DRIVER, "--kit", TOY, "class", subs, "--jobs", "2",
                      "--work", os.path.join(root, "work"), "--results", os.path.join(root, "results")],
                     timeout=900)
        return dict(root=root, rc=rc, out=out, expected=expected, marker=marker,
                    seconds=time.monotonic() - t0, results=os.path.join(root, "results"))
    return once("toy-class", go)


def test_grading_a_class_of_12_synthetic_submissions_grades_to_the_expected_gra():
    """grading: a class of 12 synthetic submissions grades to the expected grades.csv (toy lab)"""
    c = toy_class()
    if c["rc"] != 0:
        raise TestFailure("grade-class exited %d:\n%s" % (c["rc"], c["out"][-3000:]))
    rows = list(csv.reader(open(os.path.join(c["results"], "grades.csv"))))
    if rows[0] != ["student", "lab99", "total"]:
        raise TestFailure("grades.csv header is %r" % rows[0])
    got = {r[0]: int(r[-1]) for r in rows[1:]}
    if len(rows) - 1 != len(c["expected"]):
        raise TestFailure("%d students, %d rows: %s" % (len(c["expected"]), len(rows) - 1, got))
    wrong = ["%s: got %s, expected %d" % (s, got.get(s), t) for s, t in sorted(c["expected"].items())
             if got.get(s) != t]
    if wrong:
        raise TestFailure("grades.csv rows differ:\n  " + "\n  ".join(wrong) +
                          "\n(results in %s)" % os.path.relpath(c["results"], TOP))
    for rx in [r"^student 1 of 12 \(\S+\): \d+/20, elapsed (\d+m)?\d+s, ETA (\d+m)?\d+s$", r"^student 12 of 12 ",
               r"stray-file\.txt is not a student folder"]:
        if not re.search(rx, c["out"], re.M):
            raise TestFailure("progress output: /%s/ not in:\n%s" % (rx, c["out"]))
    # Each bad submission failed for its own reason, and grades.json says it.
    js = json.load(open(os.path.join(c["results"], "grades.json")))["students"]

    def first(student, check):
        return [x for x in js[student]["labs"]["99"]["checks"] if x["name"] == check][0]
    reasons = {("b-empty", "boots"): r"no lab99 folder",
               ("c-nocompile", "boots"): r"build failed: .*error",
               ("d-hangs", "boots"): r"MISSING .*hello.*|stopped by",
               ("g-floods", "boots"): r"serial output exceeded|watchdog|timeout",
               ("k-linked-folder", "boots"): r"no lab99 folder"}
    for (s, ch), rx in reasons.items():
        d = first(s, ch).get("detail") or ""
        if not re.search(rx, d):
            raise TestFailure("%s/%s: detail %r does not match /%s/" % (s, ch, d, rx))
    if first("d-hangs", "answer")["outcome"] != "SKIP":
        raise TestFailure("d-hangs: 'answer' needs 'boots' and must be skipped")
    tf = first("e-triplefault", "boots")
    if "triple" not in tf.get("note", ""):
        raise TestFailure("e-triplefault: the triple fault is not named: %r" % tf)
    build_log = open(os.path.join(c["results"], "c-nocompile", "lab99", "build.log")).read()
    if "error" not in build_log:
        raise TestFailure("c-nocompile: the assembler's error is not in build.log")
    h = js["h-escapes"]["labs"]["99"]["files"]["refused"]
    if "absolute path" not in h.get("toy.asm", ""):
        raise TestFailure("h-escapes: the absolute %%include was not refused: %r" % h)
    i = js["i-symlink"]["labs"]["99"]["files"]["refused"]
    if "symbolic link" not in i.get("toy.asm", ""):
        raise TestFailure("i-symlink: the symlinked file was not refused: %r" % i)
    f = js["f-forbidden"]["labs"]["99"]["files"]
    if "Makefile" not in f["ignored"] or f["taken"] != ["toy.asm"]:
        raise TestFailure("f-forbidden: files report %r" % f)
    z = js["z-complete"]["labs"]["99"]["files"]
    if z["ignored"] != ["extra.c"]:
        raise TestFailure("z-complete: extra.c must be reported as ignored: %r" % z)


def test_grading_nothing_from_a_forbidden_makefile_script_or_grader_in_a_submis():
    """grading: nothing from a forbidden Makefile, script or grader in a submission ever runs"""
    c = toy_class()
    if os.path.exists(c["marker"]):
        raise TestFailure("the submission's forbidden file ran: %s exists" % c["marker"])
    # The absence means something only if the student was graded with those
    # files present (full marks from the kit's own rules) ...
    js = json.load(open(os.path.join(c["results"], "grades.json")))["students"]
    got = js["f-forbidden"]["labs"]["99"]["score"]
    if got != c["expected"]["f-forbidden"]:
        raise TestFailure("f-forbidden scored %s, not %d: was it graded at all?"
                          % (got, c["expected"]["f-forbidden"]))
    # ... and if its Makefile does touch the marker when make runs it (here
    # with the marker moved to a scratch path).
    sub = os.path.join(c["root"], "submissions", "f-forbidden", "lab99-toy")
    d = scratch("forbidden-make")
    probe = os.path.join(d, "probe")
    with open(os.path.join(d, "Makefile"), "w") as out:
        out.write(open(os.path.join(sub, "Makefile")).read().replace(c["marker"], probe))
    sh(["make", "-C", d, "lab99"], timeout=60)
    if not os.path.exists(probe):
        raise TestFailure("the forbidden Makefile does not touch its marker when run (%s)" % d)


def test_grading_the_class_run_stays_within_its_time_limits():
    """grading: the class run stays within its time limits"""
    c = toy_class()
    js = json.load(open(os.path.join(c["results"], "grades.json")))
    slowest = max((r["seconds"], s) for s, v in js["students"].items() for r in v["labs"].values())
    # Each toy run has a 20 s wall-clock limit; nothing may wait longer than that.
    if slowest[0] > 60:
        raise TestFailure("%s took %.1f s to grade (limit 20 s per run)" % (slowest[1], slowest[0]))
    if c["seconds"] > 300:
        raise TestFailure("the class of 12 took %.0f s" % c["seconds"])


# --- A bare-metal fixture lab on the real kit: C submissions, real boot path -------

BMLAB = os.path.join(TOP, "tests", "grade", "fixtures", "bmlab")
BM_SOLUTION = os.path.join(BMLAB, "solutions", "lab98-bench", "main.c")


def bm_kit(name):
    """The real kit (boot path, runtime, make) plus the lab98 fixture, under build/."""
    return gradelib.compose_kit(os.path.join(SCRATCH, name), TOP, BMLAB)


def bm_variant(old, new):
    text = open(BM_SOLUTION).read()
    if old not in text:
        raise TestFailure("the lab98 fixture solution no longer has %r" % old)
    return text.replace(old, new, 1)


ENTRY = "printf(\"bench: lab_main reached\\n\");\n"


def bm_class():
    def go():
        kit = bm_kit("bm-kit")
        root = scratch("bm-class")
        subs = os.path.join(root, "submissions")
        marker = os.path.join(root, "MARKER-forbidden-file-ran")
        sol = open(BM_SOLUTION).read()
        bad_make = "lab98:\n\ttouch %s\n%%:\n\ttouch %s\n" % (marker, marker)
        cases = {
            "complete": (20, {"main.c": sol}),
            "empty-folder": (10, {}),
            "nocompile": (0, {"main.c": bm_variant("int six", "int six = ;\n#error nope\n\tint x")}),
            "hangs": (0, {"main.c": bm_variant(ENTRY, "for (;;)\n\t\tasm volatile(\"pause\");\n")}),
            "triplefault": (0, {"main.c": bm_variant(ENTRY, ENTRY +
                "\tstruct __attribute__((packed)) { unsigned short l; unsigned long b; } z = {0, 0};\n"
                "\tasm volatile(\"lidt %0; int3\" :: \"m\"(z));\n")}),
            "exception": (0, {"main.c": bm_variant(ENTRY, ENTRY +
                "\t*(volatile int *)0xdead0000000ul = 1;\n")}),
            "forbidden": (20, {"main.c": sol, "Makefile": bad_make, "lab.mk": bad_make,
                               "../GNUmakefile": bad_make}),
        }
        for name, (_, files) in cases.items():
            os.makedirs(os.path.join(subs, name, "lab98-bench"))
            for rel, text in files.items():
                open(os.path.join(subs, name, "lab98-bench", rel), "w").write(text)
        rc, out = sh([sys.executable, DRIVER, "--kit", kit, "class", subs, "--lab", "98", "--jobs", "2",
                      "--work", os.path.join(root, "work"), "--results", os.path.join(root, "results")],
                     timeout=900)
        return dict(rc=rc, out=out, cases=cases, marker=marker, results=os.path.join(root, "results"))
    return once("bm-class", go)


@pytest.mark.class_
def test_grading_a_bare_metal_class_grades_to_the_expected_rows():
    """grading: a bare-metal class (complete, empty, no compile, hang, triple fault, exception,
    forbidden Makefile) grades to the expected rows"""
    c = bm_class()
    if c["rc"] != 0:
        raise TestFailure("grade-class exited %d:\n%s" % (c["rc"], c["out"][-3000:]))
    rows = {r[0]: r for r in csv.reader(open(os.path.join(c["results"], "grades.csv")))}
    if rows["student"] != ["student", "lab98", "total"]:
        raise TestFailure("grades.csv header: %r" % rows["student"])
    wrong = ["%s: got %s, expected %d" % (s, rows.get(s, ["", "missing"])[-1], t)
             for s, (t, _) in sorted(c["cases"].items()) if rows.get(s, [None])[-1] != str(t)]
    if len(rows) - 1 != len(c["cases"]) or wrong:
        raise TestFailure("grades.csv differs (%s):\n  %s" % (os.path.relpath(c["results"], TOP),
                                                             "\n  ".join(wrong)))
    if os.path.exists(c["marker"]):
        raise TestFailure("a submitted Makefile ran: %s exists" % c["marker"])
    js = json.load(open(os.path.join(c["results"], "grades.json")))["students"]
    tf = js["triplefault"]["labs"]["98"]["checks"][0]
    if "triple" not in tf.get("note", ""):
        raise TestFailure("the triple fault is not named: %r" % tf)
    ex = js["exception"]["labs"]["98"]["checks"][0]
    if not ex.get("detail", "").startswith("BAD '^EXCEPTION'"):
        raise TestFailure("the exception is not the first unmet expectation: %r" % ex)
    log = open(os.path.join(c["results"], "nocompile", "lab98", "build.log")).read()
    if "#error nope" not in log:
        raise TestFailure("the compiler's error is not in nocompile's build.log")


# --- A kernel-module fixture lab on the real kit: module build, QEMU and Bochs ------

KMODLAB = os.path.join(TOP, "tests", "grade", "fixtures", "kmodlab")


def km_kit(name):
    """The real kit plus the lab97 fixture, sharing the main tree's minimal kernel."""
    for d in ("obj", "linux-source-6.1"):
        if not os.path.isdir(os.path.join(TOP, "build", "kernel", d)):
            raise Skip("the minimal kernel is not built (make kernel)")
    kit = gradelib.compose_kit(os.path.join(SCRATCH, name), TOP, KMODLAB)
    os.makedirs(os.path.join(kit, "build", "kernel"))
    for d in ("obj", "linux-source-6.1"):
        os.symlink(os.path.join(TOP, "build", "kernel", d), os.path.join(kit, "build", "kernel", d))
    return kit


@pytest.mark.kernel
def test_grading_a_kernel_module_lab_fixture_solution_full_marks_starter_less_b():
    """grading: a kernel-module lab (fixture): solution full marks, starter less, broken module 0"""
    kit = km_kit("km-kit")
    sol = os.path.join(KMODLAB, "solutions", "lab97-kmod")
    broken = scratch("km-broken")
    open(os.path.join(broken, "kmod97.c"), "w").write(
        open(os.path.join(sol, "kmod97.c")).read().replace("return 0;", "return undefined_name;", 1))
    want = {"solution": (sol, 20), "starter": (None, 5), "broken": (broken, 0)}
    for tag, (src, total) in want.items():
        base = os.path.join(SCRATCH, "km-" + tag)
        lines = []
        r = gradelib.grade("97", src, os.path.join(base, "work"), os.path.join(base, "results"), kit,
                           say=lines.append)
        shutil.rmtree(os.path.join(base, "work"), ignore_errors=True)
        if r["score"] != total:
            raise TestFailure("lab97 %s: %d/%d, expected %d:\n%s" % (tag, r["score"], r["total"], total,
                                                                    "\n".join(lines)))
    if "undefined_name" not in open(os.path.join(SCRATCH, "km-broken", "results", "build.log")).read():
        raise TestFailure("the module's compiler error is not in build.log")


# --- Grader declarations -----------------------------------------------------------

def test_grading_a_wrong_grader_declaration_is_refused_with_a_message():
    """grading: a wrong grader declaration is refused with a message"""
    L = gradelib.Lab
    cases = [
        (lambda: L("3", files=[], build=[]), r"two digits"),
        (lambda: L("03", files=["../x.c"], build=[]), r"inside the lab folder"),
        (lambda: L("03", files=["/etc/x"], build=[]), r"inside the lab folder"),
        (lambda: L("05", files=[], build=[], stand_ins=["lab04-vm86-guest"]), r"solutions/labNN-name"),
        (lambda: L("05", files=[], build=[], stand_ins=["solutions/lab05-ept"]), r"only an earlier lab"),
    ]
    lab = L("03", files=["a.c"], build=["x"])
    r = lab.run("r", gradelib.bochs(image="x.img"))
    lab.check("c1", 1, r, expect=["x"])
    cases += [
        (lambda: lab.check("c1", 1, r), r"two checks are named"),
        (lambda: lab.check("c2", 1, r, needs=["nope"]), r"needs 'nope'"),
        (lambda: lab.check("c3", 1, r, expect=["("]), r"bad regex"),
        (lambda: lab.check("c4", -1, r), r"points"),
        (lambda: lab.run("r", gradelib.bochs(image="y")), r"two runs"),
        (lambda: gradelib.bochs(cpu="x"), r"needs image="),
        (lambda: gradelib.bochs(image="x", cores=2), r"bochs\(cores=\.\.\.\): not a keyword"),
        (lambda: gradelib.bochs(image="x", name="y"), r"not a keyword"),
        (lambda: gradelib.qemu(kernal="x"), r"qemu\(kernal=\.\.\.\)"),
    ]
    for fn, rx in cases:
        try:
            fn()
        except gradelib.GraderError as e:
            if not re.search(rx, str(e)):
                raise TestFailure("message %r does not match /%s/" % (str(e), rx))
        else:
            raise TestFailure("a bad declaration was accepted (expected /%s/)" % rx)


def test_grading_include_paths_that_leave_the_kit_are_refused_kit_relative_ones():
    """grading: include paths that leave the kit are refused, kit-relative ones accepted"""
    ok = ['#include "vmx/fields.h"\n', '#include "../common/include/rt.h"\n', '%include "boot.inc"\n',
          '#include <stdint.h>\n', "include this line is prose\n"]
    bad = ['#include "/etc/passwd"\n', '#include "../../other/lab03/x.c"\n', '#include FOO\n',
           '%include "../../../x"\n', 'asm(".incbin \\"/etc/shadow\\"");\n', 'incbin "/etc/passwd"\n']
    for t in ok:
        if gradelib.include_problem(t, 1):
            raise TestFailure("refused %r: %s" % (t, gradelib.include_problem(t, 1)))
    for t in bad:
        if not gradelib.include_problem(t, 1):
            raise TestFailure("accepted %r" % t)


# --- The real kit: every lab that has a grader ----------------------------------

def real_labs():
    nums = [n for n in gradelib.grader_numbers(TOP)]
    if not nums:
        raise Skip("no lab has a grader yet (tests/grade/labNN.py)")
    return nums


def grade_real(number, source, tag):
    """(result, printed lines) of grading lab NUMBER's solution or (source
    None) its untouched starter; once per test session, so the tests of one
    lab share it with the tests of every lab."""
    def go():
        lab = gradelib.load_lab(number, TOP)
        folder = gradelib.lab_folder(number, TOP)
        src = os.path.join(TOP, "solutions", folder) if source == "solution" else None
        base = os.path.join(SCRATCH, "real", "lab%s-%s" % (number, tag))
        lines = []
        try:
            r = gradelib.grade(number, src, os.path.join(base, "work"), os.path.join(base, "results"),
                               TOP, say=lines.append, lab=lab)
        finally:
            shutil.rmtree(os.path.join(base, "work"), ignore_errors=True)
        return r, "\n".join(lines)
    return once(("grade-real", number, tag), go)


@pytest.mark.kernel
def test_grading_every_lab_solution_scores_full_marks_with_its_grader():
    """grading: every lab solution scores full marks with its grader"""
    problems = []
    for n in real_labs():
        folder = gradelib.lab_folder(n, TOP)
        if not os.path.isdir(os.path.join(TOP, "solutions", folder)):
            problems.append("lab%s: no solutions/%s" % (n, folder))
            continue
        r, out = grade_real(n, "solution", "solution")
        if r["score"] != r["total"] or r["total"] == 0:
            problems.append("lab%s solution: %d/%d\n%s" % (n, r["score"], r["total"], out))
    if problems:
        raise TestFailure("\n".join(problems))


@pytest.mark.kernel
def test_grading_every_untouched_lab_starter_builds_and_scores_less_than_full_m():
    """grading: every untouched lab starter builds and scores less than full marks"""
    problems = []
    for n in real_labs():
        r, out = grade_real(n, None, "starter")
        if not r["build"].get("ok"):
            problems.append("lab%s starter does not build: %s" % (n, r["build"].get("error")))
        elif r["score"] >= r["total"]:
            problems.append("lab%s starter scores full marks (%d/%d): its TODOs test nothing"
                            % (n, r["score"], r["total"]))
    if problems:
        raise TestFailure("\n".join(problems))


def real_bare_metal_lab():
    """(number, lab, folder, file with lab_main) of the first real bare-metal lab
    whose student files include lab_main; Skip when none has a grader yet."""
    for n in gradelib.grader_numbers(TOP):
        lab = gradelib.load_lab(n, TOP)
        if not all(r.spec.kind == "bochs" for r in lab.runs):
            continue
        folder = gradelib.lab_folder(n, TOP)
        for f in lab.files:
            p = os.path.join(TOP, "solutions", folder, f)
            if os.path.exists(p) and re.search(r"^void lab_main\(void\)\n\{\n", open(p).read(), re.M):
                return n, lab, folder, f
    raise Skip("no bare-metal lab grader with lab_main in a student file yet")


@pytest.mark.class_
def test_grading_a_class_on_the_first_real_bare_metal_lab():
    """grading: a class on the first real bare-metal lab (complete, none, no compile, hang,
    triple fault, forbidden Makefile)"""
    n, lab, folder, main_file = real_bare_metal_lab()
    sol = os.path.join(TOP, "solutions", folder)
    root = scratch("real-class")
    subs = os.path.join(root, "submissions")
    marker = os.path.join(root, "MARKER-forbidden-file-ran")
    entry = re.compile(r"^(void lab_main\(void\)\n\{\n)", re.M)
    main_text = open(os.path.join(sol, main_file)).read()
    bad_make = "%%:\n\ttouch %s\n" % marker

    def student(name, edit=None, extra=None, copy=True):
        d = os.path.join(subs, name, folder)
        os.makedirs(d)
        if copy:
            for f in lab.files:
                if os.path.exists(os.path.join(sol, f)):
                    os.makedirs(os.path.dirname(os.path.join(d, f)), exist_ok=True)
                    shutil.copy(os.path.join(sol, f), os.path.join(d, f))
        if edit:
            open(os.path.join(d, main_file), "w").write(edit)
        for rel, text in (extra or {}).items():
            open(os.path.join(d, rel), "w").write(text)

    full = lab.total
    expected = {"complete": full, "none": 0, "nocompile": 0, "hangs": 0, "triplefault": 0,
                "forbidden": full}
    student("complete")
    os.makedirs(os.path.join(subs, "none"))
    student("nocompile", edit=main_text + "\n#error this submission does not compile\n")
    hang = '\tfor (;;)\n\t\tasm volatile("pause");\n'
    fault = ('\tstruct __attribute__((packed)) { unsigned short l; unsigned long b; } z = {0, 0};\n'
             '\tasm volatile("lidt %0; int3" :: "m"(z));\n')
    student("hangs", edit=entry.sub(lambda m: m.group(1) + hang, main_text, 1))
    student("triplefault", edit=entry.sub(lambda m: m.group(1) + fault, main_text, 1))
    student("forbidden", extra={"Makefile": bad_make, "GNUmakefile": bad_make, "lab.mk": bad_make})
    rc, out = sh([sys.executable, DRIVER, "class", subs, "--lab", n, "--jobs", "2",
                  "--work", os.path.join(root, "work"), "--results", os.path.join(root, "results")],
                 timeout=1800)
    if rc != 0:
        raise TestFailure("grade-class exited %d:\n%s" % (rc, out[-3000:]))
    rows = {r[0]: r[-1] for r in csv.reader(open(os.path.join(root, "results", "grades.csv")))}
    wrong = ["%s: got %s, expected %d" % (s_, rows.get(s_), t) for s_, t in sorted(expected.items())
             if rows.get(s_) != str(t)]
    if wrong or len(rows) != len(expected) + 1:
        raise TestFailure("lab%s class (results in %s):\n  %s" % (n, os.path.relpath(root, TOP),
                                                                  "\n  ".join(wrong)))
    if os.path.exists(marker):
        raise TestFailure("a submitted Makefile ran: %s exists" % marker)
    js = json.load(open(os.path.join(root, "results", "grades.json")))["students"]
    for name, rx in [("hangs", r"watchdog|timeout"), ("triplefault", r"triple")]:
        r = js[name]["labs"][n]
        first = r["checks"][0]
        said = "%s %s %s" % (first.get("detail"), first.get("note"), first.get("stopped"))
        if not r["build"].get("ok") or not re.search(rx, said):
            raise TestFailure("%s: built %s, first check says %r (expected /%s/)"
                              % (name, r["build"].get("ok"), said, rx))


# --- The handout -------------------------------------------------------------

def check_handout(root, tarpath):
    """Make the handout of ROOT; return (member names, problems)."""
    if os.path.exists(tarpath):
        os.unlink(tarpath)
    rc, out = sh([sys.executable, STARTERS, "--root", root, "handout", tarpath])
    problems = [l for l in out.splitlines() if " reveals the solution region " in l]
    if rc != 0:
        if not problems:
            raise TestFailure("handout failed without naming a leak:\n" + out)
        if os.path.exists(tarpath):
            problems.append("a leaking handout was written anyway")
        return [], problems
    names = []
    with tarfile.open(tarpath) as tar:
        for m in tar.getmembers():
            names.append(m.name)
            rel = m.name.split("/", 1)[1] if "/" in m.name else m.name
            if rel.startswith(("solutions/", "tests/grade/hidden/", "tests/grade/fixtures/", ".git/")):
                problems.append("%s is in the handout" % m.name)
            elif re.match(r"tests/(test|bench)_.*\.py$", rel):
                # The kit's self-tests the handout keeps must not need solutions.
                text = tar.extractfile(m).read().decode("utf-8", "replace")
                if re.search(r"solutions/|SOLUTION|/sol/|\"sol\"", text):
                    problems.append("%s is in the handout and runs the solutions" % m.name)
    return names, problems


def test_grading_make_handout_has_no_solutions_and_reveals_no_solution_region_f():
    """grading: make handout has no solutions/ and reveals no solution region (fixtures, real kit)"""
    d = scratch("handout")
    names, problems = check_handout(TOY, os.path.join(d, "toy.tar.gz"))
    for want in ["vmxlab/GNUmakefile", "vmxlab/lab99-toy/toy.asm", "vmxlab/tests/grade/lab99.py"]:
        if want not in names:
            raise TestFailure("toy handout lacks %s: %s" % (want, names))
    if problems:
        raise TestFailure("toy handout:\n" + "\n".join(problems))
    # Prove the check can fail: a kit whose starter is its solution is refused.
    bad = scratch("handout-bad")
    shutil.copytree(BMLAB, os.path.join(bad, "kit"))
    shutil.copy(BM_SOLUTION, os.path.join(bad, "kit", "lab98-bench", "main.c"))
    names, problems = check_handout(os.path.join(bad, "kit"), os.path.join(bad, "bad.tar.gz"))
    if not any("lab98-bench/main.c reveals the solution region at solutions/lab98-bench/main.c" in p
               for p in problems) or os.path.exists(os.path.join(bad, "bad.tar.gz")):
        raise TestFailure("a handout whose starter is the solution was not refused: %s" % problems)
    # The real kit, through make.
    tarpath = os.path.join(TOP, "build", "handout", "vmxlab-handout.tar.gz")
    if os.path.exists(tarpath):
        os.unlink(tarpath)
    rc, out = sh(["make", "--no-print-directory", "-C", TOP, "handout"])
    if rc != 0:
        raise TestFailure("make handout failed:\n" + out[-3000:])
    names, problems = check_handout(TOP, tarpath)
    for want in ["vmxlab/GNUmakefile", "vmxlab/mk/grade.mk", "vmxlab/tests/grade/driver.py",
                 "vmxlab/tests/lib/gradelib.py"]:
        if want not in names:
            raise TestFailure("the handout lacks %s" % want)
    if problems:
        raise TestFailure("the handout:\n" + "\n".join(problems[:30]))


# --- A crashed emulator earns nothing -------------------------------------------

ABORTING_EMULATOR = """#!/bin/sh
# Plays Bochs or QEMU dying at start-up (SIGABRT), as Bochs 2.7 did in its
# sound mixer on a machine without a sound device.
echo '*** buffer overflow detected ***: terminated' >&2
kill -ABRT $$
"""


@pytest.mark.kernel
def test_grading_a_crashed_emulator_earns_no_points_and_every_check_says_it_cra():
    """grading: a crashed emulator earns no points and every check says it crashed (lab03, lab01)"""
    d = scratch("crash")
    fake = os.path.join(d, "abort")
    with open(fake, "w") as f:
        f.write(ABORTING_EMULATOR)
    os.chmod(fake, 0o755)
    env = dict(os.environ, VMXLAB_BOCHS=fake, VMXLAB_QEMU=fake)
    # lab03's runs are Bochs runs of the grader itself; lab01's are make
    # targets whose kboot.py reports the crash on its output.
    for n, total in (("03", 60), ("01", 100)):
        rc, out = sh([sys.executable, DRIVER, "grade", "--lab", n, "--solution",
                      "--work", os.path.join(d, "work" + n), "--results", os.path.join(d, "res" + n)],
                     env=env, timeout=600)
        if rc == 0 or not re.search(r"^Score: 0/%d$" % total, out, re.M):
            raise TestFailure("lab%s with a crashing emulator: exit %d, want Score: 0/%d:\n%s"
                              % (n, rc, total, out[-3000:]))
        fails = re.findall(r"^.*: FAIL \(0/\d+\)\n    (.*)$", out, re.M)
        if not fails or any(not re.match(r"(Bochs|QEMU) crashed \(SIGABRT, exit 134\)", f) for f in fails):
            raise TestFailure("lab%s: every FAIL must say the emulator crashed:\n%s" % (n, out[-3000:]))
        if re.search(r"^    MISSING ", out, re.M):
            raise TestFailure("lab%s: a crash reported as a missing line:\n%s" % (n, out[-3000:]))


# --- Points only for the student's own code -------------------------------------

def lab03_variant(tag, edits):
    """The lab03 solution with EDITS ({file: [(old, new)]}) applied: a folder."""
    src = os.path.join(TOP, "solutions", "lab03-vmcs-setup")
    d = scratch("own-code-" + tag)
    for f in os.listdir(src):
        shutil.copyfile(os.path.join(src, f), os.path.join(d, f))
    for f, pairs in edits.items():
        p = os.path.join(d, f)
        text = open(p).read()
        for old, new in pairs:
            if old not in text:
                raise TestFailure("solutions/lab03-vmcs-setup/%s no longer has %r" % (f, old))
            text = text.replace(old, new, 1)
        with open(p, "w") as fh:
            fh.write(text)
    return d


def test_grading_lab03_points_only_for_the_student_s_code_calling_or_including():
    """grading: lab03 points only for the student's code: calling or #including the kit's answers scores 0, saying why"""
    # 1. Each TODO's body a one-line call to the kit's own version.
    calls = lab03_variant("calls", {
        "vmxdemo.c": [("int vmx_enter(void)\n{\n",
                       "int vmm_vmxon(void);\nint vmx_enter(void)\n{\n\treturn vmm_vmxon();\n")],
        "vmxstep3.c": [("int machine_load(void)\n{\n",
                        "int vmm_machine_load(void);\nint machine_load(void)\n{\n\treturn vmm_machine_load();\n"),
                       ("\t\t\t  struct vmm_control_caps *caps)\n{\n",
                        "\t\t\t  struct vmm_control_caps *caps)\n{\n"
                        "\textern int vmm_control_adjust(unsigned, vmx_u64, vmx_u64, vmx_u64 *);\n"
                        "\treturn vmm_control_adjust(word, required, optional, value);\n")],
    })
    # 2. The kit's source file #included, by a path inside the kit.
    include = lab03_variant("include", {
        "vmxdemo.c": [('#include "lab03.h"\n',
                       '#include "lab03.h"\n#include "../common/vmm/answers/vmxon.c"\n')],
    })
    for tag, folder, want in (
            ("calls", calls, r"the build calls vmm_\w+, the kit's own answer to a TODO of lab03"),
            ("include", include, r"the build includes common/vmm/answers, which is the kit's own "
                                 r"answer to a TODO of lab03")):
        base = os.path.join(SCRATCH, "own-code-results-" + tag)
        lines = []
        r = gradelib.grade("03", folder, os.path.join(base, "work"), os.path.join(base, "results"),
                           TOP, say=lines.append)
        out = "\n".join(lines)
        if r["score"] != 0:
            raise TestFailure("lab03 %s: %d/%d, want 0:\n%s" % (tag, r["score"], r["total"], out))
        if not re.search(want, out):
            raise TestFailure("lab03 %s: the report does not say why (/%s/):\n%s" % (tag, want, out))
        if r["files"]["refused"]:
            raise TestFailure("lab03 %s: refused by the text check, not by the grading copy: %s"
                              % (tag, r["files"]["refused"]))


# --- lab05: the grader of the two-vCPU monitor ----------------------------------

LAB05_SOLUTION = os.path.join(TOP, "solutions", "lab05-ept", "ept.c")


def lab05_variant(tag, pairs):
    """The lab05 solution's ept.c with PAIRS [(old, new)] applied: a folder."""
    text = open(LAB05_SOLUTION).read()
    for old, new in pairs:
        if old not in text:
            raise TestFailure("solutions/lab05-ept/ept.c no longer has %r" % old)
        text = text.replace(old, new, 1)
    d = scratch("lab05-" + tag)
    with open(os.path.join(d, "ept.c"), "w") as f:
        f.write(text)
    return d


def test_grading_lab05_solution_full_marks_starter_less_no_invept_and_one_vpid_lose_their_checks():
    """grading: lab05: the solution scores full marks, the starter less; an ept_unmap without
    INVEPT and one VPID for every guest lose exactly the invalidation and VPID checks"""
    problems = []
    r, out = grade_real("05", "solution", "solution")
    if r["score"] != r["total"] or r["total"] == 0:
        problems.append("solution: %d/%d\n%s" % (r["score"], r["total"], out))
    r, out = grade_real("05", None, "starter")
    if not r["build"].get("ok") or r["score"] >= r["total"]:
        problems.append("starter: built %s, %d/%d\n%s" % (r["build"].get("ok"), r["score"], r["total"], out))
    broken = lab05_variant("broken", [
        ("\tept_set(ept, e, 0, gpa);\n\tept_invept(ept);\n", "\tept_set(ept, e, 0, gpa);\n"),
        ("return (vmx_u16)(1 + vcpu * 16 + guest_index);", "return 1;")])
    base = os.path.join(SCRATCH, "lab05-broken-grade")
    lines = []
    r = gradelib.grade("05", broken, os.path.join(base, "work"), os.path.join(base, "results"), TOP,
                       say=lines.append)
    shutil.rmtree(os.path.join(base, "work"), ignore_errors=True)
    failed = sorted(c["name"].split(":")[0] for c in r["checks"] if c["outcome"] != "OK")
    if failed != ["every guest of every vCPU has its own VPID, never 0", "invalidation"]:
        problems.append("no INVEPT, one VPID: failed %s, want the VPID and invalidation checks:\n%s"
                        % (failed, "\n".join(lines)))
    report = open(os.path.join(base, "results", "report.txt")).read()
    for rx in (r"BAD 'MISSING INVEPT' matched: \[vcpu\d memtest\] ept record: MISSING INVEPT: 0x2000000 ",
               r"BAD 'discipline: broken' matched: .*\(1 missing, 0 not needed\)",
               r"BAD '\(\?s\)monitor: EPT pointer .* matched: .*VPID 1$"):
        if not re.search(rx, report, re.M):
            problems.append("the broken variant's report lacks /%s/" % rx)
    if problems:
        raise TestFailure("\n".join(problems))


def test_grading_lab05_the_stand_in_lab04_solution_cannot_be_included_and_a_handout_says_why():
    """grading: lab05's build sets every monitor.cfg key and has the kit's lab04 solution stand
    in: an ept.c that includes it is refused, and a kit without solutions/ (a handout) says why
    it cannot grade"""
    lab = gradelib.load_lab("05", TOP)
    if lab.stand_ins != ["solutions/lab04-vm86-guest"]:
        raise TestFailure("lab05's stand-ins: %r" % lab.stand_ins)
    # Every monitor.cfg key is set by the build, so a student's monitor.cfg changes nothing.
    sys.path.insert(0, os.path.join(TOP, "tools", "monitorcfg"))
    import monitorcfg
    loose = [k for k in monitorcfg.KEYS if not any(a.startswith(k.upper() + "=") for a in lab.build)]
    if loose or "VM86=kit" not in lab.build or "VMXBASE=kit" not in lab.build:
        raise TestFailure("lab05's build %r leaves monitor.cfg keys to the student: %s" % (lab.build, loose))
    refused = ['#include "vm86_io.c"\n', '#include "../solutions/lab04-vm86-guest/vm86demo.c"\n',
               'asm(".incbin \\"solutions/lab04-vm86-guest/vm86_guest.c\\"");\n',
               'asm(".incbin \\"build/lab05/grade/main/mon/solutions/lab04-vm86-guest/vm86_io.o\\"");\n',
               'asm(".incbin \\"../build/lab05/grade/main/monitor.elf\\"");\n']
    for t in refused:
        if not gradelib.stand_in_problem(t, lab, TOP):
            raise TestFailure("an ept.c with %r was taken" % t)
    for t in ('#include "ept.h"\n', '#include "lab04.h"\n'):    # lab04.h: no TODO, alike in both
        if gradelib.stand_in_problem(t, lab, TOP):
            raise TestFailure("%r refused: %s" % (t, gradelib.stand_in_problem(t, lab, TOP)))
    # The submission step: refused, so the starter's ept.c would be graded.
    d = scratch("lab05-includes")
    with open(os.path.join(d, "ept.c"), "w") as f:
        f.write('#include "vm86_io.c"\n' + open(LAB05_SOLUTION).read())
    files = gradelib.take_files(lab, d, scratch("lab05-includes-labdir"), TOP)
    if "includes vm86_io.c, the kit's solution that stands in" not in files["refused"].get("ept.c", ""):
        raise TestFailure("an ept.c that includes vm86_io.c was taken: %r" % files)
    # A kit without solutions/ cannot grade lab05, even its solution, and says why.
    kit = os.path.join(SCRATCH, "lab05-handout-kit")
    gradelib.copy_kit(kit, TOP)                 # the handout's files
    base = os.path.join(SCRATCH, "lab05-handout")
    r = gradelib.grade("05", os.path.dirname(LAB05_SOLUTION), os.path.join(base, "work"),
                       os.path.join(base, "results"), kit, say=None)
    shutil.rmtree(kit, ignore_errors=True)
    why = r["build"].get("error", "")
    if r["score"] != 0 or not re.search(r"graded with the kit's solutions/lab04-vm86-guest standing in "
                                        r"for lab04, and this kit has none \(a handout", why):
        raise TestFailure("a handout kit: %d/%d, build error %r" % (r["score"], r["total"], why))


# --- Gradescope -------------------------------------------------------------------

def test_grading_make_gradescope_lab_03_bundle_run_autograder_grades_a_solution():
    """grading: make gradescope LAB=03 bundle: run_autograder grades a solution and a starter into results.json"""
    import zipfile
    d = scratch("gradescope")
    p = subprocess.run(["make", "--no-print-directory", "-C", TOP, "gradescope", "LAB=03"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise TestFailure("make gradescope LAB=03 failed:\n%s%s" % (p.stdout, p.stderr))
    zpath = os.path.join(TOP, "build", "gradescope", "lab03", "autograder.zip")
    src = os.path.join(d, "source")
    with zipfile.ZipFile(zpath) as z:
        names = z.namelist()
        for want in ("setup.sh", "run_autograder", "gradescope.env", "VERSION", "tests/grade/driver.py",
                     "tests/grade/lab03.py", "lab03-vmcs-setup/vmxdemo.c"):
            if want not in names:
                raise TestFailure("the bundle lacks %s" % want)
        bad = [n for n in names if n.startswith(("solutions/", ".git/")) or re.match(r"tests/test_", n)
               and n not in starters_keep()]
        if bad:
            raise TestFailure("the bundle holds %s" % bad[:5])
        z.extractall(src)
    for n in ("setup.sh", "run_autograder"):
        os.chmod(os.path.join(src, n), 0o755)
    # The packages are installed: the bundle's own `make deps` needs not run here.
    for tag, sub_src, want_full in (("solution", os.path.join(TOP, "solutions", "lab03-vmcs-setup"), True),
                                    ("starter", os.path.join(TOP, "lab03-vmcs-setup"), False)):
        sub = os.path.join(d, "submission-" + tag)
        shutil.copytree(sub_src, sub)
        res = os.path.join(d, "results-" + tag)
        env = dict(os.environ, VMXLAB_AUTOGRADER_SOURCE=src, VMXLAB_AUTOGRADER_SUBMISSION=sub,
                   VMXLAB_AUTOGRADER_RESULTS=res)
        p = subprocess.run([os.path.join(src, "run_autograder")], capture_output=True, text=True,
                           timeout=300, env=env, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise TestFailure("run_autograder (%s) exited %d:\n%s%s" % (tag, p.returncode, p.stdout, p.stderr))
        with open(os.path.join(res, "results.json")) as f:
            r = json.load(f)
        if r.get("max_score") != 60 or not isinstance(r.get("score"), int):
            raise TestFailure("%s: results.json score/max_score: %r/%r" % (tag, r.get("score"), r.get("max_score")))
        if (r["score"] == 60) != want_full or (not want_full and r["score"] >= 60):
            raise TestFailure("%s: scored %d/60" % (tag, r["score"]))
        names = [t.get("name") for t in r.get("tests", [])]
        if len(names) != 4 or any(set(t) != {"name", "score", "max_score", "output", "visibility"}
                                  for t in r["tests"]):
            raise TestFailure("%s: tests[] must hold the 4 checks with name, score, max_score, output, "
                              "visibility: %r" % (tag, r.get("tests")))
        if sum(t["score"] for t in r["tests"]) != r["score"]:
            raise TestFailure("%s: the tests' scores do not add up to the score" % tag)
        x = r.get("extra_data", {})
        if not re.match(r"^[0-9a-f]{40}$", str(x.get("kit_commit"))) or not str(x.get("bochs_version")).startswith("2.7") \
                or x.get("isolation") != "container":
            raise TestFailure("%s: extra_data must record the kit's commit, Bochs' version and the "
                              "container isolation: %r" % (tag, x))
        if "the grading container (Gradescope)" not in r.get("output", ""):
            raise TestFailure("%s: the output does not say how it was isolated: %r" % (tag, r.get("output")))


def starters_keep():
    sys.path.insert(0, os.path.join(TOP, "tools", "starters"))
    import starters
    return starters.HANDOUT_KEEP


def test_grading_no_sandbox_on_this_machine_grading_stops_saying_how_to_allow_i():
    """grading: no sandbox on this machine: grading stops saying how to allow it; UNSANDBOXED=1 grades and says so"""
    d = scratch("no-sandbox")
    env = dict(os.environ, VMXLAB_BWRAP=os.path.join(d, "no-bwrap-here"))
    args = [sys.executable, DRIVER, "grade", "--lab", "03", "--solution",
            "--work", os.path.join(d, "work"), "--results", os.path.join(d, "results")]
    rc, out = sh(args, env=env, timeout=300)
    if rc != 2 or not re.search(r"cannot make one: .*no-bwrap-here is not installed\. To allow it: install "
                                r"bubblewrap .*UNSANDBOXED=1", out):
        raise TestFailure("without bubblewrap: exit %d, want 2 and the way out:\n%s" % (rc, out))
    if re.search(r"^Score:", out, re.M):
        raise TestFailure("graded without a sandbox, silently:\n%s" % out)
    rc, out = sh(args + ["--unsandboxed"], env=env, timeout=300)
    if rc != 0 or not re.search(r"^note: UNSANDBOXED \(UNSANDBOXED=1\)", out, re.M):
        raise TestFailure("UNSANDBOXED=1: exit %d, want full marks and the note:\n%s" % (rc, out))
    with open(os.path.join(d, "results", "lab03", "results.json")) as f:
        r = json.load(f)
    if r["extra_data"]["isolation"] != "none" or "UNSANDBOXED" not in r["output"]:
        raise TestFailure("results.json does not say it ran unsandboxed: %r" % r["output"])
