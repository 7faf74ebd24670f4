"""Seals: what the lab wrote into its cache, told apart from what anyone else put there.

The cache keeps things that run or get published: compiled machine code, composed
components, the node hosts' JavaScript, the live page's bundles, the host matrix a page
states. Its keys are hashes of public inputs, so anyone who can write the cache (a shared
``PREOPEN_LAB_CACHE``, a guest on a host that lets it out) could plant an entry and any
hash beside it. A seal is an HMAC under a key of this user's (``key_path``, mode 0600,
outside the cache) over the entry's name in the cache and its bytes: it cannot be
recomputed without the key, and a sealed entry moved to another name fails its seal.
An entry that fails is made again (one line in the log), never run or published;
without a usable key nothing is kept and everything is made afresh.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from .cache import LOG, cache_dir, read_regular, write_atomically

KEY_BYTES = 32
SEAL_SUFFIX = ".hmac"
"""The seal of ``entry`` is the file ``entry.hmac`` beside it."""
TREE_SEAL = ".tree.hmac"
"""The seal of a folder's whole tree (``seal_tree``), inside it."""


def key_path() -> Path:
    """Where this user's key lives: ``$XDG_CONFIG_HOME/preopen-lab/`` (``~/.config``), never in the cache."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "preopen-lab" / "compiled-code.key"


@cache
def key() -> bytes | None:
    """This user's key, made on first use; None (keep nothing, trust nothing kept) when it
    cannot be made, or is not a 0600 regular file of this user's."""
    path = key_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            name = str(path.parent / f".key-{os.getpid()}-{secrets.token_hex(4)}")
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, secrets.token_bytes(KEY_BYTES))
            finally:
                os.close(fd)
            try:
                os.link(name, path)  # all or nothing: another process's key wins, whole
            except FileExistsError:
                pass
            finally:
                os.unlink(name)
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None
        found = read_regular(path, KEY_BYTES)
    except OSError:
        return None
    return found if len(found) == KEY_BYTES else None


def _name(path: Path) -> bytes:
    """The entry's name as sealed: its path inside the cache (so a moved cache keeps its
    seals, and a sealed entry copied to another name does not)."""
    try:
        return str(path.absolute().relative_to(cache_dir())).encode()
    except ValueError:
        return str(path.absolute()).encode()


def _mac(secret: bytes, name: bytes, data: bytes) -> str:
    return hmac.new(secret, name + b"\0" + data, hashlib.sha256).hexdigest()


def write_sealed(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` (atomically) with its seal beside it; without a key, nothing
    is kept (a stale entry and its seal are removed, so they cannot be mistaken later)."""
    secret = key()
    if secret is None:
        path.unlink(missing_ok=True)
        _seal_of(path).unlink(missing_ok=True)
        return
    _seal_of(path).unlink(missing_ok=True)  # never a moment where new bytes sit under an old seal
    write_atomically(path, data)
    write_atomically(_seal_of(path), _mac(secret, _name(path), data).encode())


def seal_file(path: Path) -> None:
    """Seal the file the lab just made at ``path`` (without a key: remove it, as ``write_sealed``)."""
    secret = key()
    if secret is None:
        path.unlink(missing_ok=True)
        _seal_of(path).unlink(missing_ok=True)
        return
    write_atomically(_seal_of(path), _mac(secret, _name(path), read_regular(path)).encode())


def read_sealed(path: Path, what: str, limit: int = 1 << 30) -> bytes | None:
    """``path``'s bytes if the lab wrote them (its seal holds); else None, and one line in
    the log when an entry was there but failed its seal (``what`` names it)."""
    try:
        data = read_regular(path, limit)
    except OSError:
        return None
    if seal_holds(path, data):
        return data
    LOG.warning(f"{what} in the cache ({path.name}) fails its seal: made again, not used")
    return None


def seal_holds(path: Path, data: bytes) -> bool:
    """True when ``data`` is what the lab sealed at ``path``."""
    secret = key()
    if secret is None:
        return False
    try:
        expected = read_regular(_seal_of(path), 256).decode("ascii", "replace").strip()
    except OSError:
        return False
    return hmac.compare_digest(_mac(secret, _name(path), data), expected)


def _seal_of(path: Path) -> Path:
    return path.with_name(path.name + SEAL_SUFFIX)


# -- whole folders (an npm tree and the lab's scripts beside it) -------------------------


def listing(folder: Path, apart: Sequence[str] = ()) -> bytes:
    """Every file, link and folder under ``folder`` (but the seal, and the top-level folders
    ``apart``, whose entries are sealed one by one), with what it holds: a file's sha256, a
    link's target. Anything else (a FIFO, a socket) is listed as such, so it fails the seal."""
    lines = []
    for here, dirs, files in os.walk(folder):
        if here == str(folder):
            dirs[:] = [d for d in dirs if d not in apart]
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(here, d))]:
            full = os.path.join(here, name)
            rel = os.path.relpath(full, folder)
            if rel in (TREE_SEAL, ".lock"):  # the seal itself, and the folder's lock (empty, never run)
                continue
            info = os.lstat(full)
            if stat.S_ISLNK(info.st_mode):
                lines.append(f"L {rel} -> {os.readlink(full)}")
            elif stat.S_ISREG(info.st_mode):
                lines.append(f"F {rel} {oct(info.st_mode & 0o111)} {_file_digest(full, info)}")
            else:
                lines.append(f"? {rel} {stat.S_IFMT(info.st_mode)}")
        for name in dirs:
            if not os.path.islink(os.path.join(here, name)):
                lines.append(f"D {os.path.relpath(os.path.join(here, name), folder)}")
    return "\n".join(lines).encode("utf-8", "surrogateescape")


_DIGESTS: dict[tuple[str, int, int, int, int], str] = {}
"""sha256 of files already read in this process, by path, inode, size, mtime and ctime:
any write changes the ctime, which no process can set back."""


def _file_digest(full: str, info: os.stat_result) -> str:
    known = (full, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    if known not in _DIGESTS:
        _DIGESTS[known] = hashlib.sha256(read_regular(Path(full))).hexdigest()
    return _DIGESTS[known]


def seal_tree(folder: Path, apart: Sequence[str] = ()) -> None:
    """Seal everything under ``folder`` as it is now (after the lab installed it), but ``apart``."""
    secret = key()
    seal = folder / TREE_SEAL
    seal.unlink(missing_ok=True)
    if secret is not None:
        write_atomically(seal, _mac(secret, _name(folder), listing(folder, apart)).encode())


def tree_holds(folder: Path, apart: Sequence[str] = ()) -> bool:
    """True when every file under ``folder`` (but ``apart``) is as the lab sealed it, and nothing was added."""
    secret = key()
    if secret is None:
        return False
    try:
        expected = read_regular(folder / TREE_SEAL, 256).decode("ascii", "replace").strip()
        found = listing(folder, apart)
    except OSError:
        return False
    return hmac.compare_digest(_mac(secret, _name(folder), found), expected)
