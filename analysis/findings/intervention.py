"""The root cause in the published binaries, as claims: what the intervention's runs say
(``reach.intervention``: the increment edited into every affected build and out of every
fixed one, each edited adapter run for real), stated as notebooks state claims (``claims``).
"""
from __future__ import annotations

from collections.abc import Sequence

from ..experiments.verdicts import REPORT_CASE
from ..reach.intervention import NAMES_CASE, Observed, Row
from .checks import Claim, Domain, Findings, every

LISTS_WORDS = "the report's case (/a /b /c /d /e) and /a /bbbb /c /dd, with the opener"


def intervention_findings(rows: Sequence[Row]) -> Findings:
    """The intervention's claims, from its table (``intervention.table()``)."""
    return Findings("the root cause in the published binaries", (
        cause_claim(rows), control_claim(rows), design_claim(rows)))


def cause_claim(rows: Sequence[Row]) -> Claim:
    """Adding the increment cures every affected build; removing it (or making its 1 a 0) breaks
    every fixed build, with the affected builds' symptoms, names told included."""
    added = [r for r in rows if r.edit == "add"]
    taken = [r for r in rows if r.edit in ("remove", "zero")]
    affected = {r.before.symptoms for r in rows if r.before.affected}
    fixed = {r.before.symptoms for r in rows if not r.before.affected and r.before.design == "counts"}

    def cured(r: Row) -> bool:
        return r.after is not None and r.after.symptoms in fixed and r.after.scan == "not affected"

    def broken(r: Row) -> bool:
        return r.after is not None and r.after.symptoms in affected and r.after.scan == "affected"

    cases = [*((_label(r), cured(r)) for r in added), *((_label(r), broken(r)) for r in taken)]
    builds = sorted({r.build for r in (*added, *taken)}, key=[r.build for r in rows].index)
    claim = every("Adding the increment cures every affected build; removing it breaks every fixed build, with "
                  "the affected builds' symptoms (the same outcomes and the same names told, /ddbb included).",
                  cases, f"edits: {len(added)} affected builds with the increment added, "
                         f"{sum(r.edit == 'remove' for r in taken)} fixed builds with it removed and "
                         f"{sum(r.edit == 'zero' for r in taken)} with its 1 made 0 (one byte); each edited adapter "
                         "composed with the opener, run and scanned")
    if not added or not taken or not affected or not fixed:  # nothing to say it of: it cannot hold
        claim = Claim(claim.statement, False, claim.evidence, "the table has no affected or no fixed build to edit")
    return claim.with_domain(Domain.only(REPORT_CASE, NAMES_CASE, words=(
        f"{LISTS_WORDS}, through the catalogued builds as published and edited: "
        f"{', '.join(builds) or 'none'}")))


def control_claim(rows: Sequence[Row]) -> Claim:
    """The edits go through the text form; printed and parsed back unedited, no build changes."""
    controls = [r for r in rows if r.edit == "none"]
    return every("Printed and parsed back unedited, every edited build keeps its allocator's design, its runs and "
                 "its scan: the text round trip the edits go through changes nothing that matters here.",
                 ((_label(r), r.after is not None and _same(r.before, r.after)) for r in controls),
                 "catalogued builds printed (wasm-tools print) and parsed back (wasm-tools parse)"
                 ).with_domain(Domain.only(REPORT_CASE, NAMES_CASE, words=f"{LISTS_WORDS}, through each build edited"))


def design_claim(rows: Sequence[Row]) -> Claim:
    """The design read from the code says what the runs say: every build as published reads a
    known design that agrees with its runs; an edited one agrees, or reads unknown."""
    implies = {"counts": False, "missing-increment": True, "early": False}
    published = {r.build: r.before for r in rows}
    cases = [(f"{build} as published: {o.design}, runs {_verdict(o)}",
              o.design in implies and implies[o.design] == o.affected) for build, o in published.items()]
    cases += [(f"{r.build}, {r.what}: {r.after.design}, runs {_verdict(r.after)}",
               r.after.design == "unknown" or implies.get(r.after.design) == r.after.affected)
              for r in rows if r.after is not None]
    return every("Every build as published reads a known allocator design (counts, missing-increment or early) "
                 "that says what its runs say; an edited one says what its runs say or reads unknown (the one-byte "
                 "edit does): never counts where the runs are affected.",
                 cases, "adapters as published and as edited"
                 ).with_domain(Domain.about("the catalogued builds' adapters, as published and as edited"))


def _verdict(o: Observed) -> str:
    return "affected" if o.affected else "not affected"


def _same(before: Observed, after: Observed) -> bool:
    return (before.design, before.symptoms, before.scan) == (after.design, after.symptoms, after.scan)


def _label(r: Row) -> str:
    after = r.after
    if after is None:
        return f"{r.build}, {r.what}: not made ({r.problem})"
    return (f"{r.build}, {r.what}: {' '.join(after.report)}; told {' '.join(n or '-' for n in after.names)} "
            f"for {' '.join(NAMES_CASE)}; scan: {after.scan}")
