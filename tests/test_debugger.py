"""Tests of `make bochs-dbg-labNN`: Bochs' debugger on a student's terminal.

Each test runs the make target the way a student does, under a
pseudo-terminal (Python's pty: make becomes the session leader of a new
terminal, as in an xterm or a tmux pane), and types into it: the prompt
must answer, `lb "lab_main"` must break by name (the payload's symbols are
loaded), `c` must stop at the VM-exit breakpoint the target turns on, `r`
must show registers, Ctrl-C must bring a running guest back to the prompt,
and `quit` must end it all with no Python traceback.
"""

import os
import pty
import re
import select
import signal
import time

import pytest

from lib.testlib import expect, expect_not, TestFailure, TOP

PROMPT = rb"<bochs:\d+> "


class Terminal:
    """A command running on a fresh pseudo-terminal; what it printed so far."""

    def __init__(self, argv, cwd=TOP):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:                       # the child: the terminal's session
            try:
                os.chdir(cwd)
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        self.out = b""
        self.eof = False
        self.seen = 0                           # read_until looks past this offset
        self.status = None

    def _read(self, seconds):
        """Read what the terminal printed within SECONDS; note its end."""
        r, _, _ = select.select([self.fd], [], [], seconds)
        if not r:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:                         # EIO: every writer has closed it
            data = b""
        if data:
            self.out += data
        else:
            self.eof = True

    def read_until(self, pattern, seconds, what):
        """Wait until PATTERN (bytes regex) appears after what was seen before."""
        rx = re.compile(pattern)
        end = time.monotonic() + seconds
        while True:
            m = rx.search(self.out, self.seen)
            if m:
                self.seen = m.end()
                return m
            left = end - time.monotonic()
            if left <= 0 or self.eof:
                raise TestFailure("waited %d s for %s (/%s/)%s; the terminal shows, at the end:\n%s"
                                  % (seconds, what, pattern.decode(),
                                     " but the terminal closed" if self.eof else "",
                                     self.text()[-3000:]))
            self._read(min(left, 0.5))

    def type(self, line):
        os.write(self.fd, line.encode())

    def wait(self, seconds):
        """The exit status once the command has ended, or None after SECONDS."""
        end = time.monotonic() + seconds
        while self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
            elif time.monotonic() >= end:
                break
            elif self.eof:
                time.sleep(0.1)
            else:
                self._read(0.2)
        return self.status

    def close(self):
        if self.status is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.wait(5)
        os.close(self.fd)

    def text(self):
        return self.out.decode("utf-8", "replace").replace("\r", "")


def session(argv, script):
    """Run ARGV on a terminal and play SCRIPT: (keys to type or None, pattern
    to wait for, seconds[, seconds to pause before typing]). Returns the
    Terminal (ended, or killed)."""
    t = Terminal(argv)
    try:
        for keys, pattern, seconds, *pause in script:
            if pause:
                time.sleep(pause[0])
            if keys is not None:
                t.type(keys)
            t.read_until(pattern, seconds, "%r to answer" % keys if keys else "the start")
        status = t.wait(30)
        if status is None:
            raise TestFailure("still running 30 s after the last command; terminal:\n%s"
                              % t.text()[-3000:])
    finally:
        t.close()
    expect_not(t.text(), r"Traceback|KeyboardInterrupt", "Python traceback on the terminal")
    return t


def test_debugger_make_bochs_dbg_lab04_under_a_terminal_prompt_break_by_symbol():
    """debugger: make bochs-dbg-lab04 under a terminal: prompt, break by symbol, VM exit, r, quit"""
    t = session(["make", "--no-print-directory", "bochs-dbg-lab04", "SOLUTION=1"], [
        (None, rb"vmexit switch break enabled", 120),
        (None, PROMPT, 30),
        ('lb "lab_main"\n', PROMPT, 30),
        ("c\n", rb"\(lab_main\+0\)", 60),            # the breakpoint by name
        (None, PROMPT, 30),
        ("c\n", rb"Caught VMEXIT breakpoint", 60),  # vmexitbp, typed by the target
        (None, rb"\(vmm_exit_entry\+0\)", 30),       # where a VM exit lands, by name
        (None, PROMPT, 30),
        ("r\n", rb"rax: [0-9a-f]{8}_[0-9a-f]{8}", 30),
        (None, PROMPT, 30),
        ("quit\n", rb"\n", 30),
    ])
    if t.status != 0:
        raise TestFailure("make bochs-dbg-lab04 exited %s after quit:\n%s" % (t.status, t.text()[-2000:]))
    expect(t.text(), r"^bochs-dbg: \d+ symbols of build/solutions/lab04/lab04\.elf loaded", "symbols")


@pytest.mark.kernel
def test_debugger_make_bochs_dbg_lab01_under_a_terminal_prompt_c_ctrl_c_back_to():
    """debugger: make bochs-dbg-lab01 under a terminal: prompt, c, Ctrl-C back to the prompt, c to the end"""
    t = session(["make", "--no-print-directory", "bochs-dbg-lab01", "SOLUTION=1"], [
        (None, PROMPT, 300),                          # make may build the module first
        ("c\n", rb"\n", 10),
        # The kernel boots for about 10 s: stop it after 3, as a student
        # stops a hung guest, look, and go on.
        ("\x03", PROMPT, 60, 3),
        ("r\n", rb"rip: [0-9a-f]{8}_[0-9a-f]{8}", 30),
        (None, PROMPT, 30),
        ("c\n", rb"Shutdown port: shutdown requested", 180),  # /init's power-off ends the run
    ])
    expect(t.text(), r"Next at t=\d+", "the stop after Ctrl-C")
    serial = os.path.join(TOP, "results", "bochs-dbg-lab01", "serial.txt")
    with open(serial, errors="replace") as f:
        log = f.read()
    expect(log, r"vmxlab: ---- cat /proc/vmxmsrs ----", "the module's output in %s" % serial)
    expect(log, r"^vmxlab: done\r?$", "the end of the run")
