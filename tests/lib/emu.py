"""emu.py - run an image in Bochs or QEMU, headless, bounded, and keep the evidence.

Every emulator run of the kit (tests, graders, `make run`, `make run-labNN`)
goes through this file, so every run has:

  * a wall-clock timeout (the process group is killed when it expires),
  * for Bochs, an emulated-tick watchdog as well: the debugger's `sba N`
    stops the run after N emulated instructions (Bochs counts one tick per
    instruction), which does not depend on how loaded the machine is,
  * a cap on the serial transcript (a guest that floods COM1 is stopped),
  * a results folder results/<name>/ holding the generated bochsrc, the
    command line, the COM1 transcript (serial.txt), the Bochs log (bochs.log)
    and Bochs' own stdout (stdout.txt), kept for a student to read.

Why the Bochs runs look the way they do (facts measured on these machines,
see docs/PLATFORM.md):

  * Debian's Bochs 2.7 has no `nogui` display. `rfb` with timeout=0 runs with
    no display but listens for VNC on 0.0.0.0:5900-5949, so each Bochs runs
    in a private network namespace (`unshare -n`; `unshare -rn` for non-root)
    where that port reaches no network and runs never compete for ports.
  * The internal debugger is compiled in: without an rc file Bochs stops at
    `<bochs:1>`. The rc file says `sba N` (watchdog), `c` (run), `quit`.
  * Sound is off: every bochsrc selects Bochs' dummy sound drivers. On a
    machine where ALSA cannot open a device, Bochs 2.7's sound mixer thread
    aborts the whole run at start-up (SIGABRT, `*** buffer overflow
    detected ***`) before the guest's first instruction.
  * The exit code of Bochs says nothing about pass or fail; callers decide
    from the serial transcript. What the exit code does say is whether the
    emulator died: an emulator killed by a signal before the guest printed
    its closing line, or one that exited before the guest printed anything,
    raises EmulatorCrashed, whose message names the emulator, the signal and
    the last lines of the emulator's own output. Nobody can read such a run
    as a quiet one.

The emulators are `bochs` and `qemu-system-x86_64` on the PATH; the
environment variables VMXLAB_BOCHS and VMXLAB_QEMU name other executables
(the crash tests point them at a stand-in that aborts).
"""

import fcntl
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import termios
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.environ.get("VMXLAB_RESULTS", os.path.join(TOP, "results"))

BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGABIOS_CANDIDATES = ("/usr/share/vgabios/vgabios.bin",
                      "/usr/share/bochs/VGABIOS-lgpl-latest")

DEFAULT_CPU = "corei7_haswell_4770"
DEFAULT_TICKS = 1_500_000_000   # about 25 s of wall time: Bochs runs ~60 M instr/s here
# Emulated instructions per emulated second. With `clock: sync=none` emulated
# time is derived from the instruction count, so ips sets how many
# instructions a busy-wait on a timer costs: the Bochs BIOS polls through its
# POST delays (and, in int 13h, through the floppy's ~11 ms per sector), each
# costing ips-proportional instructions, while a HLT wait (our boot sector
# waits for the floppy IRQ with HLT) is skipped almost for free. Measured
# with the DMA boot sector, median of 3: msrdump 0.36 s at 10 M vs 0.81 s at
# 60 M; lab03 0.46 s vs 1.14 s.
DEFAULT_IPS = 10_000_000
# With two CPUs (lab05) Bochs 2.7 skips no HLT wait: a halted CPU still takes
# its turn, so the BIOS's waits cost wall time in proportion to their ticks.
# A lower ips shortens them: lab05's default run, measured once each:
# 2.50 s at 10 M, 1.16 s at 4 M, 0.77 s at 2 M, 0.60 s at 1 M.
SMP_IPS = 2_000_000
# COM2 to a file (lab05's stats dumps and cores: binary, kept apart from COM1).
COM2_LINE = "com2: enabled=1, mode=file, dev=com2.bin"
SERIAL_CAP = 1 << 20            # bytes of COM1 output kept before a run is stopped
# The port of QEMU's isa-debug-exit device, where the guest writes to end the
# run: the platform list common/platform/emu_exit.def (C and NASM use it too).
with open(os.path.join(TOP, "common", "platform", "emu_exit.def")) as _f:
    PORT_QEMU_EXIT = int(re.search(r"^PLATFORM_CONST\(PORT_QEMU_EXIT,\s*(\w+)",
                                   _f.read(), re.M).group(1), 0)
