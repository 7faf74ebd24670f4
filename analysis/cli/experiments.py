"""Many configurations: the verdicts, the named sweeps, the model checked against real runs."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..artifacts.cache import REPORTS_DIR
from ..experiments import sweeps, verdicts
from ..model.describe import shown, span, text_table
from ..model.errors import LabError
from .folders import usable_folder


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
    judge = commands.add_parser("verdicts", help="run the report's case through every catalogued build")
    judge.set_defaults(func=_verdicts)
    judge.add_argument("--json", action="store_true", help="print JSON")

    sweep = commands.add_parser("sweep", help="run a named sweep; write its data and plots")
    sweep.set_defaults(func=_sweep)
    sweep.add_argument("name", help=f"one of {', '.join(sweeps.NAMED_SWEEPS)}")
    sweep.add_argument("--builds", nargs="+", metavar="ID", default=[],
                       help="adapter ids and/or native (default: every catalogued build and native)")
    sweep.add_argument("--out", type=Path, default=REPORTS_DIR, help="output folder (default: reports/)")
    sweep.add_argument("--workers", type=int, metavar="N",
                       help="worker processes (default: one per CPU from 2,000 runs on; 1 runs here)")

    check = commands.add_parser("check-model", help="random preopen lists, real runs against the model")
    check.set_defaults(func=_check_model)
    check.add_argument("--configs", type=int, default=200, help="how many random lists (default 200)")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--affected", metavar="ID", help="the build to check as missing-increment (default: measured)")
    check.add_argument("--fixed", metavar="ID",
                       help="the build not affected to check (default: the newest measured not affected)")


def _verdicts(args: argparse.Namespace) -> int:
    found = verdicts.measure(progress=not args.json)
    if args.json:
        rows = [{"adapter": v.adapter, "releases": list(v.releases), "verdict": v.label,
                 "outcomes": list(v.result.outcomes), "evidence": list(v.evidence)} for v in found]
        print(json.dumps(rows, indent=2))
        return 0
    print(f"the report's case, {' '.join(verdicts.REPORT_CASE)}, through each build (guest: opener)")
    rows = [("adapter", "verdict", "releases", "evidence")]
    rows += [(v.adapter, v.label, span(v.releases), ", ".join(v.evidence) or f"all {len(v.result.preopens)} ok") for v in found]
    print("\n".join(text_table(rows)))
    affected = [v.adapter for v in found if v.affected]
    print(f"{len(affected)} of {len(found) - 1} builds affected: {', '.join(affected) or 'none'}")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    import importlib

    sweep = sweeps.named_sweep(args.name, args.builds)
    start = time.perf_counter()
    if args.workers is not None and args.workers < 1:
        raise LabError("--workers must be at least 1")
    usable_folder(args.out)  # before the runs, not after them
    # matplotlib and pandas load (about a second) while the workers run, not before.
    frame = sweep.run(workers=args.workers, meanwhile=lambda: importlib.import_module("analysis.show.plots"))
    seconds = time.perf_counter() - start
    data = sweeps.save(frame, sweep.name, args.out / "data")
    agree = int((frame["outcome"] == frame["model_outcome"]).sum())
    print(f"{sweep.name}: {sweep.runs} runs in {seconds:.1f} s ({sweep.runs / seconds:.0f} runs/s); "
          f"model agrees on {agree}/{len(frame)} preopens")
    print(f"data: {shown(str(data), 400)}")  # --out is the user's: escaped
    from ..show import plots

    figures = {"build-matrix": plots.build_matrix(frame)}
    if frame["count"].nunique() > 1:
        figures["by-position"] = plots.survival_by_position(frame)
    if sweep.runs <= 200:
        figures["survival-grid"] = plots.survival_grid(frame)
    for label, figure in figures.items():
        print(f"plot: {shown(str(plots.save(figure, args.out / 'figures' / f'{sweep.name}-{label}.png')), 400)}")
    return 0 if agree == len(frame) else 1


def _check_model(args: argparse.Namespace) -> int:
    from ..experiments.modelcheck import FIELDS, check_model  # each command imports what only it needs

    if args.configs < 1:
        raise LabError("--configs must be at least 1")
    if args.affected and args.fixed:
        affected, fixed = args.affected, args.fixed
    else:
        measured = verdicts.pick_builds()
        affected, fixed = args.affected or measured[0], args.fixed or measured[1]
    start = time.perf_counter()
    result = check_model(args.configs, args.seed, affected, fixed)
    seconds = time.perf_counter() - start
    for miss in result.disagreements:
        print(miss.describe())
    backends = ", ".join(f"{a} as {p.behavior}" for a, p in result.backends)
    print(f"{args.configs} random preopen lists (seed {args.seed}) through {backends}, guests opener and probe")
    print(f"agreement: {result.agreements}/{result.comparisons} runs ({result.trapped} trapped) in {seconds:.1f} s; "
          "by field:")
    for name, (agree, compared) in result.fields.items():
        print(f"  {name}: {agree}/{compared} {FIELDS[name]}")
    return 0 if not result.disagreements else 1
