"""What each preopen's host directory holds, and what a read from it proves.

Preopen ``i`` is backed by a directory whose ``MARKER`` file says ``preopen-i``.
Where another preopen's guest path lies inside this one's (``/`` and ``/tmp``), the
directory also holds a decoy at that relative path (``tmp/MARKER`` saying
``preopen-0:tmp``), so an open that wasi-libc sends to the wrong preopen reads a real
file from the wrong directory, as it would on a real host.

Pure data, and what opening a path inside one gives (``open_in``): the model reads this
layout to predict each open, and ``runs.hostdirs`` writes the same layout to disk for a real run.
"""
from __future__ import annotations

import posixpath
import re
from functools import lru_cache

from .results import Outcome
from .wasi import EBADF, ENAMETOOLONG, ENOENT, ENOTDIR, EPERM, FIRST_FD, NAME_MAX, PATH_MAX, decode, encode

MARKER = "MARKER"
DECOY_MAX = 2048
"""The longest decoy path we create, in bytes: well inside the host's PATH_MAX with the
temporary root in front of it."""
_MARKER_TEXT = re.compile(r"preopen-(\d+)(?::.*)?", re.DOTALL)


def marker_text(index: int) -> str:
    return f"preopen-{index}"


def served_by(marker: str | None) -> int | None:
    """Which preopen's directory a MARKER's content came from."""
    match = _MARKER_TEXT.fullmatch(marker or "")
    return int(match.group(1)) if match else None


def marker_target(path: str) -> str:
    """``<path>/MARKER`` exactly as the guests build it."""
    if path == "" or path.endswith("/"):
        return path + MARKER
    return f"{path}/{MARKER}"


@lru_cache(maxsize=1 << 16)
def inside(outer: str, inner: str) -> str | None:
    """``inner`` relative to ``outer`` when it lies strictly inside it and can be a
    decoy directory (plain components, none named MARKER, none too long), else None."""
    if not inner.startswith("/") or not outer.startswith("/"):
        return None
    a, b = outer.strip("/"), inner.strip("/")
    rel = b if a == "" else (b[len(a) + 1 :] if b.startswith(a + "/") else None)
    if not rel:
        return None
    parts = rel.split("/")
    if any(p in ("", ".", "..", MARKER) or len(encode(p)) > NAME_MAX for p in parts):
        return None
    return rel if len(encode(rel)) <= DECOY_MAX else None


@lru_cache(maxsize=8192)
def host_files(paths: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    """Per preopen, its files: relative path -> content. Cached: treat as read-only."""
    layout = []
    for outer, outer_path in enumerate(paths):
        files = {MARKER: marker_text(outer)}
        for inner_path in paths:
            rel = inside(outer_path, inner_path)
            if rel is not None:
                files.setdefault(f"{rel}/{MARKER}", f"{marker_text(outer)}:{rel}")
        layout.append(files)
    return tuple(layout)


def classify(index: int, routed_fd: int | None, marker: str | None, guest: str) -> Outcome:
    """The outcome for preopen ``index`` from where its open went and what it read.

    ``ok``: routed to its own fd (``FIRST_FD + index``) and, where a file was opened, read its own
    MARKER. ``misrouted``: routed to another preopen's fd, whatever was found there.
    ``missing``: no preopen matched, or its own directory gave no MARKER.
    The walker opens through fd ``FIRST_FD + index`` itself: there, another preopen's MARKER
    is ``misrouted`` (the fd is another preopen's directory).
    """
    if routed_fd is None:  # rust-open: only what std read tells
        if served_by(marker) is None:
            return "missing"
        return "ok" if marker == marker_text(index) else "misrouted"
    if routed_fd < 0:
        return "missing"
    if routed_fd != FIRST_FD + index:
        return "misrouted"
    if guest in ("probe", "direct"):  # no file was opened; the route is all there is
        return "ok"
    if guest == "walker":  # the fd itself: what it read says whose directory it is
        owner = served_by(marker)
        return "missing" if owner is None else ("ok" if marker == marker_text(index) else "misrouted")
    return "ok" if marker == marker_text(index) else "missing"


def open_in(files: dict[str, str], relative: bytes) -> tuple[str | None, int | None]:
    """What opening ``relative`` inside one host directory gives: (content, errno).

    Components resolve one by one, ``..`` included, and may not leave the directory;
    a path too long as a whole is refused before any of them.
    """
    if len(relative) + 1 > PATH_MAX:
        return None, ENAMETOOLONG
    directories = {""} | {posixpath.dirname(rel) for rel in files}
    directories |= {d for rel in list(directories) for d in _parents(rel)}
    stack: list[str] = []
    parts = decode(relative).split("/")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if len(encode(part)) > NAME_MAX:
            return None, ENAMETOOLONG
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                return None, EPERM
            stack.pop()
            continue
        here = "/".join([*stack, part])
        if here in files:  # a regular file: the path ends here, or it cannot go through it
            return (files[here], None) if last else (None, ENOTDIR)
        if here not in directories:
            return None, ENOENT
        stack.append(part)
    return None, EBADF  # a directory: it opens, but reading it fails


def _parents(rel: str) -> list[str]:
    parts = rel.split("/")
    return ["/".join(parts[:k]) for k in range(1, len(parts))]
