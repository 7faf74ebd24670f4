"""The main job (``report``) and the benchmark (``bench``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..artifacts.cache import REPORTS_DIR
from ..model.describe import shown, text_table
from ..model.errors import LabError
from .folders import usable_folder


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
    reports = commands.add_parser("report", help="execute every notebook and export HTML reports")
    reports.set_defaults(func=_report)
    reports.add_argument("--out", type=Path, default=REPORTS_DIR, help="output folder (default: reports/)")
    reports.add_argument("--only", nargs="+", default=[], metavar="STEM", help="just these notebooks")

    timing = commands.add_parser("bench", help="time runs, sweeps and whole commands against the Wasmtime CLI")
    timing.set_defaults(func=_bench)
    timing.add_argument("--adapter", default="jco-1.8.1", metavar="ID")
    timing.add_argument("--runs", type=int, default=500)
    timing.add_argument("--baseline-runs", type=int, default=500)
    timing.add_argument("--quick", action="store_true", help="skip the sweep through every build")
    timing.add_argument("--hostile", action="store_true",
                        help="instead: how long each hostile guest (guests/hostile) runs and its peak memory")
    timing.add_argument("--scan", action="store_true", help="instead: how long `scan` takes on 130 KB and 10 MB")
    timing.add_argument("--browser", action="store_true",
                        help="instead: change -> page update of the explorer in a live JupyterLab, in chromium")
    timing.add_argument("--live", action="store_true",
                        help="instead: the exported page's live explorer in chromium (after `make report`)")
    timing.add_argument("--page-scan", action="store_true",
                        help="instead: page 7's scanner in chromium, against the lab's scan (after `make report`)")
    timing.add_argument("--report", action="store_true",
                        help="instead: how long `report` takes as a whole command (every notebook run and exported)")


def _report(args: argparse.Namespace) -> int:
    from ..publish import report  # nbclient and nbconvert, only for this command

    report.build(usable_folder(args.out).resolve(), only=args.only,
                 log=lambda line: print(shown(line, 100_000)))  # it names paths under --out: escaped
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.runs < 1 or args.baseline_runs < 1:
        raise LabError("--runs and --baseline-runs must be at least 1")
    if args.hostile:
        from ..bench.files import hostile_rows

        print("\n".join(text_table(hostile_rows(args.adapter))))
    elif args.scan:
        from ..bench.files import scan_lines

        print("\n".join(scan_lines(args.adapter)))
    elif args.browser:
        from ..bench.browser import browser_lines

        print("\n".join(browser_lines(args.adapter)))
    elif args.live:
        from ..bench.live_page import live_lines

        print("\n".join(live_lines(args.adapter)))
    elif args.page_scan:
        from ..bench.scan_page import scan_page_lines

        print("\n".join(scan_page_lines(args.adapter)))
    elif args.report:
        from ..bench.timing import time_command

        print(time_command(["report"]).line())
    else:
        from ..bench import suite

        suite.main(args.adapter, args.runs, args.baseline_runs, every_build=not args.quick)
    return 0
