"""kboot.py - boot a Linux kernel with a lab's modules in Bochs or QEMU.

Runs on: the host, from make (`make run-lab01`, `qemu-lab01`, `bochs-dbg-lab01`)
and from the tests (tests/test_lab01.py, tests/test_lab02.py, the graders).

Two kernels (see mk/kernel.mk and docs/PLATFORM.md):
  * "debian": Debian's packaged kernel (/boot/vmlinuz-VERSION) with modules
    built against the matching linux-headers. Booted by QEMU with -kernel and
    -initrd in about 8 s. QEMU's CPUs have no VMX.
  * "mini": a small kernel built from Debian's linux-source with
    common/kernel/minimal.config. Bochs boots it from an isolinux CD image in
    about 10 s, with VMX on the chosen CPU model.

Each run packs an initramfs (common/kernel/mkinitramfs.sh): busybox, /init,
the module files, and a script that /init runs as /lab/run.sh. Every run goes
through tests/lib/emu.py, so it has a timeout and leaves results/<name>/.
"""

import argparse
import contextlib
import fcntl
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests"))
from lib import emu  # noqa: E402

KBUILD = os.path.join(TOP, "build", "kernel")
MINI_BZIMAGE = os.path.join(KBUILD, "obj", "arch", "x86", "boot", "bzImage")
POWEROFF = os.path.join(KBUILD, "tools", "vmxlab-poweroff")
DEBIAN_ENV = os.path.join(KBUILD, "debian-kernel.env")
RUNS = os.path.join(KBUILD, "runs")
SHOW_SCRIPT = os.path.join(HERE, "show.sh")

# quiet: the boot messages stay in `dmesg`, off the console the tests read.
# panic=-1: a panic reboots at once; QEMU (-no-reboot) then exits.
CMDLINE = "console=ttyS0,115200 quiet panic=-1"

# Bochs counts one tick per emulated instruction, and skips ahead over the
# time all CPUs sit in HLT, which counts too: the minimal kernel reaches /init
# after about 1e9 ticks, the tests' checks.sh ends near 3e9.
BOCHS_TICKS = 20_000_000_000


# Bochs models on which the minimal kernel never reaches /init (measured:
# Linux 6.1 warns "x86/fpu: misordered xstate" and "XSAVE consistency
# problem" from these models' CPUID, then boot stops after "Mountpoint-cache
# hash table entries"; noxsave, nolapic, lapic=notscdeadline do not help).
# haswell, broadwell_ult, skylake_x and corei3_cnl boot in 5-15 s.
MINI_KERNEL_HANGS_ON = {
    "corei7_icelake_u": "boot stops early (XSAVE layout warnings, then silence)",
    "tigerlake": "boot stops early (like corei7_icelake_u)",
}


class BootError(RuntimeError):
    """A missing piece (kernel not built, module missing) with a message."""


def debian_kernel():
    """(version, vmlinuz) of the Debian kernel mk/kernel.mk resolved."""
    try:
        with open(DEBIAN_ENV) as f:
            env = dict(line.strip().split("=", 1) for line in f if "=" in line)
    except FileNotFoundError:
        raise BootError("%s is missing: run `make all` (mk/kernel.mk resolves Debian's kernel)"
                        % os.path.relpath(DEBIAN_ENV, TOP))
    vmlinuz = env.get("DEBIAN_VMLINUZ", "")
    if not os.path.exists(vmlinuz):
        raise BootError("Debian's kernel image %s is missing: run `make deps`" % vmlinuz)
    return env.get("DEBIAN_KVER", "?"), vmlinuz


def _need(path, what):
    if not os.path.exists(path):
        raise BootError("%s %s is missing: run `make all`" % (what, os.path.relpath(path, TOP)))


@contextlib.contextmanager
def run_lock(name):
    """Hold build/kernel/runs/NAME/.lock: two processes (say, two `make test`
    in one tree) running the same NAME would overwrite each other's
    initramfs and results/NAME/; the second one waits instead."""
    d = os.path.join(RUNS, re.sub(r"[^A-Za-z0-9_.-]", "_", name))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def pack(name, files, script, kernel):
    """Build the initramfs (and, for Bochs, the ISO) of one run; return their paths.

    files   module files and anything else the script needs in /lab
    script  a path, or the text of /lab/run.sh
    kernel  "debian" (an initramfs for QEMU) or "mini" (initramfs + ISO for Bochs)
    """
    d = os.path.join(RUNS, re.sub(r"[^A-Za-z0-9_.-]", "_", name))
    os.makedirs(d, exist_ok=True)
    _need(POWEROFF, "the power-off helper")
    for f in files:
        _need(f, "the file")
    if not os.path.exists(script):
        path = os.path.join(d, "run.sh")
        with open(path, "w") as f:
            f.write(script)
        script = path
    initrd = os.path.join(d, "initrd.gz")
    subprocess.run(["sh", os.path.join(HERE, "mkinitramfs.sh"), initrd, POWEROFF, script] + list(files),
                   check=True, timeout=120)
    if kernel == "debian":
        return initrd, None
    _need(MINI_BZIMAGE, "the minimal kernel")
    iso = os.path.join(d, "boot.iso")
    subprocess.run(["sh", os.path.join(HERE, "mkiso.sh"), iso, MINI_BZIMAGE, initrd, CMDLINE], check=True,
                   timeout=120)
    return initrd, iso


