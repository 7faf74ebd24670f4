"""A general statement with the runs behind it: whether it holds, the lists it speaks
about (its domain, in words and as code), what it was checked on, and the case that
refutes it (for "every ...") or shows it (for "some ..."). The lab's own statements are
in ``claims`` and ``advice``; this is the form they take.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..model.describe import shown
from ..model.results import RunResult

Paths = tuple[str, ...]
HUNTER = "the hunter's counterexample"
"""How a counterexample the hunter found begins (``hunt``)."""


def label(result: RunResult) -> str:
    """A run in one line: the build, the preopens and what became of each."""
    paths = " ".join(shown(p, 24) for p in result.paths)
    return f"{result.adapter}: {paths} → {' '.join(result.outcomes)}"


@dataclass(frozen=True)
class Domain:
    """The runs a claim speaks about: preopen lists, each through a build.

    ``contains(paths, build)`` says whether one run lies inside; ``lists`` is a Hypothesis
    strategy that draws lists for the hunter (``hunt``), or None when there is nothing to
    draw: the claim speaks of the lists it names, or of builds and files, not of lists.
    """

    words: str
    contains: Callable[[Paths, str], bool]
    lists: Any = None

    @classmethod
    def only(cls, *lists: Sequence[str], words: str = "") -> Domain:
        """The lists named, and no other."""
        named = {tuple(p) for p in lists}
        kind = "this list only" if len(named) == 1 else "these lists only"
        listed = "; ".join(" ".join(shown(n, 24) for n in p) for p in list(named)[:3])
        listed += "; ..." if len(named) > 3 else ""
        return cls(words or f"{kind}: {listed}", lambda paths, build: tuple(paths) in named)

    @classmethod
    def about(cls, words: str) -> Domain:
        """Not preopen lists at all: builds, files, measurements."""
        return cls(words, lambda paths, build: False)


@dataclass(frozen=True)
class Trial:
    """How one list is tried against a claim: the guest to run, the builds to run it
    through, and what each run must show for the claim to hold."""

    guest: str
    builds: tuple[str, ...]
    passes: Callable[[RunResult], bool]


@dataclass(frozen=True)
class Claim:
    statement: str
    holds: bool
    evidence: str
    """What it was checked on, in numbers."""
    example: str = ""
    """The counterexample that refutes it, or the run that shows it."""
    domain: Domain = Domain.about("")
    trial: Trial | None = None
    """How to try a list of the domain against it (``claims --on``, the hunter); None when
    the claim is not about single runs."""
    hunted: int = 0
    """How many lists the hunter drew inside the domain and ran (``hunt``)."""
    refuted_by: tuple[tuple[str, ...], str] | None = None
    """The hunter's shrunk counterexample whole, (list, build): ``example`` shortens long names,
    this gives what to run again (``claims --json``)."""

    def with_domain(self, domain: Domain, trial: Trial | None = None) -> Claim:
        return replace(self, domain=domain, trial=trial)

    @property
    def huntable(self) -> bool:
        return self.trial is not None and self.domain.lists is not None

    @property
    def hunt_note(self) -> str:
        """What the hunter did, in words: empty for a claim it cannot hunt."""
        if not self.huntable:
            return ""
        builds = len(self.trial.builds)
        through = "natively" if self.trial.builds == ("native",) else f"each through one of {builds} builds"
        if self.example.startswith(HUNTER):
            return f"refuted by list {self.hunted:,} the hunter drew, shown shrunk"
        if not self.hunted:
            return "not hunted"
        return f"the hunter drew {self.hunted:,} lists inside the domain, {through}: none refutes it"


@dataclass(frozen=True)
class Findings:
    """One notebook's "What we learned": its claims, in order."""

    title: str
    claims: tuple[Claim, ...]

    @property
    def all_hold(self) -> bool:
        return all(c.holds for c in self.claims)


def every(statement: str, cases: Iterable[tuple[str, bool]], what: str) -> Claim:
    """Holds when every case holds (and there was at least one); names the first that does not."""
    checked, refuted = 0, None
    for label, holds in cases:
        checked += 1
        if not holds and refuted is None:
            refuted = label
    return Claim(statement, checked > 0 and refuted is None, f"checked on {checked:,} {what}",
                 f"counterexample: {refuted}" if refuted else "")


def some(statement: str, cases: Iterable[tuple[str, bool]], what: str) -> Claim:
    """Holds when at least one case holds; names the first that does."""
    checked, shown_by = 0, None
    for label, holds in cases:
        checked += 1
        if holds and shown_by is None:
            shown_by = label
    return Claim(statement, shown_by is not None, f"looked for in {checked:,} {what}",
                 f"for example {shown_by}" if shown_by else "")
