"""Files built elsewhere: ``scan`` (am I affected?), ``survey`` (published packages), ``repair``;
other hosts: ``hosts`` (the WASIp1 hosts people use, check by check); and the lab's checks as a
suite a runtime can run: ``export-tests`` and ``conformance``."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from ..artifacts.cache import writable_folder
from ..model.describe import shown
from ..model.errors import LabError


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
    look = commands.add_parser("scan", help="am I affected? every preview1 adapter inside your .wasm files, run")
    look.set_defaults(func=_scan_files)
    look.add_argument("files", nargs="+", metavar="FILE", help="components or core modules (.wasm)")
    look.add_argument("--json", action="store_true", help="print one JSON object per file")
    look.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                      help="wall-clock limit per file, compiling included (default 10); past it: cannot tell")

    census = commands.add_parser("survey", help="the adapters inside published packages, scanned; the toolchain map")
    census.set_defaults(func=_survey)
    census.add_argument("--every", action="store_true", help="every release, not a few per package (slow)")
    census.add_argument("--json", action="store_true", help="print the rows as JSON")

    other = commands.add_parser("hosts", help="is my host affected? the WASIp1 hosts people use, each list and "
                                              "check against native wasmtime")
    other.set_defaults(func=_hosts)
    other.add_argument("--host", action="append", metavar="H", help="only this host (repeatable; default: all)")
    other.add_argument("--json", action="store_true", help="print the matrix as JSON")

    export = commands.add_parser("export-tests", help="the lab's preopen checks as a test suite in "
                                                      "wasi-testsuite's form, with the hosts' expectations")
    export.set_defaults(func=_export_tests)
    export.add_argument("out", type=Path, metavar="DIR", help="a new folder for the suite")
    export.add_argument("--host", action="append", metavar="H",
                        help="write expectations for this host only (repeatable; default: every host the lab "
                             "runs the suite on)")

    suite = commands.add_parser("conformance", help="run a suite export-tests wrote on one host, test by test")
    suite.set_defaults(func=_conformance)
    suite.add_argument("suite", type=Path, metavar="DIR", help="the folder export-tests wrote")
    suite.add_argument("--host", default="wasmtime-cli", metavar="H",
                       help="wasmtime-cli (default: the WASIp1 modules and every component), node (components) or "
                            "a WASIp1 host (the modules)")
    suite.add_argument("--only", metavar="GROUP", help="wasip1, or one adapter build's components (jco-1.8.1)")

    mend = commands.add_parser("repair", help="re-adapt an affected component with a build measured not "
                                              "affected, checked first")
    mend.set_defaults(func=_repair)
    mend.add_argument("file", metavar="FILE", help="a component whose adapter `scan` finds affected")
    mend.add_argument("-o", "--out", type=Path, required=True, help="where to write the repaired component")
    mend.add_argument("--with", dest="build", metavar="ID",
                      help="the adapter build to use (default: the oldest measured not affected after the "
                           "affected ones)")


def _hosts(args: argparse.Namespace) -> int:
    """Exit 0 whatever the hosts do: a difference is a finding, not a failure of the command."""
    from ..reach import host_matrix
    from ..reach.words import describe_matrix
    from ..runs.wasip1_hosts import P1_HOSTS

    unknown = [h for h in args.host or () if h not in P1_HOSTS]
    if unknown:
        raise LabError(f"unknown WASIp1 host {unknown[0]!r}: choose from {', '.join(P1_HOSTS)}")
    matrix = host_matrix.measure(args.host or None)
    if args.json:
        print(json.dumps(dataclasses.asdict(matrix), indent=2, ensure_ascii=False))
    else:
        print("\n".join(describe_matrix(matrix)))
    return 0


def _export_tests(args: argparse.Namespace) -> int:
    """Write the suite and run it on each host for its expectations; exit 0 once written."""
    from ..experiments import verdicts
    from ..reach import suite_export
    from ..runs import hosts

    chosen = args.host or [h for h in hosts.HOSTS if h != "wasmtime-py"]
    unknown = [h for h in chosen if h not in hosts.HOSTS or h == "wasmtime-py"]
    if unknown:
        raise LabError(f"unknown host {unknown[0]!r} for the suite: choose from "
                       f"{', '.join(h for h in hosts.HOSTS if h != 'wasmtime-py')}")
    affected = [v.adapter for v in verdicts.measure()[1:] if v.affected]

    def tell(host: str, path: Path, seconds: float) -> None:
        print(f"{host}: run in {seconds:.0f} s; its expectations go to {path}", flush=True)

    written = suite_export.export(args.out, expect_on=chosen, affected=affected, tell=tell)
    print(f"wrote {written['tests']} tests ({written['bytes']:,} bytes) to {args.out}")
    return 0


def _conformance(args: argparse.Namespace) -> int:
    """Exit status: 0 if every test ran passed, 1 if any failed, 2 if the suite could not run."""
    from ..reach import suite_files

    def tell(test, outcome) -> None:  # names are checked to be plain (suite.PLAIN_NAME); the guest's words escaped
        said = f": {shown(outcome.said.splitlines()[0], 200)}" if outcome.said and not outcome.passed else ""
        print(f"{'PASS' if outcome.passed else 'FAIL'} {test.group}/{test.name}{said}", flush=True)

    results = suite_files.run(args.suite, args.host, args.only, tell)
    failed = {f"{t.group}/{t.name}" for t, o in results if not o.passed}
    print(f"{len(results) - len(failed)} of {len(results)} passed on {args.host}")
    expected = args.suite / "expectations" / args.host / "linux.toml"
    if expected.is_file() and args.only is None:
        listed = suite_files.read_expectations(expected)
        print("as its expectations say" if listed == failed else
              f"not as its expectations say: {len(failed - listed)} more failed, {len(listed - failed)} fewer")
    return 1 if failed else 0


def _scan_files(args: argparse.Namespace) -> int:
    """Exit status: 1 if any adapter is affected; else 2 if a file could not be read or an
    adapter could not be judged; else 0."""
    from ..reach import scan
    from ..reach.words import describe_scan

    seconds = scan.SCAN_SECONDS if args.timeout is None else args.timeout
    if not 0 < seconds <= 3600:
        raise LabError("--timeout must be more than 0 and at most 3600 seconds")
    statuses = []
    for name in args.files:
        try:
            found = scan.scan_file(Path(name), seconds)
        except LabError as exc:
            print(f"error: {shown(str(exc), 100_000)}", file=sys.stderr)
            statuses.append(2)
            continue
        print(found.to_json() if args.json else "\n".join(describe_scan(found)))
        statuses.append({"affected": 1, "cannot tell": 2}.get(found.answer, 0))
    return 1 if 1 in statuses else max(statuses)


def _survey(args: argparse.Namespace) -> int:
    from ..reach import survey, toolchains
    from ..reach.words import describe_survey

    rows = survey.survey(every=args.every)
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
        return 0
    print("\n".join(describe_survey(rows, toolchains.toolchain_map(rows))))
    return 0


def _repair(args: argparse.Namespace) -> int:
    from ..reach import repair

    writable_folder(args.out.parent.resolve(), str(args.out.parent), "the output folder", "give -o a writable place")
    done = repair.repair(Path(args.file), args.out, args.build)
    finding = done.after.findings[0]
    print(f"repaired: {shown(done.out, 400)}")
    print(f"  adapter: {done.build}, imports WASI {finding.wasi_version} "
          f"(before: WASI {done.before.findings[0].wasi_version}, {done.before.answer})")
    print(f"  checked: scan says {done.after.answer}; {finding.evidence[0]}")
    if done.run is not None:
        print(f"  checked: run with {' '.join(repair.CHECK_PATHS)} under wasmtime: exit status {done.run.exit_code}")
    if done.reads is not None:
        by = "it" if done.reads is done.run else f"the lab's opener through {done.build} (your program does not say)"
        print(f"  checked: each of the {len(done.reads.paths)} opens read its own MARKER, shown by {by}")
    return 0
