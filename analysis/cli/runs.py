"""One configuration: run for real (``run``), or as the model says (``predict``, ``explain``)."""
from __future__ import annotations

import argparse
import dataclasses
import json

from ..artifacts import guests
from ..artifacts.adapters import NATIVE
from ..model import chain
from ..model.describe import describe_run, render_trace
from ..model.wasi import FIRST_FD, check_fd, check_paths
from ..runs.hosts import HOSTS
from ..runs.runner import default_runner


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
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
    guess.add_argument("--behavior", choices=chain.BEHAVIORS, default="missing-increment")
    guess.add_argument("--guest", choices=("opener", "probe"), default="opener")
    guess.add_argument("--json", action="store_true", help="print the result as JSON")
    guess.add_argument("paths", nargs="*", metavar="PATH")

    why = commands.add_parser("explain", help="the adapter's allocator, step by step, for one fd")
    why.set_defaults(func=_explain)
    why.add_argument("--fd", type=int, required=True, help=f"the fd asked about ({FIRST_FD} is the first preopen)")
    why.add_argument("--behavior", choices=chain.BEHAVIORS, default="missing-increment")
    why.add_argument("--json", action="store_true", help="print the trace as JSON")
    why.add_argument("paths", nargs="*", metavar="PATH")


def _run(args: argparse.Namespace) -> int:
    result = default_runner().run(args.paths, guest=args.guest, adapter=args.adapter or NATIVE, host=args.host)
    print(result.to_json(indent=2) if args.json else describe_run(result))
    return 0


def _predict(args: argparse.Namespace) -> int:
    paths = check_paths(args.paths)
    result = chain.predict(paths, args.behavior, guest=args.guest)
    print(result.to_json(indent=2) if args.json else describe_run(result, predicted=True))
    return 0


def _explain(args: argparse.Namespace) -> int:
    paths = check_paths(args.paths)
    trace = chain.explain(paths, check_fd(args.fd, len(paths)), args.behavior)
    if args.json:
        print(json.dumps(dataclasses.asdict(trace), default=lambda b: b.hex(), indent=2))
    else:
        print(render_trace(trace))
    return 0
