"""``python -m analysis``: the lab from a terminal.

Problems a user can fix come out as one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import adapters, guests, model, sweeps, verdicts
from ._cache import LOG, REPORTS_DIR, writable_folder
from .adapters import NATIVE
from .describe import describe_run, describe_scan, describe_survey, render_trace, span, text_table
from .errors import LabError
from .hosts import HOSTS
from .cpus import pin_to_cpu
from .runner import default_runner
from .wasi import FIRST_FD, check_fd, check_paths


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage problem in one line, without the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m analysis", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    listing = commands.add_parser("adapters", help="the catalogue of adapter builds")
    listing.set_defaults(func=_adapters)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument("--scan", action="store_true",
                         help="maintenance: fetch every published jco release and compare with the lock file")
    listing.add_argument("--write", action="store_true", help="with --scan: rewrite the lock file")

    fetch = commands.add_parser("fetch", help="fetch adapter builds into the cache (default: all catalogued, "
                                              "command and reactor)")
    fetch.set_defaults(func=_fetch)
    fetch.add_argument("ids", nargs="*", metavar="ID")

    run = commands.add_parser("run", help="run one guest with the given preopens")
    run.set_defaults(func=_run)
    which = run.add_mutually_exclusive_group()
    which.add_argument("--adapter", metavar="ID", help="adapter build, e.g. jco-1.8.1 (see `adapters`)")
    which.add_argument("--native", action="store_true", help="wasmtime's own WASIp1, no adapter (the default)")
    run.add_argument("--guest", default="opener",
                     help=f"one of {', '.join(guests.GUESTS)} (default: opener), or a WASIp1 .wasm file of your own")
    run.add_argument("--host", default="wasmtime-py", choices=HOSTS,
                     help="who runs it: wasmtime-py in this process (the default), the Wasmtime CLI, or node")
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.add_argument("paths", nargs="*", metavar="PATH", help="guest paths of the preopens, in order")

    guess = commands.add_parser("predict", help="what the model says a run will show (runs nothing)")
    guess.set_defaults(func=_predict)
    guess.add_argument("--behavior", choices=model.BEHAVIORS, default="missing-increment")
    guess.add_argument("--guest", choices=("opener", "probe"), default="opener")
    guess.add_argument("--json", action="store_true", help="print the result as JSON")
    guess.add_argument("paths", nargs="*", metavar="PATH")

    why = commands.add_parser("explain", help="the adapter's allocator, step by step, for one fd")
    why.set_defaults(func=_explain)
    why.add_argument("--fd", type=int, required=True, help=f"the fd asked about ({FIRST_FD} is the first preopen)")
    why.add_argument("--behavior", choices=model.BEHAVIORS, default="missing-increment")
    why.add_argument("--json", action="store_true", help="print the trace as JSON")
    why.add_argument("paths", nargs="*", metavar="PATH")

    check = commands.add_parser("check-model", help="random preopen lists, real runs against the model")
    check.set_defaults(func=_check_model)
    check.add_argument("--configs", type=int, default=200, help="how many random lists (default 200)")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--affected", metavar="ID", help="the build to check as missing-increment (default: measured)")
    check.add_argument("--fixed", metavar="ID", help="the build to check as fixed (default: measured)")

    sweep = commands.add_parser("sweep", help="run a named sweep; write its data and plots")
    sweep.set_defaults(func=_sweep)
    sweep.add_argument("name", help=f"one of {', '.join(sweeps.NAMED_SWEEPS)}")
    sweep.add_argument("--builds", nargs="+", metavar="ID", default=[],
                       help="adapter ids and/or native (default: every catalogued build and native)")
    sweep.add_argument("--out", type=Path, default=REPORTS_DIR, help="output folder (default: reports/)")
    sweep.add_argument("--workers", type=int, metavar="N",
                       help="worker processes (default: one per CPU from 2,000 runs on; 1 runs here)")

    reports = commands.add_parser("report", help="execute every notebook and export HTML reports")
    reports.set_defaults(func=_report)
    reports.add_argument("--out", type=Path, default=REPORTS_DIR, help="output folder (default: reports/)")
    reports.add_argument("--only", nargs="+", default=[], metavar="STEM", help="just these notebooks")

    judge = commands.add_parser("verdicts", help="run the report's case through every catalogued build")
    judge.set_defaults(func=_verdicts)
    judge.add_argument("--json", action="store_true", help="print JSON")

    look = commands.add_parser("scan", help="am I affected? every preview1 adapter inside your .wasm files, run")
    look.set_defaults(func=_scan_files)
    look.add_argument("files", nargs="+", metavar="FILE", help="components or core modules (.wasm)")
    look.add_argument("--json", action="store_true", help="print one JSON object per file")

    census = commands.add_parser("survey", help="the adapters inside published packages, scanned; the toolchain map")
    census.set_defaults(func=_survey)
    census.add_argument("--every", action="store_true", help="every release, not a few per package (slow)")
    census.add_argument("--json", action="store_true", help="print the rows as JSON")

    mend = commands.add_parser("repair", help="re-adapt an affected component with a fixed build, checked first")
    mend.set_defaults(func=_repair)
    mend.add_argument("file", metavar="FILE", help="a component whose adapter `scan` finds affected")
    mend.add_argument("-o", "--out", type=Path, required=True, help="where to write the repaired component")
    mend.add_argument("--with", dest="build", metavar="ID",
                      help="the adapter build to use (default: the oldest measured fixed one)")

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
    timing.add_argument("--report", action="store_true",
                        help="instead: how long `report` takes as a whole command (every notebook run and exported)")

    build = commands.add_parser("build-guests", help="rebuild the compiled guests from source")
    build.set_defaults(func=_build_guests)
    build.add_argument("names", nargs="*", metavar="NAME", default=["opener", "rust-open"])
    return parser


class _Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that every cleanup on the way out runs."""


