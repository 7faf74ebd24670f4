"""The host directories behind the preopens: what each one holds, and what a read proves.

Preopen ``i`` is backed by a fresh directory whose ``MARKER`` file says ``preopen-i``.
Where another preopen's guest path lies inside this one's (``/`` and ``/tmp``), the
directory also holds a decoy at that relative path (``tmp/MARKER`` saying
``preopen-0:tmp``), so an open that wasi-libc sends to the wrong preopen reads a real
file from the wrong directory, as it would on a real host.

The runner builds these directories; the model reads the same layout to predict what
each open returns.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from ._cache import clear_abandoned, remove_tree
from .errors import LabError
from .results import Outcome
from .wasi import FIRST_FD, NAME_MAX, encode

MARKER = "MARKER"
DECOY_MAX = 2048
"""The longest decoy path we create, in bytes: well inside the host's PATH_MAX with the
temporary root in front of it."""
RUN_PREFIX = "preopen-lab-"
"""How every run root begins; the owning process id follows (see ``_cache.clear_abandoned``)."""
MEMORY_BACKED = "/dev/shm"
SCRATCH_MIN_FREE = 64 << 20
"""Bytes a scratch place must have free to be chosen; a run needs a few kilobytes."""
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


def make_host_dirs(root: Path, paths: tuple[str, ...]) -> list[str]:
    """Create the directories of ``host_files`` under ``root``; one per preopen, in order."""
    dirs = []
    for index, files in enumerate(host_files(paths)):
        host_dir = os.path.join(root, f"p{index}")
        write_files(host_dir, files)
        dirs.append(host_dir)
    return dirs


def write_files(host_dir: str, files: dict[str, str]) -> None:
    """One preopen's directory: ``files`` (relative path -> content) in a new folder."""
    os.mkdir(host_dir)
    for rel, content in files.items():
        target = os.path.join(host_dir, rel)
        if rel != MARKER:
            os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as file:
            file.write(content)


Populate = Callable[[Path], list[tuple[str, str]]]
"""Makes a run's host directories under its root; returns (host dir, guest path) pairs, in
preopen order."""


@contextmanager
def run_root(populate: Populate) -> Iterator[tuple[Path, list[tuple[str, str]]]]:
    """A fresh temporary root holding one run's host directories, removed whatever happens."""
    root = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-", dir=scratch_base()))
    try:
        try:
            preopens = populate(root)
        except OSError as exc:
            raise LabError(f"the host cannot create the directories for this run ({exc.strerror or exc}): "
                           "shorten the names") from None
        yield root, preopens
    finally:
        remove_tree(root)


class KeptDirs:
    """Host directories kept between runs of guests that cannot write, one per content.

    A preopen's directory is fixed by what ``host_files`` puts in it (its MARKER, naming
    its position, and any decoys). Preopened read-only, it looks the same to every run
    that needs that content, so each is built once: the 5,040 orders of seven names
    without nesting need seven directories (one per position), not 35,280. At most
    ``size`` are kept (the least recently used go first); the whole folder goes when the
    object is collected or the process exits. ``io`` is where the runs' stdout and stderr
    files go.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        for place in {scratch_base(), tempfile.gettempdir()}:
            clear_abandoned(Path(place), RUN_PREFIX)  # what killed runs left
        self.root = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-kept-", dir=scratch_base()))
        self.io = self.root / "io"
        self.io.mkdir()
        self._remove = weakref.finalize(self, shutil.rmtree, self.root, True)
        self._dirs: OrderedDict[tuple[tuple[str, str], ...], str] = OrderedDict()
        self._made = 0

    def remove(self) -> None:
        """Remove the folder now (at most once): a worker process ends with ``os._exit``,
        which runs no ``weakref.finalize``, so its pool calls this on the way out."""
        self._remove()

    def preopens(self, paths: tuple[str, ...]) -> list[tuple[str, str]]:
        """(host dir, guest path) pairs for ``paths``, building what is not kept yet."""
        pairs = []
        for files, path in zip(host_files(paths), paths):
            key = tuple(sorted(files.items()))
            if key in self._dirs:
                self._dirs.move_to_end(key)
            else:
                self._dirs[key] = self._make(files)
            pairs.append((self._dirs[key], path))
        while len(self._dirs) > max(self.size, len(pairs)):  # this run's own are the newest: kept
            shutil.rmtree(self._dirs.popitem(last=False)[1], ignore_errors=True)
        return pairs

    def _make(self, files: dict[str, str]) -> str:
        host_dir = os.path.join(self.root, f"d{self._made}")
        self._made += 1
        try:
            write_files(host_dir, files)
        except OSError as exc:
            shutil.rmtree(host_dir, ignore_errors=True)
            raise LabError(f"the host cannot create the directories for this run ({exc.strerror or exc}): "
                           "shorten the names") from None
        return host_dir


def scratch_base() -> str:
    """Where run roots go: memory-backed ``/dev/shm`` when usable, else the temp dir.

    A run creates and removes a handful of directories and files, and on a disk-backed
    ``/tmp`` that costs more than the guest itself. ``/dev/shm`` is passed over when it
    has less than ``SCRATCH_MIN_FREE`` bytes free. An explicit ``TMPDIR`` is always
    honoured (Python's ``tempfile`` passes over one it cannot write to).
    """
    if not os.environ.get("TMPDIR"):
        usable = os.path.isdir(MEMORY_BACKED) and os.access(MEMORY_BACKED, os.W_OK | os.X_OK)
        if usable and free_bytes(MEMORY_BACKED) >= SCRATCH_MIN_FREE:
            return MEMORY_BACKED
    return tempfile.gettempdir()


def free_bytes(folder: str | Path) -> int:
    """Bytes an unprivileged process can still write under ``folder``."""
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def classify(index: int, routed_fd: int | None, marker: str | None, guest: str) -> Outcome:
    """The outcome for preopen ``index`` from where its open went and what it read.

    ``ok``: routed to its own fd (``FIRST_FD + index``) and, where a file was opened, read its own
    MARKER. ``misrouted``: routed to another preopen's fd, whatever was found there.
    ``missing``: no preopen matched, or its own directory gave no MARKER.
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
    return "ok" if marker == marker_text(index) else "missing"
