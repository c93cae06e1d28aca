#!/usr/bin/env python3
"""driver.py - `make grade` and `make grade-class`: grade labs with their graders.

    driver.py grade [--lab NN] [--submission DIR] [--solution]
        grade one lab (or every lab that has a grader); the student files come
        from the working tree's lab folder, from DIR (a lab folder, or a
        student folder holding labNN-*/), or from solutions/ (--solution).
        Prints one line per check and `Score: X/Y`; exit 1 below full marks.
    driver.py class SUBMISSIONS [--lab NN] [--jobs N]
        grade a whole class: one folder per student in SUBMISSIONS, the labs
        found by folder name (labNN or labNN-anything). Runs N gradings at a
        time (default: the number of cores), prints progress, and writes
        grades.csv and grades.json (default in results/grade-class/).

Each grading happens in a fresh copy of the kit (tests/lib/gradelib.py says
how); in class mode each one also runs in its own process with a hard time
limit, a file-size limit and no core dumps, so a submission that breaks the
grader breaks only its own row.
"""

import argparse
import csv
import json
import os
import queue
import re
import resource
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests"))

from lib import gradelib, sandbox  # noqa: E402
from lib.gradelib import GraderError  # noqa: E402

FILE_SIZE_LIMIT = 512 << 20     # bytes any one file a grading writes may reach


def find_lab_dir(folder, number):
    """The student's folder for lab NUMBER inside FOLDER, or None.

    A folder named labNN, labNN-anything or labNN_anything counts; when
    several do, the one named like the kit's wins, else the first by name.
    """
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return None
    found = [n for n in names if re.match(r"^lab%s(?:$|[-_])" % number, n)
             and os.path.isdir(os.path.join(folder, n)) and not os.path.islink(os.path.join(folder, n))]
    return os.path.join(folder, found[0]) if found else None


def submission_source(sub, number):
    """DIR as given to SUBMISSION=: a student folder holding labNN*/ or the lab folder itself."""
    d = find_lab_dir(sub, number)
    return d or sub


