"""Where the lab keeps files: fetched adapters and composed components between runs,
and the reports it writes; and how it writes them safely."""
from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LabError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REPORTS_DIR = PROJECT_ROOT / "reports"
"""Where ``make report`` and ``sweep`` write unless told otherwise: pages, data, figures."""


def cache_dir() -> Path:
    """The project-local cache (``.cache/`` at the repository root).

    ``PREOPEN_LAB_CACHE`` moves it, which tests use to start from nothing.
    """
    path = Path(os.environ.get("PREOPEN_LAB_CACHE") or PROJECT_ROOT / ".cache").absolute()
    return writable_folder(path, str(path), "the cache", "point PREOPEN_LAB_CACHE at a writable folder, or unset it")


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


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(path.read_bytes())


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` is either absent or complete, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for ``path`` (on ``path.lock``), so that two processes,
    say two notebook kernels, fetching or composing the same entry do it once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
