"""Experiments built from single runs. For now: which adapter builds are affected.

The verdict for each build is measured every time it is asked for, by running the
bug report's five-directory case through the build and natively. Nothing in the
code says which builds are affected.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import adapters
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
