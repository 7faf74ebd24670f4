"""Compiled code kept between processes, so a command or a worker does not compile again.

Compiling a guest composed with an adapter costs about 0.1 s, more than a hundred runs;
every command and every sweep worker used to pay it for each build. Wasmtime can write
what it compiled and load it back (``serialize``). Loading runs those bytes as machine
code, so the lab loads only what it wrote itself: beside each file it keeps an HMAC of
its bytes under a key of this user's (``key_path``, mode 0600, outside the cache). A
hash anyone could recompute would not do: whoever can write a shared cache could write
both. A damaged or foreign file is compiled again, never loaded; without a usable key
nothing is kept or loaded. Wasmtime itself refuses a file made by another version or
with other engine settings; that too means compiling again.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from functools import cache
from importlib.metadata import version
from pathlib import Path

import wasmtime
from wasmtime import component as wc

from .cache import cache_dir, read_regular, sha256_bytes, write_atomically

KEY_BYTES = 32


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
    key = _key()
    loaded = _load(kept, deserialize, key) if key else None
    if loaded is not None:
        return loaded
    made = compile(source)
    if key:
        _keep(kept, made.serialize(), key)
    return made


def _kept(source: bytes, kind: str) -> Path:
    return cache_dir() / "compiled" / f"{sha256_bytes(source)[:32]}-{kind}-wasmtime-{_wasmtime()}.cwasm"


@cache
def _wasmtime() -> str:
    return version("wasmtime")


def key_path() -> Path:
    """Where this user's key lives: ``$XDG_CONFIG_HOME/preopen-lab/`` (``~/.config``), never in the cache."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "preopen-lab" / "compiled-code.key"


@cache
def _key() -> bytes | None:
    """This user's key, made on first use; None (keep nothing, load nothing) when it cannot
    be made, or is not a 0600 file of this user's."""
    path = key_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            fd, tmp = _private_file(path.parent)
            try:
                os.write(fd, secrets.token_bytes(KEY_BYTES))
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)  # all or nothing: another process's key wins, whole
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None
        key = read_regular(path, KEY_BYTES)
    except OSError:
        return None
    return key if len(key) == KEY_BYTES else None


def _private_file(folder: Path) -> tuple[int, str]:
    name = str(folder / f".key-{os.getpid()}-{secrets.token_hex(4)}")
    return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), name


def _seal(key: bytes, encoded: bytes) -> str:
    return hmac.new(key, encoded, hashlib.sha256).hexdigest()


def _load(path: Path, deserialize, key: bytes):
    seal = path.with_name(path.name + ".hmac")
    try:
        encoded, expected = read_regular(path), read_regular(seal, 256).decode("ascii", "replace").strip()
    except OSError:
        return None
    if not hmac.compare_digest(_seal(key, encoded), expected):
        return None
    try:
        return deserialize(encoded)
    except wasmtime.WasmtimeError:  # another engine's settings: compile again
        return None


def _keep(path: Path, encoded: bytes, key: bytes) -> None:
    try:
        write_atomically(path, bytes(encoded))
        write_atomically(path.with_name(path.name + ".hmac"), _seal(key, bytes(encoded)).encode())
    except OSError:
        pass  # a full or read-only cache: the next process compiles again
