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

from ..model.chain import predict
from ..model.describe import differences
from ..model.results import NATIVE, RunResult
from ..runs.runner import Runner, default_runner
from .profiles import Profile, profile_of
from .scenarios import random_preopens


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


FIELDS: dict[str, str] = {
    "names": "fd answers the probe and the walker printed (errno, length and name bytes)",
    "routes": "paths the opener's and the keeper's own wasi-libc routed (fd and prefix)",
    "reads": "MARKER reads by the opener, the keeper and the walker (content, or the errno)",
    "outcomes": "outcomes of the opener's, the keeper's and the walker's paths",
    "traps": "runs that trapped, or not (every guest)",
}
"""What a model check compares, field by field: only what a run measured. The probe has
no libc, so its routes and outcomes come from the model's own rule and are not counted."""
FIELD_GUESTS: dict[str, tuple[str, ...]] = {
    "names": ("probe", "walker"), "routes": ("opener", "keeper"), "reads": ("opener", "keeper", "walker"),
    "outcomes": ("opener", "keeper", "walker"), "traps": ("probe", "walker", "opener", "keeper")}
"""Which guests' runs measure each field."""


def field_counts(predicted: RunResult, measured: RunResult) -> dict[str, tuple[int, int]]:
    """Per field of ``FIELDS``: (how many agree, how many were compared) in one run."""
    guest = measured.guest
    counts = {"traps": (int((predicted.trap is None) == (measured.trap is None)), 1)}
    if guest in FIELD_GUESTS["names"]:
        pairs = list(zip(predicted.fds, measured.fds))
        agree = sum(p == m for p, m in pairs) if len(predicted.fds) == len(measured.fds) else 0
        counts["names"] = (agree, len(measured.fds))
    pairs = [(p, m) for p, m in zip(predicted.preopens, measured.preopens)
             if p.routed_by is not None or m.routed_by is not None]  # a trapped run routes nothing
    if guest in FIELD_GUESTS["routes"]:
        counts["routes"] = (sum((p.routed_fd, p.routed_prefix) == (m.routed_fd, m.routed_prefix) for p, m in pairs),
                            len(pairs))
    if guest in FIELD_GUESTS["reads"]:
        counts["reads"] = (sum((p.marker, p.errno) == (m.marker, m.errno) for p, m in pairs), len(pairs))
        counts["outcomes"] = (sum(p.outcome == m.outcome for p, m in pairs), len(pairs))
    return counts


@dataclass(frozen=True)
class ModelCheck:
    comparisons: int
    disagreements: tuple[Disagreement, ...]
    backends: tuple[tuple[str, Profile], ...]
    """(adapter id, what the model assumed for it)."""
    fields: dict[str, tuple[int, int]]
    """Per field of ``FIELDS``: (agreed, compared), summed over every run."""
    trapped: int
    """How many of the real runs trapped (the scratch area, the descriptor table)."""

    @property
    def agreements(self) -> int:
        return self.comparisons - len(self.disagreements)


def compare(paths: Sequence[str], adapter: str, guest: str, runner: Runner | None = None,
            profile: Profile | None = None) -> Disagreement | None:
    """One real run against the model's prediction for it (``profile``: the build's, measured by default)."""
    predicted, measured = predicted_and_measured(paths, adapter, guest, runner, profile)
    if predicted == measured:
        return None
    return Disagreement(tuple(paths), measured.adapter, guest, predicted, measured)


def predicted_and_measured(paths: Sequence[str], adapter: str, guest: str, runner: Runner | None = None,
                           profile: Profile | None = None) -> tuple[RunResult, RunResult]:
    profile = profile or profile_of(adapter, runner)
    measured = (runner or default_runner()).run(paths, guest=guest, adapter=adapter)
    predicted = predict(paths, profile.behavior, guest=guest, adapter=measured.adapter,
                        adapter_sha256=measured.adapter_sha256, scratch_capacity=profile.scratch_capacity)
    return predicted, measured


def check_model(configs: int, seed: int, affected: str, fixed: str,
                guests: tuple[str, ...] = ("opener", "probe", "walker", "keeper"),
                runner: Runner | None = None) -> ModelCheck:
    """Random preopen lists, each run for real through both builds and natively."""
    rng = random.Random(seed)
    backends = tuple((b, profile_of(b, runner)) for b in (NATIVE, affected, fixed))
    found = []
    fields = {name: (0, 0) for name in FIELDS}
    comparisons = trapped = 0
    for _ in range(configs):
        paths = random_preopens(rng)
        for adapter, profile in backends:
            for guest in guests:
                comparisons += 1
                predicted, measured = predicted_and_measured(paths, adapter, guest, runner, profile)
                trapped += measured.trap is not None
                if predicted != measured:
                    found.append(Disagreement(tuple(paths), measured.adapter, guest, predicted, measured))
                for name, (agree, compared) in field_counts(predicted, measured).items():
                    fields[name] = (fields[name][0] + agree, fields[name][1] + compared)
    return ModelCheck(comparisons, tuple(found), backends, fields, trapped)
