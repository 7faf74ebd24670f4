"""One configuration: run for real (``run``), or as the model says (``predict``, ``explain``)."""
from __future__ import annotations

import argparse
import dataclasses
import json
from typing import TYPE_CHECKING

from ..artifacts import adapters, guests
from ..model import chain, scratch
from ..model.describe import describe_run, render_trace
from ..model.results import NATIVE
from ..model.wasi import FIRST_FD, check_fd, check_paths
from ..runs.hosts import HOSTS
from ..runs.runner import default_runner

if TYPE_CHECKING:
    from ..reach import alloc_trace


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
    guess.add_argument("--guest", choices=chain.GUESTS, default="opener")
    guess.add_argument("--json", action="store_true", help="print the result as JSON")
    guess.add_argument("paths", nargs="*", metavar="PATH")

    why = commands.add_parser("explain", help="the adapter's allocator, step by step, for one fd")
    why.set_defaults(func=_explain)
    why.add_argument("--fd", type=int, required=True, help=f"the fd asked about ({FIRST_FD} is the first preopen)")
    why.add_argument("--behavior", choices=chain.BEHAVIORS,
                     help="the model's behaviour (default missing-increment; with --adapter, the build's measured one)")
    why.add_argument("--adapter", metavar="ID",
                     help="beside each step, what that catalogued build's own allocator did, run for real")
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
    fd = check_fd(args.fd, len(paths))
    if args.adapter is not None:
        return _explain_beside(args, paths, fd)
    trace = chain.explain(paths, fd, args.behavior or "missing-increment")
    if args.json:
        print(json.dumps(dataclasses.asdict(trace), default=lambda b: b.hex(), indent=2))
    else:
        print(render_trace(trace))
    return 0


def _explain_beside(args: argparse.Namespace, paths: tuple[str, ...], fd: int) -> int:
    """``explain --adapter``: the model's trace with the build's real allocator calls beside it."""
    from ..experiments.profiles import profile_of
    from ..model.errors import LabError
    from ..reach import alloc_trace

    if args.behavior == "native":
        raise LabError("--behavior native has no allocator to set beside a build: give fixed, missing-increment or "
                       "early, or leave --behavior out for the build's measured behaviour")
    build = alloc_trace.traceable(args.adapter)
    measured = profile_of(build.id).behavior
    real = alloc_trace.trace(build.id, paths, fd)
    both = alloc_trace.beside(real, chain.explain(paths, fd, args.behavior or measured))
    if args.json:
        said = {"model": dataclasses.asdict(both.model), "real": dataclasses.asdict(real),
                "measured_behavior": measured, "comparable": both.comparable, "why_not": both.why_not,
                "agrees": both.agrees, "told_agrees": both.told_agrees,
                "steps": [{**dataclasses.asdict(s), "agrees": s.agrees} for s in both.steps]}
        print(json.dumps(said, default=lambda b: b.hex(), indent=2))
    else:
        print(render_beside(both, measured))
    return 0


def paths_of(trace: chain.DirNameTrace) -> list[str]:
    """The preopen paths a trace was made of."""
    from ..model.wasi import decode

    return [decode(n) for n in trace.names]


def render_beside(both: alloc_trace.Beside, measured: str) -> str:
    """The model's table with the real allocator's columns beside it, and whether they agree."""
    from ..model.describe import quoted, text_table
    from ..reach.alloc_trace import hex_address

    model, real = both.model, both.real
    n = len(model.names)
    out = [(f"fd_prestat_dir_name(fd={model.fd}) with {n} preopen(s), behaviour {model.behavior}: the adapter wants "
            f"name {model.nth + 1} of {n}, {quoted(model.names[model.nth])} (nth = {model.nth})"),
           (f"beside it, {real.build} (sha256 {real.sha256[:16]}…, measured {measured}) run for real, embedded with the "
            "probe: each call of its cabi_import_realloc during this fd_prestat_dir_name, each name written where "
            "the call returned")]
    listing = real.listing if both.comparable else None
    if listing is not None:
        out.append(f"the list: asked {listing.list.size} bytes, align {listing.list.align}, returned "
                   f"{hex_address(listing.list.address)}; the names' area begins right after it, at "
                   f"{hex_address(listing.base)} (offset 0, as the model counts)")
    rows = [("step", "name", "counter", "space", "offset", "scratch afterwards", "|", "asked", "returned",
             "name went to", "agree")]
    for step, placed in zip(both.steps, model.steps):
        got = step.allocation
        real_cells = (("-", "-", "-", "-") if got is None else
                      (f"{got.size} B, align {got.align}", hex_address(got.address), f"+{step.real_offset}",
                       "yes" if step.agrees else "NO"))
        rows.append((str(placed.index + 1), quoted(placed.name), str(placed.counter),
                     "kept" if placed.kept else "throw-away", str(placed.offset), quoted(placed.scratch), "|",
                     *real_cells))
    out += text_table(rows)
    verdict = "right" if model.right else "WRONG"
    out.append(f"the model: the adapter copies {model.length} byte{'' if model.length == 1 else 's'} from offset "
               f"{model.source_offset}: {quoted(model.returned)} ({verdict})")
    if real.trap is not None:
        out.append(f"{real.build}: trapped ({real.trap})")
    elif real.errno:
        out.append(f"{real.build}: errno {real.errno}, no name told")
    else:
        out.append(f"{real.build} told {quoted(real.told or b'')}: "
                   f"{'the same' if both.told_agrees else 'NOT what the model tells'}")
    if both.comparable:
        wrong = [str(s.index + 1) for s in both.steps if not s.agrees]
        out.append(f"model and {real.build} agree: all {n} names at the model's offsets (counted from the names' area, "
                   "right after the list) and the name told" if both.agrees else
                   f"model and {real.build} DIFFER: " + "; ".join(
                       ([f"offsets at step {', '.join(wrong)}"] if wrong else []) +
                       ([] if both.told_agrees else ["the name told"])))
    else:
        out.append(f"offsets not compared, {real.build}: {both.why_not}")
        if real.errno:
            expected = next((e.errno for e in chain.fd_table(paths_of(model), model.behavior) or () if e.fd == model.fd),
                            None)
            out.append(f"  the model's fd table answers errno {expected} at fd {model.fd}: "
                       f"{'the same' if expected == real.errno else 'NOT the same'}")
        elif real.trap is None and not real.listings and real.startup is not None and len(real.startup.names) == n:
            offsets = ", ".join(str(real.startup.offset(i)) for i in range(n))
            out.append(f"  its start-up listing (during {real.startup.during}): the list at "
                       f"{hex_address(real.startup.list.address)}, the names at offsets {offsets} after it; the "
                       f"model's {model.behavior} replays the counting design, so only the name told compares")
    return "\n".join(out)