def boot_bochs(name, files, script, cpu=emu.DEFAULT_CPU, timeout=90, cpus=1, echo=False):
    """The minimal kernel in Bochs with `files` in /lab and `script` as /lab/run.sh."""
    if cpu in MINI_KERNEL_HANGS_ON:
        raise BootError("the minimal kernel does not boot on Bochs' %s: %s; use corei7_haswell_4770, "
                        "broadwell_ult, corei7_skylake_x or corei3_cnl (`make run` shows any model's "
                        "MSRs on bare metal)" % (cpu, MINI_KERNEL_HANGS_ON[cpu]))
    with run_lock(name):
        _, iso = pack(name, files, script, "mini")
        extra = ["cpu: count=%d" % cpus] if cpus != 1 else []
        run = emu.run_bochs(iso, cpu=cpu, name=name, timeout=timeout, ticks=BOCHS_TICKS,
                            boot="cdrom", megs=128, bochsrc_extra=extra, echo=echo)
    run.serial = run.serial.replace("\r", "")     # the serial console's CRLF
    return run


def boot_qemu(name, files, script, timeout=60, cpus=1, kernel="debian", echo=False):
    """Debian's kernel (or the minimal one) in QEMU, TCG, no VMX."""
    if kernel == "debian":
        _, vmlinuz = debian_kernel()
    else:
        _need(MINI_BZIMAGE, "the minimal kernel")
        vmlinuz = MINI_BZIMAGE
    with run_lock(name):
        initrd, _ = pack(name, files, script, "debian")
        run = emu.run_qemu(name, kernel=vmlinuz, initrd=initrd, append=CMDLINE, timeout=timeout,
                           extra=["-smp", str(cpus)], echo=echo)
    run.serial = run.serial.replace("\r", "")     # the serial console's CRLF
    return run


# --- The batched checks of the tests (common/kernel/checks.sh) ---------------
CHECKS_SCRIPT = os.path.join(HERE, "checks.sh")
LAB_MODULES = (("lab01-vmxmsrs", "vmxmsrs"), ("lab02-sysregs", "sysregs"))
# Lines of /proc/sysregs that are the same on every read (CR2, CR3 and the
# CPU number are not: they depend on the process and where it runs).
STABLE = {"sysregs": r"^(CR0|CR4|CR8|EFER):"}
# ... and they are compared on one CPU: CR4 differs between CPUs (Linux sets
# CR4.PSE on the boot CPU only). The value is a taskset mask.
PIN = {"sysregs": "1"}


def module_path(kernel, tree, labdir, module):
    """build/kernel/mod/<kernel>/<lab|sol>/<labdir>/<module>.ko"""
    return os.path.join(KBUILD, "mod", kernel, tree, labdir, module + ".ko")


def checks_run(name, kernel, cpu=emu.DEFAULT_CPU, cpus=1, tree="sol", timeout=120, modules=None):
    """Boot with the lab modules and checks.sh; return the emu Run.

    kernel "debian" runs in QEMU, "mini" in Bochs on CPU model `cpu`.
    modules: the .ko files (default: both labs' modules from `tree`).
    """
    files = list(modules) if modules else [module_path(kernel, tree, d, m) for d, m in LAB_MODULES]
    d = os.path.join(RUNS, name)
    os.makedirs(d, exist_ok=True)
    for kind, table in (("stable", STABLE), ("pin", PIN)):
        for mod, text in table.items():
            path = os.path.join(d, "%s.%s" % (kind, mod))
            tmp = "%s.%d" % (path, os.getpid())
            with open(tmp, "w") as f:
                f.write(text + "\n")
            os.replace(tmp, path)       # atomic: a concurrent run never sees it half written
            files.append(path)
    if kernel == "debian":
        return boot_qemu(name, files, CHECKS_SCRIPT, timeout=timeout, cpus=cpus)
    return boot_bochs(name, files, CHECKS_SCRIPT, cpu=cpu, timeout=timeout, cpus=cpus)


