"""The host directories behind a real run's preopens, on disk.

Each run's directories are made from ``model.markers.host_files`` (a MARKER naming the
preopen, and any decoys) under a fresh root that is removed whatever happens; the lab's
own guests, which only read, get directories kept between runs instead (``KeptDirs``).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..artifacts.cache import clear_abandoned, remove_tree
from ..model.errors import LabError
from ..model.markers import MARKER, host_files

RUN_PREFIX = "preopen-lab-"
"""How every run root begins; the owning process id follows (see ``artifacts.cache.clear_abandoned``)."""
MEMORY_BACKED = "/dev/shm"
SCRATCH_MIN_FREE = 64 << 20
"""Bytes a scratch place must have free to be chosen; a run needs a few kilobytes."""


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
