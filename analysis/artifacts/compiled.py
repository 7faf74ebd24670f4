"""Compiled code kept between processes, so a command or a worker does not compile again.

Compiling a guest composed with an adapter costs about 0.1 s, more than a hundred runs;
every command and every sweep worker used to pay it for each build. Wasmtime can write
what it compiled and load it back (``serialize``). Loading runs those bytes as machine
code, so the lab loads only what it wrote itself: beside each file it keeps an HMAC of
its name and bytes, ``seal``: a hash anyone could recompute would not do, since whoever can
write a shared cache could write both. A damaged or foreign file is compiled again, never
loaded; without a usable key nothing is kept or loaded. Wasmtime itself refuses a file
made by another version or with other engine settings; that too means compiling again.
"""
from __future__ import annotations

from functools import cache
from importlib.metadata import version
from pathlib import Path

import wasmtime
from wasmtime import component as wc

from . import seal
from .cache import cache_dir, read_regular, sha256_bytes


def component(engine: wasmtime.Engine, path: Path) -> wc.Component:
    """The component at ``path``, compiled for ``engine`` (from the cache when it can)."""
    return _compiled(read_regular(path), "component", lambda data: wc.Component(engine, data),
                     lambda encoded: wc.Component.deserialize(engine, encoded))


def module(engine: wasmtime.Engine, wasm: bytes) -> wasmtime.Module:
    """The core module ``wasm``, compiled for ``engine`` (from the cache when it can)."""
    return _compiled(wasm, "module", lambda data: wasmtime.Module(engine, data),
                     lambda encoded: wasmtime.Module.deserialize(engine, encoded))


def _compiled(source: bytes, kind: str, compile, deserialize):
    kept = _kept(source, kind)
    encoded = seal.read_sealed(kept, "compiled code")
    if encoded is not None:
        try:
            return deserialize(encoded)
        except wasmtime.WasmtimeError:  # another engine's settings: compile again
            pass
    made = compile(source)
    try:
        seal.write_sealed(kept, bytes(made.serialize()))
    except OSError:
        pass  # a full or read-only cache: the next process compiles again
    return made


def _kept(source: bytes, kind: str) -> Path:
    return cache_dir() / "compiled" / f"{sha256_bytes(source)[:32]}-{kind}-wasmtime-{_wasmtime()}.cwasm"


@cache
def _wasmtime() -> str:
    return version("wasmtime")
