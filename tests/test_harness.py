"""Tests of the emulator harness itself (tests/lib/emu.py).

Each test builds a one-sector boot image with NASM on the spot, so the
harness is checked on real Bochs runs without depending on the rest of the
kit: a guest that hangs must be stopped by the tick watchdog or the
wall-clock timeout, a guest that floods COM1 by the serial cap, and parallel
runs must not share a port or a results folder.
"""

import os
import re
import subprocess
import sys
import tempfile
import threading

from lib import emu
from lib.testlib import expect, expect_not, TestFailure

# A boot sector: program COM1 for 8N1, print MESSAGE (LOOP times, 0 = forever),
# then end the run through the Bochs shutdown port, or spin if HANG.
BOOT_SECTOR = r"""
org 0x7c00
bits 16
    xor ax, ax
    mov ds, ax
    mov dx, 0x3fb               ; LCR: 8 data bits, no parity, 1 stop bit
    mov al, 0x03
    out dx, al
%%ifdef HANG
spin: jmp spin
%%endif
    mov cx, %(loop)d
again:
    mov si, msg
next:
    lodsb
    test al, al
    jz line_done
    mov ah, al
    mov dx, 0x3fd               ; LSR: wait for THR empty (bit 5)
wait_thre:
    in al, dx
    test al, 0x20
    jz wait_thre
    mov al, ah
    mov dx, 0x3f8
    out dx, al
    jmp next
line_done:
%%if %(loop)d == 0
    jmp again
%%else
    loop again
%%endif
    mov dx, 0x8900              ; Bochs: "Shutdown" on port 0x8900 ends the run
    mov si, shutdown
sd: lodsb
    test al, al
    jz halt
    out dx, al
    jmp sd
halt: hlt
    jmp halt
msg db "%(message)s", 13, 10, 0
shutdown db "Shutdown", 0
times 510-($-$$) db 0
dw 0xaa55
"""

_dir = tempfile.mkdtemp(prefix="vmxlab-harness-")
_lock = threading.Lock()


def boot_image(tag, message="harness ok", loop=1, hang=False):
    path = os.path.join(_dir, tag + ".img")
    with _lock:
        if not os.path.exists(path):
            src = path[:-4] + ".asm"
            with open(src, "w") as f:
                f.write(BOOT_SECTOR % {"loop": loop, "message": message})
            cmd = ["nasm", "-f", "bin", "-o", path, src] + (["-DHANG"] if hang else [])
            subprocess.run(cmd, check=True, timeout=60)
            with open(path, "r+b") as f:
                f.truncate(1474560)
    return path


def test_harness_a_bochs_run_captures_com1_and_ends_by_itself():
    """harness: a Bochs run captures COM1 and ends by itself"""
    run = emu.run_bochs(boot_image("hello"), name="harness-hello", timeout=20)
    expect(run, r"^harness ok\r?$")
    if not run.ended_cleanly:
        raise TestFailure("run did not end by itself: %s" % run.why_stopped())


def test_harness_a_hanging_guest_is_stopped_by_the_tick_watchdog():
    """harness: a hanging guest is stopped by the tick watchdog"""
    run = emu.run_bochs(boot_image("hang", hang=True, message="x"), name="harness-watchdog",
                        ticks=60_000_000, timeout=30)
    if not run.watchdog or run.timed_out:
        raise TestFailure("expected the watchdog to stop the run: %r" % run)


def test_harness_a_hanging_guest_is_stopped_by_the_wall_clock_timeout():
    """harness: a hanging guest is stopped by the wall-clock timeout"""
    run = emu.run_bochs(boot_image("hang", hang=True, message="x"), name="harness-timeout",
                        ticks=None, timeout=2)
    if not run.timed_out or run.wall > 10:
        raise TestFailure("expected the timeout to stop the run after ~2 s: %r" % run)


