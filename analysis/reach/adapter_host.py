"""An adapter found inside someone else's component, run on its own with a tiny host.

To decide whether an embedded ``wasi_snapshot_preview1`` adapter has the bug, the lab
runs that adapter's own code: it instantiates the core module in wasmtime-py, serves
the few WASIp2 imports the preopen calls need from Python, and asks
``fd_prestat_get`` / ``fd_prestat_dir_name`` for fd 3, 4, ... as a guest would.

The one import that matters is ``get-directories``. It is served the way the canonical
ABI lowers a ``list<tuple<descriptor, string>>`` into the caller: space for the list
first, through the adapter's own import allocator (``cabi_import_realloc``), then for
each entry its handle and its name, each name allocated and written before the next
one. That order is what the affected adapters' allocator gets wrong, so the bug shows
here exactly as under a real host. Any other import the adapter calls on this path is
answered with a trap that names it, and the scan says "cannot tell".
"""
from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import wasmtime

from ..model.errors import LabError, last_line
from ..model.wasi import FIRST_FD

EBADF = 8
_PAGE = 65536
_STDIO_HANDLES = {"get-stdin": 1, "get-stdout": 2, "get-stderr": 3}
_FIRST_DESCRIPTOR = 10
_DIRECTORY = 3  # wasi:filesystem descriptor-type `directory`
_ASKED_MAX = 300
"""fds asked at most: past the adapter's table (128 entries) every answer is EBADF."""
FUEL = 500_000_000
"""Instructions' worth of fuel for one preopen list; the lab's own builds use under 1%."""
MEMORY_LIMIT = 1 << 30
"""Bytes any one memory of the adapter may grow to (each of several, with multi-memory);
the child's address-space cap bounds them all together."""
TABLE_LIMIT = 1_000_000
"""Elements any one table may grow to."""


@dataclass(frozen=True)
class Told:
    """What the adapter told a guest for one fd."""

    fd: int
    errno: int
    name: bytes | None = None


class Unserved(Exception):
    """The adapter called an import this host does not serve."""


def told(engine: wasmtime.Engine, module: wasmtime.Module, names: Sequence[bytes]) -> list[Told]:
    """The adapter's answers for fd 3, 4, ... up to the first EBADF, with ``names`` preopened."""
    store = wasmtime.Store(engine)
    store.set_fuel(FUEL)
    store.set_limits(memory_size=MEMORY_LIMIT, table_elements=TABLE_LIMIT)
    host = _Host(store, names)
    imports = [host.serve(item) for item in module.imports]
    try:
        instance = wasmtime.Instance(store, module, imports)
    except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:  # a start function that traps, too
        raise LabError(f"the adapter cannot be instantiated by the scanner: {last_line(exc)}") from None
    exports = instance.exports(store)
    if host.memory is None:  # an adapter of its own memory, not the program's
        memory = exports.get("memory") if hasattr(exports, "get") else None
        if not isinstance(memory, wasmtime.Memory):
            raise LabError("it neither imports nor exports a memory, so no host can hand it names")
        host.memory = memory
    host.realloc = exports["cabi_import_realloc"]
    prestat_get, dir_name = exports["fd_prestat_get"], exports["fd_prestat_dir_name"]
    answers = []
    try:
        scratch = host.scratch(8 + 65536)  # a memory that cannot grow fails here, as the adapter's own calls do
        for fd in range(FIRST_FD, FIRST_FD + _ASKED_MAX):
            errno = prestat_get(store, fd, scratch)
            if errno != 0:
                answers.append(Told(fd, errno))
                break
            length = host.read_u32(scratch + 4)
            buffer = scratch + 8
            errno = dir_name(store, fd, buffer, min(length, 65536))
            name = host.read(buffer, min(length, 65536)) if errno == 0 else None
            answers.append(Told(fd, errno, name))
    except (wasmtime.Trap, wasmtime.WasmtimeError, TypeError, ValueError, IndexError, OverflowError) as exc:
        # a damaged adapter may hand the host an address outside its memory: the host's own
        # error comes back out of the call as it was raised
        if host.unserved:
            raise Unserved(host.unserved) from None
        raise LabError(f"the adapter failed while answering: {last_line(exc)}") from None
    return answers