# The line both the bare-metal runtime (common/rt/start.c) and the kernel
# labs' /init (common/kernel/init) print last: a run that printed it is over.
CLOSING_LINE = "vmxlab: done"
# Lines of the emulator's own output shown with a crash.
STDERR_TAIL = 12
# The first line of every crash report (Run.classify writes them): how a
# tool that reads another tool's output (a grader reading kboot's) finds one.
CRASH_LINE = re.compile(r"((?:Bochs|QEMU) (?:crashed \(SIG\w+|exited \(status [^)]*\)|"
                        r"was stopped by its [\w-]+ limit).*before the guest printed.*)$", re.M)

_names_lock = threading.Lock()
_claims = {}                    # claimed name -> open lock file (held for the run)


class EmulatorMissing(RuntimeError):
    """Bochs or QEMU is not installed: `make deps` installs them."""


class EmulatorCrashed(RuntimeError):
    """The emulator died (a signal) before the guest printed its closing line,
    or exited before the guest printed anything. str() is the whole report:
    what happened, where the run's files are, the emulator's last lines.
    .run is the Run, for a caller that wants the partial transcript."""

    def __init__(self, run):
        super().__init__(run.crash_report())
        self.run = run

    def __reduce__(self):               # picklable: tests share runs across processes
        return (EmulatorCrashed, (self.run,))


def bochs_binary():
    """The Bochs executable: $VMXLAB_BOCHS, else `bochs` on the PATH."""
    return os.environ.get("VMXLAB_BOCHS") or "bochs"


def qemu_binary():
    """The QEMU executable: $VMXLAB_QEMU, else `qemu-system-x86_64`."""
    return os.environ.get("VMXLAB_QEMU") or "qemu-system-x86_64"


def signal_of(code):
    """The signal number a process died of, from its exit status: negative
    for a direct child (Python's convention), 128+N when a shell or a
    wrapper such as timeout(1) reports it. None for a normal exit."""
    if code is None:
        return None
    if code < 0:
        return -code
    if 128 < code < 128 + 65 and code - 128 in _FATAL_SIGNALS:
        return code - 128
    return None


_FATAL_SIGNALS = {int(getattr(signal, n)) for n in (
    "SIGABRT", "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP", "SIGSYS", "SIGKILL",
    "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGPIPE", "SIGXCPU", "SIGXFSZ")}


def signal_name(n):
    """SIGABRT, SIGSEGV, ..."""
    try:
        name = signal.Signals(n).name
    except ValueError:
        return "signal %d" % n
    return name


