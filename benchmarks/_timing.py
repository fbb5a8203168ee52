"""Timing for benchmark scripts: auto-sized loops, repeats, the median, progress on stderr.

Each measurement sizes its loop to about ``target`` seconds (like ``timeit``'s
autorange), runs it ``repeats`` times and keeps the median time per call, so one
slow repeat (a GC pass, a noisy neighbour) does not move the figure. Alternatives
measured together take turns repeat by repeat, so they share the machine's mood. A progress
line per measurement goes to stderr, leaving stdout for the table or JSON.

The clock is ``time.perf_counter`` (wall time). On a busy shared machine
``clock="cpu"`` (``time.process_time``) is steadier: it leaves out the time the
process waited for a CPU, though not the cache effects of its neighbours.
"""

from __future__ import annotations

import gc
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_TARGET = 0.2
"""Seconds one timed loop should last."""

DEFAULT_REPEATS = 5


@dataclass(frozen=True)
class Settings:
    """How long to measure; ``quick()`` is for smoke tests, not for numbers."""

    target: float = DEFAULT_TARGET
    repeats: int = DEFAULT_REPEATS
    disable_gc: bool = False
    clock: str = "wall"  # or "cpu"

    @classmethod
    def quick(cls, disable_gc: bool = False, clock: str = "wall") -> Settings:
        return cls(target=0.002, repeats=1, disable_gc=disable_gc, clock=clock)

    @property
    def timer(self) -> Callable[[], float]:
        return CLOCKS[self.clock]


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


@dataclass(frozen=True)
class Timing:
    label: str
    seconds_per_call: float  # median over the repeats
    loops: int
    repeats: int
    items_per_call: int

    @property
    def per_second(self) -> float:
        """Items (objects) per second."""
        return self.items_per_call / self.seconds_per_call


def _run(fn: Callable[[], object], loops: int, timer: Callable[[], float]) -> float:
    start = timer()
    for _ in range(loops):
        fn()
    return timer() - start


def autorange(
    fn: Callable[[], object], target: float, timer: Callable[[], float] = time.perf_counter
) -> int:
    """The number of calls of ``fn`` that last about ``target`` seconds (at least 1)."""
    loops = 1
    while True:
        elapsed = _run(fn, loops, timer)
        if elapsed >= target / 2:
            return max(1, round(loops * target / elapsed))
        if elapsed <= 0:
            loops *= 10
        else:
            # Jump close to the target, but re-check: the first calls can be slow.
            loops = max(loops * 2, math.ceil(loops * target / elapsed / 2))


def measure(
    label: str,
    fn: Callable[[], object],
    *,
    items: int = 1,
    settings: Settings | None = None,
) -> Timing:
    """Time ``fn`` (which handles ``items`` objects per call) and report progress on stderr."""
    return measure_together({label: fn}, items=items, settings=settings)[label]


def measure_together(
    fns: dict[str, Callable[[], object]],
    *,
    items: int = 1,
    settings: Settings | None = None,
) -> dict[str, Timing]:
    """Time alternatives of one operation, ``{label: fn}``, each handling ``items`` objects.

    Each gets its own loop size; the repeats then take turns (a, b, c, a, b, c...),
    so a burst of load on the machine weighs on all of them alike and their ratios
    hold up better than their absolute figures.
    """
    settings = settings or Settings()
    timer = settings.timer
    loops: dict[str, int] = {}
    samples: dict[str, list[float]] = {label: [] for label in fns}
    gc.collect()
    gc_was_enabled = gc.isenabled()
    if settings.disable_gc:
        gc.disable()
    try:
        for label, fn in fns.items():
            print(f"  {label:<44} calibrating", file=sys.stderr, flush=True)
            fn()  # warm-up: caches, lazily built types
            loops[label] = autorange(fn, settings.target, timer)
        for _ in range(settings.repeats):
            for label, fn in fns.items():
                samples[label].append(_run(fn, loops[label], timer) / loops[label])
    finally:
        if gc_was_enabled:
            gc.enable()
    timings = {}
    for label in fns:
        timing = Timing(
            label, statistics.median(samples[label]), loops[label], settings.repeats, items
        )
        timings[label] = timing
        print(
            f"  {label:<44} {timing.per_second:>14,.0f} obj/s"
            f"  ({timing.loops} loops x {settings.repeats})",
            file=sys.stderr,
            flush=True,
        )
    return timings


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None when either is missing or zero."""
    if not numerator or not denominator:
        return None
    return numerator / denominator


def percentile(samples: list[float], fraction: float) -> float:
    """The sample below which ``fraction`` of ``samples`` lie (0.99: the p99)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def timed_calls(fn: Callable[[], object], count: int) -> list[float]:
    """Seconds each of ``count`` calls of ``fn`` took, one sample per call."""
    clock = time.perf_counter
    samples = []
    for _ in range(count):
        start = clock()
        fn()
        samples.append(clock() - start)
    return samples
