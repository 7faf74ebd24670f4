"""Facts about WASIp1 preopens that every other module relies on.

Where the first preopen sits, the errno numbers the lab meets, how names travel
(bytes on the wire, ``str`` with ``surrogateescape`` in Python), the limits of the
host and the adapter, and which preopen lists a host can take at all.
"""
from __future__ import annotations

from collections.abc import Sequence

from .errors import LabError

FIRST_FD = 3
"""Where the host puts the first preopen; 0, 1 and 2 are stdio."""

EBADF, ENAMETOOLONG, ENOENT, ENOMEM, ENOTDIR, EPERM = 8, 37, 44, 48, 54, 63
ERRNO_NAMES = {2: "EACCES", EBADF: "EBADF", 20: "EEXIST", 28: "EINVAL", 29: "EIO", 31: "EISDIR",
               32: "ELOOP", ENAMETOOLONG: "ENAMETOOLONG", ENOENT: "ENOENT", ENOMEM: "ENOMEM", 52: "ENOSYS",
               ENOTDIR: "ENOTDIR", EPERM: "EPERM", 68: "ERANGE", 76: "ENOTCAPABLE"}
"""WASIp1 errno numbers (``wasi_snapshot_preview1``'s ``errno`` enum) by name."""

NAME_MAX = 255
"""The longest file name component the host file system takes, in bytes."""
PATH_MAX = 4096
"""Bytes of a path, its closing NUL included, from which the host (Linux) answers ENAMETOOLONG
before it looks at a single component (the hunter found it: ``findings.hunt``)."""
ADAPTER_MAX_PREOPENS = 125
"""The adapter's descriptor table holds 128 entries, stdio included."""
ADAPTER_TABLE = ADAPTER_MAX_PREOPENS + FIRST_FD
"""The adapter's descriptor table, stdio included: preopens and open files share it."""


def errno_name(errno: int | None) -> str:
    return "-" if errno is None else ERRNO_NAMES.get(errno, f"errno {errno}")


def decode(data: bytes) -> str:
    """A name's bytes as ``str``; invalid UTF-8 survives as surrogates (``encode`` undoes it)."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def preopen_fds(count: int) -> range:
    """The fds ``count`` preopens occupy: ``FIRST_FD`` onwards, in the host's order."""
    return range(FIRST_FD, FIRST_FD + count)


def check_fd(fd: int, count: int) -> int:
    """Refuse an fd that is not one of ``count`` preopens' (say, asking the adapter about fd 9 of five)."""
    if fd not in preopen_fds(count):
        raise LabError(f"fd {fd} is not a preopen here: with {count} preopen(s) use "
                       f"{FIRST_FD}..{FIRST_FD + count - 1}")
    return fd


def check_paths(paths: Sequence[str]) -> tuple[str, ...]:
    """Refuse only what a WASI host cannot take; everything else is an experiment."""
    if isinstance(paths, str):
        raise LabError(f"expected a list of preopen paths, got the single string {paths!r}")
    paths = tuple(paths)
    if not paths:
        raise LabError("no preopen paths given: name at least one, e.g. /a /b /c")
    for path in paths:
        if not isinstance(path, str):
            raise LabError(f"preopen path {path!r} is not text: give paths as str")
        if "\0" in path:
            raise LabError(f"preopen path {path!r} contains a NUL byte, which WASI cannot carry: remove it")
        try:
            path.encode("utf-8")
        except UnicodeEncodeError:
            raise LabError(f"preopen path {path!r} is not valid UTF-8 text: WASI names are UTF-8") from None
    return paths


def warnings_for(paths: tuple[str, ...]) -> tuple[str, ...]:
    """Legal but suspicious preopen lists, said next to the result (they still run)."""
    found = []
    seen: dict[str, list[int]] = {}
    for index, path in enumerate(paths):
        seen.setdefault(path, []).append(FIRST_FD + index)
    for path, fds in seen.items():
        if len(fds) > 1:
            found.append(f"{path!r} is given {len(fds)} times (fds {', '.join(map(str, fds))}): told these names "
                         f"as given, wasi-libc sends every path under it to the last one, fd {fds[-1]}")
    for index, path in enumerate(paths):
        if ".." in path.split("/"):
            found.append(f"{path!r} (fd {FIRST_FD + index}) has a '..' component: wasi-libc matches names byte for "
                         "byte and never resolves '..'")
        if path == "":
            found.append(f"the empty name (fd {FIRST_FD + index}): adapter builds since mid-2024 answer EBADF "
                         "for that fd, and wasi-libc's preopen scan (C, Rust std) stops at the first EBADF, so such "
                         "a program never learns the preopens after it")
    if len(paths) > ADAPTER_MAX_PREOPENS:
        found.append(f"{len(paths)} preopens: the adapter holds at most {ADAPTER_MAX_PREOPENS}; more trap "
                     "at start-up in every adapter build")
    return tuple(found)
