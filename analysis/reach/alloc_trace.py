"""The adapter's import allocator, traced in the real binary: what ``cabi_import_realloc``
was asked and what it returned while ``fd_prestat_dir_name`` listed the names again.

A catalogued build (checksum-pinned) is composed with the lab's probe, as a user's
toolchain would, and its adapter core module is taken back out (``inside.core_modules``):
published alone, an adapter has ``__stack_pointer`` 0 until wit-component's start-up code
runs, so it is traced as it runs embedded. The module runs here, in wasmtime-py, bounded by
fuel and store limits (``adapter_host``), with ``get-directories`` served as wasmtime lowers
a ``list<tuple<descriptor, string>>``: space for the list first, then each name's space,
asked of the adapter's own allocator and written there before the next name is asked for.
Unlike ``adapter_host`` (which skips it), an empty name is asked for too, with size 0, as
wasmtime does.

The walk is a guest's: ``fd_prestat_get`` then ``fd_prestat_dir_name`` for fd 3, 4, ... up
to the fd traced. The first call into the adapter lists the names once at start-up; each
``fd_prestat_dir_name`` of the counting builds lists them again, and that listing is the one
the model's ``explain`` replays. ``beside`` sets a trace against the model's, step by step,
with offsets counted from where the names' area begins, right after the list (the list's
address plus its size), as the model counts from the start of its scratch area.
"""
from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import wasmtime

from ..artifacts import adapters, guests
from ..artifacts.adapters import AdapterBuild
from ..artifacts.compose import compose
from ..artifacts.inside import core_modules, is_adapter
from ..model.chain import DirNameTrace
from ..model.describe import shown
from ..model.errors import LabError, last_line
from ..model.wasi import FIRST_FD, check_fd, check_paths, encode
from ..runs import contained
from . import adapter_host

_ENTRY = 12
"""Bytes of one ``tuple<descriptor, string>`` in the lowered list: a handle, a pointer, a length."""
_FIRST_HANDLE = 10
_BUFFER = 65536
"""Bytes of the guest's buffer for a name, as ``adapter_host`` gives: the pages it takes come before the
adapter's own state, so the addresses here are those ``scan`` sees (the list of five at 0x031830)."""


@dataclass(frozen=True)
class Allocation:
    """One call of the adapter's ``cabi_import_realloc`` while a list of names was lowered into it."""

    size: int
    align: int
    address: int
    """What it returned: where the host wrote the list, or the name's bytes."""
    index: int | None
    """The name's position in the host's list; None for the list itself."""


@dataclass(frozen=True)
class Listing:
    """One ``get-directories`` answer lowered into the adapter: every allocation, in order."""

    during: str
    """The call into the adapter that asked for it: ``fd_prestat_get(3)``, ``fd_prestat_dir_name(5)``."""
    allocations: tuple[Allocation, ...]

    @property
    def list(self) -> Allocation:
        """The list's own allocation (the first)."""
        return self.allocations[0]

    @property
    def names(self) -> tuple[Allocation, ...]:
        """Each name's allocation, in the host's order."""
        return self.allocations[1:]

    @property
    def base(self) -> int:
        """Where the names' area begins: right after the list."""
        return self.list.address + self.list.size

    def offset(self, index: int) -> int:
        """Where name ``index`` was written, counted from ``base``."""
        return self.names[index].address - self.base


@dataclass(frozen=True)
class AllocTrace:
    """One ``fd_prestat_dir_name(fd)`` call in a real adapter build, and what it told the guest."""

    build: str
    sha256: str
    names: tuple[bytes, ...]
    fd: int
    startup: Listing | None
    """The listing made at start-up, at the first call into the adapter (None if it made none)."""
    listings: tuple[Listing, ...]
    """The listings made during ``fd_prestat_dir_name(fd)``: one in the counting builds, none in
    the early ones, which copy the name they kept at start-up."""
    errno: int | None
    """``fd_prestat_get``'s answer, else ``fd_prestat_dir_name``'s; None after a trap."""
    told: bytes | None
    """The name the guest was given; None when the call failed or trapped."""
    trap: str | None = None
    """The trap's words when the adapter trapped at this fd or before it."""

    @property
    def nth(self) -> int:
        return self.fd - FIRST_FD

    @property
    def listing(self) -> Listing | None:
        """The one listing during the call, when there was exactly one."""
        return self.listings[0] if len(self.listings) == 1 else None

    @property
    def offsets(self) -> tuple[int, ...] | None:
        """Each name's offset from the names' area in the call's listing; None without one."""
        listing = self.listing
        return None if listing is None else tuple(listing.offset(i) for i in range(len(listing.names)))


