"""Which adapter builds are affected, measured: the report's case through each build.

A build is ``affected`` when any of the report's five preopens does not come back
``ok``. The verdict is measured every time it is asked for; nothing in the code says
which builds are affected.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..artifacts import adapters
from ..artifacts.adapters import AdapterBuild
from ..model.describe import evidence
from ..model.errors import LabError
from ..model.results import NATIVE, RunResult
from ..runs.runner import Runner, default_runner

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


def verdict(build: AdapterBuild | str, runner: Runner | None = None) -> Verdict:
    """Run the report's case through ``build``; affected when any preopen is not ``ok``."""
    runner = runner or default_runner()
    result = runner.run(REPORT_CASE, guest="opener", adapter=build)
    releases = build.releases if isinstance(build, AdapterBuild) else ()
    return Verdict(result.adapter, releases, not result.all_ok, evidence(result), result)


def measure(builds: Sequence[AdapterBuild] | None = None, runner: Runner | None = None,
            progress: bool = False) -> list[Verdict]:
    """Native first (the control), then every build, in release order."""
    runner = runner or default_runner()
    native = verdict(NATIVE, runner)
    if native.affected:
        raise LabError(
            "the native run of the report's case failed, so the host itself is broken "
            f"here ({'; '.join(native.evidence)}); fix that before judging adapters"
        )
    chosen = builds if builds is not None else adapters.catalogue()
    from tqdm.auto import tqdm  # here, not above: its import costs ~35 ms of every command (-X importtime)

    bar = tqdm(chosen, desc="verdicts", unit="build", delay=1.0, disable=not progress)
    return [native, *(verdict(b, runner) for b in bar)]


def pick_builds(found: list[Verdict] | None = None) -> tuple[str, str]:
    """One affected and one unaffected build, by measurement: the newest of each."""
    found = found or measure()
    affected = [v.adapter for v in found[1:] if v.affected]
    fixed = [v.adapter for v in found[1:] if not v.affected]
    if not affected or not fixed:
        raise LabError("comparing builds needs one affected and one unaffected build, and the verdicts found "
                       f"{len(affected)} affected and {len(fixed)} unaffected")
    return affected[-1], fixed[-1]
