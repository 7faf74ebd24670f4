"""Sweeps: grids of real runs, with the model's prediction beside each, as DataFrames.

A sweep runs every scenario (a preopen list from ``scenarios``) through every build
and keeps one row per preopen per run (``COLUMNS`` says what each column holds), so
plots and notebooks group and count outcomes with pandas. ``save`` writes a sweep's
rows as CSV. ``ceiling`` asks how many preopens each build takes.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..artifacts.adapters import all_builds
from ..artifacts.cache import REPORTS_DIR, write_atomically
from ..model import scratch
from ..model.chain import predict
from ..model.describe import sentence
from ..model.errors import LabError
from ..model.results import NATIVE, OUTCOMES, RunResult
from ..model.wasi import ADAPTER_MAX_PREOPENS
from ..runs import pool
from ..runs.cpus import usable_cpus
from ..runs.runner import Runner, default_runner
from .profiles import Profile, profile_of
from .scenarios import SCHEMES, Scenario, scheme_paths
from .verdicts import REPORT_CASE

if TYPE_CHECKING:  # pandas is imported where a frame is made: `python -m analysis scan` never pays for it
    import pandas as pd


COLUMNS: dict[str, str] = {
    "sweep": "the sweep's name",
    "scenario": "the scenario's label within the sweep",
    "scheme": "the naming scheme (equal, varied, shared-prefix, nested, realistic, custom)",
    "build": "adapter build id, or native",
    "count": "number of preopens in the run",
    "order": "the scheme entries at positions 0, 1, ... (space-separated indices)",
    "position": "0-based position of this preopen in the run; its fd is 3 + position",
    "position_class": "first, middle, last, or only",
    "path": "the guest path the host gave this preopen",
    "fd": "the fd the host put it at",
    "name_seen": "the name the guest read for that fd (empty if enumeration stopped before it)",
    "routed_fd": "the fd wasi-libc sent <path>/MARKER to; -1 for none or not known (rust-open)",
    "outcome": "measured: ok, missing, misrouted, trap or timeout",
    "model_outcome": "what the model predicted for the same run",
}
"""The columns of a sweep's DataFrame, one row per preopen per run."""


def position_class(position: int, count: int) -> str:
    if count == 1:
        return "only"
    return "first" if position == 0 else "last" if position == count - 1 else "middle"


@dataclass(frozen=True)
class Sweep:
    """A declared grid: every scenario through every build, run for real."""

    name: str
    scenarios: tuple[Scenario, ...]
    builds: tuple[str, ...]
    guest: str = "opener"

    @property
    def runs(self) -> int:
        return len(self.scenarios) * len(self.builds)

    def run(self, runner: Runner | None = None, progress: bool = True, workers: int | None = None,
            meanwhile: Callable[[], object] | None = None) -> pd.DataFrame:
        """Run it, with the model's prediction beside each result; one row per preopen.

        ``workers`` processes share the runs (default: one per CPU for sweeps of
        ``PARALLEL_FROM`` runs or more, else this process); the rows are the same either way.
        ``meanwhile`` is called in this process while workers run (after the runs when
        there are none); the command line loads its plotting libraries there."""
        if workers is None:
            workers = len(usable_cpus()) if self.runs >= PARALLEL_FROM else 1
        if workers > 1:
            with pool.Workers(workers) as started:  # before this process runs a guest, so they can be forked
                rows = started.map_chunks(_run_jobs, self._jobs(runner or default_runner()), desc=self.name,
                                          progress=progress, meanwhile=meanwhile)
        else:
            rows = []
            runner = runner or default_runner()
            from tqdm.auto import tqdm  # here, not above: its import costs ~35 ms of every command (-X importtime)

            with tqdm(total=self.runs, desc=self.name, unit="run", delay=1.0, disable=not progress) as bar:
                for job in self._jobs(runner):
                    rows.extend(_run_job(job, runner))
                    bar.update()
            if meanwhile is not None:
                meanwhile()
        import pandas as pd

        return pd.DataFrame(rows, columns=list(COLUMNS))

    def _jobs(self, runner: Runner) -> list[_Job]:
        """Every run, each with its build's profile (measured here, once per build)."""
        profiles = {b: profile_of(b, runner) for b in self.builds}
        return [_Job(self.name, self.guest, build, profiles[build], scenario)
                for build in self.builds for scenario in self.scenarios]


PARALLEL_FROM = 2000
"""Sweeps of this many runs or more use every CPU; below it, starting workers costs more
than it saves (about a second each)."""


@dataclass(frozen=True)
class _Job:
    sweep: str
    guest: str
    build: str
    profile: Profile
    scenario: Scenario


def _run_job(job: _Job, runner: Runner) -> list[tuple]:
    result = runner.run(job.scenario.paths, guest=job.guest, adapter=job.build)
    predicted = predict(job.scenario.paths, job.profile.behavior, guest=job.guest,
                        scratch_capacity=job.profile.scratch_capacity)
    return _rows(job.sweep, job.scenario, result, predicted)


def _run_jobs(jobs: Sequence[_Job]) -> list[tuple]:
    """One chunk of a sweep, in a worker process."""
    runner = pool.worker_runner()
    return [row for job in jobs for row in _run_job(job, runner)]


