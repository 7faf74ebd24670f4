"""Guests compiled and ready to run: one start function per kind of program.

A program is compiled once for an engine (``compiled`` keeps the machine code between
processes) and started in a fresh store for every run. There are three kinds: a WASIp1
core module run natively, the same module composed with an adapter build into a
component, and the adapter-free ``direct`` component, which asks the WASIp2 host itself.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import wasmtime
from wasmtime import component as wc

from ..artifacts import compiled
from ..artifacts.adapters import AdapterBuild
from ..artifacts.compose import compose
from ..model.errors import LabError, first_line
from ..model.wasi import FIRST_FD, encode

Start = Callable[[wasmtime.Store], tuple[int | None, bytes]]
"""Instantiate and run in a store: the exit code, and what the program answered through its
return value rather than its stdout (only ``direct`` does, as JSON lines)."""


@dataclass
class Program:
    """A compiled guest, ready to instantiate into a fresh store."""

    start: Start
    build: AdapterBuild | None


def core_start(engine: wasmtime.Engine, linker: wasmtime.Linker, core: bytes) -> Start:
    """A WASIp1 core module run natively, its imports checked before anything runs."""
    module = compiled.module(engine, core)
    _check_links(module)

    def start(store: wasmtime.Store) -> tuple[int | None, bytes]:
        instance = linker.instantiate(store, module)
        instance.exports(store)["_start"](store)
        return 0, b""

    return start

def direct_start(engine: wasmtime.Engine, linker: wc.Linker, binary: bytes) -> Start:
    """The adapter-free ``direct`` component: it answers the host's own list of directories."""
    component = wc.Component(engine, binary)

    def start(store: wasmtime.Store) -> tuple[int | None, bytes]:
        instance = linker.instantiate(store, component)
        answered = []
        for index, (descriptor, name) in enumerate(instance.get_func(store, "get-directories")(store)):
            descriptor.drop(store)
            data = encode(name)
            answered.append(json.dumps({"kind": "prestat", "fd": FIRST_FD + index, "errno": 0,
                                        "name_len": len(data), "name_errno": 0, "name_hex": data.hex()}))
        return 0, "".join(line + "\n" for line in answered).encode()

    return start

def component_start(engine: wasmtime.Engine, linker: wc.Linker, core: bytes, build: AdapterBuild) -> Start:
    """A core module composed with ``build``: the component runs its ``wasi:cli/run``."""
    path = compose(core, build)
    try:
        component = compiled.component(engine, path)
    except wasmtime.WasmtimeError:
        path.unlink(missing_ok=True)  # a damaged cache entry: compose it afresh, once
        path = compose(core, build)
        try:
            component = compiled.component(engine, path)
        except wasmtime.WasmtimeError as exc:
            path.unlink(missing_ok=True)
            raise LabError(f"the component composed with {build.id} does not load "
                           f"({first_line(exc, 'no detail')}); check the wasm-tools and wasmtime versions") from None
    names = [n for n in component.type.exports(engine) if n.startswith("wasi:cli/run@")]
    if not names:
        raise LabError(f"the component made with {build.id} exports no wasi:cli/run: is this a command adapter?")
    run_instance = component.get_export_index(names[0])
    run_func = component.get_export_index("run", run_instance)

    def start(store: wasmtime.Store) -> tuple[int | None, bytes]:
        try:
            instance = linker.instantiate(store, component)
        except wasmtime.WasmtimeError as exc:
            if _is_trap(exc):
                raise
            raise LabError(f"wasmtime cannot instantiate the component made with {build.id}: {first_line(exc, 'no detail')}") from None
        result = instance.get_func(store, run_func)(store)
        return (0 if getattr(result, "tag", "ok") == "ok" else 1), b""

    return start


def _check_links(module: wasmtime.Module) -> None:
    """Refuse, naming it, what no WASIp1 host provides, before anything runs: an import
    from elsewhere, or WASI imports without an exported ``memory`` to pass data through."""
    foreign = [f"{i.module}::{i.name}" for i in module.imports if i.module != "wasi_snapshot_preview1"]
    if foreign:
        raise LabError(f"the guest imports {foreign[0]}, which a WASIp1 host does not provide"
                       f"{f' (and {len(foreign) - 1} more)' if len(foreign) > 1 else ''}: build it as a "
                       "WASIp1 command that imports only wasi_snapshot_preview1")
    memory = next((e for e in module.exports if e.name == "memory"), None)
    if module.imports and not isinstance(getattr(memory, "type", None), wasmtime.MemoryType):
        raise LabError("the guest calls WASI but exports no memory named `memory`, through which WASI "
                       "passes data: export its memory as `memory`")


def _is_trap(exc: BaseException) -> bool:
    return isinstance(exc, wasmtime.Trap) or "wasm backtrace" in str(exc) or "unreachable" in str(exc)
