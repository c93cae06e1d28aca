"""gradelib.py - the grading engine: a lab declares checks, this runs them.

A lab's grader (tests/grade/labNN.py, see docs/CONTRACTS.md "Graders") only
declares: which files a student may change, how the kit builds the lab, which
emulator runs to make, and named checks with points that match regular
expressions against each run's transcript. This file does the rest:

  1. copy the kit (the handout's files: no solutions/, no hidden graders) to a
     fresh folder build/grade/<id>/kit/, with the earlier labs' solutions a
     grader declares as stand-ins (lab05: lab04's);
  2. take ONLY the declared student files from the submission and lay them
     over the lab folder (symlinks, special files, huge files and #include
     paths that leave the kit are refused; everything is reported);
  3. build with the kit's own make, in that copy (nothing from the submission
     runs except compiling the student files through the kit's rules);
  4. run each emulator run once, through tests/lib/emu.py (every run has a
     wall-clock timeout, a tick watchdog in Bochs and a serial cap);
  5. grade each check: OK, FAIL with the first unmet expectation, or SKIP
     when a check it needs did not pass.

Shape and vocabulary follow MIT 6.1810's gradelib: named checks with points,
GOOD/MISSING/BAD per expectation, the failed run's console log kept, `Score:`.
"""

import importlib.util
import inspect
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

from lib import emu, sandbox

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools", "starters"))
import starters  # noqa: E402  (tools/starters/starters.py: the handout file list)

MAX_FILE = 1 << 20          # bytes: a bigger student file is refused
TRANSCRIPT_CAP = 1 << 20    # bytes of a transcript that are read and matched
MAX_LISTED = 50             # ignored submission files listed by name
LAB_NUMBER = re.compile(r"^\d\d$")


# Keywords of emu.run_bochs/run_qemu the engine sets, never a grader.
ENGINE_KEYWORDS = ("name", "results", "echo", "sandbox", "emulator")


class GraderError(Exception):
    """A grader declaration that cannot work: a bug in tests/grade/labNN.py."""


# --- What a grader declares ---------------------------------------------------

class Spec:
    """What to run: an emulator (bochs/qemu) or a make command in the kit copy."""

    def __init__(self, kind, args, kw):
        self.kind, self.args, self.kw = kind, list(args), dict(kw)
        self.timeout = kw.get("timeout", 30 if kind != "make" else 120)


def _check_keywords(what, fn, kw):
    """Refuse keywords FN does not take, or that the engine sets itself."""
    params = inspect.signature(fn).parameters
    for k in kw:
        if k in ENGINE_KEYWORDS or (k not in params and k != "timeout"):
            raise GraderError("%s(%s=...): not a keyword a grader may set; use some of: %s"
                              % (what, k, ", ".join(p for p in params
                                                    if p not in ENGINE_KEYWORDS)))


def bochs(**kw):
    """A Bochs run: emu.run_bochs(**kw); `image` is relative to the kit copy."""
    if "image" not in kw:
        raise GraderError("bochs(...) needs image=, the image path relative to the kit")
    _check_keywords("bochs", emu.run_bochs, kw)
    return Spec("bochs", (), kw)


def qemu(**kw):
    """A QEMU run: emu.run_qemu(**kw); floppy/kernel/initrd relative to the kit."""
    _check_keywords("qemu", emu.run_qemu, kw)
    return Spec("qemu", (), kw)


def make(*args, timeout=120):
    """`make -C kit ARGS`: its output, then `make: exit N`, is the transcript."""
    return Spec("make", args, {"timeout": timeout})


class Run:
    def __init__(self, lab, name, spec, build, may_time_out):
        self.lab, self.name, self.spec = lab, name, spec
        self.build, self.may_time_out = build, may_time_out


class Check:
    def __init__(self, name, points, run, expect, expect_not, needs):
        self.name, self.points, self.run = name, points, run
        self.expect, self.expect_not, self.needs = list(expect), list(expect_not), list(needs)