class _Host:
    """The imports, bound to one store."""

    def __init__(self, store: wasmtime.Store, names: Sequence[bytes]) -> None:
        self.store, self.names = store, list(names)
        self.memory: wasmtime.Memory | None = None
        self.realloc: Callable | None = None
        self.unserved: str | None = None

    def serve(self, item: wasmtime.ImportType) -> wasmtime.Func | wasmtime.Memory:
        if isinstance(item.type, wasmtime.MemoryType):
            self.memory = wasmtime.Memory(self.store, wasmtime.MemoryType(wasmtime.Limits(item.type.limits.min, None)))
            return self.memory
        if not isinstance(item.type, wasmtime.FuncType):
            raise LabError(f"the adapter imports a {type(item.type).__name__} {item.module}::{item.name}, "
                           "which the scanner cannot give it")
        name = item.name
        if item.module.startswith("wasi:filesystem/preopens@") and name == "get-directories":
            body = self._get_directories
        elif name in _STDIO_HANDLES:
            body = _returns(_STDIO_HANDLES[name])
        elif name.startswith("get-terminal-") or name in ("get-environment", "get-arguments"):
            body = self._nothing_at  # option none / an empty list, written at the return pointer
        elif name.startswith("[resource-drop]"):
            body = _returns(None)
        elif name == "[method]descriptor.get-type":
            body = self._directory_type
        elif item.module == "__main_module__" and name == "cabi_realloc":
            body = self._main_realloc
        else:
            body = self._unserved(f"{item.module}#{name}")
        return wasmtime.Func(self.store, item.type, body)

    # -- the imports ----------------------------------------------------------------

    def _get_directories(self, retptr: int) -> None:
        entries = self._realloc(4, 12 * len(self.names))
        for index, name in enumerate(self.names):
            at = entries + 12 * index
            self.write(at, struct.pack("<I", _FIRST_DESCRIPTOR + index))
            text = self._realloc(1, len(name)) if name else 0
            self.write(text, name)
            self.write(at + 4, struct.pack("<II", text, len(name)))
        self.write(retptr, struct.pack("<II", entries, len(self.names)))

    def _nothing_at(self, retptr: int) -> None:
        self.write(retptr, bytes(8))

    def _directory_type(self, handle: int, retptr: int) -> None:
        self.write(retptr, bytes([0, _DIRECTORY]))

    def _main_realloc(self, old: int, old_size: int, align: int, size: int) -> int:
        return self.scratch(size, align)

    def _unserved(self, what: str) -> Callable[..., None]:
        def trap(*args: object) -> None:
            self.unserved = self.unserved or what
            raise wasmtime.Trap(f"the scanner does not serve {what}")
        return trap

    # -- memory -----------------------------------------------------------------------

    def _realloc(self, align: int, size: int) -> int:
        """Space from the adapter's own import allocator, which must lie inside its memory."""
        assert self.realloc is not None and self.memory is not None
        at = self.realloc(self.store, 0, 0, align, size)
        if not isinstance(at, int) or not 0 <= at % (1 << 32) <= self.memory.data_len(self.store) - size:
            raise wasmtime.Trap(f"its cabi_import_realloc gave the host an address outside its memory ({at!r} "
                                f"for {size} bytes)")
        return at % (1 << 32)

    def scratch(self, size: int, align: int = 8) -> int:
        """Fresh pages at the end of memory, nobody else's."""
        assert self.memory is not None
        at = self.memory.data_len(self.store)
        self.memory.grow(self.store, (size + align + _PAGE - 1) // _PAGE)
        return at

    def write(self, at: int, data: bytes) -> None:
        assert self.memory is not None
        self.memory.write(self.store, data, at)

    def read(self, at: int, size: int) -> bytes:
        assert self.memory is not None
        return bytes(self.memory.read(self.store, at, at + size))

    def read_u32(self, at: int) -> int:
        return struct.unpack("<I", self.read(at, 4))[0]


def _returns(value: int | None) -> Callable[..., int | None]:
    def answer(*args: object) -> int | None:
        return value
    return answer
