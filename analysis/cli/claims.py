"""``claims``: every page's general statements with their domains, hunted, or one list of
your own tried against each claim whose domain holds it."""
from __future__ import annotations

import argparse
import json

from ..findings.checks import GUEST_ROLES, Claim, Findings
from ..model.describe import shown
from ..model.errors import LabError


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
    found = commands.add_parser(
        "claims", help="every page's claims: domain, evidence, hunted; exit 1 if one is refuted")
    found.set_defaults(func=_claims)
    found.add_argument("--json", action="store_true", help="print JSON")
    found.add_argument("--hunt", type=int, metavar="N",
                       help="lists the hunter draws per claim (default: as many as the report's pages, "
                            "60; 0: none)")
    found.add_argument("--on", nargs="+", metavar="PATH",
                       help="instead: run this one preopen list for each claim of pages 1 to 6 whose domain holds "
                            "it, through that claim's builds and with each guest it holds for, and say whether the "
                            "claim held")
    found.add_argument("--guest", choices=tuple(GUEST_ROLES),
                       help="with --on: only the claims that hold for this guest, run with it")


def _claims(args: argparse.Namespace) -> int:
    from ..findings.gather import gather
    from ..findings.hunt import REPORT_HUNT, try_list
    from ..model.wasi import check_paths

    if args.hunt is not None and args.hunt < 0:
        raise LabError(f"--hunt takes a number of lists, 0 or more, not {args.hunt}")
    if args.guest is not None and args.on is None:
        raise LabError("--guest goes with --on: it says which guest runs your list")
    if args.on is not None:
        if args.hunt:
            raise LabError("--on tries your list only: leave out --hunt")
        paths = check_paths(args.on)
        pages = gather(hunt=0, with_survey=False)
        claims = [(f.title, c) for f in pages for c in f.claims]
        tried = try_list(paths, [c for _, c in claims], guest=args.guest)
        title = {id(c): t for t, c in claims}
        return _print_tried(paths, tried, title, len(claims), args.json)
    pages = gather(hunt=REPORT_HUNT if args.hunt is None else args.hunt)
    return _print_claims(pages, args.json)


def _row(claim: Claim) -> dict:
    return {"statement": claim.statement, "domain": claim.domain.words, "holds": claim.holds,
            "evidence": claim.evidence, "hunted": claim.hunted if claim.huntable else None,
            "hunt": claim.hunt_note, "example": claim.example,
            "guests": list(claim.trial.guests) if claim.trial else [],
            "refuted_by": ({"paths": list(claim.refuted_by[0]), "build": claim.refuted_by[1],
                            "guest": claim.refuted_by[2]} if claim.refuted_by else None)}


def _print_claims(pages: list[Findings], as_json: bool) -> int:
    refuted = sum(not c.holds for f in pages for c in f.claims)
    if as_json:
        print(json.dumps([{"page": f.title, **_row(c)} for f in pages for c in f.claims], indent=2,
                         ensure_ascii=False))
        return 1 if refuted else 0
    for findings in pages:
        print(findings.title)
        for claim in findings.claims:
            print(f"  {'✓' if claim.holds else '✗ REFUTED:'} {claim.statement}")
            print(f"      domain: {claim.domain.words}")
            if claim.trial:
                print(f"      guests: {claim.trial.guest_words}")
            print(f"      {claim.evidence}" + (f"; {claim.hunt_note}" if claim.hunt_note else ""))
            if claim.example:
                print(f"      {shown(claim.example, 400)}")
    total = sum(len(f.claims) for f in pages)
    print(f"{total - refuted} of {total} claims hold" + (f", {refuted} refuted" if refuted else ""))
    return 1 if refuted else 0


def _print_tried(paths: tuple[str, ...], tried, title: dict, total: int, as_json: bool) -> int:
    from ..findings.checks import label

    refuted = [t for t in tried if not t.held]
    if as_json:
        print(json.dumps({"paths": list(paths), "claims": [
            {"page": title[id(t.claim)], "statement": t.claim.statement, "domain": t.claim.domain.words,
             "guests": list(t.claim.trial.guests), "held": t.held, "runs": [label(r) for r in t.runs], "refuted by": [label(r) for r in t.failed]}
            for t in tried]}, indent=2, ensure_ascii=False))
        return 1 if refuted else 0
    listed = " ".join(shown(p, 40) for p in paths)
    print(f"{listed}: inside the domain of {len(tried)} of the {total} claims of pages 1 to 6")
    for t in tried:
        print(f"  {'held   ' if t.held else 'REFUTED'} {title[id(t.claim)]}: {t.claim.statement}")
        print(f"          domain: {t.claim.domain.words}")
        print(f"          guests: {t.claim.trial.guest_words}")
        for run in (t.failed or t.runs)[:3]:
            print(f"          {shown(label(run), 400)}")
        if len(t.failed or t.runs) > 3:
            print(f"          ... and {len(t.failed or t.runs) - 3} more runs")
    return 1 if refuted else 0
