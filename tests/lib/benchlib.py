"""benchlib.py - the registry behind `make bench`.

A benchmark is a function registered with @bench("what it measures") in a
file tests/bench_<area>.py. It returns lines `metric: value [unit] (target ...)`
that tests/bench.py prints under its name. Benchmarks report; they do not
pass or fail (targets are printed next to the numbers for the reader).

    from lib.benchlib import bench, timed_runs

    @bench("boot path: power-on to exit in Bochs")
    def _():
        walls = timed_runs(lambda i: emu.run_bochs(IMG, name="bench-boot-%d" % i), 5)
        return [summary("wall", walls, target="<= 1.0 s")]
"""

import statistics
import time

REGISTRY = []


def bench(name):
    def register(fn):
        REGISTRY.append((name, fn))
        return fn
    return register


def timed_runs(fn, n):
    """Call fn(i) n times; return the wall times in seconds. A run object's
    own .wall (emulator time only) is used when fn returns one."""
    walls = []
    for i in range(n):
        t0 = time.monotonic()
        r = fn(i)
        walls.append(getattr(r, "wall", None) or time.monotonic() - t0)
    return walls


def summary(metric, values, unit="s", target=None):
    line = "%s: median %.2f %s, max %.2f %s over %d runs" % (
        metric, statistics.median(values), unit, max(values), unit, len(values))
    if target:
        line += " (target %s)" % target
    return line
