"""A pure-Python account of the preopen chain, starting with wasi-libc's routing.

wasi-libc keeps a table of (fd, prefix) built from the names ``fd_prestat_dir_name``
returned. To open an absolute path it picks the entry whose prefix matches the most
bytes on a path-component boundary, scanning from the newest entry to the oldest so
that on a tie the highest fd wins. The rules below are written from that behaviour
(see wasi-libc's ``preopens.c``) and are checked against the opener guest, which
asks wasi-libc itself.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    fd: int
    prefix: bytes
    """The prefix as wasi-libc stores it: leading ``/`` and ``./`` removed, ``.`` as empty."""
    relative: bytes


def libc_prefix(name: bytes) -> bytes:
    """The prefix wasi-libc stores for a preopen name.

    It keeps the name as a C string (so it ends at the first NUL byte), then drops
    leading ``/`` and ``./`` and turns a lone ``.`` into the empty prefix.
    """
    name = name.split(b"\0", 1)[0]
    while True:
        if name.startswith(b"/"):
            name = name[1:]
        elif name.startswith(b"./"):
            name = name[2:]
        elif name == b".":
            name = b""
        else:
            return name


def _prefix_matches(prefix: bytes, path: bytes) -> bool:
    if not path.startswith(b"/") and not prefix:
        return True
    if path[: len(prefix)] != prefix:
        return False
    end = len(prefix.rstrip(b"/"))
    return end >= len(path) or path[end : end + 1] == b"/"


def libc_route(table: Sequence[tuple[int, bytes]], path: bytes) -> Route | None:
    """Where wasi-libc sends ``path``, given its preopen table of (fd, name) in fd order.

    Returns None where wasi-libc finds no preopen (the open fails with ENOENT).
    """
    path = path.lstrip(b"/")
    best: tuple[int, bytes] | None = None
    for fd, name in reversed(table):
        prefix = libc_prefix(name)
        if (best is None or len(prefix) > len(best[1])) and _prefix_matches(prefix, path):
            best = (fd, prefix)
    if best is None:
        return None
    relative = path[len(best[1]) :].lstrip(b"/") or b"."
    return Route(best[0], best[1], relative)
