"""Am I affected? Every preview1 adapter inside a component built elsewhere, and whether
it has the bug, decided by running that adapter's own code.

An adapter is recognised by what it does, not by its name or metadata (embedding gives
every build's adapter the same module name, and the compiler version it keeps can be the
same in an affected and an unaffected build): a core module that exports preview1
functions and imports ``wasi:*`` interfaces. Then:

- ``not exposed``: it no longer exports ``fd_prestat_dir_name`` (wit-component removes
  what the program never imports), so no program in this component can meet the bug;
- ``affected`` / ``not affected``: its answers to ``fd_prestat_get`` and
  ``fd_prestat_dir_name`` for preopen lists of at least three names (``adapter_host``),
  against the names given; ``cannot tell`` (with the reason) when it cannot be run.

Beside the run, each adapter's allocator is read (``allocator``): the design its code carries
(``counts``, ``missing-increment``, ``early``, ``unknown``) is a second line of evidence,
said with the verdict, and whether the two agree; when they do not, the run decides.

Nothing here is looked up: a verdict is always a run. The run is of code someone else
made, so each file is judged in a child process of its own (``runs.contained``):
``SCAN_SECONDS`` of wall clock, compiling included, and ``contained.ADDRESS_SPACE`` of
memory; a file that hits a bound is ``cannot tell``, with the bound in words.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import wasmtime

from ..artifacts import adapters, guests, seal
from ..artifacts.cache import read_regular, sha256_bytes
from ..artifacts.compose import compose, compose_with
from ..artifacts.inside import CoreModule, code_shapes, core_modules, is_adapter, kind_of
from ..model.describe import shown
from ..model.errors import LabError, first_line, last_line
from ..runs import contained
from . import adapter_host, allocator

NAME_LISTS = ((b"/a", b"/b", b"/c", b"/d", b"/e"), (b"/a", b"/bbbb", b"/c", b"/dd"), (b"/tmp", b"/cache", b"/home/user"))
"""The preopen lists every adapter is asked about: the report's case, names of different
lengths (an affected adapter fabricates ``/ddbb``), and a realistic three."""
SCAN_MAX_BYTES = 256 << 20
SCAN_SECONDS = 10.0
"""Wall-clock seconds one file's scan may take, its start, compiling and every run of its
adapters included; the lab's own builds take under half a second."""
PUBLISHED_NOTE = "a published adapter file, run after embedding it with a probe program (as wit-component does)"
"""What a finding says of how it ran a published adapter file (one that carries its component type)."""
_VERSION = re.compile(r"^wasi:[a-z-]+/[a-z-]+@(\d+\.\d+\.\d+)")


@dataclass(frozen=True)
class Finding:
    """One adapter in a file, and what running it showed."""

    where: str
    verdict: str
    """``affected``, ``not affected``, ``not exposed`` or ``cannot tell``."""
    wasi_version: str | None
    role: str
    """``command`` (it runs the program's ``_start``) or ``reactor``."""
    evidence: tuple[str, ...]
    """The names it told that differ from the names given, or why it cannot tell."""
    sha256: str
    resembles: tuple[str, ...] = ()
    """The cached catalogued builds whose code it shares most (``inside.code_shapes``),
    when that is at least ``RESEMBLANCE`` of its functions; several when they tie."""
    shared: float = 0.0
    """The share of its functions found, as they are, in those builds."""
    note: str = ""
    """How it was run, when not as found: a published adapter file is embedded first."""
    design: str = ""
    """The design its allocator's code carries (``allocator``): ``counts``, ``missing-increment``,
    ``early`` or ``unknown``; evidence beside the run, never its replacement."""
    design_evidence: str = ""
    """What the reading found, in one line (for ``unknown``, what it did not)."""
    design_agrees: bool | None = None
    """Whether the design says what the run found; None when there is nothing to compare (an
    ``unknown`` design, or a verdict other than affected / not affected). The run decides."""


@dataclass(frozen=True)
class FileScan:
    path: str
    kind: str
    """``component`` or ``module``."""
    modules: int | None
    """How many core modules it holds; None when the scan stopped before it had read them."""
    findings: tuple[Finding, ...]
    problem: str = ""
    """Why the scan of the whole file could not finish (a bound it hit), if it could not."""

    @property
    def answer(self) -> str:
        """``affected`` if any adapter is; else ``no adapter``, ``cannot tell`` or ``not affected``."""
        if self.problem:
            return "cannot tell"
        verdicts = {f.verdict for f in self.findings}
        for word in ("affected", "cannot tell"):
            if word in verdicts:
                return word
        if not self.findings:
            return "no adapter"
        return "not exposed" if verdicts == {"not exposed"} else "not affected"

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "answer": self.answer}, indent=2)


