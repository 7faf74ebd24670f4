"""Files that fight the scanner, for the tests and ``bench --hostile``: the adapter-shaped
modules of ``guests/hostile/adapters/``, and two made here because they are large or
deep: a module that takes cranelift a long time to compile, and components nested
10,000 deep. Each is written to a folder, as a user's file would be.
"""
from __future__ import annotations

from pathlib import Path

import wasmtime

from ..artifacts.guests import HOSTILE_DIR
from ..artifacts.inside import leb128

ADAPTERS_DIR = HOSTILE_DIR / "adapters"

_ADAPTER_SHAPE = """(module
  (import "wasi:filesystem/preopens@0.2.0" "get-directories" (func $dirs (param i32)))
  (memory (export "memory") 1)
  (func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
  (func (export "fd_prestat_get") (param i32 i32) (result i32) {body} (i32.const 8))
  (func (export "fd_prestat_dir_name") (param i32 i32 i32) (result i32) (i32.const 8)))"""
"""A module ``scan`` takes for an adapter: it imports WASI 0.2 and exports the preopen calls."""


def slow_to_compile(locals_: int = 6000, depth: int = 200) -> str:
    """WAT for a function body that cranelift takes seconds to compile (12 s here for the
    defaults, on a 60 KB module): thousands of locals live across deeply nested loops."""
    updates = "".join(f"(local.set {i} (i32.add (local.get {i}) (local.get {(i * 7) % locals_})))"
                      for i in range(locals_))
    return f"(local {' i32' * locals_})" + "(loop " * depth + updates + "(br_if 0 (local.get 0))" + ")" * depth


def adapters(folder: Path) -> dict[str, Path]:
    """Every hostile adapter, built into ``folder``: name -> file."""
    made = {}
    for source in sorted(ADAPTERS_DIR.glob("*.wat")):
        made[source.stem] = _write(folder / f"{source.stem}.wasm", wasmtime.wat2wasm(source.read_text()))
    bomb = _ADAPTER_SHAPE.replace("(param i32 i32) (result i32) {body}",
                                  f"(param i32 i32) (result i32) {slow_to_compile()}")
    made["slow-to-compile"] = _write(folder / "slow-to-compile.wasm", wasmtime.wat2wasm(bomb))
    made["nested-10000"] = _write(folder / "nested-10000.wasm", nested_components(10_000))
    return made


def slow_guest(folder: Path, locals_: int = 6000) -> Path:
    """A WASIp1 command whose ``_start`` takes seconds to compile, for ``run --guest``
    (12,000 locals: about 47 s here)."""
    wat = f'(module (memory (export "memory") 1) (func (export "_start") {slow_to_compile(locals_)}))'
    return _write(folder / "slow-guest.wasm", wasmtime.wat2wasm(wat))


def nested_components(depth: int) -> bytes:
    """An empty component inside a component ... ``depth`` levels deep."""
    header = b"\0asm\x0d\x00\x01\x00"
    inner = header
    for _ in range(depth):
        inner = header + b"\x04" + leb128(len(inner)) + inner
    return inner



def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