class Run:
    """What one emulator run left behind."""

    def __init__(self, name, directory):
        self.name = name
        self.dir = directory
        self.serial = ""
        self.log = ""
        self.stdout = ""
        self.exit_code = None
        self.timed_out = False      # the wall-clock timeout killed it
        self.watchdog = False       # Bochs stopped at the emulated-tick watchdog
        self.flooded = False        # the serial cap stopped it
        self.wall = 0.0
        self.command = []
        self.emulator = "the emulator"   # "Bochs" or "QEMU", for messages
        self.com2 = None            # run_bochs(com2=True): the COM2 file
        self.crash = None           # why the emulator died early (see classify), or None
        self.notes = []             # things worth knowing that fail nothing

    @property
    def ticks(self):
        """Bochs' emulated tick count on the last line of its log (the line of
        the exit): one tick per instruction, plus the ticks Bochs passes over
        while the CPU waits in HLT, which cost almost no wall time. None for
        a QEMU run or a log without tick stamps."""
        found = re.findall(r"^(\d{6,})[a-z]\[", self.log, re.M)
        return int(found[-1]) if found else None

    @property
    def ended_cleanly(self):
        return not (self.timed_out or self.watchdog or self.flooded or self.crash)

    def why_stopped(self):
        if self.crash:
            return self.crash
        if self.timed_out:
            return "stopped by the wall-clock timeout"
        if self.watchdog:
            return "stopped by the emulated-tick watchdog"
        if self.flooded:
            return "stopped: serial output exceeded its cap"
        return "exited with status %s" % self.exit_code

    def stderr_tail(self, n=STDERR_TAIL):
        """The last N non-empty lines of the emulator's own output (stdout and
        stderr, results/<name>/stdout.txt)."""
        lines = [l.rstrip() for l in self.stdout.splitlines() if l.strip()]
        return lines[-n:]

    def output_tail(self):
        """Where the emulator's own output is, and its last lines, indented."""
        where = os.path.relpath(os.path.join(self.dir, "stdout.txt"))
        tail = self.stderr_tail()
        return "  the output of %s itself (%s), last lines:\n%s" % (
            self.emulator, where, "\n".join("    | " + l for l in tail) if tail else "    | (nothing)")

    def crash_report(self):
        """The crash, where the evidence is, and the emulator's last lines."""
        return "%s\n%s" % (self.crash, self.output_tail())

    def classify(self, closing=CLOSING_LINE):
        """Decide from the exit status and the transcript whether the emulator
        crashed (sets .crash) and record a late signal as a note.

        A run we stopped ourselves (timeout, serial cap) or that Bochs'
        watchdog stopped is not a crash: why_stopped() says what stopped it.
        Otherwise:
          * killed by a signal before the guest printed CLOSING -> crash;
          * killed by a signal after it (Bochs 2.7 sometimes segfaults on
            exit once all output is written) -> a note, nothing fails;
          * exited, by itself, before the guest printed anything and
            before it ran at all (guest_ran) -> crash.
        """
        if self.timed_out or self.flooded or self.watchdog:
            return
        sig = signal_of(self.exit_code)
        status = self.exit_code if self.exit_code is None or self.exit_code >= 0 \
            else 128 + sig
        closed = bool(closing) and re.search(r"^%s\r?$" % re.escape(closing), self.serial, re.M)
        if sig:
            what = "%s crashed (%s, exit %d)" % (self.emulator, signal_name(sig), status)
            if sig in (signal.SIGXCPU, signal.SIGXFSZ):
                what = "%s was stopped by its %s limit (%s, exit %d)" % (
                    self.emulator, "CPU-time" if sig == signal.SIGXCPU else "file-size",
                    signal.Signals(sig).name, status)
            if closed:
                self.notes.append("%s after the guest printed %r: the run's output is complete"
                                  % (what, closing))
            elif self.serial.strip():
                last = self.serial.strip().splitlines()[-1].strip()[:120]
                self.crash = "%s before the guest printed %r (its last line: %r)" % (
                    what, closing, last)
            else:
                self.crash = "%s before the guest printed anything" % what
        elif not self.serial.strip() and not self.guest_ran():
            self.crash = "%s exited (status %s) before the guest printed anything" % (
                self.emulator, status)
        self._write_status()

    def guest_ran(self):
        """Did the emulator get as far as running the guest? A guest may end
        without printing (a triple fault before its first line, which the
        log names), but an emulator that stops at its own configuration or
        start-up error never advanced emulated time (Bochs: no tick past 0
        in its log) or said why on its own output (QEMU, exit status not 0)."""
        if self.emulator == "Bochs":
            return bool(self.ticks)
        return self.exit_code == 0 or not self.stdout.strip()

    def _write_status(self):
        """results/<name>/status.txt: how the run ended, in words."""
        try:
            with open(os.path.join(self.dir, "status.txt"), "w") as f:
                f.write("%s, %.2f s wall\n" % (self.why_stopped(), self.wall))
                for n in self.notes:
                    f.write("note: %s\n" % n)
        except OSError:
            pass

    def __repr__(self):
        return "<Run %s: %s, %.2fs, %s>" % (self.name, self.why_stopped(), self.wall, self.dir)