def demo(build: str) -> FileScan:
    """The lab's opener composed with ``build`` and scanned: ``scan`` on a component whose
    make is known, to read beside the runs of that build."""
    component = compose(guests.get("opener").wasm(), adapters.resolve(build))
    return scan_bytes(component.read_bytes(), f"opener+{build}.wasm")


def scan_file(path: Path, seconds: float = SCAN_SECONDS) -> FileScan:
    """Read ``path`` and judge every adapter in it; a file that cannot be read is a LabError."""
    try:
        if not path.is_file():
            raise LabError(f"{shown(str(path), 200)} is not a regular file: give a .wasm component or core module")
        if path.stat().st_size > SCAN_MAX_BYTES:
            raise LabError(f"{shown(str(path), 200)} is larger than {SCAN_MAX_BYTES:,} bytes, more than the scanner reads")
        data = read_regular(path, SCAN_MAX_BYTES)  # never waits: a /proc file that would block is refused
    except OSError as exc:
        raise LabError(f"cannot read {shown(str(path), 200)}: {exc.strerror or exc}") from None
    return scan_bytes(data, str(path), seconds)


def scan_bytes(data: bytes, label: str, seconds: float = SCAN_SECONDS) -> FileScan:
    """Judge every adapter in ``data``, named ``label`` in what is said, in a child process
    that this one stops at ``seconds`` (see ``runs.contained``)."""
    ended = contained.call(_scan_here, (data, label), seconds)
    if ended.value is not None:
        return ended.value
    if ended.stopped:
        problem = (f"the scan ran past its limit of {seconds:g} s, compiling included: an adapter that "
                   "loops, or takes that long to compile, was stopped")
    else:
        problem = (f"the scanner's process ended ({ended.died}): an adapter that asks for more than the "
                   f"{contained.ADDRESS_SPACE >> 30} GiB of memory a scan may map ends it")
    try:  # its header only: reading the rest here would cost this process what the child was stopped for
        kind = kind_of(data)
    except LabError as exc:
        raise LabError(f"{shown(label, 200)}: {exc}") from None
    return FileScan(label, kind, None, (), problem)


def _scan_here(data: bytes, label: str) -> FileScan:
    """``scan_bytes``'s work, in the child it starts."""
    try:
        kind = kind_of(data)
        modules = core_modules(data)
    except LabError as exc:
        raise LabError(f"{shown(label, 200)}: {exc}") from None
    return FileScan(label, kind, len(modules), tuple(judge(m) for m in modules if is_adapter(m)))


def judge(module: CoreModule) -> Finding:
    """Run one adapter's own code with each of ``NAME_LISTS`` preopened; read its allocator's design beside."""
    found = _run(module)
    return replace(found, **_design(module, found.verdict))


def _design(module: CoreModule, verdict: str) -> dict:
    """The allocator's design, read here, in the child: wasm-tools runs on the file's own bytes."""
    try:
        reading = allocator.read_module(module.data, "", module.where)
    except LabError as exc:
        return {"design": "unknown", "design_evidence": f"its allocator could not be read: {exc}"}
    except Exception as exc:  # noqa: BLE001 - a file of anyone's making: any failure is an answer
        return {"design": "unknown", "design_evidence": f"its allocator could not be read ({type(exc).__name__}: "
                                                        f"{last_line(exc)})"}
    return {"design": reading.design, "design_evidence": reading.why,
            "design_agrees": allocator.agrees(reading.design, verdict)}