def limits():
    """Applied in each class grading process before it starts."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def prepare(labs, kit):
    """Build once, in the kit itself, what the labs share (e.g. the minimal kernel)."""
    for lab in labs:
        if lab.prepare:
            print("grade: preparing lab%s (make %s)" % (lab.number, " ".join(lab.prepare)), flush=True)
            log = os.path.join(TOP, "results", "grade", "prepare-lab%s.log" % lab.number)
            os.makedirs(os.path.dirname(log), exist_ok=True)
            status, text = gradelib.run_make(kit, lab.prepare, 3600, log)
            if status != 0:
                raise GraderError("lab%s: `make %s` failed in the kit: %s (log %s)"
                                  % (lab.number, " ".join(lab.prepare), gradelib.first_error(text),
                                     os.path.relpath(log)))


# --- One student, one or more labs: make grade ---------------------------------

def cmd_grade(a):
    numbers = [a.lab] if a.lab else gradelib.grader_numbers(a.kit)
    if not numbers:
        print("grade: no lab has a grader yet (tests/grade/labNN.py)")
        return 0
    if a.submission and not os.path.isdir(a.submission):
        print("grade: SUBMISSION=%s is not a folder" % a.submission, file=sys.stderr)
        return 2
    labs = [gradelib.load_lab(n, a.kit) for n in numbers]
    prepare(labs, a.kit)
    score = total = 0
    for lab in labs:
        n = lab.number
        folder = gradelib.lab_folder(n, a.kit)
        if a.solution:
            source, what = os.path.join(a.kit, "solutions", folder), "solutions/%s" % folder
        elif a.submission:
            source = submission_source(a.submission, n)
            what = source
        else:
            source, what = None, "%s (your working tree)" % folder
        print("== lab%s: grading %s" % (n, what), flush=True)
        tag = "lab%s" % n
        work = os.path.join(a.work, "%s.%d" % (tag, os.getpid()))    # concurrent `make grade`s
        r = gradelib.grade(n, source, work, os.path.join(a.results, tag),
                           a.kit, say=lambda s: print(s, flush=True), lab=lab, isolation=a.isolation)
        score += r["score"]
        total += r["total"]
        if a.gradescope:
            os.makedirs(os.path.dirname(os.path.abspath(a.gradescope)), exist_ok=True)
            shutil.copyfile(os.path.join(a.results, tag, "results.json"), a.gradescope)
        if a.keep:
            print("kept the kit copy: %s" % os.path.relpath(os.path.join(work, "kit")))
        else:
            shutil.rmtree(work, ignore_errors=True)
    if len(labs) > 1:
        print("Total: %d/%d" % (score, total))
    return 0 if score == total else 1


# --- Internal: one grading in its own process ----------------------------------

def cmd_task(a):
    try:
        gradelib.grade(a.lab, a.source, a.work, a.results, a.kit, say=None, template=a.template,
                       isolation=a.isolation)
    except Exception as e:      # noqa: BLE001  a row must say what broke
        os.makedirs(a.results, exist_ok=True)
        with open(os.path.join(a.results, "error.txt"), "w") as f:
            f.write("%s: %s\n" % (type(e).__name__, e))
        return 2
    return 0


# --- A whole class: make grade-class ----------------------------------------------

def zero_result(lab, why, folder=None):
    return {"lab": lab.number, "folder": folder, "score": 0, "total": lab.total, "error": why,
            "checks": [{"name": c.name, "points": 0, "max": c.points, "outcome": "FAIL",
                        "detail": why} for c in lab.checks]}


def task_timeout(lab):
    runs = sum(r.spec.timeout + (lab.build_timeout if r.build else 0) for r in lab.runs)
    return lab.build_timeout + runs + 120


RUNNING = {}        # tag -> Popen of the gradings under way (for Ctrl-C)


def grade_one(student, lab, src, a):
    """Grade one (student, lab) in a child process; always returns a result."""
    tag_lab = tag = "lab%s" % lab.number
    work = os.path.join(a.work, student, tag)
    res = os.path.join(a.results, student, tag)
    if src is None:
        os.makedirs(res, exist_ok=True)
        r = zero_result(lab, "no lab%s folder in the submission" % lab.number)
        r["seconds"] = 0
        return r
    cmd = [sys.executable, os.path.abspath(__file__), "--kit", a.kit, "task", "--lab", lab.number,
           "--source", src, "--work", work, "--results", res]
    if a.templates.get(lab.number):
        cmd += ["--template", a.templates[lab.number]]
    cmd += ["--isolation", a.isolation]
    t0 = time.monotonic()
    # Every process of this grading carries the tag in its environment, so
    # that the ones it leaves behind (emulators run in their own sessions)
    # can be found and ended.
    tag = "%d-%s-%s" % (os.getpid(), student, lab.number)
    env = dict(os.environ, VMXLAB_GRADE_TASK=tag)
    # What the grading process itself says (a Python error in a grader) is
    # kept next to the lab's results, and removed when there is nothing.
    errpath = os.path.join(a.results, student, "%s-grader-stderr.txt" % tag_lab)
    os.makedirs(os.path.dirname(errpath), exist_ok=True)
    errfile = open(errpath, "wb")
    try:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=errfile,
                             stderr=subprocess.STDOUT, preexec_fn=limits, start_new_session=True,
                             env=env)
        RUNNING[tag] = p
        try:
            p.wait(timeout=task_timeout(lab))
            why = None
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9)
            p.wait()
            why = "grading stopped after %d s" % task_timeout(lab)
        kill_tagged(tag)
        RUNNING.pop(tag, None)
        try:
            with open(os.path.join(res, "result.json")) as f:
                r = json.load(f)
        except (OSError, ValueError):
            err = ""
            try:
                err = open(os.path.join(res, "error.txt")).read().strip()
            except OSError:
                pass
            r = zero_result(lab, why or "grader error: %s" % (err or "exit status %s" % p.returncode),
                            os.path.basename(src))
    finally:
        errfile.close()
        if os.path.getsize(errpath) == 0:
            os.unlink(errpath)
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    r["seconds"] = round(time.monotonic() - t0, 2)
    r["source"] = os.path.relpath(src, a.submissions)
    return r


def kill_tagged(tag):
    """SIGKILL every process whose environment holds VMXLAB_GRADE_TASK=TAG."""
    needle = ("VMXLAB_GRADE_TASK=%s\0" % tag).encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as f:
                if needle in f.read() + b"\0":
                    os.kill(int(pid), 9)
        except OSError:
            pass


def fmt_time(s):
    s = int(round(s))
    return "%dm%02ds" % (s // 60, s % 60) if s >= 60 else "%ds" % s


def cmd_class(a):
    subs = a.submissions
    if not os.path.isdir(subs):
        print("grade-class: SUBMISSIONS=%s is not a folder" % subs, file=sys.stderr)
        return 2
    numbers = [a.lab] if a.lab else gradelib.grader_numbers(a.kit)
    if not numbers:
        print("grade-class: no lab has a grader yet (tests/grade/labNN.py)", file=sys.stderr)
        return 2
    labs = [gradelib.load_lab(n, a.kit) for n in numbers]
    entries = sorted(os.listdir(subs))
    students = [e for e in entries if not e.startswith(".")
                and os.path.isdir(os.path.join(subs, e)) and not os.path.islink(os.path.join(subs, e))]
    for e in entries:
        if e not in students and not e.startswith("."):
            print("grade-class: %s is not a student folder: ignored" % e)
    if not students:
        print("grade-class: no student folders in %s" % subs, file=sys.stderr)
        return 2
    if a.isolation == "sandbox":
        sandbox.check()             # before anything is built: a clear stop
    else:
        print("grade-class: note: %s" % gradelib.ISOLATION[a.isolation])
    prepare(labs, a.kit)
    jobs = a.jobs or os.cpu_count() or 1
    # One kit copy per lab, built once from the starter; each grading copies it.
    a.templates = {}
    for lab in labs:
        t0 = time.monotonic()
        d = os.path.join(a.work, ".template-lab%s" % lab.number)
        gradelib.make_template(lab, d, a.kit)
        a.templates[lab.number] = d
        print("grade-class: lab%s kit built once from the starter in %.1f s" % (lab.number, time.monotonic() - t0),
              flush=True)
    print("grade-class: %d students, lab%s, %d at a time; logs in %s/"
          % (len(students), ", lab".join(numbers), jobs, os.path.relpath(a.results)), flush=True)

    tasks = queue.Queue()
    for s in students:
        for lab in labs:
            tasks.put((s, lab, find_lab_dir(os.path.join(subs, s), lab.number)))
    results = {s: {} for s in students}
    lock = threading.Lock()
    done = [0]
    t0 = time.monotonic()

    def worker():
        while True:
            try:
                s, lab, src = tasks.get_nowait()
            except queue.Empty:
                return
            try:
                r = grade_one(s, lab, src, a)
            except Exception as e:      # noqa: BLE001  never lose a row
                r = zero_result(lab, "grader error: %s" % e)
            with lock:
                results[s][lab.number] = r
                if len(results[s]) == len(labs):
                    done[0] += 1
                    el = time.monotonic() - t0
                    eta = el / done[0] * (len(students) - done[0])
                    got = sum(x["score"] for x in results[s].values())
                    tot = sum(x["total"] for x in results[s].values())
                    print("student %d of %d (%s): %d/%d, elapsed %s, ETA %s"
                          % (done[0], len(students), s, got, tot, fmt_time(el), fmt_time(eta)),
                          flush=True)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(jobs)]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    except KeyboardInterrupt:
        # End what this class run started (each grading and what it left), then stop.
        while not tasks.empty():
            tasks.get_nowait()
        for tag, p in list(RUNNING.items()):
            try:
                os.killpg(p.pid, 9)
            except OSError:
                pass
            kill_tagged(tag)
        print("grade-class: interrupted; no grades written", file=sys.stderr)
        return 130
    wall = time.monotonic() - t0
    if not a.keep:
        for d in a.templates.values():
            shutil.rmtree(d, ignore_errors=True)

    os.makedirs(a.out, exist_ok=True)
    csv_path = os.path.join(a.out, "grades.csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student"] + ["lab%s" % n for n in numbers] + ["total"])
        for s in students:
            row = [results[s][n]["score"] for n in numbers]
            w.writerow([s] + row + [sum(row)])
    json_path = os.path.join(a.out, "grades.json")
    with open(json_path, "w") as f:
        json.dump({"kit": dict(gradelib.provenance(a.kit), isolation=a.isolation),
                   "labs": {n: {"total": l.total, "checks": [[c.name, c.points] for c in l.checks]}
                            for n, l in zip(numbers, labs)},
                   "seconds": round(wall, 2), "jobs": jobs,
                   "students": {s: {"labs": results[s],
                                    "total": sum(r["score"] for r in results[s].values())}
                                for s in students}}, f, indent=1)
    print("grade-class: %d students in %s (%.1f core-seconds per grading); %s, %s"
          % (len(students), fmt_time(wall), wall * jobs / (len(students) * len(labs)),
             os.path.relpath(csv_path), os.path.relpath(json_path)))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="Grade vmxlab labs.")
    ap.add_argument("--kit", default=TOP, help=argparse.SUPPRESS)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grade")
    g.add_argument("--lab")
    g.add_argument("--submission")
    g.add_argument("--solution", action="store_true")
    g.add_argument("--keep", action="store_true", help="keep the kit copy under build/grade/")
    g.add_argument("--work", default=os.path.join(TOP, "build", "grade"))
    g.add_argument("--results", default=os.path.join(TOP, "results", "grade"))
    g.add_argument("--gradescope", metavar="PATH",
                   help="also write Gradescope's results.json for the (one) lab graded to PATH")
    c = sub.add_parser("class")
    for parser in (g, c):
        iso = parser.add_mutually_exclusive_group()
        iso.add_argument("--unsandboxed", dest="isolation", action="store_const", const="none",
                         help="grade without the bubblewrap sandbox (a student's own tree, on a "
                              "machine that cannot make one); the report says so")
        iso.add_argument("--container", dest="isolation", action="store_const", const="container",
                         help="the grading container is the sandbox (the Gradescope bundle)")
    c.add_argument("submissions")
    c.add_argument("--lab")
    c.add_argument("--jobs", type=int, default=0)
    c.add_argument("--keep", action="store_true")
    c.add_argument("--work", default=os.path.join(TOP, "build", "grade-class"))
    c.add_argument("--results", default=os.path.join(TOP, "results", "grade-class"))
    c.add_argument("--out", default=None, help="where grades.csv/json go (default: --results)")
    t = sub.add_parser("task")
    t.add_argument("--lab", required=True)
    t.add_argument("--source", required=True)
    t.add_argument("--work", required=True)
    t.add_argument("--results", required=True)
    t.add_argument("--template")
    t.add_argument("--isolation", default="sandbox", choices=sorted(gradelib.ISOLATION))
    a = ap.parse_args(argv)
    if not getattr(a, "isolation", None):
        a.isolation = "sandbox"
    a.kit = os.path.abspath(a.kit)
    if getattr(a, "lab", None) and not re.match(r"^\d\d$", a.lab):
        print("grade: LAB=%s is not a two-digit lab number" % a.lab, file=sys.stderr)
        return 2
    try:
        if a.cmd == "grade":
            if a.gradescope and not a.lab:
                print("grade: --gradescope needs --lab NN (one results.json per lab)", file=sys.stderr)
                return 2
            if a.lab and a.lab not in gradelib.grader_numbers(a.kit):
                print("grade: lab%s has no grader yet; graders: %s"
                      % (a.lab, " ".join(gradelib.grader_numbers(a.kit)) or "none"), file=sys.stderr)
                return 2
            return cmd_grade(a)
        if a.cmd == "class":
            a.submissions = os.path.abspath(a.submissions)
            a.out = a.out or a.results
            if a.jobs < 0:
                print("grade-class: JOBS must be a positive number", file=sys.stderr)
                return 2
            return cmd_class(a)
        return cmd_task(a)
    except GraderError as e:
        print("grade: %s" % e, file=sys.stderr)
        return 2
    except sandbox.SandboxUnavailable as e:
        print("grade: error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
