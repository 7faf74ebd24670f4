"""Repair without rebuilding: a component whose adapter has the bug, re-adapted with a
fixed build, and checked before a byte of it is written.

A component made by ``wasm-tools component new --adapt`` from one WASIp1 program keeps
that program as its main core module, byte for byte. Composing that module again with a
fixed adapter build gives the component its author would have got with a fixed
toolchain. What cannot be taken apart that simply (nested components, several linked
modules, a bare core module) is refused with the reason.

Before the file is written, the result is scanned (its adapter must answer every name
right) and, for a command, run under wasmtime with five preopens: it must run cleanly, and
each of the five opens must read its own MARKER (``RunResult.all_ok``). A command that does
not say what it read (it does not speak the lab's opener protocol) cannot show its reads, so
the lab's opener shows them through the same adapter build, the part ``repair`` changed.
"""
from __future__ import annotations

import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..artifacts import adapters
from ..artifacts.adapters import AdapterBuild
from ..artifacts.cache import TMP_PREFIX, clear_abandoned, read_regular, scratch_folder, write_atomically
from ..artifacts.compose import compose, run_tool
from ..artifacts.guests import from_file
from ..artifacts.inside import CoreModule, core_modules, is_adapter, kind_of
from ..experiments import verdicts
from ..model.describe import shown
from ..model.errors import LabError
from ..model.results import RunResult
from ..runs.runner import default_runner
from .scan import SCAN_MAX_BYTES, FileScan, scan_file

CHECK_PATHS = ("/a", "/b", "/c", "/d", "/e")
"""The preopens a repaired command is run with: the report's case."""
SCRATCH_PREFIX = "preopen-lab-repair-"
"""How a repair's scratch folders in the temp dir begin; the process id follows, so the
next repair removes what a killed one left."""


@dataclass(frozen=True)
class Repaired:
    source: str
    out: str
    build: str
    before: FileScan
    after: FileScan
    run: RunResult | None
    """The check run of a command: it ran cleanly (None for a reactor, which has no ``run`` to call)."""
    reads: RunResult | None = None
    """The run whose five opens each read their own MARKER: the command's own when it says what it
    read (the lab's opener protocol), else the lab's opener through the same adapter build."""


def first_fixed() -> AdapterBuild:
    """The oldest build measured unaffected after the newest affected one (measured here,
    by running the report's case through every catalogued build)."""
    found = verdicts.measure()[1:]
    last_affected = max((i for i, v in enumerate(found) if v.affected), default=-1)
    later = [v for v in found[last_affected + 1:] if not v.affected]
    if not later:
        raise LabError("no catalogued build was measured unaffected after the affected ones: nothing to repair with")
    return adapters.resolve(later[0].adapter)


def repair(source: Path, out: Path, build: str | AdapterBuild | None = None) -> Repaired:
    """Re-adapt ``source`` with ``build`` (default ``first_fixed()``) into ``out``, a
    regular file or none yet; nothing is written unless every check passed."""
    _check_out(out)
    before = scan_file(source)
    if before.answer in ("no adapter", "not affected", "not exposed"):
        raise LabError(f"{source}: nothing to repair, its answer is already `{before.answer}`")
    try:
        data = read_regular(source, SCAN_MAX_BYTES)
    except OSError as exc:
        raise LabError(f"cannot read {shown(str(source), 200)}: {exc.strerror or exc}") from None
    main = _main_module(source, data)
    chosen = build if isinstance(build, AdapterBuild) else adapters.resolve(build) if build else first_fixed()
    command = before.findings[0].role == "command"
    chosen = chosen if command else chosen.reactor()
    world = run_tool(["component", "wit", str(source)], f"read the world of {source}")
    program = main.data if exports(world) <= {"wasi:cli/run"} else _with_world(main.data, world)
    composed = compose(program, chosen)  # wasm-tools' reason, in one line, if it refuses
    after = scan_file(composed)
    if after.answer != "not affected":
        raise LabError(f"the component re-adapted with {chosen.id} scans as `{after.answer}`: nothing was written")
    lost = exports(world) - exports(run_tool(["component", "wit", str(composed)], "read the re-adapted world"))
    if lost:
        raise LabError(f"the component re-adapted with {chosen.id} would lose its export(s) {', '.join(sorted(lost))}: "
                       "nothing was written")
    checked = _check_run(source, main, chosen) if command else None
    if checked is not None and checked.trap:
        raise LabError(f"the re-adapted component did not run cleanly with {' '.join(CHECK_PATHS)} "
                       f"({checked.trap_summary}): nothing was written")
    reads = _reads(checked, chosen) if checked is not None else None
    if reads is not None and not reads.all_ok:
        who = "the re-adapted component" if reads is checked else f"the lab's opener through {chosen.id}"
        raise LabError(f"{who}, run with {' '.join(CHECK_PATHS)}, read its own MARKER through {reads.count('ok')} of "
                       f"the {len(CHECK_PATHS)} preopens (outcomes {' '.join(reads.outcomes)}, exit status "
                       f"{reads.exit_code}): nothing was written")
    clear_abandoned(out.parent, TMP_PREFIX)  # what a killed repair left beside ``out``
    try:
        write_atomically(out, composed.read_bytes())
    except OSError as exc:
        raise LabError(f"cannot write {shown(str(out), 200)} ({exc.strerror or exc}): nothing was written") from None
    return Repaired(str(source), str(out), chosen.id, before, after, checked, reads)