def _terminate(signum: int, frame: object) -> NoReturn:
    raise _Terminated


def _say_on_stderr() -> None:
    """What the lab logs along the way (``_cache.LOG``), one plain line each on stderr."""
    if not LOG.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOG.addHandler(handler)
        LOG.setLevel(logging.INFO)
        LOG.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _say_on_stderr()
    pin_to_cpu()  # this process runs guests one at a time: keep them, and wasmtime's threads, on one CPU
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("error: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- commands -------------------------------------------------------------------------


def _adapters(args: argparse.Namespace) -> int:
    if args.scan:
        return _scan_releases(write=args.write)
    builds = adapters.catalogue()
    if args.json:
        rows = [{"id": b.id, "releases": list(b.releases), "sha256": b.sha256,
                 "source": b.source, "cached": b.is_cached()} for b in builds]
        print(json.dumps(rows, indent=2))
        return 0
    rows = [("id", "sha256", "cached", "releases", "source")]
    rows += [(b.id, b.short_sha, "yes" if b.is_cached() else "no", span(b.releases), b.source) for b in builds]
    print("\n".join(text_table(rows)))
    return 0


def _scan_releases(write: bool) -> int:
    entries = adapters.scan()
    current = {(b.sha256, b.releases) for b in adapters.catalogue()}
    changed = [e for e in entries if (e["sha256"], tuple(e["releases"])) not in current]
    print(f"{len(entries)} distinct builds in {sum(len(e['releases']) for e in entries)} releases; "
          f"{len(changed)} differ from the lock file")
    for entry in changed:
        print(f"  {entry['id']}: {entry['sha256'][:16]} {span(entry['releases'])}")
    if write and changed:
        adapters.write_lock(entries)
        print(f"wrote {adapters.LOCK_FILE}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    builds = [adapters.resolve(i) for i in args.ids] if args.ids else \
        [variant for build in adapters.catalogue() for variant in (build, build.reactor())]
    for build in builds:
        path = adapters.fetch(build)
        print(f"{build.id:<12} {build.short_sha} {path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    result = default_runner().run(args.paths, guest=args.guest, adapter=args.adapter or NATIVE, host=args.host)
    print(result.to_json(indent=2) if args.json else describe_run(result))
    return 0


def _predict(args: argparse.Namespace) -> int:
    paths = check_paths(args.paths)
    result = model.predict(paths, args.behavior, guest=args.guest)
    print(result.to_json(indent=2) if args.json else describe_run(result, predicted=True))
    return 0


def _explain(args: argparse.Namespace) -> int:
    paths = check_paths(args.paths)
    trace = model.explain(paths, check_fd(args.fd, len(paths)), args.behavior)
    if args.json:
        print(json.dumps(dataclasses.asdict(trace), default=lambda b: b.hex(), indent=2))
    else:
        print(render_trace(trace))
    return 0


def _check_model(args: argparse.Namespace) -> int:
    from .modelcheck import FIELDS, check_model  # each command imports what only it needs

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


def _sweep(args: argparse.Namespace) -> int:
    import importlib

    sweep = sweeps.named_sweep(args.name, args.builds)
    start = time.perf_counter()
    if args.workers is not None and args.workers < 1:
        raise LabError("--workers must be at least 1")
    usable_folder(args.out)  # before the runs, not after them
    # matplotlib and pandas load (about a second) while the workers run, not before.
    frame = sweep.run(workers=args.workers, meanwhile=lambda: importlib.import_module("analysis.plots"))
    seconds = time.perf_counter() - start
    data = sweeps.save(frame, sweep.name, args.out / "data")
    agree = int((frame["outcome"] == frame["model_outcome"]).sum())
    print(f"{sweep.name}: {sweep.runs} runs in {seconds:.1f} s ({sweep.runs / seconds:.0f} runs/s); "
          f"model agrees on {agree}/{len(frame)} preopens")
    print(f"data: {data}")
    from . import plots

    figures = {"build-matrix": plots.build_matrix(frame)}
    if frame["count"].nunique() > 1:
        figures["by-position"] = plots.survival_by_position(frame)
    if sweep.runs <= 200:
        figures["survival-grid"] = plots.survival_grid(frame)
    for label, figure in figures.items():
        print(f"plot: {plots.save(figure, args.out / 'figures' / f'{sweep.name}-{label}.png')}")
    return 0 if agree == len(frame) else 1


def _report(args: argparse.Namespace) -> int:
    from . import publish  # nbclient and nbconvert, only for this command

    publish.build(usable_folder(args.out).resolve(), only=args.only)
    return 0


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


def _scan_files(args: argparse.Namespace) -> int:
    """Exit status: 1 if any adapter is affected; else 2 if a file could not be read or an
    adapter could not be judged; else 0."""
    from . import scan

    statuses = []
    for name in args.files:
        try:
            found = scan.scan_file(Path(name))
        except LabError as exc:
            print(f"error: {exc}", file=sys.stderr)
            statuses.append(2)
            continue
        print(found.to_json() if args.json else "\n".join(describe_scan(found)))
        statuses.append({"affected": 1, "cannot tell": 2}.get(found.answer, 0))
    return 1 if 1 in statuses else max(statuses)


def _survey(args: argparse.Namespace) -> int:
    from . import survey, toolchains

    rows = survey.survey(every=args.every)
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
        return 0
    print("\n".join(describe_survey(rows, toolchains.toolchain_map(rows))))
    return 0


def _repair(args: argparse.Namespace) -> int:
    from . import repair

    if args.out.exists() and args.out.is_dir():
        raise LabError(f"{args.out} is a folder: give a file name for the repaired component (-o fixed.wasm)")
    writable_folder(args.out.parent.resolve(), str(args.out.parent), "the output folder", "give -o a writable place")
    done = repair.repair(Path(args.file), args.out, args.build)
    finding = done.after.findings[0]
    print(f"repaired: {done.out}")
    print(f"  adapter: {done.build}, imports WASI {finding.wasi_version} "
          f"(before: WASI {done.before.findings[0].wasi_version}, {done.before.answer})")
    print(f"  checked: scan says {done.after.answer}; {finding.evidence[0]}")
    if done.run is not None:
        print(f"  checked: run with {' '.join(repair.CHECK_PATHS)} under wasmtime: exit status {done.run.exit_code}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from . import bench

    if args.runs < 1 or args.baseline_runs < 1:
        raise LabError("--runs and --baseline-runs must be at least 1")
    if args.hostile:
        print("\n".join(text_table(bench.hostile_rows(args.adapter))))
        return 0
    if args.scan:
        print("\n".join(bench.scan_lines(args.adapter)))
        return 0
    if args.browser:
        print("\n".join(bench.browser_lines(args.adapter)))
        return 0
    if args.report:
        print(bench.time_command(["report"]).line())
        return 0
    bench.main(args.adapter, args.runs, args.baseline_runs, every_build=not args.quick)
    return 0


def _build_guests(args: argparse.Namespace) -> int:
    for name in args.names:
        print(f"built {guests.build(name)}")
    return 0


def usable_folder(path: Path) -> Path:
    """``--out``, checked before any run."""
    return writable_folder(path, f"--out {path}", "an output folder", "give a folder you can write to")


# -- rendering ------------------------------------------------------------------------
