"""The hunter: it tries to refute a claim with lists drawn inside the claim's domain, run
for real, and shrinks the first counterexample it finds to the shortest list (and the
earliest build) that still refutes the claim.

Hypothesis does the drawing and the shrinking (``find``), derandomised, so a report hunts
the same lists every time and a refutation can be reproduced. ``try_list`` is the other
way round: one list of your own, tried against every claim whose domain holds it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning, NoSuchExample, Unsatisfiable

from ..model.results import RunResult
from ..runs.runner import Runner, default_runner
from .checks import HUNTER, Claim, Findings, Paths, label

SHRINK_RUNS = 400
"""Runs the hunter may spend shrinking a counterexample: past them it keeps the shortest found."""
REPORT_HUNT = 60
"""Lists the report's pages hunt per claim: enough to meet every kind of name, few
enough that a warm ``make report`` stays under a minute (``python -m analysis claims
--hunt N`` hunts more)."""


def _settings(budget: int) -> settings:
    return settings(max_examples=budget, database=None, derandomize=True, deadline=None,
                    phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))


def hunt(claim: Claim, budget: int, runner: Runner | None = None) -> Claim:
    """``claim`` after up to ``budget`` lists drawn inside its domain were tried: refuted, with
    the shrunk counterexample, if one did not pass; ``hunted`` says how many were drawn."""
    if claim.trial is None or claim.domain.lists is None or budget <= 0 or not claim.holds:
        return claim
    runner = runner or default_runner()
    trial, domain = claim.trial, claim.domain
    tried: set[tuple[Paths, str, str]] = set()
    answers: dict[tuple[Paths, str, str], bool] = {}
    found_at: list[int] = []

    def refutes(case: tuple[Paths, str, str]) -> bool:
        if case in answers:
            return answers[case]
        if found_at and len(answers) - found_at[0] >= SHRINK_RUNS:
            return False  # shrinking has had its runs: the shortest found so far stands
        if not found_at:
            tried.add(case)
        answers[case] = not trial.passes(settled(runner, case[0], case[2], case[1]))
        if answers[case] and not found_at:
            found_at.append(len(tried))
        return answers[case]

    cases = st.tuples(domain.lists, st.sampled_from(trial.builds), st.sampled_from(trial.guests)).filter(
        lambda case: domain.contains(*case))
    try:
        with warnings.catch_warnings():  # a list of names of kilobytes makes Hypothesis warn that its repr is long
            warnings.simplefilter("ignore", HypothesisWarning)
            paths, build, guest = find(cases, refutes, settings=_settings(budget))
    except (NoSuchExample, Unsatisfiable):  # none refutes, or the generator drew nothing inside the domain
        return replace(claim, hunted=len(tried))
    shrunk = settled(runner, paths, guest, build)
    return replace(claim, holds=False, hunted=found_at[0], refuted_by=(tuple(paths), build, guest),
                   example=f"{HUNTER} (list {found_at[0]:,} drawn, then shrunk): {label(shrunk)}")


def settled(runner: Runner, paths: Paths, guest: str, build: str) -> RunResult:
    """One run, run again if it ran out of time: a deadline hit on a busy machine says
    nothing of the claim (no claim speaks of timeouts); a second one is kept, and refutes."""
    run = runner.run(paths, guest=guest, adapter=build)
    return runner.run(paths, guest=guest, adapter=build) if run.timed_out else run


def hunted(findings: Findings, budget: int, runner: Runner | None = None) -> Findings:
    return replace(findings, claims=tuple(hunt(c, budget, runner) for c in findings.claims))


@dataclass(frozen=True)
class Tried:
    """One list of your own against one claim whose domain holds it."""

    claim: Claim
    runs: tuple[RunResult, ...]
    failed: tuple[RunResult, ...]

    @property
    def held(self) -> bool:
        return not self.failed


def try_list(paths: Paths, claims: list[Claim], runner: Runner | None = None, guest: str | None = None) -> list[Tried]:
    """Run ``paths`` through the builds and guests of every claim whose domain holds it (each
    build and guest the domain holds it for; only ``guest``, if given), and say whether the
    claim held."""
    runner = runner or default_runner()
    done = []
    for claim in claims:
        if claim.trial is None:
            continue
        guests = [g for g in claim.trial.guests if guest in (None, g)]
        cases = [(b, g) for g in guests for b in claim.trial.builds if claim.domain.contains(paths, b, g)]
        if not cases:
            continue
        runs = tuple(settled(runner, paths, g, b) for b, g in cases)
        done.append(Tried(claim, runs, tuple(r for r in runs if not claim.trial.passes(r))))
    return done
