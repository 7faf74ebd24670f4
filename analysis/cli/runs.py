"""One configuration: run for real (``run``), or as the model says (``predict``, ``explain``)."""
from __future__ import annotations

import argparse
import dataclasses
import json

from ..artifacts import adapters, guests
from ..model import chain, scratch
from ..model.describe import describe_run, render_trace
from ..model.results import NATIVE
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
                     help="who runs it: wasmtime-py in this process (the default), the Wasmtime CLI or node; with "
                          "--native also a WASIp1 host: node-wasi, wasm-util, browser-wasi-shim, wasmer-wasi, wasi-js, "
                          "runno, pywasm, wamr")
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.add_argument("paths", nargs="*", metavar="PATH", help="guest paths of the preopens, in order")

    guess = commands.add_parser("predict", help="what the model says a run will show (runs no guest: the builds' "
                                                "scratch areas are measured with a few probe runs)")
    guess.set_defaults(func=_predict)
    how = guess.add_mutually_exclusive_group()
    how.add_argument("--behavior", choices=chain.BEHAVIORS,
                     help="a behaviour (default missing-increment), whichever build has it")
    how.add_argument("--adapter", metavar="ID", help="a build: its measured behaviour and scratch area")
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
    from ..experiments.profiles import profile_of

    paths = check_paths(args.paths)
    if args.adapter:
        build = adapters.resolve(args.adapter)
        profile = profile_of(build.id)
        result = chain.predict(paths, profile.behavior, guest=args.guest, adapter=build.id,
                               adapter_sha256=build.sha256, scratch_capacity=profile.scratch_capacity)
    else:
        behavior = args.behavior or "missing-increment"
        # The scratch area differs from build to build: where these names need more than the
        # smallest of the catalogued builds of this behaviour holds, which ones trap depends on the build.
        profiles = {b.id: profile_of(b.id) for b in adapters.catalogue()}
        rooms = {b: p.scratch_capacity for b, p in profiles.items() if p.behavior == behavior}
        needed = scratch.need(paths, behavior, args.guest)
        if rooms and min(rooms.values()) < needed <= max(rooms.values()):
            fits = [b for b, room in rooms.items() if needed <= room]
            said = {"outcome": "depends on the build", "behavior": behavior, "scratch_needed": needed,
                    "fits": fits, "traps": [b for b in rooms if b not in fits]}
            print(json.dumps(said, indent=2) if args.json else
                  f"{behavior}: these names need {needed:,} bytes of the adapter's scratch area, and the builds of "
                  f"this behaviour hold {min(rooms.values()):,} to {max(rooms.values()):,} (measured): the outcome "
                  f"depends on the build (room: {', '.join(fits)}; a trap: {', '.join(said['traps'])}); give --adapter")
            return 0
        result = chain.predict(paths, behavior, guest=args.guest, scratch_capacity=max(rooms.values(), default=None))
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