def _rows(sweep: str, scenario: Scenario, result: RunResult, predicted: RunResult) -> list[tuple]:
    """One row per preopen, its values in ``COLUMNS`` order (tuples: a worker's chunk
    travels back to the parent pickled, and tuples are a fraction of dicts' size)."""
    count = len(scenario.paths)
    order = " ".join(map(str, scenario.order))
    return [
        (sweep, scenario.label, scenario.scheme, result.adapter, count, order, p.index,
         position_class(p.index, count), p.path, p.expected_fd, p.name_seen or "",
         -1 if p.routed_fd is None else p.routed_fd, p.outcome, q.outcome)
        for p, q in zip(result.preopens, predicted.preopens)
    ]


def count_sweep(scheme: str = "equal", max_count: int = 10, builds: Sequence[str] = (),
                custom: Sequence[str] = ()) -> Sweep:
    scenarios = tuple(
        Scenario(f"{scheme} n={n}", scheme, tuple(scheme_paths(scheme, n, custom)), tuple(range(n)))
        for n in range(1, max_count + 1)
    )
    return Sweep(f"count-{scheme}", scenarios, tuple(builds) or all_builds())


def order_sweep(paths: Sequence[str], builds: Sequence[str] = (), scheme: str = "custom") -> Sweep:
    """Every order of ``paths`` (7 paths: 5,040 runs per build)."""
    paths = list(paths)
    scenarios = tuple(
        Scenario(" ".join(map(str, perm)), scheme, tuple(paths[i] for i in perm), perm)
        for perm in itertools.permutations(range(len(paths)))
    )
    return Sweep(f"orders-{len(paths)}", scenarios, tuple(builds) or all_builds())


def scheme_sweep(count: int = 5, builds: Sequence[str] = (), custom: Sequence[str] = ()) -> Sweep:
    names = [*SCHEMES, *(["custom"] if custom else [])]
    scenarios = tuple(
        Scenario(name, name, tuple(scheme_paths(name, count, custom)), tuple(range(count))) for name in names
    )
    return Sweep(f"schemes-{count}", scenarios, tuple(builds) or all_builds())


def report_sweep(builds: Sequence[str] = ()) -> Sweep:
    """The report's case and every scheme at five preopens, through every build."""
    count = len(REPORT_CASE)
    others = (s for s in scheme_sweep(count).scenarios if s.scheme != "equal")  # the report's case is equal
    scenarios = (Scenario("report /a../e", "equal", REPORT_CASE, tuple(range(count))), *others)
    return Sweep("builds", scenarios, tuple(builds) or all_builds())


NAMED_SWEEPS: dict[str, Callable[[Sequence[str]], Sweep]] = {
    "counts": lambda builds: count_sweep("equal", 10, builds),
    "schemes": lambda builds: scheme_sweep(5, builds),
    "orders": lambda builds: order_sweep(SCHEMES["realistic"](7), builds, "realistic"),
    "builds": lambda builds: report_sweep(builds),
}


def named_sweep(name: str, builds: Sequence[str] = ()) -> Sweep:
    if name not in NAMED_SWEEPS:
        raise LabError(f"unknown sweep {name!r}: choose one of {', '.join(NAMED_SWEEPS)}")
    return NAMED_SWEEPS[name](builds)


AROUND_THE_CEILING = (ADAPTER_MAX_PREOPENS - 1, ADAPTER_MAX_PREOPENS, ADAPTER_MAX_PREOPENS + 1)


def ceiling(counts: Sequence[int] = AROUND_THE_CEILING, builds: Sequence[str] = (),
            runner: Runner | None = None) -> pd.DataFrame:
    """How many preopens each build takes: outcome counts per (build, number of preopens)."""
    runner = runner or default_runner()
    rows = []
    for build in builds or all_builds():
        for count in counts:
            result = runner.run([f"/d{i}" for i in range(count)], adapter=build)
            rows.append({"build": result.adapter, "preopens": count,
                         **{o: result.count(o) for o in OUTCOMES},
                         "files read": sum(p.marker is not None for p in result.preopens),
                         "what happened": result.trap_summary or sentence(result),
                         "trap cause": result.trap_cause or ""})
    import pandas as pd

    return pd.DataFrame(rows)


NAME_COUNTS = (1, 2, 3, 10, 30, 100)


def name_budget(builds: Sequence[str] = (), counts: Sequence[int] = NAME_COUNTS,
                runner: Runner | None = None) -> pd.DataFrame:
    """The most name bytes each build takes, by number of equal-length names: the longest
    names that still run, found by bisection with the probe, beside what the model's
    byte counts (``scratch.need`` against the measured capacity) say."""
    runner = runner or default_runner()
    rows = []
    for build in builds or all_builds():
        if build == NATIVE:
            continue
        profile = profile_of(build, runner)
        for count in counts:
            def names(size: int) -> list[str]:
                return [f"/{i:03d}" + "n" * (size - 4) for i in range(count)]

            predicted = scratch.longest_fitting(
                lambda size: scratch.need(names(size), profile.behavior, "probe") <= profile.scratch_capacity,
                4, 1 << 17)
            measured = scratch.longest_fitting(  # real runs decide; the prediction is only where they start
                lambda size: runner.run(names(size), guest="probe", adapter=build).trap is None, 4, 1 << 17, predicted)
            rows.append({"build": build, "behavior": profile.behavior, "names": count,
                         "longest name": measured, "total name bytes": measured * count,
                         "predicted longest name": predicted})
    import pandas as pd

    return pd.DataFrame(rows)


def save(frame: pd.DataFrame, name: str, directory: Path | None = None) -> Path:
    """Write a sweep's rows as CSV under ``reports/data/`` (or ``directory``), atomically."""
    directory = directory or REPORTS_DIR / "data"
    path = directory / f"{name}.csv"
    write_atomically(path, frame.to_csv(index=False).encode())
    return path
