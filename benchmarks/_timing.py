"""Timing helpers shared by the benchmarks: timeit-style loops, calibrated, median of repeats.

Libraries compared on one workload are timed *interleaved* (repeat 1 of each, then repeat 2 of
each, ...), so that a change of machine load during the run (the machine may be shared) hits
all of them alike instead of whichever happened to run at that moment.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# A runner takes a loop count and returns the seconds those loops took.
Runner = Callable[[int], float]

# "wall" is what timeit measures. "cpu" counts the process's CPU time instead: on a machine
# other work competes for, time spent waiting for a core is left out (but the CPU time of
# every thread is summed, so multi-threaded kernels look costlier than they feel).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


@dataclass
class Timing:
    """Per-call time of one workload: ``median_us`` over repeats of ``loops`` calls."""

    median_us: float
    loops: int
    repeat_us: list = field(default_factory=list)  # per-call time of each repeat

    def as_dict(self) -> dict:
        return {"median_us": self.median_us, "min_us": min(self.repeat_us, default=None),
                "loops": self.loops, "repeat_us": self.repeat_us}


def loop_runner(fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter
                ) -> Runner:
    """Runner timing back-to-back calls of ``fn`` (garbage collector off, as in ``timeit``)."""

    def run(loops: int) -> float:
        rng = range(loops)
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            start = clock()
            for _ in rng:
                fn()
            return clock() - start
        finally:
            if gc_was_on:
                gc.enable()

    return run


def split_runner(setup: Callable[[], object], timed: Callable[[object], object],
                 clock: Callable[[], float] = time.perf_counter) -> Runner:
    """Runner timing ``timed(setup())`` without ``setup``: for work that consumes its input,
    such as a backward pass that frees the graph its forward built."""

    def run(loops: int) -> float:
        total = 0.0
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            for _ in range(loops):
                state = setup()
                start = clock()
                timed(state)
                total += clock() - start
        finally:
            if gc_was_on:
                gc.enable()
        return total

    return run


def calibrate(run: Runner, target_s: float) -> int:
    """Loop count for which ``run(loops)`` takes about ``target_s`` seconds (at least 1).

    Grows the count until a run lasts a quarter of the target, so a slow first call (a thread
    pool waking up, a cache filling) cannot set the count by itself.
    """
    run(1)  # warm-up: first-call imports, allocator, thread pools
    loops = 1
    while True:
        took = run(loops)
        if took >= target_s / 4 or loops >= 1 << 24:
            break
        loops *= 8 if took < target_s / 100 else 2
    return max(1, round(loops * target_s / max(took, 1e-9)))


def measure_interleaved(runners: dict, *, repeats: int, target_s: float) -> dict:
    """``{name: Timing}`` for ``{name: runner}``, the repeats of all runners interleaved."""
    loops = {name: calibrate(run, target_s) for name, run in runners.items()}
    per_call: dict = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            per_call[name].append(run(loops[name]) / loops[name] * 1e6)
    return {name: Timing(statistics.median(times), loops[name], times)
            for name, times in per_call.items()}
