"""Tests of the front door: `make run` (tests/demo.py) in the kit and in the
student handout, and `make test` in the handout.

Every test runs make as a newcomer would, in a subprocess, and reads what
it printed: the kit's demo must show each step's lines and exit 0, stop
with exit 1 naming the step when Bochs dies, and the handout, unpacked in a
temporary folder, must run its own two commands.
"""

import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading

from lib.testlib import expect, expect_not, once, TestFailure, TOP

ABORTING_BOCHS = """#!/bin/sh
# A Bochs that aborts at start-up, as Debian's Bochs 2.7 did in its sound
# mixer on a machine without a sound device.
echo 'ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default' >&2
echo '*** buffer overflow detected ***: terminated' >&2
kill -ABRT $$
"""


def make(*args, cwd=TOP, env=None, timeout=600):
    return subprocess.run(["make", "--no-print-directory"] + list(args), cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, **(env or {})))


def test_demo_make_run_runs_its_four_steps_each_showing_its_lines_and_exits_0():
    """demo: make run runs its four steps, each showing its lines, and exits 0"""
    p = make("run", timeout=300)
    if p.returncode != 0:
        raise TestFailure("make run exited %d:\n%s" % (p.returncode, p.stderr[-3000:]))
    for n in (1, 2, 3, 4):
        expect(p.stdout, r"^Step %d of 4: " % n, "step %d" % n)
    expect(p.stdout, r"^0x480 IA32_VMX_BASIC 0x[0-9a-f]{16}$", "step 1's MSR line")
    expect(p.stdout, r"^VMLAUNCH: ok$", "step 2's VM entry")
    expect(p.stdout, r"^guest smsw: 0x[0-9a-f]{8}$", "step 3's smsw line")
    expect(p.stdout, r"^\[vcpu0 longmode\] longmode: hello from 64-bit long mode", "step 4's long-mode guest")
    expect(p.stdout, r"^host: vCPU 1: done$", "step 4's second CPU")
    expect_not(p.stderr, r"^demo: ", "demo complaint")
    expect_not(p.stdout, r"kernel: building|linux-source", "kernel build in make run")


def test_demo_make_run_with_a_bochs_that_aborts_exits_non_zero_naming_the_step():
    """demo: make run with a Bochs that aborts exits non-zero, naming the step and the abort"""
    fake = os.path.join(tempfile.mkdtemp(prefix="vmxlab-demo-"), "bochs")
    with open(fake, "w") as f:
        f.write(ABORTING_BOCHS)
    os.chmod(fake, 0o755)
    p = make("run", env={"VMXLAB_BOCHS": fake}, timeout=300)
    shutil.rmtree(os.path.dirname(fake))
    if p.returncode == 0:
        raise TestFailure("make run exited 0 with an aborting Bochs:\n%s" % p.stdout[-2000:])
    expect(p.stderr, r"^demo: step 1 \(The VMX capability MSRs\) failed: Bochs crashed "
           r"\(SIGABRT, exit 134\) before the guest printed anything$", "the failed step")
    expect(p.stderr, r"^    \| \*\*\* buffer overflow detected \*\*\*: terminated$",
           "the abort in the stderr tail")
    expect(p.stderr, r"^demo: stopped at step 1 of 4$", "the stop")


# The handout's commands share its build/: one at a time.
_handout_lock = threading.Lock()


def handout():
    """The handout, unpacked once in a temporary folder: its path."""
    def unpack():
        work = tempfile.mkdtemp(prefix="vmxlab-handout-")
        tgz = os.path.join(work, "handout.tar.gz")
        p = subprocess.run(["python3", "tools/starters/starters.py", "handout", tgz], cwd=TOP,
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise TestFailure("make handout failed:\n%s%s" % (p.stdout, p.stderr))
        with tarfile.open(tgz) as tar:
            tar.extractall(work)
        # The packages are installed: the handout's `make deps` needs not check.
        top = os.path.join(work, "vmxlab")
        os.makedirs(os.path.join(top, "build"), exist_ok=True)
        for stamp in os.listdir(os.path.join(TOP, "build")):
            if stamp.startswith(".deps-"):
                open(os.path.join(top, "build", stamp), "w").close()
        return top
    return once("handout:unpacked", unpack)


def test_handout_its_readme_is_the_handout_s_and_it_holds_no_solutions():
    """handout: its README is the handout's, and it holds no solutions/"""
    top = handout()
    if os.path.exists(os.path.join(top, "solutions")):
        raise TestFailure("the handout has a solutions/ folder")
    with open(os.path.join(top, "README.md")) as f:
        readme = f.read()
    expect(readme, r"^This is the student handout of vmxlab", "the handout's own README")
    expect_not(readme, r"make grade-class|SOLUTION=1", "an instructor's command in the handout README")


def test_handout_make_run_boots_the_student_s_tree_says_which_steps_wait_for_wh():
    """handout: make run boots the student's tree, says which steps wait for which TODO, exits 0"""
    top = handout()
    with _handout_lock:
        p = make("run", cwd=top, timeout=300)
    if p.returncode != 0:
        raise TestFailure("make run in the handout exited %d:\n%s\n%s"
                          % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    expect(p.stdout, r"^0x480 IA32_VMX_BASIC 0x[0-9a-f]{16}$", "step 1's MSR line")
    expect(p.stdout, r"boots build/lab03/lab03\.img;", "step 2 boots the student's lab03")
    expect(p.stdout, r"^demo: step 2 \(lab03\) waits for your TODO\(lab03\) work in lab03-vmcs-setup/",
           "step 2 waiting for TODO(lab03)")
    expect(p.stdout, r"^demo: step 3 \(lab04\) waits for your TODO\(lab04\) work in lab04-vm86-guest/",
           "step 3 waiting for TODO(lab04)")
    expect(p.stdout, r"^demo: step 4 \(lab05\) waits for your TODO\(lab05\) work in lab05-ept/",
           "step 4 waiting for TODO(lab05)")
    expect(p.stdout, r"^demo: every step that can run ran; step\(s\) 2, 3, 4 wait for your lab work$",
           "the summary")
    expect_not(p.stdout + p.stderr, r"cannot stat|No rule to make target|Error \d", "a build error")


def test_handout_make_test_runs_the_kit_s_self_tests_that_need_no_solution_harn():
    """handout: make test runs the kit's self-tests that need no solution (harness group)"""
    top = handout()
    with _handout_lock:
        p = make("test", "TESTS=harness", cwd=top, timeout=600)
    # pytest's closing line, e.g. "===== 14 passed in 9.10s ====="
    m = expect(p.stdout, r"^=+ (\d+) passed(, \d+ \w+)* in [\d.]+s", "pytest's summary line")
    if p.returncode != 0 or re.search(r"\d+ (failed|error)", m.group(0)) or int(m.group(1)) < 10:
        raise TestFailure("make test in the handout: exit %d, %s\n%s\n%s"
                          % (p.returncode, m.group(0), p.stdout[-3000:], p.stderr[-2000:]))
    expect_not(p.stdout + p.stderr, r"cannot stat", "a solutions/ file the handout lacks")
