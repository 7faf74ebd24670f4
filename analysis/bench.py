"""How much one run costs in-process, against compiling afresh for every run.

Prints measured figures only; nothing here asserts a time.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from . import model
from .adapters import all_builds, resolve
from .runner import Runner
from .sweeps import named_sweep
from .verdicts import REPORT_CASE


@dataclass(frozen=True)
class Timing:
    label: str
    runs: int
    median_ms: float
    p95_ms: float

    def line(self) -> str:
        return f"{self.label:<44} runs={self.runs:<5} median={self.median_ms:8.3f} ms  p95={self.p95_ms:8.3f} ms"


def _timing(label: str, samples: list[float]) -> Timing:
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
    return Timing(label, len(samples), statistics.median(samples) * 1000, p95 * 1000)


def time_runs(adapter: str, runs: int = 500, baseline_runs: int = 500, guest: str = "opener") -> tuple[Timing, Timing]:
    """Median cost of one run with compiled code reused, and with a fresh engine and compile."""
    warm = Runner()
    warm.run(REPORT_CASE, guest=guest, adapter=adapter)  # fetch, compose, compile once
    reused = []
    for _ in range(runs):
        start = time.perf_counter()
        warm.run(REPORT_CASE, guest=guest, adapter=adapter)
        reused.append(time.perf_counter() - start)
    fresh = []
    for _ in range(baseline_runs):
        start = time.perf_counter()
        Runner().run(REPORT_CASE, guest=guest, adapter=adapter)
        fresh.append(time.perf_counter() - start)
    return _timing(f"{guest} via {adapter}, reused", reused), _timing(f"{guest} via {adapter}, fresh compile", fresh)


TEN_PREOPENS = ("/data", "/cache", "/tmp", "/home/user", "/a", "/bb", "/ccc", "/d/x", "/", "/srv")


def time_model(runs: int = 2000) -> list[Timing]:
    """The model's answer to a ten-preopen question, per behaviour."""
    timings = []
    for behavior in model.BEHAVIORS:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            model.predict(TEN_PREOPENS, behavior)
            samples.append(time.perf_counter() - start)
        timings.append(_timing(f"model predict, 10 preopens, {behavior}", samples))
    return timings


def time_explorer(adapter: str, changes: int = 300) -> Timing:
    """From a widget change to the redrawn output, driving the explorer's widgets."""
    from .widgets import Explorer  # ipywidgets, only when the explorer is timed

    explorer = Explorer(build=resolve(adapter).id)
    samples = []
    for i in range(changes):
        start = time.perf_counter()
        explorer.count.value = 2 + i % 10  # each change runs and redraws before returning
        samples.append(time.perf_counter() - start)
    return _timing(f"explorer change -> redraw, {adapter}", samples)


def time_orders(builds: tuple[str, ...]) -> tuple[int, float]:
    """All 5,040 orders of seven realistic directories through ``builds``: (runs, seconds)."""
    sweep = named_sweep("orders", builds)
    start = time.perf_counter()
    sweep.run(progress=False)
    return sweep.runs, time.perf_counter() - start


def main(adapter: str, runs: int, baseline_runs: int, every_build: bool = True) -> None:
    reused, fresh = time_runs(adapter, runs, baseline_runs)
    print(f"in-process cost of one run: {len(REPORT_CASE)} preopens, guest opener, adapter {adapter}")
    print(reused.line())
    print(fresh.line())
    print(f"fresh compile / reused (median): {fresh.median_ms / reused.median_ms:.1f}x")
    print("the model, no WebAssembly:")
    for timing in time_model():
        print(timing.line())
    print("the explorer (widgets driven in-process, no browser):")
    print(time_explorer(adapter).line())
    count, seconds = time_orders((adapter,))
    print(f"all orders of 7 directories through {adapter}: {count} runs in {seconds:.1f} s "
          f"({count / seconds:.0f} runs/s)")
    if every_build:
        builds = all_builds()
        count, seconds = time_orders(builds)
        print(f"the same through native and all {len(builds) - 1} catalogued builds: {count} runs in "
              f"{seconds:.1f} s ({count / seconds:.0f} runs/s)")
