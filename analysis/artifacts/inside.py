"""What a WebAssembly file carries inside: every core module of a component, nested
components included, with each module's imports and exports, read straight from the bytes.

A component is a sequence of sections; a core-module section holds a whole core module,
a component section a whole nested component. Nothing is compiled here, so a 10 MB
component is read in milliseconds. The binary formats: the WebAssembly core
specification (sections 2 and 7: imports, exports) and the component model's
``Binary.md`` (section ids 1 and 4).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..model.errors import LabError

MAGIC = b"\0asm"
CORE_VERSION = b"\x01\x00\x00\x00"
COMPONENT_VERSION = b"\x0d\x00\x01\x00"
_CORE_MODULE_SECTION, _COMPONENT_SECTION = 1, 4
_IMPORT_SECTION, _EXPORT_SECTION = 2, 7
_KINDS = {0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
NESTING_MAX = 100
"""Components inside components read at most this deep; toolchains nest a few levels."""


@dataclass(frozen=True)
class CoreModule:
    """One core module found in a file."""

    where: str
    """Where it sits: ``module 0`` for a bare module, ``component > module 1``,
    ``component > component 0 > module 2`` for nested ones (counted from 0 per level)."""
    data: bytes
    imports: tuple[tuple[str, str, str], ...]
    """(module, name, kind) per import, in order."""
    exports: tuple[tuple[str, str], ...]
    """(name, kind) per export, in order."""
    custom_sections: tuple[str, ...] = ()
    """The names of its custom sections (``name``, ``producers``, ``component-type...``)."""

    def exported_functions(self) -> frozenset[str]:
        return frozenset(name for name, kind in self.exports if kind == "func")

    def import_modules(self) -> frozenset[str]:
        return frozenset(module for module, _, _ in self.imports)


def leb128(value: int) -> bytes:
    """``value`` as WebAssembly writes a size: unsigned LEB128."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def kind_of(data: bytes) -> str:
    """``module``, ``component``, or a one-line error for anything else."""
    if data[:4] != MAGIC or len(data) < 8:
        raise LabError("not a WebAssembly file (no \\0asm header): give a .wasm component or core module")
    if data[4:8] == CORE_VERSION:
        return "module"
    if data[4:8] == COMPONENT_VERSION:
        return "component"
    raise LabError(f"a WebAssembly file of an unknown version ({data[4:8].hex()}): give a component or core module")


def core_modules(data: bytes) -> list[CoreModule]:
    """Every core module in ``data`` (a component or a core module), depth first."""
    if kind_of(data) == "module":
        return [_read_module("module 0", data)]
    found: list[CoreModule] = []
    _walk_component(memoryview(data), "component", found, 0)
    return found


def _walk_component(data: memoryview, where: str, found: list[CoreModule], depth: int) -> None:
    """The modules of one component; nested ones are views of the same bytes, not copies."""
    if depth > NESTING_MAX:
        raise LabError(f"it nests components more than {NESTING_MAX} deep, more than the scanner reads")
    modules = components = 0
    for section, start, end in sections(data, where):
        if section == _CORE_MODULE_SECTION:
            found.append(_read_module(f"{where} > module {modules}", bytes(data[start:end])))
            modules += 1
        elif section == _COMPONENT_SECTION:
            _walk_component(data[start:end], f"{where} > component {components}", found, depth + 1)
            components += 1


def _read_module(where: str, data: bytes) -> CoreModule:
    if data[:8] != MAGIC + CORE_VERSION:
        raise LabError(f"{where} is not a core module (bad header): the file is damaged")
    imports: list[tuple[str, str, str]] = []
    exports: list[tuple[str, str]] = []
    customs: list[str] = []
    for section, start, end in sections(data, where):
        reader = Reader(data, start, end, where)
        if section == 0:
            customs.append(reader.name())
        elif section == _IMPORT_SECTION:
            for _ in range(reader.u32()):
                module, name, kind = reader.name(), reader.name(), reader.byte()
                imports.append((module, name, _KINDS.get(kind, "other")))
                reader.skip_import_type(kind)
        elif section == _EXPORT_SECTION:
            for _ in range(reader.u32()):
                name, kind = reader.name(), reader.byte()
                reader.u32()
                exports.append((name, _KINDS.get(kind, "other")))
    return CoreModule(where, data, tuple(imports), tuple(exports), tuple(customs))