def _run(module: CoreModule) -> Finding:
    versions = sorted({m.group(1) for name in module.import_modules() if (m := _VERSION.match(name))})
    role = "command" if ("__main_module__", "_start", "func") in module.imports else "reactor"
    common = dict(where=module.where, wasi_version=", ".join(versions) or None, role=role,
                  sha256=sha256_bytes(module.data), **_resemblance(module.data, role))
    exported = module.exported_functions()
    if "fd_prestat_dir_name" not in exported or "fd_prestat_get" not in exported:
        return Finding(verdict="not exposed", evidence=("it exports no fd_prestat_dir_name: the program "
                                                        "never asks a preopen's name",), **common)
    if "cabi_import_realloc" not in exported:
        return Finding(verdict="cannot tell", evidence=("it exports no cabi_import_realloc, which the host "
                                                        "needs to hand it the directory names",), **common)
    published = any(name.startswith("component-type") for name in module.custom_sections)
    try:
        code = _embedded(module.data, role) if published else module.data
        compiled = _compiled(code)
        wrong, blind = [], 0
        for names in NAME_LISTS:
            answers = adapter_host.told(_engine(), compiled, names)
            if answers and answers[0].fd == 3 and answers[0].errno != 0:
                blind += 1
            slips = [d for d in (_difference(names, a) for a in answers[:len(names)]) if d]
            if len(answers) < len(names):
                slips.append(f"the scanner asked no further than fd {answers[-1].fd}, the first to fail")
            if slips:
                wrong.append(f"with {' '.join(n.decode('utf-8', 'replace') for n in names)}: {', '.join(slips)}")
    except adapter_host.Unserved as exc:
        return Finding(verdict="cannot tell", evidence=(f"it called {exc}, which the scanner does not serve",), **common)
    except LabError as exc:
        return Finding(verdict="cannot tell", evidence=(str(exc),), **common)
    except Exception as exc:  # noqa: BLE001 - a file of anyone's making: any failure is an answer
        return Finding(verdict="cannot tell", evidence=(f"the scanner could not run it ({type(exc).__name__}: "
                                                        f"{last_line(exc)})",), **common)
    if blind == len(NAME_LISTS):
        return Finding(verdict="cannot tell", evidence=("it saw no preopen at all in any list, so its answers "
                                                        "say nothing about the bug",), **common)
    return Finding(verdict="affected" if wrong else "not affected", note=PUBLISHED_NOTE if published else "",
                   evidence=tuple(wrong) or (f"every name came back as given, in {len(NAME_LISTS)} lists",), **common)


RESEMBLANCE = 0.85
"""Embedded, a catalogued adapter kept 89-91% of its functions exactly as published when
this was written; wit-component rewrites the rest. ``tests/test_scan.py`` checks every
catalogued build, command and reactor, against this threshold."""


def _resemblance(data: bytes, role: str) -> dict:
    shapes = code_shapes(data)
    if not shapes:
        return {}
    shares = {build_id: len(shapes & theirs) / len(shapes) for build_id, theirs in _catalogue_shapes(role).items()}
    best = max(shares.values(), default=0.0)
    if best < RESEMBLANCE:
        return {"shared": round(best, 3)}
    return {"resembles": tuple(b for b, share in shares.items() if share >= best - 0.005), "shared": round(best, 3)}


@lru_cache(maxsize=2)
def _catalogue_shapes(role: str) -> dict[str, frozenset[str]]:
    """The code shapes of every catalogued build already in the cache (no download here),
    kept beside each adapter file once computed, sealed: which build a scanned adapter is
    said to resemble is published (page 7, the survey), so a planted list is computed again."""
    found = {}
    for build in adapters.catalogue():
        variant = build if role == "command" else build.reactor()
        path = variant.cache_path()
        kept = path.with_name(path.name + ".shapes")
        data = seal.read_sealed(kept, "an adapter's code shapes")
        try:
            found[variant.id] = frozenset(json.loads(data)) if data is not None else None
        except ValueError:
            found[variant.id] = None
        if found[variant.id] is None:
            del found[variant.id]
            if variant.is_cached():
                found[variant.id] = code_shapes(path.read_bytes())
                seal.write_sealed(kept, json.dumps(sorted(found[variant.id])).encode())
    return found


def _embedded(adapter: bytes, role: str) -> bytes:
    """A published adapter file as it runs inside a component: composed with a small
    program (the probe for a command adapter, the reactor library for a reactor) and
    taken back out, so that wit-component's start-up code is in it."""
    program = guests.get("probe").wasm() if role == "command" else guests.reactor_module()
    component = compose_with(program, adapter, "this adapter file")
    return next(m.data for m in core_modules(component) if is_adapter(m))


def _difference(names: tuple[bytes, ...], told: adapter_host.Told) -> str:
    given = names[told.fd - 3]
    if told.errno != 0:
        return f"fd {told.fd} ({_shown(given)}): errno {told.errno}"
    return "" if told.name == given else f"fd {told.fd} told {_shown(told.name)} for {_shown(given)}"


def _shown(name: bytes | None) -> str:
    return json.dumps((name or b"").decode("utf-8", "backslashreplace"))


_ENGINE: wasmtime.Engine | None = None


def _engine() -> wasmtime.Engine:
    """One engine for every adapter: fuel bounds a looping one; memory stays wasm32 and is
    mapped as it grows, under the child's address-space cap."""
    global _ENGINE
    if _ENGINE is None:
        config = contained.compact(wasmtime.Config())
        config.consume_fuel = True
        config.wasm_memory64 = False
        _ENGINE = wasmtime.Engine(config)
    return _ENGINE


def _compiled(data: bytes) -> wasmtime.Module:
    try:
        return wasmtime.Module(_engine(), data)
    except wasmtime.WasmtimeError as exc:
        raise LabError(f"wasmtime cannot compile it: {first_line(exc, 'invalid')}") from None
