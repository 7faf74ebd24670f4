"""What a host can do about the bug, each practice backed by real runs.

- ``preflight``: before shipping, run the exact preopen list through the adapter build
  you ship and refuse it if any preopen is unreachable.
- ``shared_parent``: preopen one parent directory instead of many siblings; one
  preopen is always fd 3, the one slot every build answers correctly.
- ``order_search``: try every order of a list; ordering can move the damage around,
  never remove it.
- ``upgrade_targets``: the unaffected builds newer than every affected one.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..artifacts import guests
from ..artifacts.adapters import AdapterBuild
from ..model.describe import evidence, shown
from ..model.errors import LabError
from ..model.markers import MARKER
from ..model.results import Outcome, RunResult, unreported
from ..model.wasi import NAME_MAX, check_paths
from ..runs.guest_output import json_records, lines_of, opener_routes
from ..runs.runner import Runner, default_runner
from .verdicts import Verdict


@dataclass(frozen=True)
class Preflight:
    adapter: str
    paths: tuple[str, ...]
    unreachable: tuple[str, ...]
    """One line per preopen that a guest could not use as configured."""
    result: RunResult

    @property
    def passed(self) -> bool:
        return not self.unreachable

    def __str__(self) -> str:
        if self.passed:
            return f"preflight passed: all {len(self.paths)} preopens reachable through {self.adapter}"
        return (f"preflight FAILED through {self.adapter}: {len(self.unreachable)} of {len(self.paths)} "
                f"preopens unreachable: " + "; ".join(self.unreachable))


def preflight(paths: Sequence[str], adapter: str | AdapterBuild, runner: Runner | None = None) -> Preflight:
    """Run the opener with exactly these preopens through ``adapter``: does every one work?"""
    result = (runner or default_runner()).run(paths, guest="opener", adapter=adapter)
    return Preflight(result.adapter, result.paths, evidence(result), result)


@dataclass(frozen=True)
class ChildRead:
    path: str
    routed_fd: int
    marker: str | None
    outcome: Outcome


def shared_parent(children: Sequence[str], adapter: str | AdapterBuild, parent: str = "/srv",
                  runner: Runner | None = None) -> pd.DataFrame:
    """One preopen, ``parent``, holding a subdirectory per child; the guest opens each
    ``parent/child/MARKER``. Every child is served through the single fd 3."""
    runner = runner or default_runner()
    for child in check_paths(children):
        if child in ("", ".", "..") or "/" in child or len(child.encode()) > NAME_MAX:
            raise LabError(f"child {child!r} is not a plain directory name: give names such as a, b, data")
    if len(set(children)) != len(children):
        raise LabError("the children must have different names: each becomes its own subdirectory")
    program = runner.program(guests.get("opener"), adapter)
    targets = [f"{parent.rstrip('/')}/{c}" for c in children]

    def populate(root: Path) -> list[tuple[str, str]]:
        host = root / "parent"
        for child in children:
            (host / child).mkdir(parents=True)
            (host / child / MARKER).write_text(f"child-{child}")
        return [(str(host), parent)]

    done = runner.execute(program, ["opener", *targets], populate)
    routes = opener_routes(json_records(lines_of(done.stdout)))
    reads = []
    for child, route in zip(children, routes):
        outcome: Outcome = "ok" if route.marker == f"child-{child}" else "missing"
        reads.append(ChildRead(f"{parent.rstrip('/')}/{child}", route.routed_fd, route.marker, outcome))
    reads += [ChildRead(t, -1, None, unreported(done.trap)) for t in targets[len(routes):]]
    return pd.DataFrame([dataclasses.asdict(r) for r in reads])


def upgrade_targets(found: Sequence[Verdict]) -> list[str]:
    """Unaffected builds newer than the newest affected one (``found`` from
    ``verdicts.measure``, in release order): the builds to upgrade to, not older ones."""
    builds = list(found)[1:]
    last_bad = max((i for i, v in enumerate(builds) if v.affected), default=-1)
    return [v.adapter for v in builds[last_bad + 1:] if not v.affected]


def order_search(paths: Sequence[str], adapter: str | AdapterBuild, runner: Runner | None = None) -> pd.DataFrame:
    """Every order of ``paths`` through ``adapter``: how many preopens each order keeps."""
    runner = runner or default_runner()
    rows = []
    for perm in itertools.permutations(check_paths(paths)):
        result = runner.run(perm, adapter=adapter)
        rows.append({"order": " ".join(shown(p) for p in perm), "reachable": result.count("ok"),
                     "lost": len(perm) - result.count("ok"),
                     "kept": " ".join(shown(p.path) for p in result.preopens if p.outcome == "ok")})
    return pd.DataFrame(rows).sort_values("reachable", ascending=False, kind="stable").reset_index(drop=True)
