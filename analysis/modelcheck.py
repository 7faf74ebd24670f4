"""Does the model predict real runs? Random preopen lists, run for real, compared with ``==``.

Each list runs natively, through an affected build and through a fixed one, with the
opener and the probe; the model predicts each run with the behaviour measured for
that build, and the build's scratch capacity (``profiles.profile_of``). Any difference
is a ``Disagreement`` to show.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from .adapters import NATIVE
from .describe import differences
from .model import predict
from .results import RunResult
from .runner import Runner, default_runner
from .scenarios import random_preopens
from .profiles import Profile, profile_of


@dataclass(frozen=True)
class Disagreement:
    paths: tuple[str, ...]
    adapter: str
    guest: str
    predicted: RunResult
    measured: RunResult

    def describe(self) -> str:
        head = f"{self.adapter} / {self.guest}: {list(self.paths)!r}"
        return "\n".join([head, *differences(self.predicted, self.measured)])


@dataclass(frozen=True)
class ModelCheck:
    comparisons: int
    disagreements: tuple[Disagreement, ...]
    backends: tuple[tuple[str, Profile], ...]
    """(adapter id, what the model assumed for it)."""

    @property
    def agreements(self) -> int:
        return self.comparisons - len(self.disagreements)


def compare(paths: Sequence[str], adapter: str, guest: str, runner: Runner | None = None,
            profile: Profile | None = None) -> Disagreement | None:
    """One real run against the model's prediction for it (``profile``: the build's, measured by default)."""
    profile = profile or profile_of(adapter, runner)
    measured = (runner or default_runner()).run(paths, guest=guest, adapter=adapter)
    predicted = predict(paths, profile.behavior, guest=guest, adapter=measured.adapter,
                        adapter_sha256=measured.adapter_sha256, scratch_capacity=profile.scratch_capacity)
    if predicted == measured:
        return None
    return Disagreement(tuple(paths), measured.adapter, guest, predicted, measured)


def check_model(configs: int, seed: int, affected: str, fixed: str,
                guests: tuple[str, ...] = ("opener", "probe"),
                runner: Runner | None = None) -> ModelCheck:
    """Random preopen lists, each run for real through both builds and natively."""
    rng = random.Random(seed)
    backends = tuple((b, profile_of(b, runner)) for b in (NATIVE, affected, fixed))
    found = []
    comparisons = 0
    for _ in range(configs):
        paths = random_preopens(rng)
        for adapter, profile in backends:
            for guest in guests:
                comparisons += 1
                miss = compare(paths, adapter, guest, runner, profile)
                if miss is not None:
                    found.append(miss)
    return ModelCheck(comparisons, tuple(found), backends)
