"""Compiled code kept between processes, so a command or a worker does not compile again.

Compiling a guest composed with an adapter costs about 0.1 s, more than a hundred runs;
every command and every sweep worker used to pay it for each build. Wasmtime can write
what it compiled and load it back (``serialize``). Loading trusts the bytes, so each
file's sha256 is kept beside it and checked first: a damaged or foreign file is compiled
again, never loaded. Wasmtime itself refuses a file made by another version or with
other engine settings; that too means compiling again.
"""
from __future__ import annotations

from functools import cache
from importlib.metadata import version
from pathlib import Path

import wasmtime
from wasmtime import component as wc

from .cache import cache_dir, sha256_bytes, write_atomically


def component(engine: wasmtime.Engine, path: Path) -> wc.Component:
    """The component at ``path``, compiled for ``engine`` (from the cache when it can)."""
    return _compiled(path.read_bytes(), "component", lambda data: wc.Component(engine, data),
                     lambda encoded: wc.Component.deserialize(engine, encoded))


def module(engine: wasmtime.Engine, wasm: bytes) -> wasmtime.Module:
    """The core module ``wasm``, compiled for ``engine`` (from the cache when it can)."""
    return _compiled(wasm, "module", lambda data: wasmtime.Module(engine, data),
                     lambda encoded: wasmtime.Module.deserialize(engine, encoded))


def _compiled(source: bytes, kind: str, compile, deserialize):
    kept = _kept(source, kind)
    loaded = _load(kept, deserialize)
    if loaded is not None:
        return loaded
    made = compile(source)
    _keep(kept, made.serialize())
    return made


def _kept(source: bytes, kind: str) -> Path:
    return cache_dir() / "compiled" / f"{sha256_bytes(source)[:32]}-{kind}-wasmtime-{_wasmtime()}.cwasm"


@cache
def _wasmtime() -> str:
    return version("wasmtime")


def _load(path: Path, deserialize):
    digest = path.with_name(path.name + ".sha256")
    try:
        encoded, expected = path.read_bytes(), digest.read_text().strip()
    except OSError:
        return None
    if sha256_bytes(encoded) != expected:
        return None
    try:
        return deserialize(encoded)
    except wasmtime.WasmtimeError:  # another engine's settings: compile again
        return None


def _keep(path: Path, encoded: bytes) -> None:
    try:
        write_atomically(path, bytes(encoded))
        write_atomically(path.with_name(path.name + ".sha256"), sha256_bytes(bytes(encoded)).encode())
    except OSError:
        pass  # a full or read-only cache: the next process compiles again