def _claim_dir(name, results=None):
    """results/<name>/, emptied, for this run alone.

    A name in use by a concurrent run, in this process or another (two
    `make` commands, a grader beside a test run), gets a suffix: each claim
    holds an flock on results/.claims/<name> until _release."""
    root = results or RESULTS
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    os.makedirs(os.path.join(root, ".claims"), exist_ok=True)
    with _names_lock:
        n = 1
        while True:
            candidate = safe if n == 1 else "%s.%d" % (safe, n)
            n += 1
            d = os.path.join(root, candidate)
            if d in _claims:
                continue
            f = open(os.path.join(root, ".claims", candidate), "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            _claims[d] = f
            break
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def _release(d):
    with _names_lock:
        f = _claims.pop(d, None)
    if f:
        f.close()                   # drops the flock


def _read(path, limit=None):
    try:
        with open(path, "rb") as f:
            data = f.read(limit) if limit else f.read()
    except FileNotFoundError:
        return ""
    return data.decode("utf-8", "replace")


def _need_binary(path, package_hint):
    """The executable PATH (a name on the PATH or a path), or EmulatorMissing."""
    found = shutil.which(path)
    if not found:
        raise EmulatorMissing("%s is not installed (or not executable); run `make deps`"
                              % (path if path == package_hint else "%s (from VMXLAB_*)" % path))
    return found


def _checked(run, closing):
    """Classify the finished run; raise EmulatorCrashed if it crashed."""
    run.classify(closing)
    if run.crash:
        raise EmulatorCrashed(run)
    return run


def _isolation_prefix():
    """The command prefix that gives Bochs a private network namespace."""
    if not shutil.which("unshare"):
        raise EmulatorMissing("unshare (util-linux) is needed to isolate Bochs' VNC port; run `make deps`")
    if os.environ.get("VMXLAB_SANDBOX"):
        return []       # inside a grading sandbox: its network is its own already
    if os.geteuid() == 0:
        return ["unshare", "-n"]
    global _userns_ok
    if _userns_ok is None:
        p = subprocess.run(["unshare", "-r", "-n", "true"], capture_output=True, text=True, timeout=30)
        _userns_ok = p.returncode == 0 or p.stderr.strip() or "exit %d" % p.returncode
    if _userns_ok is not True:
        raise EmulatorMissing(
            "Bochs runs in a network namespace of its own (its VNC port must reach no network), "
            "and as a user other than root that needs an unprivileged user namespace, which this "
            "machine refuses (unshare -r -n: %s); run as root, or allow them with "
            "`sysctl kernel.unprivileged_userns_clone=1` (Debian) / "
            "`sysctl user.max_user_namespaces=15000`" % _userns_ok)
    return ["unshare", "-r", "-n"]


_userns_ok = None       # can this (non-root) user make a user namespace? None: not asked yet


def _vgabios():
    for p in VGABIOS_CANDIDATES:
        if os.path.exists(p):
            return p
    raise EmulatorMissing("no VGA BIOS image (%s); run `make deps`" % " or ".join(VGABIOS_CANDIDATES))


def bochsrc_text(cpu, boot, image_name, megs=256, extra=(), interactive=False, ips=DEFAULT_IPS,
                 cpus=1):
    """The bochsrc for one run; paths are relative to the run folder."""
    if boot == "floppy":
        media = ["floppya: 1_44=%s, status=inserted" % image_name, "boot: floppy"]
    elif boot == "cdrom":
        media = ["ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
                 "ata0-master: type=cdrom, path=%s, status=inserted" % image_name,
                 "boot: cdrom"]
    else:
        raise ValueError("boot must be 'floppy' or 'cdrom', not %r" % boot)
    lines = [
        "# Generated by tests/lib/emu.py for one run; see docs/PLATFORM.md.",
        "megs: %d" % megs,
        # reset_on_triple_fault=0 + panic=fatal: a triple fault ends the run
        # with a log line instead of rebooting into the BIOS forever.
        "cpu: model=%s, count=%d, ips=%d, reset_on_triple_fault=0, ignore_bad_msrs=1" % (cpu, cpus, ips),
        "romimage: file=%s" % BIOS,
        "vgaromimage: file=%s" % _vgabios(),
        *media,
        'display_library: rfb, options="timeout=0"',
        "com1: enabled=1, mode=file, dev=serial.txt",
        "port_e9_hack: enabled=1",
        "log: bochs.log",
        "panic: action=fatal",
        "error: action=report",
        "info: action=report",
        "debug: action=ignore",
        # Emulated time follows the instruction count: runs are repeatable.
        "clock: sync=none, time0=946684800",
        # No sound: with ALSA's driver, Bochs 2.7 aborts at start-up on a
        # machine without a sound device (module docstring).
        "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy",
        "speaker: enabled=0",
    ]
    if interactive:
        lines.append("magic_break: enabled=1")
    lines.extend(extra)
    return "\n".join(lines) + "\n"


def _wait(proc, run, timeout, serial_path, echo, cap=SERIAL_CAP):
    """Wait for proc; enforce the timeout and the serial cap; echo COM1 live."""
    start = time.monotonic()
    shown = 0
    while True:
        try:
            proc.wait(timeout=0.05)
            finished = True
        except subprocess.TimeoutExpired:
            finished = False
        size = os.path.getsize(serial_path) if os.path.exists(serial_path) else 0
        if echo and size > shown:
            with open(serial_path, "rb") as f:
                f.seek(shown)
                chunk = f.read(min(size, cap) - shown) if shown < cap else b""
            sys.stdout.write(chunk.decode("utf-8", "replace"))
            sys.stdout.flush()
            shown = size
        if finished:
            break
        if size > cap:
            run.flooded = True
        elif time.monotonic() - start > timeout:
            run.timed_out = True
        else:
            continue
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        break
    run.wall = time.monotonic() - start
    run.exit_code = proc.returncode


def _launch(run, cmd, timeout, echo, cap, sandbox=None, isolate=True):
    """Run cmd in run.dir, bounded (_wait), recording the command line in
    `cmd`, the emulator's own output in stdout.txt, and reading COM1
    (serial.txt) and that output back into run.

    ISOLATE puts the emulator in a network namespace of its own
    (_isolation_prefix: Bochs' VNC port). SANDBOX (tests/lib/sandbox.py, for
    the graders): the emulator runs in that box instead, which may write
    only the run folder and has a network of its own."""
    d = run.dir
    launch = None
    if sandbox:
        sandbox.give(d)
        launch = sandbox.launch(cmd, cwd=d)
    elif isolate:
        cmd = _isolation_prefix() + cmd
    run.command = launch.argv if launch else cmd
    with open(os.path.join(d, "cmd"), "w") as f:
        f.write("cd %s && %s\n" % (shlex.quote(d), " ".join(shlex.quote(c) for c in run.command)))
    with open(os.path.join(d, "stdout.txt"), "wb") as out:
        try:
            proc = subprocess.Popen(run.command, cwd=d, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    pass_fds=launch.fds if launch else ())
        finally:
            if launch:
                launch.close()
        _wait(proc, run, timeout, os.path.join(d, "serial.txt"), echo, cap)
    run.serial = _read(os.path.join(d, "serial.txt"), cap)
    run.stdout = _read(os.path.join(d, "stdout.txt"), SERIAL_CAP)


def run_bochs(image, cpu=DEFAULT_CPU, name=None, timeout=30, ticks=DEFAULT_TICKS,
              boot="floppy", megs=256, rc_extra=(), bochsrc_extra=(), echo=False,
              results=None, serial_cap=SERIAL_CAP, ips=None, closing=CLOSING_LINE,
              emulator=None, sandbox=None, cpus=1, com2=False):
    """Boot `image` in Bochs headless and return a Run; raise EmulatorCrashed
    when Bochs dies (Run.classify says when).

    image     floppy image (boot="floppy") or ISO (boot="cdrom")
    cpu       Bochs CPU model (`cpu: model=`)
    timeout   wall-clock seconds before the run is killed
    ticks     emulated-instruction watchdog (None: no watchdog)
    rc_extra  debugger commands run before `c` (e.g. ["vmexitbp"])
    echo      copy COM1 to our stdout as it arrives (for `make run`)
    ips       emulated instructions per emulated second (default: DEFAULT_IPS,
              SMP_IPS with cpus > 1)
    serial_cap  bytes of COM1 output after which the run is stopped (Bochs
              paces the UART at 115200 baud in emulated time: ~11 KB/s of
              emulated time, so 1 MiB takes ~90 s of wall time)
    closing   the guest's last line: a signal after it is not a crash
    emulator  the Bochs executable (default: bochs_binary())
    sandbox   a tests/lib/sandbox.py Sandbox to run Bochs in (the graders)
    com2      COM2 on as well, written to results/<name>/com2.bin (lab05's
              binary dumps); Run.com2 is that file's path
    """
    bochs = _need_binary(emulator or bochs_binary(), "bochs")
    if not os.path.exists(image):
        raise FileNotFoundError("no image %s: build it first (make all)" % image)
    d = _claim_dir(name or "bochs-" + os.path.basename(image), results)
    run = Run(os.path.basename(d), d)
    run.emulator = "Bochs"
    try:
        disk = "disk.img" if boot == "floppy" else "cd.iso"
        if boot == "floppy":
            shutil.copyfile(image, os.path.join(d, disk))   # Bochs may write to a floppy
        else:
            os.symlink(os.path.abspath(image), os.path.join(d, disk))
        with open(os.path.join(d, "bochsrc"), "w") as f:
            if ips is None:
                ips = DEFAULT_IPS if cpus == 1 else SMP_IPS
            extra = list(bochsrc_extra) + ([COM2_LINE] if com2 else [])
            f.write(bochsrc_text(cpu, boot, disk, megs, extra, ips=ips, cpus=cpus))
        run.com2 = os.path.join(d, "com2.bin") if com2 else None
        rc = list(rc_extra)
        if ticks:
            rc.append("sba %d" % ticks)
        rc += ["c", "quit"]
        with open(os.path.join(d, "debugger.rc"), "w") as f:
            f.write("\n".join(rc) + "\n")
        _launch(run, [bochs, "-q", "-f", "bochsrc", "-rc", "debugger.rc"],
                timeout, echo, serial_cap, sandbox)
        run.log = _read(os.path.join(d, "bochs.log"), 8 * SERIAL_CAP)
        # `sba` reached: the debugger says so on its stdout.
        if ticks and "Caught time breakpoint" in run.stdout:
            run.watchdog = True
        # The disk copy (or the ISO's link) goes: a results folder keeps
        # evidence, not media, and graders copy these folders around.
        os.unlink(os.path.join(d, disk))
        return _checked(run, closing)
    finally:
        _release(d)


def symbol_file(elf, out):
    """Write Bochs' symbol file for ELF to OUT: one `0xADDRESS name` line per
    function or object symbol (from nm), which the debugger's `ldsym global`
    loads, so that `lb lab_main` and the disassembly speak the payload's
    names. Returns the number of symbols written."""
    p = subprocess.run(["nm", "--defined-only", elf], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise FileNotFoundError("nm could not read %s: %s" % (elf, p.stderr.strip()))
    n = 0
    with open(out, "w") as f:
        for line in p.stdout.splitlines():
            parts = line.split()
            # address, type letter, name; text (T/t), data (D/d/B/b/R/r)
            if len(parts) == 3 and parts[1] in "TtDdBbRrWw" and not parts[2].startswith("."):
                f.write("0x%s %s\n" % (parts[0], parts[2]))
                n += 1
    return n


def _foreground_child(tty):
    """preexec_fn for the debugger: put the child in a process group of its
    own and make it the terminal's foreground group, as a shell does for a
    job. Then Ctrl-C (SIGINT) reaches Bochs alone, whose debugger returns to
    its prompt, and not make or this script. SIGTTOU is ignored around
    tcsetpgrp (a background group may not take the terminal otherwise) and
    restored before exec."""
    def setup():
        os.setpgid(0, 0)
        old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        try:
            os.tcsetpgrp(tty, os.getpgrp())
        finally:
            signal.signal(signal.SIGTTOU, old)
    return setup


def bochs_interactive(image, cpu=DEFAULT_CPU, boot="floppy", megs=256, rc_extra=(),
                      timeout=3600, name=None, elf=None, cpus=1, com2=False):
    """Bochs with its debugger on this terminal (make bochs-dbg-labNN).

    rc_extra commands run first (e.g. vmexitbp), then the prompt is yours:
    Bochs reads the terminal, Ctrl-C stops the guest and returns to the
    prompt, `quit` ends the run. ELF, if given, is the payload's ELF: its
    symbols are loaded (`ldsym`), so `lb lab_main` breaks by name.
    COM1 still goes to results/<name>/serial.txt; `tail -f` it in another
    terminal, or read it after `quit`. The run ends after TIMEOUT seconds of
    wall time at the latest. Returns Bochs' exit status.
    """
    bochs = _need_binary(bochs_binary(), "bochs")
    d = _claim_dir(name or "bochs-dbg", None)
    try:
        disk = "disk.img" if boot == "floppy" else "cd.iso"
        if boot == "floppy":
            shutil.copyfile(image, os.path.join(d, disk))
        else:
            os.symlink(os.path.abspath(image), os.path.join(d, disk))
        with open(os.path.join(d, "bochsrc"), "w") as f:
            f.write(bochsrc_text(cpu, boot, disk, megs, [COM2_LINE] if com2 else [], interactive=True,
                                 cpus=cpus, ips=DEFAULT_IPS if cpus == 1 else SMP_IPS))
        rc = list(rc_extra)
        if elf:
            count = symbol_file(elf, os.path.join(d, "symbols.txt"))
            rc.insert(0, 'ldsym global "symbols.txt"')
            print("bochs-dbg: %d symbols of %s loaded (ldsym): try `lb lab_main`"
                  % (count, os.path.relpath(elf)))
        with open(os.path.join(d, "debugger.rc"), "w") as f:
            f.write("".join(c + "\n" for c in rc))
        cmd = _isolation_prefix() + [bochs, "-q", "-f", "bochsrc"] + \
            (["-rc", "debugger.rc"] if rc else [])
        with open(os.path.join(d, "cmd"), "w") as f:
            f.write("cd %s && %s\n" % (shlex.quote(d), " ".join(shlex.quote(c) for c in cmd)))
        print("bochs-dbg: serial output goes to %s/serial.txt; `c` runs, Ctrl-C stops, `quit` ends"
              % os.path.relpath(d), flush=True)
        return _interactive(cmd, d, timeout)
    finally:
        _release(d)


def _interactive(cmd, cwd, timeout):
    """Run CMD on this terminal as the foreground job; bounded by TIMEOUT."""
    tty = sys.stdin.fileno()
    is_tty = os.isatty(tty)
    saved = termios.tcgetattr(tty) if is_tty else None
    # Not a terminal (input from a pipe): one process group; a Ctrl-C meant
    # for Bochs must not end this script, so SIGINT only interrupts the wait.
    old_int = signal.signal(signal.SIGINT, lambda *a: None)
    proc = subprocess.Popen(cmd, cwd=cwd, preexec_fn=_foreground_child(tty) if is_tty else None)
    start = time.monotonic()
    try:
        while True:
            try:
                return proc.wait(timeout=max(0.1, timeout - (time.monotonic() - start)))
            except subprocess.TimeoutExpired:
                print("\nbochs-dbg: %d s are up; the run is ended" % timeout, file=sys.stderr)
                os.killpg(proc.pid, signal.SIGKILL) if is_tty else proc.kill()
                return proc.wait()
            except InterruptedError:
                continue
    finally:
        if is_tty:
            old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            try:
                os.tcsetpgrp(tty, os.getpgrp())     # the terminal is ours again
                termios.tcsetattr(tty, termios.TCSADRAIN, saved)
            finally:
                signal.signal(signal.SIGTTOU, old)
        signal.signal(signal.SIGINT, old_int)


def run_qemu(name, floppy=None, kernel=None, initrd=None, append=None, timeout=30,
             memory="256M", cpu="max", kvm=False, extra=(), echo=False, results=None,
             closing=CLOSING_LINE, emulator=None, sandbox=None):
    """Boot a floppy image, or a kernel + initrd, in QEMU (TCG unless kvm) headless.

    The guest ends the run through the isa-debug-exit device at port
    PORT_QEMU_EXIT (QEMU exits with status (value << 1) | 1). COM1 goes to
    serial.txt.
    Raises EmulatorCrashed like run_bochs; EMULATOR replaces qemu_binary().
    """
    qemu = _need_binary(emulator or qemu_binary(), "qemu-system-x86_64")
    d = _claim_dir(name, results)
    run = Run(os.path.basename(d), d)
    run.emulator = "QEMU"
    try:
        cmd = [qemu, "-m", memory, "-display", "none", "-monitor", "none",
               "-serial", "file:serial.txt", "-nic", "none", "-no-reboot",
               "-device", "isa-debug-exit,iobase=%#x,iosize=0x04" % PORT_QEMU_EXIT]
        cmd += ["-accel", "kvm", "-cpu", "host"] if kvm else ["-accel", "tcg", "-cpu", cpu]
        if floppy:
            shutil.copyfile(floppy, os.path.join(d, "disk.img"))
            cmd += ["-drive", "if=floppy,format=raw,file=disk.img", "-boot", "a"]
        if kernel:
            cmd += ["-kernel", os.path.abspath(kernel)]
        if initrd:
            cmd += ["-initrd", os.path.abspath(initrd)]
        if append:
            cmd += ["-append", append]
        cmd += list(extra)
        _launch(run, cmd, timeout, echo, SERIAL_CAP, sandbox, isolate=False)
        if floppy:
            os.unlink(os.path.join(d, "disk.img"))
        return _checked(run, closing)
    finally:
        _release(d)


def main(argv=None):
    """Command line for make targets: emu.py bochs|qemu|bochs-dbg IMAGE [options]."""
    import argparse
    ap = argparse.ArgumentParser(prog="emu.py", description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["bochs", "qemu", "bochs-dbg"])
    ap.add_argument("image")
    ap.add_argument("--cpu", default=DEFAULT_CPU)
    ap.add_argument("--cpus", type=int, default=1, help="Bochs CPUs (cpu: count=N); lab05 uses 2")
    ap.add_argument("--boot", default="floppy", choices=["floppy", "cdrom"])
    ap.add_argument("--name")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--ticks", type=int, default=DEFAULT_TICKS)
    ap.add_argument("--rc", action="append", default=[], help="debugger command (bochs-dbg)")
    ap.add_argument("--kvm", action="store_true")
    ap.add_argument("--elf", help="bochs-dbg: the payload's ELF, whose symbols the debugger loads")
    ap.add_argument("--com2", action="store_true", help="COM2 to results/<name>/com2.bin (lab05)")
    a = ap.parse_args(argv)
    try:
        if a.mode == "bochs-dbg":
            return bochs_interactive(a.image, cpu=a.cpu, boot=a.boot, rc_extra=a.rc, name=a.name,
                                     elf=a.elf, cpus=a.cpus, com2=a.com2)
        if a.mode == "bochs":
            run = run_bochs(a.image, cpu=a.cpu, boot=a.boot, name=a.name, timeout=a.timeout,
                            ticks=a.ticks, echo=True, cpus=a.cpus, com2=a.com2)
        else:
            run = run_qemu(a.name or "qemu-" + os.path.basename(a.image), floppy=a.image,
                           timeout=a.timeout, kvm=a.kvm, echo=True)
    except (EmulatorMissing, EmulatorCrashed, FileNotFoundError) as e:
        print("\nemu: error: %s" % e, file=sys.stderr)
        return 1
    if not run.serial.endswith("\n"):
        print()
    if not run.ended_cleanly:
        print("emu: the run was %s; transcript and logs: %s" % (run.why_stopped(), os.path.relpath(run.dir)),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