@dataclass(frozen=True)
class Step:
    """One name, as the model places it and as the real allocator did."""

    index: int
    model_offset: int
    kept: bool
    """The model's word: the name got real space."""
    allocation: Allocation | None
    real_offset: int | None

    @property
    def agrees(self) -> bool:
        return self.real_offset == self.model_offset


@dataclass(frozen=True)
class Beside:
    """A model trace and a real one for the same call, set side by side."""

    model: DirNameTrace
    real: AllocTrace
    steps: tuple[Step, ...]
    comparable: bool
    """Whether the real call listed the names once, as the model's does, so offsets compare."""
    why_not: str
    """Why offsets cannot be compared, when they cannot."""

    @property
    def told_agrees(self) -> bool:
        return self.real.told == self.model.returned

    @property
    def agrees(self) -> bool:
        """Every name at the model's offset and the name told the model's."""
        return self.comparable and all(s.agrees for s in self.steps) and self.told_agrees

    @property
    def verdict(self) -> str:
        """``agree``, ``differ`` or ``not comparable``."""
        if not self.comparable:
            return "not comparable"
        return "agree" if self.agrees else "differ"


def beside(real: AllocTrace, model: DirNameTrace) -> Beside:
    """``real`` against the model's trace of the same names and fd."""
    if real.names != model.names or real.fd != model.fd:
        raise ValueError("the real and model traces are of different calls")
    why = _why_not(real)
    listing = real.listing if not why else None
    steps = tuple(Step(p.index, p.offset, p.kept, listing.names[p.index] if listing else None,
                       listing.offset(p.index) if listing else None) for p in model.steps)
    return Beside(model, real, steps, not why, why)


def _why_not(real: AllocTrace) -> str:
    if real.trap is not None:
        return f"the adapter trapped: {real.trap}"
    if real.errno:
        return f"the adapter answered errno {real.errno} and told no name"
    if not real.listings:
        return ("no allocation during the call: the build listed the names once, at start-up, "
                "and copies the one it kept")
    if real.listing is None:
        return f"the build listed the names {len(real.listings)} times during the call"
    if len(real.listing.names) != len(real.names):
        return f"the build's listing holds {len(real.listing.names)} names, not {len(real.names)}"
    return ""


# -- running a build --------------------------------------------------------------------------


def traceable(build_id: str) -> AdapterBuild:
    """A catalogued command build, or a one-line LabError: only checksum-pinned builds run here."""
    build = adapters.resolve(build_id)
    if not build.catalogued:
        raise LabError(f"{shown(build.id, 60)} is not a catalogued build (known only by its checksum): the allocator "
                       "is traced in-process for the lab's pinned builds only; see `python -m analysis adapters`")
    if build.member != adapters.ADAPTER_MEMBER:
        raise LabError(f"{shown(build.id, 60)} is a reactor adapter: the allocator is traced for the command "
                       "builds (`python -m analysis adapters`), which the probe is composed with")
    return build


def trace(build_id: str, paths: Sequence[str], fd: int) -> AllocTrace:
    """``fd_prestat_dir_name(fd)`` through the build, after fds 3 .. fd-1 were asked as a guest asks them."""
    paths = check_paths(paths)
    check_fd(fd, len(paths))
    return traces(build_id, paths, upto=fd)[-1]


def traces(build_id: str, paths: Sequence[str], upto: int | None = None) -> tuple[AllocTrace, ...]:
    """One trace per fd, 3 to ``upto`` (default: every preopen), in one instance of the build."""
    paths = check_paths(paths)
    names = tuple(encode(p) for p in paths)
    last = FIRST_FD + len(names) - 1 if upto is None else check_fd(upto, len(names))
    build = traceable(build_id)
    return _Session(build, names).walk(last)


@lru_cache(maxsize=1)
def _engine() -> wasmtime.Engine:
    """Fuel bounds a loop; memory stays wasm32 and is mapped as it grows (as ``scan``'s)."""
    config = contained.compact(wasmtime.Config())
    config.consume_fuel = True
    config.wasm_memory64 = False
    return wasmtime.Engine(config)


@lru_cache(maxsize=32)
def _embedded_module(sha256: str) -> wasmtime.Module:
    """The build's adapter as it runs inside a component with the probe, compiled."""
    build = next(b for b in adapters.catalogue() if b.sha256 == sha256)
    component = compose(guests.get("probe").wasm(), build).read_bytes()
    found = [m for m in core_modules(component) if is_adapter(m)]
    if len(found) != 1:
        raise LabError(f"the probe composed with {build.id} holds {len(found)} adapter modules, not one")
    try:
        return wasmtime.Module(_engine(), found[0].data)
    except wasmtime.WasmtimeError as exc:
        raise LabError(f"wasmtime cannot compile {build.id}'s embedded adapter: {last_line(exc)}") from None