class Lab:
    """One lab's grader: student files, build, runs and checks."""

    def __init__(self, number, files, build, expect_not=(), shared_build=(), prepare=(),
                 build_timeout=300, kit_answers=(), stand_ins=()):
        if not LAB_NUMBER.match(str(number)):
            raise GraderError("Lab(%r): the lab number is two digits, e.g. \"03\"" % (number,))
        self.number = str(number)
        self.files = list(files)
        for f in self.files:
            if os.path.isabs(f) or ".." in f.split("/") or not f:
                raise GraderError("lab%s: student file %r must be a path inside the lab folder"
                                  % (self.number, f))
        self.build = list(build)
        self.expect_not = list(expect_not)
        self.shared_build = list(shared_build)
        self.prepare = list(prepare)
        self.build_timeout = build_timeout
        # Kit files that do this lab's TODOs (common/vmm/answers/ for lab03):
        # the grading copy of the kit leaves them out (fresh_kit).
        self.kit_answers = list(kit_answers)
        for f in self.kit_answers:
            if os.path.isabs(f) or ".." in f.split("/") or not f:
                raise GraderError("lab%s: kit_answers %r must be a path inside the kit"
                                  % (self.number, f))
        # Earlier labs' solutions the grading copy holds (solutions/labNN-*),
        # standing in for the student's own work on those labs (lab05's
        # vm86 = kit links solutions/lab04-vm86-guest): the grade then depends
        # on this lab's files alone. fresh_kit copies them; a student file
        # that includes one of their files is refused (stand_in_problem).
        self.stand_ins = [s.rstrip("/") for s in stand_ins]
        for s in self.stand_ins:
            parts = s.split("/")
            if len(parts) != 2 or parts[0] != "solutions" or not re.match(r"^lab\d\d-", parts[1]):
                raise GraderError("lab%s: stand_ins %r must be an earlier lab's solution folder, "
                                  "solutions/labNN-name" % (self.number, s))
            if parts[1][3:5] >= self.number:
                raise GraderError("lab%s: stand_ins %r: only an earlier lab's solution may stand in"
                                  % (self.number, s))
        self.runs = []
        self.checks = []

    def run(self, name, spec, build=None, may_time_out=False):
        if not isinstance(spec, Spec):
            raise GraderError("lab%s run %r: use bochs(...), qemu(...) or make(...)" % (self.number, name))
        if any(r.name == name for r in self.runs):
            raise GraderError("lab%s: two runs are named %r" % (self.number, name))
        r = Run(self, name, spec, build and list(build), may_time_out)
        self.runs.append(r)
        return r

    def check(self, name, points, run, expect=(), expect_not=(), needs=()):
        if any(c.name == name for c in self.checks):
            raise GraderError("lab%s: two checks are named %r" % (self.number, name))
        if run not in self.runs:
            raise GraderError("lab%s check %r: its run was not declared with lab.run()" % (self.number, name))
        for n in needs:
            if not any(c.name == n for c in self.checks):
                raise GraderError("lab%s check %r needs %r, which is not declared before it"
                                  % (self.number, name, n))
        for rx in list(expect) + list(expect_not):
            try:
                re.compile(rx)
            except re.error as e:
                raise GraderError("lab%s check %r: bad regex %r: %s" % (self.number, name, rx, e))
        if not isinstance(points, int) or points < 0:
            raise GraderError("lab%s check %r: points must be a whole number >= 0" % (self.number, name))
        self.checks.append(Check(name, points, run, expect, expect_not, needs))

    @property
    def total(self):
        return sum(c.points for c in self.checks)


# --- Finding graders and labs -------------------------------------------------

def grader_numbers(kit=TOP):
    """The lab numbers that have a grader in KIT/tests/grade/."""
    d = os.path.join(kit, "tests", "grade")
    if not os.path.isdir(d):
        return []
    return sorted(m.group(1) for m in (re.match(r"^lab(\d\d)\.py$", f) for f in os.listdir(d)) if m)


def load_lab(number, kit=TOP):
    """Import KIT/tests/grade/labNN.py (and hidden/labNN.py's extend(lab))."""
    path = os.path.join(kit, "tests", "grade", "lab%s.py" % number)
    if not os.path.exists(path):
        raise GraderError("lab%s has no grader (%s)" % (number, os.path.relpath(path)))
    mod = _import(path, "vmxlab_grader_%s_%d" % (number, abs(hash(kit))))
    lab = getattr(mod, "lab", None)
    if not isinstance(lab, Lab) or lab.number != number:
        raise GraderError("%s must define `lab = Lab(\"%s\", ...)`" % (os.path.relpath(path), number))
    hidden = os.path.join(kit, "tests", "grade", "hidden", "lab%s.py" % number)
    if os.path.exists(hidden):
        hmod = _import(hidden, "vmxlab_hidden_%s_%d" % (number, abs(hash(kit))))
        if not hasattr(hmod, "extend"):
            raise GraderError("%s must define extend(lab)" % os.path.relpath(hidden))
        hmod.extend(lab)
    if not lab.checks:
        raise GraderError("%s declares no checks" % os.path.relpath(path))
    return lab


def _import(path, modname):
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def lab_folder(number, kit=TOP):
    """The lab's folder name in KIT, e.g. lab03-vmcs-setup."""
    found = sorted(d for d in os.listdir(kit)
                   if d.startswith("lab%s-" % number) and os.path.isdir(os.path.join(kit, d)))
    if len(found) != 1:
        raise GraderError("lab%s: expected one folder lab%s-*/ in %s, found %s"
                          % (number, number, kit, found or "none"))
    return found[0]


# --- The fresh copy of the kit ------------------------------------------------

