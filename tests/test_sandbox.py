"""Hostile submissions, graded among normal ones: the grading sandbox holds.

Two class runs (`make grade-class`, through tests/grade/driver.py), one of
lab03 (C and GNU as) and one of lab04 (NASM), each mixing normal students
with hostile ones. The hostile ones try what a student could: read a file of
the grading machine (an instructor's file, another student's folder,
solutions/ of the grading tree) through #include spelled so that the text
check misses it (%:include, a spliced #include), GNU as .incbin with octal
and hex escapes, NASM incbin of a %strcat'ed path, a symbolic link; burn CPU
or disk in the assembler (.rept and %rep nests, an enormous initialised
array); recurse through includes; flood the serial port.

Every case must: leave no byte of the file it aimed at in any transcript,
log or report of the class run; get a report that names what was refused,
hidden or which limit stopped it; and leave every other student with the
grade they get when graded alone. The runs use low sandbox limits
(VMXLAB_SANDBOX_CPU, _FSIZE) so that the slow cases stop in seconds.
Without the sandbox the file-reading cases leak and the CPU case runs into
the build's wall-clock timeout: these tests fail.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys

import pytest

from lib.testlib import once, TestFailure, TOP

pytestmark = pytest.mark.class_

DRIVER = os.path.join(TOP, "tests", "grade", "driver.py")
SCRATCH = os.path.join(TOP, "build", "sandbox-test")
LOW_LIMITS = {"VMXLAB_SANDBOX_CPU": "8", "VMXLAB_SANDBOX_FSIZE": str(64 << 20)}


def c_octal(path):
    return "".join("\\%03o" % ord(c) for c in path)


def c_hex(path):
    return "".join("\\x%02x" % ord(c) for c in path)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def leak_block(path_literal):
    """C code that embeds a file with GNU as .incbin and prints it first thing
    in host_state_setup (inserted into the solution's vmxstep2.c)."""
    return ('__asm__(".section .rodata\\n.global leak\\nleak:\\n.incbin \\"%s\\"\\n.byte 0\\n.previous");\n'
            "extern const char leak[];\n" % path_literal)


def with_leak(sol, decl, show=True):
    """The solution's vmxstep2.c with DECL after its include and, if SHOW,
    the leak printed at the top of host_state_setup."""
    text = sol.replace('#include "lab03.h"\n', '#include "lab03.h"\n' + decl, 1)
    if show:
        text = text.replace("void host_state_setup(void)\n{\n",
                            'void host_state_setup(void)\n{\n\tprintf("LEAK: %s\\n", leak);\n', 1)
    return text


def make_classes():
    """The secrets, the class folders, and every expected outcome."""
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    canary = "CANARY-%s" % secrets.token_hex(8)
    other = "OTHERSTUDENT-%s" % secrets.token_hex(8)
    # An instructor's file outside the kit, readable by everyone: only the
    # sandbox stands between it and a student's build.
    instructor = os.path.join(SCRATCH, "instructor")
    os.makedirs(instructor)
    secret = os.path.join(instructor, "secret.txt")
    with open(secret, "w") as f:
        f.write("%s instructor notes\n" % canary)
    os.chmod(instructor, 0o755)
    os.chmod(secret, 0o644)

    sol3 = os.path.join(TOP, "solutions", "lab03-vmcs-setup")
    st3 = os.path.join(TOP, "lab03-vmcs-setup")
    files3 = ["vmxstep1.c", "vmxstep2.c", "vmxstep3.c", "vmxdemo.c", "lab03.h"]
    cls3 = os.path.join(SCRATCH, "class03")
    step2 = read(os.path.join(sol3, "vmxstep2.c"))
    demo = read(os.path.join(sol3, "vmxdemo.c"))

    def student(cls, name, src, files, replace=None, extra=None):
        d = os.path.join(cls, name, os.path.basename(src))
        os.makedirs(d)
        for f in files:
            shutil.copyfile(os.path.join(src, f), os.path.join(d, f))
        for f, text in (replace or {}).items():
            with open(os.path.join(d, f), "w") as fh:
                fh.write(text)
        for f, text in (extra or {}).items():
            with open(os.path.join(d, f), "w") as fh:
                fh.write(text)
        return d

    student(cls3, "a-complete", sol3, files3)
    # Another student's folder, with a file of their own.
    b = student(cls3, "b-starter", st3, files3, extra={"notes.txt": other + " my notes\n"})
    solution_file = os.path.join(TOP, "solutions", "lab03-vmcs-setup", "vmxdemo.c")
    cases3 = {
        # name: (vmxstep2.c text, what the report must say)
        "h-incbin-octal": (with_leak(step2, leak_block(c_octal(secret))), r"outside the kit copy"),
        "h-incbin-hex": (with_leak(step2, leak_block(c_hex(secret))), r"outside the kit copy"),
        "h-other-student": (with_leak(step2, leak_block(c_octal(os.path.join(b, "notes.txt")))),
                            r"outside the kit copy"),
        "h-solutions": (with_leak(step2, leak_block(c_octal(solution_file))), r"outside the kit copy"),
        "h-digraph-include": (with_leak(step2, '%%:include "%s"\n' % secret, show=False),
                              r"outside the kit copy"),
        "h-spliced-include": (with_leak(step2, '#inc\\\nlude "%s"\n' % secret, show=False),
                              r"outside the kit copy"),
        "h-include-recursion": (with_leak(step2, '#include "vmxstep2.c"\n', show=False),
                                r"#include nested depth|nested too deeply"),
        "h-rept-cpu": (with_leak(step2, '__asm__(".rept 100000000\\n.rept 100000000\\nnop\\n'
                                        '.endr\\n.endr");\n', show=False),
                       # GNU as may run out of memory before the CPU-time limit
                       r"the build hit the sandbox's (CPU-time limit \(8 s per process\)|memory limit)"),
        "h-huge-array": (with_leak(step2, "static char huge[1ull << 33] = { 1 };\n"
                                          "char *huge_p = huge;\n", show=False),
                         r"the build hit the sandbox's file-size limit \(64 MiB per file\)"),
    }
    for name, (text, _) in cases3.items():
        student(cls3, name, sol3, files3, replace={"vmxstep2.c": text})
    # The serial port flooded: megabytes of output from lab_main.
    flood = demo.replace("void lab_main(void)\n{\n",
                         "void lab_main(void)\n{\n\tfor (;;)\n\t\tprintf(\"%s\\n\", "
                         "\"flood flood flood flood flood flood flood flood flood flood\");\n", 1)
    student(cls3, "h-serial-flood", sol3, files3, replace={"vmxdemo.c": flood})
    cases3["h-serial-flood"] = (None, r"stopped by the emulated-tick watchdog|serial output exceeded|"
                                      r"Bochs was stopped by its CPU-time limit")
    # A symbolic link instead of a file.
    d = student(cls3, "h-symlink", sol3, [f for f in files3 if f != "vmxstep2.c"])
    os.symlink(secret, os.path.join(d, "vmxstep2.c"))
    cases3["h-symlink"] = (None, r"\"vmxstep2\.c\": \"a symbolic link")

    # lab04: NASM, through the guest's banner.
    sol4 = os.path.join(TOP, "solutions", "lab04-vm86-guest")
    files4 = ["vm86_guest.c", "vm86_io.c", "vm86demo.c", "guest.asm"]
    cls4 = os.path.join(SCRATCH, "class04")
    guest = read(os.path.join(sol4, "guest.asm"))
    banner = 'msg_banner:     db "guest: hello from virtual-8086 mode", 10, 0\n'
    if banner not in guest:
        raise TestFailure("solutions/lab04-vm86-guest/guest.asm has no banner line %r" % banner)
    head, tail = os.path.split(secret)
    cases4 = {
        "n-incbin-strcat": (guest.replace(banner, '%%strcat LEAKPATH "%s/", "%s"\n'
                                          'msg_banner: db "guest: LEAK "\n incbin LEAKPATH\n db 10, 0\n'
                                          % (head, tail)), r"outside the kit copy"),
        "n-incbin-define": (guest.replace(banner, '%%define LEAKPATH "%s"\n'
                                          'msg_banner: db "guest: LEAK "\n incbin LEAKPATH\n db 10, 0\n'
                                          % secret), r"outside the kit copy"),
        "n-rep-cpu": (guest.replace(banner, banner + "%rep 1000000\n%rep 1000000\nnop\n%endrep\n%endrep\n"),
                      r"the build hit the sandbox's CPU-time limit \(8 s per process\)"),
        "n-include-recursion": ('%include "lab04-vm86-guest/guest.asm"\n' + guest,
                                r"unable to open include file.*Too many open files|include"),
    }
    student(cls4, "a-complete", sol4, files4)
    for name, (text, _) in cases4.items():
        student(cls4, name, sol4, files4, replace={"guest.asm": text})
    return {"canary": canary, "other": other, "secret": secret,
            "classes": [("03", cls3, cases3, ["a-complete", "b-starter"]),
                        ("04", cls4, cases4, ["a-complete"])]}


def class_run(number, cls):
    """One class run, with the low limits; returns (output, grades.json)."""
    res = os.path.join(SCRATCH, "results%s" % number)
    p = subprocess.run([sys.executable, DRIVER, "class", cls, "--lab", number, "--jobs", "2",
                        "--work", os.path.join(SCRATCH, "work%s" % number), "--results", res],
                       capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, **LOW_LIMITS))
    if p.returncode != 0:
        raise TestFailure("grade-class lab%s exited %d:\n%s%s" % (number, p.returncode, p.stdout[-3000:],
                                                                  p.stderr[-3000:]))
    with open(os.path.join(res, "grades.json")) as f:
        return p.stdout + p.stderr, json.load(f), res


