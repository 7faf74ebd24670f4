"""Where the lab keeps files: fetched adapters and composed components between runs,
and the reports it writes; and how it writes, locks and removes them safely.

Every temporary name carries the process id that made it (``.tmp-<pid>-...``,
``preopen-lab-<pid>-...``), so what a killed process left (kill -9 runs no cleanup) is
recognised and removed by the next process that looks there (``clear_abandoned``).
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from ..model.errors import LabError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOG = logging.getLogger("analysis")
"""What the lab says along the way (waiting for a lock); the command line prints it."""
REPORTS_DIR = PROJECT_ROOT / "reports"
"""Where ``make report`` and ``sweep`` write unless told otherwise: pages, data, figures."""


def cache_dir() -> Path:
    """The project-local cache (``.cache/`` at the repository root).

    ``PREOPEN_LAB_CACHE`` moves it, which tests use to start from nothing.
    """
    path = Path(os.environ.get("PREOPEN_LAB_CACHE") or PROJECT_ROOT / ".cache").absolute()
    folder = writable_folder(path, str(path), "the cache", "point PREOPEN_LAB_CACHE at a writable folder, or unset it")
    _tidy_once(folder)
    return folder


@cache
def _tidy_once(folder: Path) -> None:
    """Once per process and cache: remove the half-written files and scratch folders of
    processes that were killed while writing into it."""
    for sub in [folder, *(p for p in folder.iterdir() if p.is_dir())]:
        clear_abandoned(sub, TMP_PREFIX)
        for old in sub.glob("?*.lock"):  # one lock per entry, as earlier versions kept them
            old.unlink(missing_ok=True)


def writable_folder(path: Path, what: str, role: str, remedy: str) -> Path:
    """``path``, made if need be; one line naming ``what``, its ``role`` and the ``remedy``
    if it cannot be (a file is there, no permission)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(13, "not writable")
    except OSError as exc:
        raise LabError(f"{what} cannot be used as {role} ({exc.strerror or exc}): {remedy}") from None
    return path


def read_regular(path: Path, limit: int = 1 << 30) -> bytes:
    """``path``'s bytes, if it is a regular file of at most ``limit`` bytes, read without
    ever waiting: a FIFO, a device, a socket, or a file of /proc that would block (say
    ``/proc/kmsg`` behind a symlink) is an ``OSError``, never a hang."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit:,} bytes")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit:,} bytes")
    return data


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(read_regular(path))


TMP_PREFIX = ".tmp-"
"""How every temporary name in the cache begins; the process id follows."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` is either absent or complete, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{threading.get_ident()}-{path.name}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``path``'s folder (its ``.lock`` file), so that two
    processes, say two notebook kernels, fetching or composing the same entry do it once.

    One lock per folder, not per entry, so an entry that was never made (a refused
    guest) leaves no lock file behind. Waiting for another process is logged (``LOG``):
    the command line shows it on stderr; a notebook, whose page would keep it, does not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            LOG.info(f"waiting for another process using {path.parent} ...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def scratch_folder(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh folder ``<prefix><pid>-...`` in ``parent``, removed whatever happens; what
    a killed process left under the same prefix is removed first."""
    clear_abandoned(parent, prefix)
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
    try:
        yield folder
    finally:
        remove_tree(folder)


def clear_abandoned(folder: Path, prefix: str) -> list[Path]:
    """Remove the entries of ``folder`` named ``<prefix><pid>-...`` that this user owns and
    whose process is gone. Returns what was removed.

    A name alone proves nothing in a shared folder (``/dev/shm``, the temp dir): anyone can
    make ``preopen-lab-<pid>-x``, so an entry another user owns is never touched, even when
    this process could remove it (root)."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        pid = entry.name[len(prefix):].split("-", 1)[0] if entry.name.startswith(prefix) else ""
        if pid.isdigit() and _ours(entry) and not _running(int(pid)):
            if entry.is_dir(follow_symlinks=False):
                remove_tree(Path(entry.path))
            else:
                Path(entry.path).unlink(missing_ok=True)
            removed.append(Path(entry.path))
    return removed


def _ours(entry: os.DirEntry) -> bool:
    """True when this user owns ``entry`` itself (a link is not followed)."""
    try:
        return entry.stat(follow_symlinks=False).st_uid == os.getuid()
    except OSError:
        return False


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def remove_tree(root: Path) -> None:
    """Remove a folder however deep a guest nested directories in it. ``shutil.rmtree``
    recurses, and a chain thousands deep exhausts Python's stack (and the path length);
    then the tree is walked with one directory handle at a time. Errors are ignored."""
    try:
        shutil.rmtree(root, ignore_errors=True)
        return
    except RecursionError:
        pass
    nofollow = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        here, names = os.open(root, nofollow), []
    except OSError:
        return
    try:
        while True:
            below = None
            for entry in os.scandir(here):
                if entry.is_dir(follow_symlinks=False):
                    below = entry.name
                    break
                os.unlink(entry.name, dir_fd=here)
            if below is not None:
                deeper = os.open(below, nofollow, dir_fd=here)
                os.close(here)
                here = deeper
                names.append(below)
            elif names:
                parent = os.open("..", nofollow, dir_fd=here)
                os.close(here)
                here = parent
                os.rmdir(names.pop(), dir_fd=here)
            else:
                break
    except OSError:
        pass  # what cannot be removed stays; nothing more to try
    finally:
        os.close(here)
    try:
        os.rmdir(root)
    except OSError:
        pass