def section(serial, title):
    """The lines between `vmxlab: ---- TITLE ----` and the next
    `vmxlab: ---- end of ... ----` (TITLE "cat /proc/vmxmsrs" ends at
    "end of /proc/vmxmsrs", "dmesg" at "end of dmesg").

    Returns None when the start marker is missing; everything to the end of
    the transcript when the end marker is (a run cut short). Carriage
    returns (the serial console's CRLF) are removed.
    """
    text = serial.replace("\r", "")
    start = "vmxlab: ---- %s ----\n" % title
    i = text.find(start)
    if i < 0:
        return None
    body = text[i + len(start):]
    j = body.find("vmxlab: ---- end of ")
    return body if j < 0 else body[:j]


def after_init(serial):
    """The console from the initramfs' first line on (the lab's output)."""
    text = serial.replace("\r", "")
    i = text.find("vmxlab: init:")
    return text[i:] if i >= 0 else text


def main(argv=None):
    """Command line for the make targets of the kernel-module labs."""
    ap = argparse.ArgumentParser(prog="kboot.py", description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["bochs", "qemu", "bochs-dbg", "bochs-checks", "qemu-checks"],
                    help="bochs/qemu: load and cat; *-checks: the tests' checks.sh")
    ap.add_argument("modules", nargs="+", help="the .ko files to load")
    ap.add_argument("--name", required=True, help="results/<name>/ keeps the transcript")
    ap.add_argument("--cpu", default=emu.DEFAULT_CPU, help="Bochs CPU model")
    ap.add_argument("--cpus", type=int, default=1, help="number of CPUs")
    ap.add_argument("--timeout", type=float, default=90)
    a = ap.parse_args(argv)
    try:
        if a.mode == "bochs-dbg":
            if a.cpu in MINI_KERNEL_HANGS_ON:
                print("kboot: warning: the minimal kernel does not boot on %s (%s)"
                      % (a.cpu, MINI_KERNEL_HANGS_ON[a.cpu]), file=sys.stderr)
            _, iso = pack(a.name, a.modules, SHOW_SCRIPT, "mini")
            vmlinux = os.path.join(KBUILD, "obj", "vmlinux")
            return emu.bochs_interactive(iso, cpu=a.cpu, boot="cdrom", megs=128, name=a.name,
                                         elf=vmlinux if os.path.exists(vmlinux) else None)
        if a.mode.startswith("bochs"):
            what = "the minimal kernel in Bochs (%s)" % a.cpu
            print("kboot: booting %s; this takes about 10-20 s ..." % what, flush=True)
            if a.mode == "bochs":
                run = boot_bochs(a.name, a.modules, SHOW_SCRIPT, cpu=a.cpu, cpus=a.cpus, timeout=a.timeout)
            else:
                run = checks_run(a.name, "mini", cpu=a.cpu, cpus=a.cpus, timeout=a.timeout, modules=a.modules)
        else:
            ver, _ = debian_kernel()
            what = "Debian's kernel %s in QEMU (no VMX)" % ver
            print("kboot: booting %s; this takes about 10 s ..." % what, flush=True)
            if a.mode == "qemu":
                run = boot_qemu(a.name, a.modules, SHOW_SCRIPT, cpus=a.cpus, timeout=a.timeout)
            else:
                run = checks_run(a.name, "debian", cpus=a.cpus, timeout=a.timeout, modules=a.modules)
    except emu.EmulatorCrashed as e:
        print("kboot: error: %s" % e, file=sys.stderr)
        return 1
    except (BootError, emu.EmulatorMissing, FileNotFoundError) as e:
        print("kboot: error: %s" % e, file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as e:
        print("kboot: error: %s failed (status %d)" % (" ".join(e.cmd[:2]), e.returncode), file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as e:
        print("kboot: error: %s did not finish in %d s" % (" ".join(e.cmd[:2]), e.timeout), file=sys.stderr)
        return 1
    out = after_init(run.serial)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    transcript = os.path.relpath(os.path.join(run.dir, "serial.txt"))
    if "vmxlab: done" not in out or not run.ended_cleanly:
        print("kboot: the run did not finish (%s); full console: %s"
              % (run.why_stopped(), transcript), file=sys.stderr)
        return 1
    print("kboot: %s, %.1f s wall; full console: %s" % (what, run.wall, transcript))
    return 0


if __name__ == "__main__":
    sys.exit(main())
