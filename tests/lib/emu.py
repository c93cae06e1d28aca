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
see ../shared/PLATFORM.md):

  * Debian's Bochs 2.7 has no `nogui` display. `rfb` with timeout=0 runs with
    no display but listens for VNC on 0.0.0.0:5900-5949, so each Bochs runs
    in a private network namespace (`unshare -n`; `unshare -rn` for non-root)
    where that port reaches no network and runs never compete for ports.
  * The internal debugger is compiled in: without an rc file Bochs stops at
    `<bochs:1>`. The rc file says `sba N` (watchdog), `c` (run), `quit`.
  * The exit code of Bochs says nothing about pass or fail; callers decide
    from the serial transcript.
"""

import fcntl
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
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
SERIAL_CAP = 1 << 20            # bytes of COM1 output kept before a run is stopped

_names_lock = threading.Lock()
_claims = {}                    # claimed name -> open lock file (held for the run)


class EmulatorMissing(RuntimeError):
    """Bochs or QEMU is not installed: `make deps` installs them."""


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
        return not (self.timed_out or self.watchdog or self.flooded)

    def why_stopped(self):
        if self.timed_out:
            return "stopped by the wall-clock timeout"
        if self.watchdog:
            return "stopped by the emulated-tick watchdog"
        if self.flooded:
            return "stopped: serial output exceeded its cap"
        return "exited with status %s" % self.exit_code

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


def _isolation_prefix():
    """The command prefix that gives Bochs a private network namespace."""
    if not shutil.which("unshare"):
        raise EmulatorMissing("unshare (util-linux) is needed to isolate Bochs' VNC port; run `make deps`")
    return ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-r", "-n"]


def _vgabios():
    for p in VGABIOS_CANDIDATES:
        if os.path.exists(p):
            return p
    raise EmulatorMissing("no VGA BIOS image (%s); run `make deps`" % " or ".join(VGABIOS_CANDIDATES))


def bochsrc_text(cpu, boot, image_name, megs=256, extra=(), interactive=False, ips=DEFAULT_IPS):
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
        "# Generated by tests/lib/emu.py for one run; see ../shared/PLATFORM.md.",
        "megs: %d" % megs,
        # reset_on_triple_fault=0 + panic=fatal: a triple fault ends the run
        # with a log line instead of rebooting into the BIOS forever.
        "cpu: model=%s, count=1, ips=%d, reset_on_triple_fault=0, ignore_bad_msrs=1" % (cpu, ips),
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


def _launch(run, cmd, timeout, echo, cap):
    """Run cmd in run.dir, bounded (_wait), recording the command line in
    `cmd`, the emulator's own output in stdout.txt, and reading COM1
    (serial.txt) and that output back into run."""
    d = run.dir
    run.command = cmd
    with open(os.path.join(d, "cmd"), "w") as f:
        f.write("cd %s && %s\n" % (shlex.quote(d), " ".join(shlex.quote(c) for c in cmd)))
    with open(os.path.join(d, "stdout.txt"), "wb") as out:
        proc = subprocess.Popen(cmd, cwd=d, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        _wait(proc, run, timeout, os.path.join(d, "serial.txt"), echo, cap)
    run.serial = _read(os.path.join(d, "serial.txt"), cap)
    run.stdout = _read(os.path.join(d, "stdout.txt"), SERIAL_CAP)


def run_bochs(image, cpu=DEFAULT_CPU, name=None, timeout=30, ticks=DEFAULT_TICKS,
              boot="floppy", megs=256, rc_extra=(), bochsrc_extra=(), echo=False,
              results=None, serial_cap=SERIAL_CAP, ips=DEFAULT_IPS):
    """Boot `image` in Bochs headless and return a Run.

    image     floppy image (boot="floppy") or ISO (boot="cdrom")
    cpu       Bochs CPU model (`cpu: model=`)
    timeout   wall-clock seconds before the run is killed
    ticks     emulated-instruction watchdog (None: no watchdog)
    rc_extra  debugger commands run before `c` (e.g. ["vmexitbp"])
    echo      copy COM1 to our stdout as it arrives (for `make run`)
    ips       emulated instructions per emulated second (see DEFAULT_IPS)
    serial_cap  bytes of COM1 output after which the run is stopped (Bochs
              paces the UART at 115200 baud in emulated time: ~11 KB/s of
              emulated time, so 1 MiB takes ~90 s of wall time)
    """
    if not shutil.which("bochs"):
        raise EmulatorMissing("bochs is not installed; run `make deps`")
    if not os.path.exists(image):
        raise FileNotFoundError("no image %s: build it first (make all)" % image)
    d = _claim_dir(name or "bochs-" + os.path.basename(image), results)
    run = Run(os.path.basename(d), d)
    try:
        disk = "disk.img" if boot == "floppy" else "cd.iso"
        if boot == "floppy":
            shutil.copyfile(image, os.path.join(d, disk))   # Bochs may write to a floppy
        else:
            os.symlink(os.path.abspath(image), os.path.join(d, disk))
        with open(os.path.join(d, "bochsrc"), "w") as f:
            f.write(bochsrc_text(cpu, boot, disk, megs, bochsrc_extra, ips=ips))
        rc = list(rc_extra)
        if ticks:
            rc.append("sba %d" % ticks)
        rc += ["c", "quit"]
        with open(os.path.join(d, "debugger.rc"), "w") as f:
            f.write("\n".join(rc) + "\n")
        _launch(run, _isolation_prefix() + ["bochs", "-q", "-f", "bochsrc", "-rc", "debugger.rc"],
                timeout, echo, serial_cap)
        run.log = _read(os.path.join(d, "bochs.log"), 8 * SERIAL_CAP)
        # `sba` reached: the debugger says so on its stdout.
        if ticks and "Caught time breakpoint" in run.stdout:
            run.watchdog = True
        # The disk copy (or the ISO's link) goes: a results folder keeps
        # evidence, not media, and graders copy these folders around.
        os.unlink(os.path.join(d, disk))
        return run
    finally:
        _release(d)


def bochs_interactive(image, cpu=DEFAULT_CPU, boot="floppy", megs=256, rc_extra=(),
                      timeout=3600, name=None):
    """Bochs with its debugger on this terminal (make bochs-dbg-labNN).

    rc_extra commands run first (e.g. vmexitbp), then the prompt is yours.
    COM1 still goes to results/<name>/serial.txt; `tail -f` it in another
    terminal, or read it after `quit`.
    """
    d = _claim_dir(name or "bochs-dbg", None)
    try:
        disk = "disk.img" if boot == "floppy" else "cd.iso"
        if boot == "floppy":
            shutil.copyfile(image, os.path.join(d, disk))
        else:
            os.symlink(os.path.abspath(image), os.path.join(d, disk))
        with open(os.path.join(d, "bochsrc"), "w") as f:
            f.write(bochsrc_text(cpu, boot, disk, megs, (), interactive=True))
        rc = os.path.join(d, "debugger.rc")
        with open(rc, "w") as f:
            f.write("".join(c + "\n" for c in rc_extra))
        cmd = ["timeout", str(timeout)] + _isolation_prefix() + \
            ["bochs", "-q", "-f", "bochsrc"] + (["-rc", "debugger.rc"] if rc_extra else [])
        print("bochs-dbg: serial output goes to %s/serial.txt; type `c` to run, `quit` to end"
              % os.path.relpath(d))
        return subprocess.call(cmd, cwd=d)
    finally:
        _release(d)


def run_qemu(name, floppy=None, kernel=None, initrd=None, append=None, timeout=30,
             memory="256M", cpu="max", kvm=False, extra=(), echo=False, results=None):
    """Boot a floppy image, or a kernel + initrd, in QEMU (TCG unless kvm) headless.

    The guest ends the run through the isa-debug-exit device at port 0xf4
    (QEMU exits with status (value << 1) | 1). COM1 goes to serial.txt.
    """
    if not shutil.which("qemu-system-x86_64"):
        raise EmulatorMissing("qemu-system-x86_64 is not installed; run `make deps`")
    d = _claim_dir(name, results)
    run = Run(os.path.basename(d), d)
    try:
        cmd = ["qemu-system-x86_64", "-m", memory, "-display", "none", "-monitor", "none",
               "-serial", "file:serial.txt", "-nic", "none", "-no-reboot",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
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
        _launch(run, cmd, timeout, echo, SERIAL_CAP)
        if floppy:
            os.unlink(os.path.join(d, "disk.img"))
        return run
    finally:
        _release(d)


def main(argv=None):
    """Command line for make targets: emu.py bochs|qemu|bochs-dbg IMAGE [options]."""
    import argparse
    ap = argparse.ArgumentParser(prog="emu.py", description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["bochs", "qemu", "bochs-dbg"])
    ap.add_argument("image")
    ap.add_argument("--cpu", default=DEFAULT_CPU)
    ap.add_argument("--boot", default="floppy", choices=["floppy", "cdrom"])
    ap.add_argument("--name")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--ticks", type=int, default=DEFAULT_TICKS)
    ap.add_argument("--rc", action="append", default=[], help="debugger command (bochs-dbg)")
    ap.add_argument("--kvm", action="store_true")
    a = ap.parse_args(argv)
    if a.mode == "bochs-dbg":
        return bochs_interactive(a.image, cpu=a.cpu, boot=a.boot, rc_extra=a.rc, name=a.name)
    if a.mode == "bochs":
        run = run_bochs(a.image, cpu=a.cpu, boot=a.boot, name=a.name, timeout=a.timeout,
                        ticks=a.ticks, echo=True)
    else:
        run = run_qemu(a.name or "qemu-" + os.path.basename(a.image), floppy=a.image,
                       timeout=a.timeout, kvm=a.kvm, echo=True)
    if not run.serial.endswith("\n"):
        print()
    if not run.ended_cleanly:
        print("emu: the run was %s; transcript and logs: %s" % (run.why_stopped(), os.path.relpath(run.dir)),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