class _TracingHost(adapter_host._Host):
    """``adapter_host``'s imports, with ``get-directories`` lowered as wasmtime lowers it and recorded."""

    def __init__(self, store: wasmtime.Store, names: Sequence[bytes]) -> None:
        super().__init__(store, names)
        self.during = "start-up"
        self.listings: list[Listing] = []
        self.said = b""
        """What the adapter wrote to a stream before it trapped (its own words on why)."""

    def serve(self, item: wasmtime.ImportType) -> wasmtime.Func | wasmtime.Memory:
        if item.name == "[method]output-stream.blocking-write-and-flush" and isinstance(item.type, wasmtime.FuncType) \
                and len(item.type.params) == 4 and not item.type.results:
            return wasmtime.Func(self.store, item.type, self._write_and_flush)
        return super().serve(item)

    def _write_and_flush(self, stream: int, at: int, size: int, retptr: int) -> None:
        """A write to stderr (the adapter says why it is about to trap): kept, answered ok."""
        self.said = (self.said + self.read(at, min(size, 4096)))[:4096]
        self.write(retptr, b"\0")

    def _get_directories(self, retptr: int) -> None:
        made: list[Allocation] = []
        self.listings.append(Listing(self.during, ()))  # kept even if an allocation traps
        try:
            entries = self._realloc(4, _ENTRY * len(self.names))
            made.append(Allocation(_ENTRY * len(self.names), 4, entries, None))
            for index, name in enumerate(self.names):
                at = entries + _ENTRY * index
                self.write(at, struct.pack("<I", _FIRST_HANDLE + index))
                text = self._realloc(1, len(name))  # size 0 too: wasmtime asks for every string
                made.append(Allocation(len(name), 1, text, index))
                self.write(text, name)
                self.write(at + 4, struct.pack("<II", text, len(name)))
            self.write(retptr, struct.pack("<II", entries, len(self.names)))
        finally:
            self.listings[-1] = Listing(self.during, tuple(made))


class _Session:
    """One instance of a build's embedded adapter, asked about its fds in order."""

    def __init__(self, build: AdapterBuild, names: tuple[bytes, ...]) -> None:
        self.build, self.names = build, names
        module = _embedded_module(build.sha256)
        self.store = wasmtime.Store(_engine())
        self.store.set_fuel(adapter_host.FUEL)
        self.store.set_limits(memory_size=adapter_host.MEMORY_LIMIT, table_elements=adapter_host.TABLE_LIMIT)
        self.host = _TracingHost(self.store, names)
        try:
            instance = wasmtime.Instance(self.store, module, [self.host.serve(i) for i in module.imports])
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise LabError(f"{build.id}'s adapter cannot be instantiated: {last_line(exc)}") from None
        exports = instance.exports(self.store)
        if self.host.memory is None:
            self.host.memory = exports["memory"]
        self.host.realloc = exports["cabi_import_realloc"]
        self.prestat_get, self.dir_name = exports["fd_prestat_get"], exports["fd_prestat_dir_name"]

    def walk(self, last: int) -> tuple[AllocTrace, ...]:
        host, done = self.host, []
        trap: str | None = None
        try:
            buffer = host.scratch(8 + max(_BUFFER, *(len(n) for n in self.names)))
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise LabError(f"the names do not fit in {self.build.id}'s memory: {last_line(exc)}") from None
        for fd in range(FIRST_FD, last + 1):
            before = len(host.listings)
            errno = told = None
            if trap is None:
                try:
                    host.during = f"fd_prestat_get({fd})"
                    errno = self.prestat_get(self.store, fd, buffer)
                    if errno == 0:
                        length = host.read_u32(buffer + 4)
                        host.during = f"fd_prestat_dir_name({fd})"
                        before = len(host.listings)
                        errno = self.dir_name(self.store, fd, buffer + 8, length)
                        told = host.read(buffer + 8, length) if errno == 0 else None
                except (wasmtime.Trap, wasmtime.WasmtimeError, ValueError, IndexError, OverflowError) as exc:
                    said = shown(host.said.decode("utf-8", "replace").strip(), 300)
                    why = f"{last_line(exc)}" + (f", after writing {said!r}" if host.said.strip() else "")
                    trap, errno, told = f"{why} (at fd {fd}, in {host.during})", None, None
            during = tuple(x for x in host.listings[before:] if x.during == f"fd_prestat_dir_name({fd})")
            startup = host.listings[0] if host.listings else None
            done.append(AllocTrace(self.build.id, self.build.sha256, self.names, fd, startup, during, errno, told, trap))
        return tuple(done)


def hex_address(address: int) -> str:
    """An address as the lab prints it: ``0x031830``."""
    return f"0x{address:06x}"