def copy_kit(dest, kit=TOP):
    """Copy the handout's files of KIT to DEST (emptied first)."""
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    for f in starters.handout_files(kit):
        src = os.path.join(kit, f)
        dst = os.path.join(dest, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
    # `make deps` already ran for the kit: the copy needs not check again.
    build = os.path.join(kit, "build")
    if os.path.isdir(build):
        for stamp in os.listdir(build):
            if stamp.startswith(".deps-"):
                os.makedirs(os.path.join(dest, "build"), exist_ok=True)
                open(os.path.join(dest, "build", stamp), "w").close()


def compose_kit(dest, *roots):
    """A kit made of several layers (later ones win): for tests and benchmarks.

    compose_kit(d, TOP, fixture) = the real kit plus a fixture lab.
    """
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    for root in roots:
        for f in starters.listed_files(root, "."):
            dst = os.path.join(dest, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(root, f), dst)
    return dest


INCLUDE = re.compile(r"""^[ \t]*(?:\#[ \t]*(?:include|include_next|import|embed)
                                  |%[ \t]*(?:include|pathsearch|depend)
                                  |\.?include)\b[ \t]*(.*)$""", re.M | re.X)
INCBIN = re.compile(r"""(?:\.incbin|\bincbin)[ \t]+\\?["']([^"'\\]*)""", re.I)


def include_targets(text):
    """(the paths TEXT includes or incbins, None) or (None, why) for a
    computed path."""
    targets = []
    for m in INCLUDE.finditer(text):
        arg = m.group(1).strip()
        q = re.match(r'^(?:"([^"]*)"|<([^>]*)>|\'([^\']*)\')', arg)
        if not q:
            if re.match(r"^[A-Za-z_]", arg) and not text[m.start():m.end()].lstrip().startswith("#"):
                continue                        # NASM/gas `include` as a word elsewhere
            return None, "include of a computed path (%s): write the path literally" % arg[:40]
        targets.append(next(g for g in q.groups() if g is not None))
    return targets + INCBIN.findall(text), None


def include_problem(text, depth):
    """Why TEXT's include/incbin paths could reach outside the kit, or None.

    DEPTH is how deep the file sits below the kit root: a relative path may
    climb at most that many `..` (every -I folder of the kit is at least as
    deep as a lab folder).
    """
    targets, why = include_targets(text)
    if why:
        return why
    for t in targets:
        if os.path.isabs(t):
            return "includes an absolute path (%s)" % t
        up = 0
        for part in os.path.normpath(t).split(os.sep):
            if part == "..":
                up += 1
            else:
                break
        if up > depth:
            return "includes a path outside the kit (%s)" % t
    return None


def stand_in_problem(text, lab, kitdir):
    """Why TEXT includes one of the lab's stand-ins (an earlier lab's
    solution, which the grading copy holds), or None.

    Refused: a path through a `solutions` or `build` folder (the build's
    outputs hold the stand-ins' objects, linked), and a file name of a
    stand-in that differs from that lab's starter (found through an -I
    folder of the build). A file both trees have alike (a header without
    TODOs) is no secret.
    """
    if not lab.stand_ins:
        return None
    targets, _ = include_targets(text)
    secret = {}
    for s in lab.stand_ins:
        folder = s.split("/", 1)[1]
        for d, _, names in os.walk(os.path.join(kitdir, s)):
            for n in names:
                p = os.path.join(d, n)
                starter = os.path.join(kitdir, folder, os.path.relpath(p, os.path.join(kitdir, s)))
                try:
                    same = open(p, "rb").read() == open(starter, "rb").read()
                except OSError:
                    same = False
                if not same:
                    secret[n] = s
    for t in targets or ():
        parts = os.path.normpath(t).split(os.sep)
        if "solutions" in parts or "build" in parts[:-1] or parts[-1] in secret:
            where = secret.get(parts[-1]) or next(
                (s for s in lab.stand_ins if s in os.path.normpath(t)), "solutions/")
            return ("includes %s, the kit's solution that stands in for an earlier lab (%s) while "
                    "lab%s is graded: it is not yours to include" % (t, where, lab.number))
    return None


def restore_starters(lab, number, folder, labdir, kit):
    """Put the pristine starter of each student file in the kit copy.

    The copy's lab folder comes from the grading tree, whose starters an
    instructor may have edited; a file a submission lacks must be the real
    starter. Generated from solutions/ when the kit has them."""
    for f in lab.files:
        sol = os.path.join("solutions", folder, f)
        if not os.path.exists(os.path.join(kit, sol)):
            continue
        try:
            data = starters.expected_starter(kit, number, sol)
        except starters.MarkerError:
            continue                    # make check-starters reports it
        dst = os.path.join(labdir, f)
        if data is None:
            if os.path.lexists(dst):
                os.unlink(dst)
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as fh:
            fh.write(data)


def take_files(lab, source, labdir, kitdir):
    """Copy the lab's student files from SOURCE into LABDIR; report what happened.

    Returns {taken, missing, refused: {file: why}, ignored: [...]}.
    """
    rep = {"taken": [], "missing": [], "refused": {}, "ignored": []}
    if source is None:
        rep["taken"] = [f for f in lab.files if os.path.exists(os.path.join(labdir, f))]
        rep["missing"] = [f for f in lab.files if f not in rep["taken"]]
        return rep
    for f in lab.files:
        src = os.path.join(source, f)
        try:
            st = os.lstat(src)
        except FileNotFoundError:
            rep["missing"].append(f)
            continue
        except OSError as e:
            rep["refused"][f] = "cannot read it (%s)" % e.strerror
            continue
        # Every folder on the way must be a real folder inside the submission.
        parent, bad = source, None
        for part in f.split("/")[:-1]:
            parent = os.path.join(parent, part)
            if os.path.islink(parent):
                bad = "its folder %s is a symbolic link" % part
        if bad:
            rep["refused"][f] = bad
        elif stat.S_ISLNK(st.st_mode):
            rep["refused"][f] = "a symbolic link, not a file"
        elif not stat.S_ISREG(st.st_mode):
            rep["refused"][f] = "not a regular file"
        elif st.st_size > MAX_FILE:
            rep["refused"][f] = "%d bytes, over the %d-byte limit" % (st.st_size, MAX_FILE)
        else:
            try:
                with open(src, "rb") as fh:
                    data = fh.read(MAX_FILE + 1)
            except OSError as e:
                rep["refused"][f] = "cannot read it (%s)" % e.strerror
                continue
            dst = os.path.join(labdir, f)
            text = data.decode("utf-8", "replace")
            why = include_problem(text, os.path.relpath(os.path.dirname(dst), kitdir).count("/") + 1) \
                or stand_in_problem(text, lab, kitdir)
            if why:
                rep["refused"][f] = why
                continue
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.lexists(dst):
                os.unlink(dst)
            with open(dst, "wb") as fh:
                fh.write(data)
            rep["taken"].append(f)
    # Everything else in the submission is not used: say so.
    allowed = set(lab.files)
    seen = 0
    for d, dirs, names in os.walk(source):
        dirs.sort()
        for n in sorted(names) + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            rel = os.path.relpath(os.path.join(d, n), source)
            if rel in allowed:
                continue
            seen += 1
            if seen <= MAX_LISTED:
                rep["ignored"].append(rel)
        if seen > 10000:
            break
    if seen > MAX_LISTED:
        rep["ignored"].append("... and %d more" % (seen - MAX_LISTED))
    return rep


# --- Running ------------------------------------------------------------------

def _make_env():
    """The environment of a build in the kit copy: nothing inherited from an
    outer make (`make grade LAB=03` must not become the copy's LAB), and never
    SOLUTION=1 (the copy has no solutions/: it builds the student's code)."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS", "SOLUTION", "LAB"):
        env.pop(k, None)
    env["LC_ALL"] = "C"
    return env


def run_make(kitdir, args, timeout, logpath, box=None):
    """`make -C kitdir args` with a timeout; output (capped) to LOGPATH.
    BOX (a sandbox.Sandbox): make and everything it starts run in it.

    Returns (exit status or None on timeout, output text).
    """
    cmd = ["make", "--no-print-directory", "-C", kitdir] + list(args) + ["SOLUTION=0"]
    launch = box.launch(cmd, cwd=kitdir) if box else None
    with open(logpath, "wb") as out:
        out.write(("$ %s%s\n" % (" ".join(cmd), "   (in the sandbox)" if box else "")).encode())
        out.flush()
        try:
            p = subprocess.Popen(launch.argv if launch else cmd, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, env=_make_env(), start_new_session=True,
                                 pass_fds=launch.fds if launch else ())
        finally:
            if launch:
                launch.close()
        try:
            status = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            status = None
    with open(logpath, "rb") as f:
        text = f.read(TRANSCRIPT_CAP).decode("utf-8", "replace")
    tail = "make: exit %s\n" % status if status is not None else \
        "make: stopped after %d s (timeout)\n" % timeout
    with open(logpath, "a") as f:
        f.write(tail)
    return status, text + tail


class Outcome:
    """What a run produced, as the checks see it."""

    def __init__(self, transcript="", log_path=None, stopped=None, note=None, build_failed=None,
                 crashed=None):
        self.transcript = transcript
        self.crashed = crashed          # the emulator died: no check of this run passes
        self.log_path = log_path        # the console log a student reads
        self.stopped = stopped          # why the run did not end by itself, or None
        self.note = note                # what the emulator log says went wrong
        self.build_failed = build_failed


def kit_answer_used(text, lab):
    """If a build failed for using what the grading copy leaves out (a
    function of the kit's answers, or one of their files), say so."""
    if lab is None or not lab.kit_answers:
        return None
    m = re.search(r"undefined reference to [`'](\w+)'", text)
    if m and _defined_in_answers(m.group(1), lab):
        return ("the build calls %s, the kit's own answer to a TODO of lab%s: lab%s's grading "
                "copy of the kit leaves out %s, so that points come from your own code; "
                "write it yourself" % (m.group(1), lab.number, lab.number, ", ".join(lab.kit_answers)))
    for f in lab.kit_answers:
        name = os.path.basename(f.rstrip("/"))
        m = re.search(r"^.*%s.*(No such file or directory|not found).*$" % re.escape(name), text, re.M)
        if m:
            return ("the build includes %s, which is the kit's own answer to a TODO of lab%s and "
                    "is left out of lab%s's grading copy of the kit: %s"
                    % (f, lab.number, lab.number, m.group(0).strip()[:160]))
    return None


def _defined_in_answers(symbol, lab, kit=TOP):
    """Is SYMBOL a function the kit's answers for LAB define (a C definition
    at the start of a line in one of their files)?"""
    rx = re.compile(r"^[A-Za-z_][\w \t\*]*\b%s\s*\(" % re.escape(symbol), re.M)
    for f in lab.kit_answers:
        p = os.path.join(kit, f)
        paths = [p] if os.path.isfile(p) else [os.path.join(d, n) for d, _, ns in os.walk(p) for n in ns]
        for q in paths:
            if q.endswith((".c", ".h")) and rx.search(open(q, errors="replace").read()):
                return True
    return False


def build_error(text, status, timeout, box=None, lab=None):
    """Why a build failed, for the report: a sandbox limit it hit (named), a
    file outside the kit copy that the sandbox hid (named), else the first
    error line, else the timeout or make's exit status."""
    first = first_error(text)
    answer = kit_answer_used(text, lab)
    if answer:
        return answer
    limit = sandbox.limit_hit(text) if box else None
    if limit:
        return "the build hit %s%s" % (limit, ": %s" % first if first else "")
    hidden = sandbox.hidden_path(text, box.writable + box.readonly) if box else None
    if hidden:
        return ("the build tried to read %s, outside the kit copy: the sandbox shows a build "
                "only its own kit copy (%s)" % (hidden, first or "file not found"))
    return first or ("build stopped after %d s" % timeout if status is None
                     else "make exited %s" % status)


def first_error(text):
    """The first compiler/assembler/make error line of a build log."""
    for line in text.splitlines():
        if re.search(r"\berror\b|\*\*\*|Error \d", line, re.I) and not line.startswith("$ "):
            return line.strip()[:200]
    return None


def emulator_note(run):
    """A one-line reading of the Bochs log: triple fault, panic; else what
    emu's Run.classify noted (a signal after the run's last line: a crash
    before it never reaches here, it raises EmulatorCrashed)."""
    log = getattr(run, "log", "") or ""
    m = re.search(r"^.*(3rd \(\d+\) exception with no resolution|triple fault).*$", log, re.M | re.I)
    if m:
        return "the CPU triple-faulted (Bochs: %s)" % m.group(1)
    # The Bochs shutdown port (0x8900) ends every normal run with a "panic".
    m = re.search(r"^.*>>PANIC<<(?!.*Shutdown port).*$", log, re.M)
    if m:
        return "Bochs panicked: %s" % m.group(0).strip()[:160]
    return "; ".join(getattr(run, "notes", ())) or None


def keep_logs(src, dst, limit=8 << 20):
    """Copy the text evidence of runs made by the kit's own tools (kboot.py
    leaves it in the copy's results/) next to the grade's logs: regular files
    only (no links into the copy, which is deleted), none over LIMIT bytes."""
    for d, dirs, names in os.walk(src):
        for n in names:
            p = os.path.join(d, n)
            try:
                if os.path.islink(p) or not os.path.isfile(p) or os.path.getsize(p) > limit:
                    continue
                out = os.path.join(dst, os.path.relpath(p, src))
                os.makedirs(os.path.dirname(out), exist_ok=True)
                shutil.copyfile(p, out)
            except OSError:
                pass            # evidence is kept when it can be; it never fails a grade


def execute(run, kitdir, resdir, box=None):
    """Build (if the run has its own build) and run RUN, in BOX when given;
    return an Outcome."""
    lab = run.lab
    if run.build:
        log = os.path.join(resdir, "build-%s.log" % _safe(run.name))
        status, text = run_make(kitdir, run.build, lab.build_timeout, log, box)
        if status != 0:
            return Outcome(text, log, build_failed=build_error(text, status, lab.build_timeout, box, lab))
    spec = run.spec
    if spec.kind == "make":
        log = os.path.join(resdir, "%s.txt" % _safe(run.name))
        status, text = run_make(kitdir, spec.args, spec.timeout, log, box)
        keep_logs(os.path.join(kitdir, "results"), os.path.join(resdir, "kit-results"))
        crash = emu.CRASH_LINE.search(text)
        return Outcome(text, log, stopped=None if status is not None else
                       "make stopped after %d s (timeout)" % spec.timeout,
                       crashed=crash.group(1) if crash else None)
    kw = dict(spec.kw)
    for key in ("image", "floppy", "kernel", "initrd"):
        if kw.get(key):
            kw[key] = os.path.join(kitdir, kw[key])
            if not os.path.exists(kw[key]):
                return Outcome("", None, build_failed="the build made no %s" % spec.kw[key])
    kw["results"] = resdir
    kw["name"] = _safe(run.name)
    if box:
        kw["sandbox"] = box
    try:
        if spec.kind == "bochs":
            image = kw.pop("image")
            r = emu.run_bochs(image, **kw)
        else:
            r = emu.run_qemu(**kw)
    except emu.EmulatorMissing as e:
        raise GraderError(str(e))
    except emu.EmulatorCrashed as e:
        r = e.run
        return Outcome(r.serial[:TRANSCRIPT_CAP], os.path.join(r.dir, "stdout.txt"),
                       crashed=str(e))
    serial = os.path.join(r.dir, "serial.txt")
    stopped = None
    if not r.ended_cleanly:
        stopped = r.why_stopped()
        if r.timed_out:
            stopped += " after %g s" % spec.timeout
    return Outcome(r.serial[:TRANSCRIPT_CAP], serial, stopped=stopped, note=emulator_note(r))


def provenance(kit=TOP):
    """What a regrade needs to be the same grading: the kit's commit (and
    whether its tree had changes) and the emulators' versions."""
    out = {}
    try:
        p = subprocess.run(["git", "-C", kit, "rev-parse", "HEAD"], capture_output=True, text=True,
                           timeout=10)
        if p.returncode == 0:
            out["kit_commit"] = p.stdout.strip()
            d = subprocess.run(["git", "-C", kit, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=30)
            out["kit_modified"] = bool(d.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    out.setdefault("kit_commit", _handout_version(kit))
    for name, pkg in (("bochs_version", "bochs"), ("qemu_version", "qemu-system-x86")):
        try:
            p = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                               text=True, timeout=10)
            out[name] = p.stdout.strip() or None
        except (OSError, subprocess.TimeoutExpired):
            out[name] = None
    return out


def _handout_version(kit):
    """A copy without git (a handout, a grading copy): the VERSION file, if any."""
    try:
        with open(os.path.join(kit, "VERSION")) as f:
            return f.read().strip()
    except OSError:
        return None


def _safe(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def evaluate(check, lab, out):
    """(ok, [report lines GOOD/MISSING/BAD], first unmet or None)."""
    if out.crashed:
        # Whatever the transcript holds, a run whose emulator died earns nothing.
        return False, ["CRASHED: %s" % out.crashed], out.crashed
    lines, first = [], None
    for rx in check.expect:
        if re.search(rx, out.transcript, re.M):
            lines.append("GOOD %r" % rx)
        else:
            lines.append("MISSING %r" % rx)
            first = first or lines[-1]
    for rx in list(lab.expect_not) + check.expect_not:
        m = re.search(rx, out.transcript, re.M)
        if m:
            line = out.transcript[out.transcript.rfind("\n", 0, m.start()) + 1:].split("\n", 1)[0]
            lines.append("BAD %r matched: %s" % (rx, line.strip()[:160]))
            first = first or lines[-1]
        else:
            lines.append("GOOD (absent) %r" % rx)
    if out.stopped and not check.run.may_time_out:
        lines.append("STOPPED: the run was %s" % out.stopped)
        first = first or ("the run was %s" % out.stopped)
    return first is None, lines, first


# --- Grading one lab ----------------------------------------------------------

def fresh_kit(lab, kitdir, kit=TOP):
    """A fresh copy of KIT at KITDIR with the lab's shared build outputs
    linked in, the earlier labs' solutions that stand in for the student's
    (stand_ins, when KIT has them), and without the kit's answers to the
    lab's TODOs."""
    copy_kit(kitdir, kit)
    for s in lab.stand_ins:
        for f in starters.listed_files(kit, s) if os.path.isdir(os.path.join(kit, s)) else ():
            os.makedirs(os.path.dirname(os.path.join(kitdir, f)), exist_ok=True)
            shutil.copy2(os.path.join(kit, f), os.path.join(kitdir, f))
    for f in lab.kit_answers:
        p = os.path.join(kitdir, f)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)
    for sb in lab.shared_build:
        src = os.path.join(kit, sb)
        dst = os.path.join(kitdir, sb)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            shutil.rmtree(dst)
        os.symlink(src, dst)


def make_template(lab, dest, kit=TOP):
    """A kit copy with the lab built from its starter, to copy per submission.

    The runtime, the generated headers and every object that does not depend
    on the student's files are built once here; a submission's copy keeps
    their times, its student files are newer, so its build recompiles only
    those (about 0.4 s instead of several seconds). A failed build is fine:
    the submission's build starts from whatever was made.
    """
    fresh_kit(lab, dest, kit)
    log = os.path.join(dest, "build", "template.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    run_make(dest, lab.build, lab.build_timeout, log)
    for r in lab.runs:
        if r.build:
            run_make(dest, r.build, lab.build_timeout, log + "." + _safe(r.name))
    return dest


# How a grading is isolated (grade(isolation=...)): the words its report uses.
ISOLATION = {
    "sandbox": "bubblewrap sandbox (tests/lib/sandbox.py)",
    "container": "the grading container (Gradescope): no sandbox of the kit's own",
    "none": "UNSANDBOXED (UNSANDBOXED=1): the student's code ran with the grader's rights",
}


def grade(number, source, work, results, kit=TOP, say=print, lab=None, template=None,
          isolation="sandbox"):
    """Grade lab NUMBER with the student files in SOURCE (None: the kit's own).

    WORK is the scratch folder (the kit copy goes to WORK/kit), RESULTS keeps
    the logs. SAY prints one line (None: silent). TEMPLATE, from
    make_template(), is copied instead of the kit when given. ISOLATION:
    "sandbox" (every build and run of the student's code in a bubblewrap box;
    sandbox.SandboxUnavailable if the machine cannot make one), "container"
    (the Gradescope bundle: the throwaway container is the box) or "none"
    (UNSANDBOXED=1, said in the report). Returns the result dict written to
    RESULTS/result.json.
    """
    if isolation not in ISOLATION:
        raise GraderError("isolation=%r: one of %s" % (isolation, ", ".join(ISOLATION)))
    if isolation == "sandbox":
        sandbox.check()
    say = say or (lambda *a: None)
    lab = lab or load_lab(number, kit)
    folder = lab_folder(number, kit)
    shutil.rmtree(results, ignore_errors=True)
    os.makedirs(results)
    kitdir = os.path.join(work, "kit")
    if template:
        shutil.rmtree(kitdir, ignore_errors=True)
        shutil.copytree(template, kitdir, symlinks=True)
    else:
        fresh_kit(lab, kitdir, kit)
    labdir = os.path.join(kitdir, folder)
    if source is not None:
        restore_starters(lab, number, folder, labdir, kit)
    files = take_files(lab, source, labdir, kitdir)
    result = {"lab": number, "folder": folder, "score": 0, "total": lab.total,
              "files": files, "build": {}, "checks": [], "isolation": isolation}
    result.update(provenance(kit))
    box = None
    if isolation == "sandbox":
        # Writable: this kit copy and its results; read-only: what the kit
        # prebuilt for every student (the shared_build folders the copy links to).
        # Both the path the copy's link names and where it really is: a
        # prebuilt kernel tree holds absolute paths of its own.
        shared = [os.path.join(kit, sb) for sb in lab.shared_build]
        box = sandbox.Sandbox(writable=[kitdir, results],
                              readonly=sorted(set(shared + [os.path.realpath(p) for p in shared])))
        box.give(kitdir)
        box.give(results)
    else:
        say("note: %s" % ISOLATION[isolation])
    for f in files["missing"]:
        say("note: %s/%s is missing from the submission: the starter's version is used" % (folder, f))
    for f, why in sorted(files["refused"].items()):
        say("note: %s/%s refused: %s; the starter's version is used" % (folder, f, why))
    if files["ignored"]:
        say("note: not taken (not a lab%s student file): %s" % (number, ", ".join(files["ignored"][:8]) +
                                                               (" ..." if len(files["ignored"]) > 8 else "")))

    t0 = time.monotonic()
    blog = os.path.join(results, "build.log")
    absent = [s for s in lab.stand_ins if not os.path.isdir(os.path.join(kitdir, s))]
    if absent:
        # A handout has no solutions/: the lab cannot be graded as declared.
        status, text = 2, ""
        with open(blog, "w") as f:
            f.write("not built: %s missing\n" % ", ".join(absent))
    else:
        status, text = run_make(kitdir, lab.build, lab.build_timeout, blog, box)
    result["build"] = {"ok": status == 0, "log": blog, "seconds": round(time.monotonic() - t0, 2)}
    build_failed = None
    if absent:
        build_failed = ("lab%s is graded with the kit's %s standing in for %s, and this kit has "
                        "none (a handout has no solutions/): the instructor's grading has it"
                        % (number, " and ".join(absent),
                           " and ".join("lab" + a.split("/")[1][3:5] for a in absent)))
    elif status != 0:
        build_failed = build_error(text, status, lab.build_timeout, box, lab)
    if build_failed:
        result["build"]["error"] = build_failed
        say("build failed: %s (log: %s)" % (build_failed, os.path.relpath(blog)))

    outcomes = {}
    passed = {}
    report = []
    for c in lab.checks:
        entry = {"name": c.name, "points": 0, "max": c.points}
        failed_need = next((n for n in c.needs if not passed.get(n)), None)
        if failed_need:
            entry.update(outcome="SKIP", detail="%s failed" % failed_need)
            line = "%s: SKIP (0/%d) because %s failed" % (c.name, c.points, failed_need)
            report.append("== %s\nSKIP because %s failed\n\n" % (c.name, failed_need))
            passed[c.name] = False
        elif build_failed:
            entry.update(outcome="FAIL", detail="build failed: %s" % build_failed, log=blog)
            line = "%s: FAIL (0/%d)\n    build failed: %s\n    log: %s" % (
                c.name, c.points, build_failed, os.path.relpath(blog))
            report.append("== %s\nbuild failed: %s\n\n" % (c.name, build_failed))
            passed[c.name] = False
        else:
            if c.run.name not in outcomes:
                try:
                    outcomes[c.run.name] = execute(c.run, kitdir, results, box)
                except GraderError:
                    raise
                except Exception as e:      # noqa: BLE001  one run, not the whole grade
                    outcomes[c.run.name] = Outcome(
                        "", None, build_failed="the grader could not run %s: %s: %s"
                        % (c.run.name, type(e).__name__, e))
            out = outcomes[c.run.name]
            if out.build_failed:
                ok, lines, first = False, [], "build failed: %s" % out.build_failed
            else:
                ok, lines, first = evaluate(c, lab, out)
            report.append("== %s (run %s)\n%s\n\n" % (c.name, c.run.name, "\n".join(lines or [first])))
            passed[c.name] = ok
            if ok:
                entry.update(outcome="OK", points=c.points)
                line = "%s: OK (%d/%d)" % (c.name, c.points, c.points)
            else:
                entry.update(outcome="FAIL", detail=first, log=out.log_path)
                if out.note:
                    entry["note"] = out.note
                line = "%s: FAIL (0/%d)\n    %s" % (c.name, c.points, first)
                if out.stopped and out.stopped not in first:
                    entry["stopped"] = out.stopped
                    line += "\n    the run was %s" % out.stopped
                if out.note:
                    line += "\n    %s" % out.note
                if out.log_path:
                    line += "\n    log: %s" % os.path.relpath(out.log_path)
        result["checks"].append(entry)
        result["score"] += entry["points"]
        say(line)
    say("Score: %d/%d" % (result["score"], result["total"]))
    with open(os.path.join(results, "report.txt"), "w") as f:
        f.write("".join(report))
    if result["score"] < result["total"]:
        say("every expectation, GOOD/MISSING/BAD: %s" % os.path.relpath(os.path.join(results, "report.txt")))
    with open(os.path.join(results, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(results, "results.json"), "w") as f:
        json.dump(gradescope_results(result, "".join(report)), f, indent=1)
    return result


def gradescope_results(result, report=""):
    """RESULT (grade()'s dict) in the form Gradescope's autograder reads
    (results.json): score, max_score, one test per check (name, score,
    max_score, output, visibility), a top-level output, and extra_data with
    what a regrade must reproduce (the kit's commit, Bochs' version)."""
    per_check = {}
    for block in report.split("== ")[1:]:
        title, _, body = block.partition("\n")
        per_check[re.sub(r" \(run [^)]*\)$", "", title.strip())] = body.strip()
    tests = []
    for c in result["checks"]:
        lines = ["%s (%d/%d)" % (c.get("outcome", "FAIL"), c["points"], c["max"])]
        for key in ("detail", "stopped", "note"):
            if c.get(key):
                lines.append(str(c[key]))
        if per_check.get(c["name"]):
            lines.append(per_check[c["name"]])
        tests.append({"name": c["name"], "score": c["points"], "max_score": c["max"],
                      "output": "\n".join(lines), "visibility": "visible"})
    meta = {k: result.get(k) for k in ("lab", "isolation", "kit_commit", "kit_modified",
                                       "bochs_version", "qemu_version")}
    notes = ["lab%s, graded by vmxlab %s (Bochs %s), %s" % (
        result.get("lab"), (result.get("kit_commit") or "?")[:12], result.get("bochs_version"),
        ISOLATION.get(result.get("isolation"), result.get("isolation")))]
    files = result.get("files", {})
    for f in files.get("missing", []):
        notes.append("%s is missing from the submission: the starter's version was used" % f)
    for f, why in sorted(files.get("refused", {}).items()):
        notes.append("%s refused: %s; the starter's version was used" % (f, why))
    if result.get("build", {}).get("error"):
        notes.append("build failed: %s" % result["build"]["error"])
    return {"score": result["score"], "max_score": result["total"], "output": "\n".join(notes),
            "visibility": "visible", "tests": tests, "extra_data": meta}
