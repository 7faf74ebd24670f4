"""A general statement with the runs behind it: whether it holds, what it was checked on,
and the case that refutes it (for "every ...") or shows it (for "some ..."). The lab's
own statements are in ``claims``; this is the form they take.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    statement: str
    holds: bool
    evidence: str
    """What it was checked on, in numbers."""
    example: str = ""
    """The counterexample that refutes it, or the run that shows it."""


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
