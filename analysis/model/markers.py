"""What each preopen's host directory holds, and what a read from it proves.

Preopen ``i`` is backed by a directory whose ``MARKER`` file says ``preopen-i``.
Where another preopen's guest path lies inside this one's (``/`` and ``/tmp``), the
directory also holds a decoy at that relative path (``tmp/MARKER`` saying
``preopen-0:tmp``), so an open that wasi-libc sends to the wrong preopen reads a real
file from the wrong directory, as it would on a real host.

Pure data: the model reads this layout to predict each open, and ``runs.hostdirs``
writes the same layout to disk for a real run.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .results import Outcome
from .wasi import FIRST_FD, NAME_MAX, encode

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
