"""sandbox.py - where a student's code meets the grading machine: a bubblewrap box.

A submission reaches the grading machine's CPU in two places: the build
(gcc, GNU as and NASM read the student's files on the host, and each has
its own ways to name and compute a path: #include, .incbin with escapes,
NASM's %include and incbin with %strcat) and the emulator run. A regular
expression over the source cannot close that, so every student build and
run of a grading happens inside a sandbox made of three layers:

  prlimit   limits per process that a normal build and run never reach:
            CPU seconds, address space (memory), processes of the sandbox
            user, size of any file written; no core dumps;
  setpriv   an unprivileged user id (65534, "nobody") outside as well as
            inside: root's rights never enter the box;
  bwrap     new namespaces (user, mount, PID, IPC, UTS, cgroup, and network,
            which also keeps Bochs' VNC listener off every network); a root
            file system holding only /usr (read-only: the compilers and
            emulators), a private /tmp, /proc, a minimal /dev, the kit copy of
            this submission (writable, owned by the sandbox user), its
            results folder (writable), and, read-only, what the kit prebuilt
            for every student (the minimal kernel tree, Debian's kernel in
            /boot); no /etc but Debian's alternatives (links) and a
            generated passwd and group naming the sandbox's user; no
            /root, no /home, no solutions/, no other student's folder;
            --die-with-parent: the box dies with the grader.

Where the machine cannot make the box (no bubblewrap, no unprivileged user
namespaces), check() raises SandboxUnavailable with what to do: grading
stops; it never runs unsandboxed by itself. A student grading their own tree
there may pass UNSANDBOXED=1 (make grade), and the report says so; the
Gradescope bundle grades with its container as the box (--container).
"""

import os
import re
import shutil
import subprocess

UID = GID = 65534               # nobody / nogroup on Debian

# The limits, per process (prlimit). Measured needs: the heaviest process of
# a normal grading is Bochs booting the minimal kernel (about 40 s of CPU for
# bochs-check-lab01), QEMU's address space (1 GiB translation cache + guest
# RAM), and the initramfs/ISO of a kernel run (a few MiB).
DEFAULT_LIMITS = {
    "cpu": 300,                 # seconds of CPU time per process
    "memory": 6 << 30,          # bytes of address space per process
    "nproc": 1024,              # processes of the sandbox user, all boxes together
    "fsize": 256 << 20,         # bytes in any one file it writes
}
# What the environment may lower them to (a class run's tests use low limits
# so that a hostile submission hits them in seconds): VMXLAB_SANDBOX_CPU,
# VMXLAB_SANDBOX_MEMORY, VMXLAB_SANDBOX_NPROC, VMXLAB_SANDBOX_FSIZE.
LIMIT_WORDS = {
    "cpu": "the sandbox's CPU-time limit (%d s per process)",
    "memory": "the sandbox's memory limit (%d MiB of address space per process)",
    "nproc": "the sandbox's process limit (%d processes)",
    "fsize": "the sandbox's file-size limit (%d MiB per file)",
}

# System paths the box shows read-only. /usr holds every tool and emulator
# (Debian 12 merges /bin, /lib into /usr); /boot holds Debian's kernel, which
# the QEMU runs of the module labs boot; /var/lib/dpkg tells which kernel
# package is installed (common/kernel/debian-kernel.sh).
SYSTEM_RO = ["/usr", "/boot", "/var/lib/dpkg"]
USR_LINKS = [("usr/bin", "/bin"), ("usr/sbin", "/sbin"), ("usr/lib", "/lib"),
             ("usr/lib64", "/lib64")]

HOW_TO_ALLOW = (
    "grading runs every student build and emulator run in a bubblewrap sandbox, and this "
    "machine cannot make one: %s. To allow it: install bubblewrap (`make deps` does, or "
    "`apt-get install bubblewrap`) and allow unprivileged user namespaces "
    "(`sysctl -w user.max_user_namespaces=15000`; on Debian kernels also "
    "`sysctl -w kernel.unprivileged_userns_clone=1`; in a container, start it with user "
    "namespaces allowed). A student grading their own tree on such a machine may pass "
    "UNSANDBOXED=1 (make grade ... UNSANDBOXED=1): the report then says it ran unsandboxed.")


class SandboxUnavailable(RuntimeError):
    """The machine cannot make the sandbox; the message says why and what to do."""


