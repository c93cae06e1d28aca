"""Benchmarks of the boot path (common/boot/, common/rt/): how long one Bochs
run takes from power-on (BIOS) to the payload ending the run, for the
smallest payload (tests/payloads/hello.c) and for the `make run` payload."""

from lib import emu
from lib.benchlib import bench, timed_runs, summary
from lib.testlib import build_path

RUNS = 5


@bench("boot path: Bochs power-on to exit, hello payload (corei7_haswell_4770)")
def _():
    image = build_path("boot", "tests", "hello.img")
    runs = []

    def one(i):
        r = emu.run_bochs(image, name="bench-boot-hello-%d" % i, timeout=60)
        runs.append(r)
        return r
    walls = timed_runs(one, RUNS)
    done = sum("vmxlab: done" in r.serial for r in runs)
    return [summary("wall", walls, target="<= 1.0 s"),
            "runs that reached 'vmxlab: done': %d of %d" % (done, RUNS)]


@bench("boot path: Bochs power-on to exit, msrdump payload (corei7_haswell_4770)")
def _():
    image = build_path("msrdump", "msrdump.img")
    walls = timed_runs(lambda i: emu.run_bochs(image, name="bench-boot-msrdump-%d" % i,
                                               timeout=60), RUNS)
    return [summary("wall", walls, target="<= 1.0 s")]