def test_harness_a_guest_flooding_com1_is_stopped_at_the_serial_cap():
    """harness: a guest flooding COM1 is stopped at the serial cap"""
    cap = 16 * 1024
    run = emu.run_bochs(boot_image("flood", message="x" * 70, loop=0), name="harness-flood",
                        ticks=None, timeout=60, serial_cap=cap)
    if not run.flooded or len(run.serial.encode()) > cap:
        raise TestFailure("expected the serial cap to stop the run: %r" % run)


def test_harness_4_bochs_runs_at_once_each_isolated_with_its_own_transcript():
    """harness: 4 Bochs runs at once, each isolated with its own transcript"""
    runs = [None] * 4

    def one(i):
        runs[i] = emu.run_bochs(boot_image("par%d" % i, message="parallel %d" % i),
                                name="harness-parallel-%d" % i, timeout=30)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, run in enumerate(runs):
        expect(run, r"^parallel %d\r?$" % i)
        expect_not(run.stdout, r"Address already in use|bind.*fail", "VNC port clash")


def test_harness_two_processes_running_the_same_name_get_separate_folders():
    """harness: two processes running the same name get separate folders"""
    code = ("import sys; sys.path.insert(0, %r); from lib import emu; "
            "r = emu.run_bochs(%r, name='harness-xproc', timeout=30); print(r.dir)"
            % (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/tests",
               boot_image("xproc", message="xproc")))
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    dirs = [p.communicate(timeout=60)[0].strip() for p in procs]
    if len(set(dirs)) != 2 or not all(dirs):
        raise TestFailure("both processes used %s" % dirs)
    for d in dirs:
        with open(os.path.join(d, "serial.txt")) as f:
            expect(f.read(), r"^xproc\r?$")


def test_harness_tap_results_a_short_plan_a_bad_exit_status_and_silence_are_fai():
    """harness: TAP results: a short plan, a bad exit status and silence are failures"""
    from lib.testlib import parse_tap
    cases = [
        ("1..2\nok 1 - a\nok 2 - b\n", 0, []),
        ("1..3\nok 1 - a\nok 2 - b\n", 0, ["plan"]),            # stopped early, exit 0
        ("1..2\nok 1 - a\nok 2 - b\n", 139, ["exit status"]),   # all ok, then crashed
        ("", 0, ["run"]),
        ("1..2\nok 1 - a\nnot ok 2 - b\n# why\n", 1, ["b"]),
    ]
    for text, rc, want in cases:
        got = [name for name, status, _ in parse_tap(text, rc) if status == "FAIL"]
        if got != want:
            raise TestFailure("TAP %r exit %d: failures %s, want %s" % (text, rc, got, want))


# --- Sound, and emulators that die (issue: every Bochs run aborted on a fresh
# machine in Bochs' sound mixer, and the kit said nothing) -------------------

def test_harness_a_real_bochs_run_uses_the_dummy_sound_drivers_and_prints_no_al():
    """harness: a real Bochs run uses the dummy sound drivers and prints no ALSA line"""
    run = emu.run_bochs(boot_image("sound", message="sound check"), name="harness-sound", timeout=20)
    expect(run, r"^sound check\r?$")
    with open(os.path.join(run.dir, "bochsrc")) as f:
        expect(f.read(), r"^sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy$",
               "the dummy sound drivers in the generated bochsrc")
    for text, where in ((run.stdout, "Bochs' output"), (run.log, "bochs.log")):
        expect_not(text, r"ALSA|snd_pcm|buffer overflow detected", "sound line in %s" % where)
    plugins = re.findall(r"loaded plugin libbx_sound(\w+)\.so", run.log)
    if not plugins or set(plugins) != {"dummy"}:
        raise TestFailure("bochs.log: sound plugins loaded %s, want only 'dummy'" % plugins)


STAND_IN = """#!/bin/sh
# A stand-in emulator for the crash tests: %(what)s
%(body)s
"""


def stand_in(tag, what, body):
    """An executable in the test's temp folder that plays a dying emulator.
    It runs in the run folder, like Bochs, so it can write serial.txt."""
    path = os.path.join(_dir, tag)
    with _lock:
        if not os.path.exists(path):
            with open(path + ".tmp", "w") as f:
                f.write(STAND_IN % {"what": what, "body": body})
            os.chmod(path + ".tmp", 0o755)
            os.replace(path + ".tmp", path)
    return path


