"""The bench's measuring tools: a figure from samples, a whole command timed as a user
types it, and the peak memory of a process and everything under it.

Figures only: nothing here asserts a time.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..model.errors import LabError
from ..runs.cpus import usable_cpus


@dataclass(frozen=True)
class Timing:
    label: str
    runs: int
    median_ms: float
    p95_ms: float

    def line(self) -> str:
        return f"{self.label:<44} runs={self.runs:<5} median={self.median_ms:8.3f} ms  p95={self.p95_ms:8.3f} ms"


def timing(label: str, samples: list[float]) -> Timing:
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
    return Timing(label, len(samples), statistics.median(samples) * 1000, p95 * 1000)


def time_command(args: list[str], repeat: int = 3) -> Timing:
    """A whole ``python -m analysis`` command as a user types it: start-up, runs, files, figures."""
    samples = []
    with tempfile.TemporaryDirectory(prefix="preopen-lab-bench-") as out:
        for _ in range(repeat):
            start = time.perf_counter()
            writes = args[0] in ("sweep", "report")  # into a scratch folder, not reports/
            done = subprocess.run([sys.executable, "-m", "analysis", *args, *(["--out", out] if writes else [])],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  preexec_fn=every_cpu)  # this process is pinned; the command must not inherit it
            samples.append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                raise LabError(f"`python -m analysis {' '.join(args)}` failed (status {done.returncode}); run it alone")
    return timing(f"python -m analysis {' '.join(args)}", samples)


def every_cpu() -> None:
    os.sched_setaffinity(0, usable_cpus())


@contextlib.contextmanager
def _children_onevery_cpu() -> Iterator[None]:
    """Processes started in the block may use every CPU, whatever this one is pinned to."""
    pinned = os.sched_getaffinity(0)
    os.sched_setaffinity(0, usable_cpus())
    try:
        yield
    finally:
        os.sched_setaffinity(0, pinned)


def peak_of_tree(child: subprocess.Popen) -> int:
    """The largest peak resident memory (``VmHWM``) of ``child`` and every process under it,
    the guest's own process included, read from /proc every 5 ms until ``child`` ends."""
    peaks: dict[int, int] = {}
    while child.poll() is None:
        frontier = [child.pid]
        while frontier:
            pid = frontier.pop()
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                kids = [int(k) for t in Path(f"/proc/{pid}/task").iterdir()
                        for k in (t / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            hwm = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM")), 0)
            peaks[pid] = max(peaks.get(pid, 0), hwm)
            frontier += kids
        time.sleep(0.005)
    return max(peaks.values(), default=0)
