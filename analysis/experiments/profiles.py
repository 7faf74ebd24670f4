"""What the model needs to know about a build, measured by running it.

Two facts per adapter build, each found with real runs and kept for the process:
its behaviour (``missing-increment`` when the report's case loses preopens; else
``early`` when it can report an empty name, ``fixed`` when it cannot) and how many
bytes its scratch area holds (the longest single name it takes, found by bisection
with the probe, as ``scratch.need`` counts it).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..artifacts import adapters
from ..model import scratch
from ..model.chain import Behavior
from ..model.errors import LabError
from ..model.results import NATIVE
from ..model.wasi import FIRST_FD
from ..runs.runner import Runner, default_runner
from .verdicts import verdict


@dataclass(frozen=True)
class Profile:
    behavior: Behavior
    scratch_capacity: int | None
    """Bytes the adapter's scratch area holds; None natively (no adapter, no such limit)."""


_PROFILES: dict[str, Profile] = {}
LONGEST_TRIED = 1 << 17
"""Longer than any adapter's scratch area (they live in one 64 KiB page)."""


def profile_of(build: str, runner: Runner | None = None) -> Profile:
    """The build's behaviour and scratch capacity, measured on first use."""
    if build == NATIVE:
        return Profile("native", None)
    key = adapters.resolve(build).sha256
    if key not in _PROFILES:
        runner = runner or default_runner()
        behavior = _behavior(build, runner)
        _PROFILES[key] = Profile(behavior, _scratch_capacity(build, behavior, runner))
    return _PROFILES[key]


def behavior_of(build: str, runner: Runner | None = None) -> Behavior:
    return profile_of(build, runner).behavior


def _behavior(build: str, runner: Runner) -> Behavior:
    if verdict(build, runner).affected:
        return "missing-increment"
    probe = runner.run(["/a", "", "/b"], guest="probe", adapter=build)
    reports_empty = any(e.fd == FIRST_FD + 1 and e.errno == 0 for e in probe.fds)
    return "early" if reports_empty else "fixed"


def _scratch_capacity(build: str, behavior: Behavior, runner: Runner) -> int:
    """The longest single name the probe can be told through ``build``, found with real runs
    (starting from the longest found for another build, which often settles it in two)."""
    longest = longest_name(build, "probe", runner, max(_LONGEST_NAMES.values(), default=None))
    if longest < 2 or longest >= LONGEST_TRIED - 1:
        raise LabError(f"cannot measure the scratch area of {build}: a name of 2 bytes should run and one of "
                       f"{LONGEST_TRIED} should trap; check the build with `python -m analysis run --adapter {build} /a`")
    _LONGEST_NAMES[build] = longest
    return scratch.need(["/" + "n" * (longest - 1)], behavior, "probe")


def longest_name(build: str, guest: str, runner: Runner, hint: int | None = None) -> int:
    """The longest single preopen name ``guest`` runs with through ``build`` without a trap, by
    bisection with real runs (``hint``: where to start, two runs when it is right)."""
    def fits(size: int) -> bool:
        return runner.run(["/" + "n" * (size - 1)], guest=guest, adapter=build).trap is None

    return scratch.longest_fitting(fits, 2, LONGEST_TRIED, hint)


_LONGEST_NAMES: dict[str, int] = {}