def _check_out(out: Path) -> None:
    """``out`` must be a regular file, or not be there yet: a device, a FIFO, a socket or a
    folder is refused, never replaced."""
    try:
        mode = out.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LabError(f"cannot use {shown(str(out), 200)} as the output ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise LabError(f"{shown(str(out), 200)} is {kind}: give -o the name of a file to write (fixed.wasm)")


def exports(wit: str) -> set[str]:
    """What a component's world exports, read from ``wasm-tools component wit``, with
    versions left out (a repaired component exports the fixed build's WASI version)."""
    world = wit.split("world root {", 1)[-1].split("\n}", 1)[0]
    found = set()
    for line in world.splitlines():
        line = line.strip()
        if line.startswith("export "):
            item = line.removeprefix("export ").rstrip(";")
            found.add(item.split(":")[0] if ": " in item else item.split("@")[0])  # `f: func()` or `ns:pkg/i@v`
    return found


def _with_world(program: bytes, wit: str) -> bytes:
    """The program with its component's world embedded, so that composing it again keeps
    what the component exports (a toolchain such as ComponentizeJS leaves no world in it)."""
    with scratch_folder(Path(tempfile.gettempdir()), SCRATCH_PREFIX) as folder:
        (Path(folder) / "world.wit").write_text(wit)
        (Path(folder) / "program.wasm").write_bytes(program)
        run_tool(["component", "embed", str(Path(folder) / "world.wit"), str(Path(folder) / "program.wasm"),
                  "-o", str(Path(folder) / "embedded.wasm")], "embed the component's world into its program")
        return (Path(folder) / "embedded.wasm").read_bytes()


def _check_run(source: Path, main: CoreModule, build: AdapterBuild) -> RunResult:
    """The program composed with ``build`` (the very bytes ``repair`` writes), run with ``CHECK_PATHS``."""
    with scratch_folder(Path(tempfile.gettempdir()), SCRATCH_PREFIX) as folder:
        main_file = Path(folder) / f"{source.stem}.main.wasm"
        main_file.write_bytes(main.data)
        return default_runner().run(CHECK_PATHS, guest=from_file(main_file), adapter=build)


def _reads(checked: RunResult, build: AdapterBuild) -> RunResult:
    """``checked`` if the program said where each open went and what it read; otherwise the
    lab's opener through ``build``, which does."""
    if any(p.routed_by == "guest" or p.marker is not None for p in checked.preopens):
        return checked
    return default_runner().run(CHECK_PATHS, guest="opener", adapter=build)


def _main_module(source: Path, data: bytes) -> CoreModule:
    """The one program module inside a plain component, or a refusal saying why not."""
    if kind_of(data) == "module":
        raise LabError(f"{source} is a core module, not a component: compose it with a fixed build "
                       "(wasm-tools component new --adapt) instead")
    modules = core_modules(data)
    if any(m.where.count("component") > 1 for m in modules):
        raise LabError(f"{source} nests components: it cannot be re-adapted generically; rebuild it with a fixed toolchain")
    programs = [m for m in modules if not is_adapter(m) and any(kind == "memory" for _, kind in m.exports)]
    if len(programs) != 1:
        raise LabError(f"{source} links {len(programs)} modules with memories of their own (as componentize-py "
                       "does): it cannot be re-adapted generically; rebuild it with a fixed toolchain")
    if "wasi_snapshot_preview1" not in programs[0].import_modules():
        raise LabError(f"{source}'s program does not call WASIp1 through the adapter: nothing to re-adapt")
    return programs[0]