def sections(data: bytes | memoryview, where: str):
    """(id, start, end) of each section after the 8-byte header."""
    reader = Reader(data, 8, len(data), where)
    while reader.at < reader.end:
        section = reader.byte()
        size = reader.u32()
        start = reader.at
        if start + size > len(data):
            raise LabError(f"{where} is cut short (a section runs past the end of the file): the file is truncated")
        reader.at = start + size
        yield section, start, start + size


class Reader:
    """LEB128 numbers and names out of ``data[at:end]``; running off the end is one clear error
    (``where`` names what is read: ``component > module 1``)."""

    def __init__(self, data: bytes | memoryview, at: int, end: int, where: str) -> None:
        self.data, self.at, self.end, self.where = data, at, end, where

    def byte(self) -> int:
        if self.at >= self.end:
            raise LabError(f"{self.where} is cut short: the file is truncated or damaged")
        value = self.data[self.at]
        self.at += 1
        return value

    def u32(self, bits: int = 35) -> int:
        """An unsigned LEB128 of at most ``bits`` bits' worth of bytes (70 for a 64-bit limit)."""
        value = shift = 0
        while True:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
            if shift > bits:
                raise LabError(f"{self.where} holds a malformed number: the file is damaged")

    def raw_name(self) -> bytes:
        size = self.u32()
        if self.at + size > self.end:
            raise LabError(f"{self.where} is cut short: the file is truncated or damaged")
        raw = bytes(self.data[self.at:self.at + size])
        self.at += size
        return raw

    def name(self) -> str:
        return self.raw_name().decode("utf-8", "replace")

    def skip_import_type(self, kind: int) -> None:
        if kind in (0, 4):  # func: type index; tag: attribute, type index
            if kind == 4:
                self.byte()
            self.u32()
        elif kind == 1:  # table: reference type, limits
            self._value_type()
            self._limits()
        elif kind == 2:  # memory: limits
            self._limits()
        elif kind == 3:  # global: value type, mutability
            self._value_type()
            self.byte()
        else:
            raise LabError(f"{self.where} has an import of unknown kind {kind}: the file is damaged or too new")

    def _value_type(self) -> None:
        if self.byte() in (0x63, 0x64):  # (ref null? ht): a heap type follows, an s33
            self.u32(70)

    def _limits(self) -> None:
        flags = self.byte()
        self.u32(70)
        if flags & 0x01:
            self.u32(70)
        if flags & 0x08:  # a custom page size
            self.u32()


_CODE_SECTION = 10
_CALL, _CALL_INDIRECT, _GLOBAL_GET, _GLOBAL_SET = 0x10, 0x11, 0x23, 0x24


def code_shapes(data: bytes, where: str = "module") -> frozenset[str]:
    """Each function body of a core module with the indices that embedding renumbers
    (functions called, types, globals) blanked out: the same code gives the same shapes
    whichever functions wit-component removed around it. Read naively, byte by byte, the
    same way on both sides, so it serves to compare, never to disassemble. Each shape is
    kept as a 128-bit hash."""
    shapes = set()
    for section, start, end in sections(data, where):
        if section != _CODE_SECTION:
            continue
        reader = Reader(data, start, end, where)
        for _ in range(reader.u32()):
            size = reader.u32()
            body, reader.at = data[reader.at:reader.at + size], reader.at + size
            shapes.add(hashlib.blake2b(_blank_indices(body), digest_size=16).hexdigest())
    return frozenset(shapes)


def _blank_indices(body: bytes) -> bytes:
    out, at = bytearray(), 0
    while at < len(body):
        byte = body[at]
        out.append(byte)
        at += 1
        skip = 2 if byte == _CALL_INDIRECT else 1 if byte in (_CALL, _GLOBAL_GET, _GLOBAL_SET) else 0
        for _ in range(skip):
            while at < len(body) and body[at] & 0x80:
                at += 1
            at += 1
    return bytes(out)


PREVIEW1 = frozenset({"fd_write", "fd_read", "fd_close", "fd_prestat_get", "fd_prestat_dir_name", "path_open",
                      "proc_exit", "args_get", "environ_get", "clock_time_get", "random_get"})
"""Preview1 functions, any of which an adapter exports."""


def is_adapter(module: CoreModule) -> bool:
    """Imports ``wasi:*`` and exports preview1 functions, or is what is left of an adapter
    whose every preview1 function was removed (it still serves the program, ``__main_module__``)."""
    if not any(m.startswith("wasi:") for m in module.import_modules()):
        return False
    return bool(module.exported_functions() & PREVIEW1) or "__main_module__" in module.import_modules() \
        or "cabi_import_realloc" in module.exported_functions()