def limits():
    """The limits in force: the defaults, lowered by VMXLAB_SANDBOX_* variables."""
    out = dict(DEFAULT_LIMITS)
    for k in out:
        v = os.environ.get("VMXLAB_SANDBOX_" + k.upper())
        if v:
            try:
                out[k] = min(out[k], int(v))
            except ValueError:
                raise SandboxUnavailable("VMXLAB_SANDBOX_%s=%s is not a whole number" % (k.upper(), v))
    return out


def limit_word(kind):
    """A limit in words, for a report: 'the sandbox's CPU-time limit (300 s ...)'."""
    v = limits()[kind]
    return LIMIT_WORDS[kind] % (v >> 20 if kind in ("memory", "fsize") else v)


_checked = None


def check():
    """Raise SandboxUnavailable unless a box can be made here (asked once)."""
    global _checked
    if _checked is None:
        _checked = _probe()
    if _checked is not True:
        raise SandboxUnavailable(HOW_TO_ALLOW % _checked)


def bwrap():
    """The bubblewrap executable: $VMXLAB_BWRAP (a test names a missing one
    to see grading refuse), else bwrap on the PATH."""
    return os.environ.get("VMXLAB_BWRAP") or "bwrap"


def _probe():
    for tool in (bwrap(), "prlimit", "setpriv"):
        if not shutil.which(tool):
            return "%s is not installed" % tool
    launch = Sandbox(writable=[]).launch(["true"])
    try:
        p = subprocess.run(launch.argv, pass_fds=launch.fds, capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "a test box did not start (%s)" % e
    finally:
        launch.close()
    if p.returncode != 0:
        return "a test box failed (bwrap: %s)" % (p.stderr.strip().splitlines() or ["exit %d" % p.returncode])[-1]
    return True


class Launch:
    """A command line for the box and the file descriptors it must inherit
    (Popen(argv, pass_fds=fds)); close() after the process started."""

    def __init__(self, argv, fds):
        self.argv, self.fds = argv, fds

    def close(self):
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds = []


class Sandbox:
    """One grading's box: WRITABLE folders (the kit copy, its results) and
    READONLY extras (what the kit prebuilt, an emulator named by
    VMXLAB_BOCHS/VMXLAB_QEMU), each shown at its own path.

    Folders are handed to bwrap as open file descriptors (--bind-fd): the
    sandbox user needs no right to walk the path to them (a kit under
    /root, which only root may enter, grades like one anywhere else)."""

    def __init__(self, writable, readonly=()):
        self.writable = [os.path.abspath(p) for p in writable]
        self.readonly = [os.path.abspath(p) for p in readonly]
        for var in ("VMXLAB_BOCHS", "VMXLAB_QEMU"):
            exe = os.environ.get(var)
            if exe and shutil.which(exe):
                path = os.path.realpath(shutil.which(exe))
                if not path.startswith("/usr/"):
                    self.readonly.append(path)
        self.limits = limits()

    def give(self, path):
        """Make PATH (a folder, recursively) the sandbox user's, so the box
        may write there. Only root changes owners; another user's box runs
        as that user and needs nothing."""
        if os.geteuid() != 0:
            return
        for d, dirs, files in os.walk(path):
            for n in [d] + [os.path.join(d, x) for x in dirs + files]:
                try:
                    os.lchown(n, UID, GID)
                except FileNotFoundError:
                    pass

    def env(self):
        """The environment inside: nothing of the grader's but what a build needs."""
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp",
               "LC_ALL": "C", "LANG": "C", "TERM": "dumb", "USER": "nobody",
               # tests/lib/emu.py: the network is the box's own already, so
               # Bochs needs no `unshare -n` of its own.
               "VMXLAB_SANDBOX": "bwrap"}
        for k in ("VMXLAB_BOCHS", "VMXLAB_QEMU", "VMXLAB_GRADE_TASK"):
            if os.environ.get(k):
                env[k] = os.environ[k]
        return env

    def launch(self, cmd, cwd=None):
        """The Launch that runs CMD (a list) in the box, in CWD."""
        fds = []

        def path_fd(p):
            fd = os.open(p, os.O_PATH | (os.O_DIRECTORY if os.path.isdir(p) else 0))
            fds.append(fd)
            return str(fd)

        def data_fd(text):
            r, w = os.pipe()
            os.write(w, text.encode())
            os.close(w)
            fds.append(r)
            return str(r)

        lim = self.limits
        # CPU: the soft limit sends SIGXCPU, which the tools report as "CPU
        # time limit exceeded"; the hard one, 5 s later, kills what ignores it.
        pre = ["prlimit", "--cpu=%d:%d" % (lim["cpu"], lim["cpu"] + 5), "--as=%d" % lim["memory"],
               "--nproc=%d" % lim["nproc"], "--fsize=%d" % lim["fsize"], "--core=0", "--"]
        if os.geteuid() == 0:          # an ordinary user is unprivileged already
            pre += ["setpriv", "--reuid=%d" % UID, "--regid=%d" % GID, "--clear-groups",
                    "--inh-caps=-all", "--"]
        box = [bwrap(), "--unshare-all", "--die-with-parent", "--clearenv",
               "--ro-bind", "/usr", "/usr"]
        for target, link in USR_LINKS:
            if os.path.lexists(link):
                box += ["--symlink", target, link]
        for p in SYSTEM_RO[1:]:
            if os.path.exists(p):
                box += ["--ro-bind", p, p]
        # /etc: only a passwd and a group naming the sandbox's one user, and
        # Debian's alternatives (symbolic links: awk -> mawk, which kbuild runs).
        box += ["--dir", "/etc", "--ro-bind", "/etc/alternatives", "/etc/alternatives",
                "--ro-bind-data", data_fd("nobody:x:%d:%d:vmxlab sandbox:/tmp:/usr/sbin/nologin\n"
                                          % (UID, GID)), "/etc/passwd",
                "--ro-bind-data", data_fd("nogroup:x:%d:\n" % GID), "/etc/group",
                "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
        try:
            for p in self.readonly:
                if os.path.exists(p):
                    box += ["--ro-bind-fd", path_fd(p), p]
            for p in self.writable:
                box += ["--bind-fd", path_fd(p), p]
        except OSError:
            Launch([], fds).close()
            raise
        for k, v in sorted(self.env().items()):
            box += ["--setenv", k, v]
        if cwd:
            box += ["--chdir", os.path.abspath(cwd)]
        return Launch(pre + box + ["--"] + list(cmd), fds)


def hidden_path(text, visible):
    """The first absolute path that a build's error line says it could not
    open, outside the VISIBLE folders and the system paths the box shows: a
    path the sandbox hid from the student's build, or None. (Whether it
    exists on the grading machine is not looked up: a report must not
    answer that question for a student.)"""
    for line in text.splitlines():
        if not re.search(r"No such file|not found|unable to open|cannot open|can't open|"
                         r"unable to get length of file", line, re.I):
            continue
        for m in re.finditer(r"(?:^|[\s'\"`(])(/[^\s'\"`:,;()]+)", line):
            if re.match(r":\d", line[m.end():]):
                continue        # FILE:LINE: where the error is (a compiler's /tmp/cc*.s), not what
            path = os.path.normpath(m.group(1))
            if any(path == v or path.startswith(v.rstrip("/") + "/") for v in visible):
                continue
            # (The box's /tmp is its own: a path there that the build could
            # not find is one the grading machine has, e.g. a kit under /tmp.)
            if not path.startswith(tuple(p + "/" for p in SYSTEM_RO + ["/proc", "/dev"])):
                return path
    return None


def limit_hit(text):
    """Which sandbox limit a build or run log shows was reached, in words, or None.

    make and the shells say it through the signal's name (SIGXCPU: "CPU time
    limit exceeded", SIGXFSZ: "File size limit exceeded"); an allocation that
    the address-space limit refuses makes the tools say so in their words."""
    checks = (
        ("cpu", r"CPU time limit exceeded|Killed by signal 24|signal 24\b"),
        ("fsize", r"File size limit exceeded|Killed by signal 25|signal 25\b"),
        ("memory", r"virtual memory exhausted|[Oo]ut of memory|Cannot allocate memory|"
                   r"memory exhausted|std::bad_alloc|failed to allocate|nasm: fatal: out of memory"),
        ("nproc", r"Resource temporarily unavailable|fork: retry|Cannot fork"),
    )
    for kind, rx in checks:
        if re.search(rx, text):
            return limit_word(kind)
    return None
