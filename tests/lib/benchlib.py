"""benchlib.py - the registry behind `make bench`.

A benchmark is a function registered with @bench("what it measures") in a
file tests/bench_<area>.py. It returns lines `metric: value [unit] (target ...)`
that tests/bench.py prints under its name. Benchmarks report; they do not
pass or fail (targets are printed next to the numbers for the reader).

    from lib.benchlib import bench, bochs_runs, summary

    @bench("boot path: power-on to exit in Bochs")
    def _():
        walls, runs = bochs_runs(IMG, "bench-boot", 5)
        return [summary("wall", walls, target="<= 1.0 s")]
"""

import statistics

REGISTRY = []


def bench(name):
    def register(fn):
        REGISTRY.append((name, fn))
        return fn
    return register


def bochs_runs(image, name, n, **kw):
    """Boot `image` n times in Bochs (emu.run_bochs, runs named NAME-0..);
    -> (wall times in seconds, the runs), for summary() and for reading the
    transcripts and tick counts (Run.ticks)."""
    from lib import emu
    runs = [emu.run_bochs(image, name="%s-%d" % (name, i), **kw) for i in range(n)]
    return [r.wall for r in runs], runs


def summary(metric, values, unit="s", target=None):
    line = "%s: median %.2f %s, max %.2f %s over %d runs" % (
        metric, statistics.median(values), unit, max(values), unit, len(values))
    if target:
        line += " (target %s)" % target
    return line
