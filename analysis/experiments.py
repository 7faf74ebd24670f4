"""Experiments built from many real runs: which builds are affected, and whether the
model predicts what they do.

The verdict for each build is measured every time it is asked for, by running the
bug report's five-directory case through the build and natively. Nothing in the
code says which builds are affected.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import adapters, model
from .adapters import NATIVE, AdapterBuild
from .errors import LabError
from .results import RunResult, shown
from .runner import Runner, default_runner

REPORT_CASE: tuple[str, ...] = ("/a", "/b", "/c", "/d", "/e")
"""The preopens of wasmtime#10058."""


@dataclass(frozen=True)
class Verdict:
    adapter: str
    releases: tuple[str, ...]
    affected: bool
    evidence: tuple[str, ...]
    """One line per preopen that did not come back ``ok``."""
    result: RunResult

    @property
    def label(self) -> str:
        return "affected" if self.affected else "not affected"


def evidence(result: RunResult) -> tuple[str, ...]:
    """What went wrong, per preopen, in the words a reader needs."""
    lines = []
    for p in result.preopens:
        if p.outcome == "ok":
            continue
        seen = "no name" if p.name_seen is None else f"named {shown(p.name_seen)}"
        if p.outcome == "misrouted":
            lines.append(f"{shown(p.path)} misrouted to fd {p.routed_fd} (fd {p.expected_fd} {seen})")
        else:
            lines.append(f"{shown(p.path)} {p.outcome} (fd {p.expected_fd} {seen})")
    return tuple(lines)


def verdict(build: AdapterBuild | str, runner: Runner | None = None) -> Verdict:
    """Run the report's case through ``build``; affected when any preopen is not ``ok``."""
    runner = runner or default_runner()
    result = runner.run(REPORT_CASE, guest="opener", adapter=build)
    releases = build.releases if isinstance(build, AdapterBuild) else ()
    return Verdict(result.adapter, releases, not result.all_ok, evidence(result), result)


def verdicts(
    builds: tuple[AdapterBuild, ...] | None = None,
    runner: Runner | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Verdict]:
    """Native first (the control), then every build, in release order."""
    runner = runner or default_runner()
    native = verdict(NATIVE, runner)
    if native.affected:
        raise LabError(
            "the native run of the report's case failed, so the host itself is broken "
            f"here ({'; '.join(native.evidence)}); fix that before judging adapters"
        )
    found = [native]
    for build in builds if builds is not None else adapters.catalogue():
        if progress:
            progress(build.id)
        found.append(verdict(build, runner))
    return found


# -- the model against real runs ---------------------------------------------------------

_FAMILIES = ("equal", "varied", "shared-prefix", "nested", "duplicates", "non-ascii", "long", "odd")


def random_preopens(rng: random.Random, max_count: int = 12) -> list[str]:
    """A preopen list drawn from the families that matter to the bug.

    Equal and varied lengths, shared prefixes, nesting, duplicates, non-ASCII, names of
    hundreds of bytes and odd-but-legal names, mixed within one list.
    """
    count = rng.randint(1, max_count)
    equal_len = rng.randint(1, 6)
    paths: list[str] = []
    for _ in range(count):
        family = rng.choice(_FAMILIES)
        if family == "equal":
            path = "/" + "".join(rng.choice("abcde") for _ in range(equal_len))
        elif family == "varied":
            path = "/" + "".join(rng.choice("abcxyz") for _ in range(rng.randint(1, 8)))
        elif family == "shared-prefix":
            path = rng.choice(["/d", "/dd", "/data", "/dat", "/d/x", "/data/cache"])
        elif family == "nested":
            path = rng.choice(["/", "/tmp", "/tmp/x", "/tmp/x/y", "/home", "/home/user"])
        elif family == "duplicates" and paths:
            path = rng.choice(paths)
        elif family == "non-ascii":
            path = "/" + "".join(rng.choice("aé中üß") for _ in range(rng.randint(1, 5)))
        elif family == "long":
            path = "/" + rng.choice("lmn") * rng.randint(100, 400)
        else:
            path = rng.choice([".", "", "rel", "..", "/a/..", "./x", "/a//b", "x/"])
        paths.append(path)
    return paths


@dataclass(frozen=True)
class Disagreement:
    paths: tuple[str, ...]
    adapter: str
    guest: str
    predicted: RunResult
    measured: RunResult

    def describe(self) -> str:
        lines = [f"{self.adapter} / {self.guest}: {list(self.paths)!r}"]
        if self.predicted.fds != self.measured.fds:
            lines.append(f"  fds predicted {self.predicted.fds}")
            lines.append(f"  fds measured  {self.measured.fds}")
        for p, m in zip(self.predicted.preopens, self.measured.preopens):
            if p != m:
                lines.append(f"  predicted {p}")
                lines.append(f"  measured  {m}")
        if self.predicted.exit_code != self.measured.exit_code:
            lines.append(f"  exit code predicted {self.predicted.exit_code}, measured {self.measured.exit_code}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ModelCheck:
    comparisons: int
    disagreements: tuple[Disagreement, ...]
    backends: tuple[tuple[str, str], ...]
    """(adapter id, behaviour the model assumed for it)."""

    @property
    def agreements(self) -> int:
        return self.comparisons - len(self.disagreements)


def pick_builds(found: list[Verdict] | None = None) -> tuple[str, str]:
    """One affected and one unaffected build, by measurement: the newest of each."""
    found = found or verdicts()
    affected = [v.adapter for v in found[1:] if v.affected]
    fixed = [v.adapter for v in found[1:] if not v.affected]
    if not affected or not fixed:
        raise LabError("check-model needs one affected and one unaffected build, and the verdicts found "
                       f"{len(affected)} affected and {len(fixed)} unaffected")
    return affected[-1], fixed[-1]


def compare(paths: Sequence[str], adapter: str, behavior: model.Behavior, guest: str,
            runner: Runner | None = None) -> Disagreement | None:
    """One real run against the model's prediction for it."""
    measured = (runner or default_runner()).run(paths, guest=guest, adapter=adapter)
    predicted = model.predict(paths, behavior, guest=guest, adapter=measured.adapter,
                              adapter_sha256=measured.adapter_sha256)
    if predicted == measured:
        return None
    return Disagreement(tuple(paths), measured.adapter, guest, predicted, measured)


def check_model(configs: int, seed: int, affected: str, fixed: str,
                guests: tuple[str, ...] = ("opener", "probe"),
                runner: Runner | None = None) -> ModelCheck:
    """Random preopen lists, each run for real through both builds and natively."""
    rng = random.Random(seed)
    backends: tuple[tuple[str, model.Behavior], ...] = (
        (NATIVE, "native"), (affected, "missing-increment"), (fixed, "fixed"))
    found = []
    comparisons = 0
    for _ in range(configs):
        paths = random_preopens(rng)
        for adapter, behavior in backends:
            for guest in guests:
                comparisons += 1
                miss = compare(paths, adapter, behavior, guest, runner)
                if miss is not None:
                    found.append(miss)
    return ModelCheck(comparisons, tuple(found), backends)
