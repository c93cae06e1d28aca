"""Benchmarks of the boot path (common/boot/, common/rt/): how long one Bochs
run takes from power-on (BIOS) to the payload ending the run, for the
smallest payload (tests/payloads/hello.c) and for the `make run` payload."""

from lib.benchlib import bench, bochs_runs, summary
from lib.testlib import build_path

RUNS = 5


@bench("boot path: Bochs power-on to exit, hello payload (corei7_haswell_4770)")
def _():
    image = build_path("boot", "tests", "hello.img")
    walls, runs = bochs_runs(image, "bench-boot-hello", RUNS, timeout=60)
    done = sum("vmxlab: done" in r.serial for r in runs)
    return [summary("wall", walls, target="<= 1.0 s"),
            "runs that reached 'vmxlab: done': %d of %d" % (done, RUNS)]


@bench("boot path: Bochs power-on to exit, msrdump payload (corei7_haswell_4770)")
def _():
    image = build_path("msrdump", "msrdump.img")
    walls, _runs = bochs_runs(image, "bench-boot-msrdump", RUNS, timeout=60)
    return [summary("wall", walls, target="<= 1.0 s")]
