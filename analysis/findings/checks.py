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
    """A run in one line: the build, the guest, the preopens and what became of each."""
    paths = " ".join(shown(p, 24) for p in result.paths)
    return f"{result.adapter}, {result.guest}: {paths} → {' '.join(result.outcomes)}"


@dataclass(frozen=True)
class Domain:
    """The runs a claim speaks about: preopen lists, each through a build.

    ``contains(paths, build, guest)`` says whether one run lies inside; ``lists`` is a
    Hypothesis strategy that draws lists for the hunter (``hunt``), or None when there is
    nothing to draw: the claim speaks of the lists it names, or of builds and files, not of
    lists. Which guests a claim holds for is its trial's (``Trial.guests``).
    """

    words: str
    contains: Callable[[Paths, str, str], bool]
    lists: Any = None

    @classmethod
    def only(cls, *lists: Sequence[str], words: str = "") -> Domain:
        """The lists named, and no other."""
        named = {tuple(p) for p in lists}
        kind = "this list only" if len(named) == 1 else "these lists only"
        listed = "; ".join(" ".join(shown(n, 24) for n in p) for p in list(named)[:3])
        listed += "; ..." if len(named) > 3 else ""
        return cls(words or f"{kind}: {listed}", lambda paths, build, guest: tuple(paths) in named)

    @classmethod
    def about(cls, words: str) -> Domain:
        """Not preopen lists at all: builds, files, measurements."""
        return cls(words, lambda paths, build, guest: False)


GUEST_ROLES = {
    "opener": "opener (C on wasi-libc: its scan stops at the first EBADF; it closes each file it opens)",
    "keeper": "keeper (the opener keeping every file it opens open)",
    "rust-open": "rust-open (Rust std, on wasi-libc's scan)",
    "probe": "probe (no libc: asks fd 3, 4, ... up to the first EBADF)",
    "walker": "walker (no libc: asks every fd to 133, past any EBADF, and opens MARKER through each fd itself)",
    "direct": "direct (a component asking the WASIp2 host itself, no adapter)",
}
"""What each of the lab's guests does that a claim may depend on: how far it asks, what it holds."""


@dataclass(frozen=True)
class Trial:
    """How one list is tried against a claim: the guest it was measured with, the builds to
    run it through, what each run must show for the claim to hold, and the other guests the
    claim holds for (the hunter draws from all of them)."""

    guest: str
    builds: tuple[str, ...]
    passes: Callable[[RunResult], bool]
    also: tuple[str, ...] = ()

    @property
    def guests(self) -> tuple[str, ...]:
        return (self.guest, *self.also)

    @property
    def guest_words(self) -> str:
        """The guests in words: what a program must do for the claim to speak for it."""
        return "; ".join(GUEST_ROLES.get(g, g) for g in self.guests)


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
    refuted_by: tuple[tuple[str, ...], str, str] | None = None
    """The hunter's shrunk counterexample whole, (list, build, guest): ``example`` shortens long
    names, this gives what to run again (``claims --json``)."""

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
        builds, guests = len(self.trial.builds), len(self.trial.guests)
        through = "natively" if self.trial.builds == ("native",) else f"each through one of {builds} builds"
        through += f" with one of {guests} guests" if guests > 1 else f" with the {self.trial.guest}"
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
