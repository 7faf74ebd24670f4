"""The root cause in the published binaries: ``allocator`` (which design an adapter's code
carries, the deciding instructions, and ``--diff`` between two adapters) and ``intervention``
(the increment edited into and out of every catalogued build, each run for real)."""
from __future__ import annotations

import argparse
import dataclasses
import json

from ..model.describe import shown, text_table


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
    read = commands.add_parser("allocator", help="the import allocator's design in an adapter's code (counts, "
                                                 "missing-increment, early, unknown), with the instructions")
    read.set_defaults(func=_allocator)
    read.add_argument("target", metavar="X", help="a build id (jco-1.8.1), an adapter core module or a component")
    read.add_argument("--diff", metavar="Y", help="compare X's allocator with Y's, instruction by instruction "
                                                  "(constants masked), as a unified diff")
    read.add_argument("--json", action="store_true", help="print a list with one object per adapter (with --diff: "
                                                          "an object with the two readings and the diff's lines)")

    edit = commands.add_parser("intervention", help="the increment added to every affected build and removed from "
                                                    "every fixed one, each run for real and scanned")
    edit.set_defaults(func=_intervention)
    edit.add_argument("--json", action="store_true", help="print the rows as JSON")
    edit.add_argument("--fresh", action="store_true", help="measure again, not from the cache")


def _allocator(args: argparse.Namespace) -> int:
    from ..reach import allocator, allocator_diff, printed

    if args.diff is not None:
        readings, lines = allocator_diff.diff(args.target, args.diff)
        if args.json:
            print(json.dumps({"readings": [dataclasses.asdict(r) for r in readings], "diff": lines}, indent=2))
            return 0
        for reading in readings:
            print(_headline(reading))
        print("\n".join(shown(line, 400) for line in lines) if lines else
              "no difference in the allocators' instructions once constants are masked")
        return 0
    readings = allocator.read_target(args.target)
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in readings], indent=2))
        return 0
    if not readings:
        print(f"{shown(args.target, 200)}: no preview1 adapter in it")
        return 0
    for reading in readings:
        print(_headline(reading))
        print(f"  {shown(reading.why, 400)}")
        if reading.function is not None:
            name = f" ({shown(reading.name, 80)})" if reading.name else ""
            print(f"  cabi_import_realloc is function {reading.function}{name}, {reading.size:,} bytes of code "
                  f"at {reading.offset:#x} in the file")
        if reading.steps:
            print("  " + {"unknown": "what precedes its compare-and-copy allocation:",
                          "early": "the instructions that take the names' buffer once:"}.get(
                reading.design, "the instructions that decide which name gets real space:"))
            rows = [(f"{s.offset:#x}", shown(printed.readable(s.text), 80), s.note) for s in reading.steps]
            print("\n".join("    " + line for line in text_table(rows)))
    return 0


def _headline(reading) -> str:
    implied = f" (which means {reading.implies})" if reading.implies else ""
    return f"{shown(reading.input, 200)}, {reading.where}: {reading.design}{implied}"


def _intervention(args: argparse.Namespace) -> int:
    from ..findings.intervention import intervention_findings
    from ..reach import intervention

    rows = intervention.table(fresh=args.fresh)
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], indent=2, ensure_ascii=False))
        return 0
    table = [("build", "edit", "design", "report's case", "/a /bbbb /c /dd told", "scan", "bytes")]
    for r in rows:
        if r.edit in ("-", "add", "remove"):
            table.append((r.build, "as published", r.before.design, _outcomes(r.before.report),
                          " ".join(n or "-" for n in r.before.names), r.before.scan, ""))
        if r.after is not None:
            table.append(("", r.what, r.after.design, _outcomes(r.after.report),
                          " ".join(n or "-" for n in r.after.names), r.after.scan, r.changed))
        elif r.problem:
            table.append(("", r.what, "not made", shown(r.problem, 80), "", "", ""))
    print("\n".join(text_table(table)))
    print()
    for claim in intervention_findings(rows).claims:
        print(f"{'holds' if claim.holds else 'REFUTED'}: {claim.statement}")
        print(f"  {claim.evidence}; domain: {claim.domain.words}")
        if claim.example:
            print(f"  {shown(claim.example, 400)}")
    return 0


def _outcomes(outcomes) -> str:
    return " ".join("ok" if o == "ok" else o for o in outcomes)