def alone(number, folder):
    """A student's lab graded alone (make grade SUBMISSION=...): the score."""
    p = subprocess.run([sys.executable, DRIVER, "grade", "--lab", number, "--submission", folder,
                        "--work", os.path.join(SCRATCH, "alone-work"),
                        "--results", os.path.join(SCRATCH, "alone-results", os.path.basename(folder))],
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    m = re.search(r"^Score: (\d+)/(\d+)$", p.stdout, re.M)
    if not m:
        raise TestFailure("grading %s alone printed no score:\n%s%s" % (folder, p.stdout, p.stderr))
    return int(m.group(1))


def everything_written(root):
    """Every text the class run wrote: transcripts, logs, reports, grades."""
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            if os.path.isfile(p) and not os.path.islink(p) and os.path.getsize(p) < (64 << 20):
                with open(p, "rb") as f:
                    yield p, f.read()


def runs():
    return once("sandbox:classes", lambda: _runs())


def _runs():
    s = make_classes()
    s["results"] = {}
    for number, cls, cases, normal in s["classes"]:
        out, grades, res = class_run(number, cls)
        s["results"][number] = (out, grades, res)
    return s


def student_text(res, name):
    """All a student's report says: result.json and report.txt of the lab."""
    out = []
    for p, data in everything_written(os.path.join(res, name)):
        if p.endswith(("result.json", "report.txt")):
            out.append(data.decode("utf-8", "replace"))
    return "\n".join(out)


def test_sandbox_no_byte_of_an_outside_file_reaches_any_transcript_log_or_repor():
    """sandbox: no byte of an outside file reaches any transcript, log or report (lab03, lab04 classes)"""
    s = runs()
    needles = [s["canary"].encode(), s["other"].encode(), b"BEGIN SOLUTION", b"instructor notes"]
    for number, (out, grades, res) in s["results"].items():
        for path, data in everything_written(res):
            for n in needles:
                if n in data:
                    raise TestFailure("lab%s: %r leaked into %s" % (number, n.decode(), path))
        for n in needles:
            if n.decode() in out:
                raise TestFailure("lab%s: %r leaked into the class run's output" % (number, n.decode()))


def test_sandbox_each_hostile_submission_s_report_names_what_was_refused_hidden():
    """sandbox: each hostile submission's report names what was refused, hidden or which limit stopped it"""
    s = runs()
    problems = []
    for number, cls, cases, normal in s["classes"]:
        out, grades, res = s["results"][number]
        for name, (_, want) in sorted(cases.items()):
            text = student_text(res, name)
            if not re.search(want, text):
                problems.append("lab%s %s: /%s/ not in its report:\n%s" % (number, name, want, text[-1500:]))
            got = grades["students"][name]["labs"][number]["score"]
            if name.startswith(("h-", "n-")) and name != "h-serial-flood" and got != 0 \
                    and not name.startswith("h-symlink"):
                problems.append("lab%s %s: scored %d, want 0 (its build must fail)" % (number, name, got))
    if problems:
        raise TestFailure("\n".join(problems))


def test_sandbox_the_normal_students_of_a_hostile_class_get_the_grade_they_get():
    """sandbox: the normal students of a hostile class get the grade they get alone"""
    s = runs()
    for number, cls, cases, normal in s["classes"]:
        out, grades, res = s["results"][number]
        for name in normal:
            got = grades["students"][name]["labs"][number]["score"]
            want = alone(number, os.path.join(cls, name))
            if got != want:
                raise TestFailure("lab%s %s: %d in the class run, %d alone" % (number, name, got, want))
        full = grades["labs"][number]["total"]
        if grades["students"]["a-complete"]["labs"][number]["score"] != full:
            raise TestFailure("lab%s a-complete: not full marks among hostile students" % number)


def test_sandbox_grades_record_the_sandbox_the_kit_s_commit_and_the_bochs_versi():
    """sandbox: grades record the sandbox, the kit's commit and the Bochs version"""
    s = runs()
    out, grades, res = s["results"]["03"]
    r = grades["students"]["a-complete"]["labs"]["03"]
    for key, rx in (("isolation", r"^sandbox$"), ("kit_commit", r"^[0-9a-f]{40}$"),
                    ("bochs_version", r"^2\.7")):
        if not re.search(rx, str(r.get(key))):
            raise TestFailure("grades.json: %s = %r, want /%s/" % (key, r.get(key), rx))