ABORT_BODY = """echo 'ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default' >&2
echo '*** buffer overflow detected ***: terminated' >&2
kill -ABRT $$"""


def expect_crash(fn, pattern):
    """fn() must raise EmulatorCrashed whose message matches PATTERN."""
    try:
        run = fn()
    except emu.EmulatorCrashed as e:
        expect(str(e), pattern, "crash report")
        return e
    raise TestFailure("the emulator died and the harness returned quietly: %r" % run)


def test_harness_bochs_aborting_before_the_guest_prints_is_a_crash_with_its_std():
    """harness: Bochs aborting before the guest prints is a crash, with its stderr tail"""
    fake = stand_in("bochs-abort", "aborts like Bochs' sound mixer did", ABORT_BODY)
    e = expect_crash(lambda: emu.run_bochs(boot_image("hello"), name="harness-crash-abort",
                                           timeout=20, emulator=fake),
                     r"^Bochs crashed \(SIGABRT, exit 134\) before the guest printed anything\n")
    expect(str(e), r"^    \| \*\*\* buffer overflow detected \*\*\*: terminated$", "stderr tail")
    expect_not(e.run.serial, r".", "transcript")
    with open(os.path.join(e.run.dir, "status.txt")) as f:
        expect(f.read(), r"^Bochs crashed \(SIGABRT", "status.txt")


def test_harness_a_signal_after_part_of_the_output_is_a_crash_naming_the_last_l():
    """harness: a signal after part of the output is a crash naming the last line"""
    fake = stand_in("bochs-segv-midway", "prints a line, then segfaults",
                    "printf 'lab03: starting\\n' > serial.txt\nkill -SEGV $$")
    expect_crash(lambda: emu.run_bochs(boot_image("hello"), name="harness-crash-midway",
                                       timeout=20, emulator=fake),
                 r"^Bochs crashed \(SIGSEGV, exit 139\) before the guest printed 'vmxlab: done' "
                 r"\(its last line: 'lab03: starting'\)")


def test_harness_a_signal_after_the_closing_line_is_noted_not_failed():
    """harness: a signal after the closing line is noted, not failed"""
    fake = stand_in("bochs-segv-late", "prints the closing line, then segfaults (seen once in 2.7)",
                    "printf 'all fine\\nvmxlab: done\\n' > serial.txt\nkill -SEGV $$")
    run = emu.run_bochs(boot_image("hello"), name="harness-crash-late", timeout=20, emulator=fake)
    if not run.ended_cleanly or not any("SIGSEGV" in n for n in run.notes):
        raise TestFailure("want a clean run with a SIGSEGV note, got %r notes %s" % (run, run.notes))
    with open(os.path.join(run.dir, "status.txt")) as f:
        expect(f.read(), r"^note: Bochs crashed \(SIGSEGV, exit 139\) after the guest printed",
               "the note in status.txt")


def test_harness_an_emulator_that_exits_before_the_guest_printed_anything_is_a():
    """harness: an emulator that exits before the guest printed anything is a crash"""
    fake = stand_in("bochs-exit1", "exits at once, status 1, as Bochs does on a bad bochsrc",
                    "echo '>>PANIC<< bochsrc: unknown option' >&2\nexit 1")
    expect_crash(lambda: emu.run_bochs(boot_image("hello"), name="harness-crash-exit",
                                       timeout=20, emulator=fake),
                 r"^Bochs exited \(status 1\) before the guest printed anything\n(.*\n)*"
                 r"    \| >>PANIC<< bochsrc: unknown option")


def test_harness_qemu_aborting_is_a_crash_too():
    """harness: QEMU aborting is a crash too"""
    fake = stand_in("qemu-abort", "aborts at start", ABORT_BODY)
    expect_crash(lambda: emu.run_qemu("harness-crash-qemu", floppy=boot_image("hello"),
                                      timeout=20, emulator=fake),
                 r"^QEMU crashed \(SIGABRT, exit 134\) before the guest printed anything")
