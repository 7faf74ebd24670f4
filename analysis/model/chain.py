"""A pure-Python model of the preopen chain, exact enough to predict real runs.

Three links, each written from how the real component behaves (measured with the
probe and opener guests; upstream links in the README), never from its source:

1. **The host** hands over preopens in order, as fds 3, 4, ...; natively the guest asks
   it directly (``native``).
2. **The adapter** (``fixed`` or ``missing-increment``) remembers each name's length at
   start-up and, for ``fd_prestat_dir_name(fd)``, lists every name again through an
   allocator that should keep only the wanted one (``nth = fd - 3``). It counts the
   names as they arrive; a name gets real space only when the counter equals ``nth``,
   every other name is written at the current scratch position without advancing it.
   ``missing-increment`` never advances the counter, so the test reads ``nth == 0``
   for every name. Since that design (``fixed`` too) the adapter cannot report an
   empty name (``EBADF`` at that fd); the ``early`` design before it can. Every build
   holds 128 descriptors, stdio included: more than 125 preopens trap at start-up, and
   with exactly 125 no file can be opened: an open the host grants fails for want of a
   slot (``ENOMEM``), one the host refuses keeps the host's errno.
3. **wasi-libc** builds its table from the names it got and routes each path to the
   preopen whose prefix matches the most bytes on a component boundary, newest first.

``predict`` puts the three together and answers with the ``RunResult`` a real run gives, so
``predict(...) == runner.run(...)`` is the test of the model. The adapter's scratch
area running out (names of tens of kilobytes) is a trap, counted by ``scratch``
against the capacity measured for the build.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from . import scratch
from .markers import classify, host_files, marker_target, open_in
from .results import FdEntry, PreopenResult, RunResult
from .wasi import (
    ADAPTER_MAX_PREOPENS,
    ADAPTER_TABLE,
    EBADF,
    ENOENT,
    ENOMEM,
    FIRST_FD,
    decode,
    encode,
    warnings_for,
)

Behavior = Literal["native", "early", "fixed", "missing-increment"]
BEHAVIORS: tuple[Behavior, ...] = ("native", "early", "fixed", "missing-increment")
"""``early`` is the adapter design before wasmtime PR #8749 (jco 1.0.0 to 1.2.4 ship it):
right names, and unlike later builds it reports the empty name too."""

ADAPTER_TRAP = (f"the adapter's descriptor table is full (more than {ADAPTER_MAX_PREOPENS} preopens): "
                "unreachable at start-up")
WALK_LAST_FD = 133
"""The last fd the walker asks (``guests/walker/walker.wat``): past the adapter's table and every list drawn."""
GUESTS = ("opener", "probe", "walker", "keeper")
"""The guests the model speaks for: ``keeper`` is the opener holding each file it opened."""
SCRATCH_TRAP = ("the adapter's scratch area is too small for these names: it traps at the first call that needs more "
                "(at start-up, before the guest prints anything, unless only a later fd's name is too much)")


# -- 1 and 2: what fd_prestat_get / fd_prestat_dir_name answer ------------------------


@dataclass(frozen=True)
class Placement:
    """One name arriving at the adapter's import allocator during ``fd_prestat_dir_name``."""

    index: int
    """The name's position in the host's list (0-based)."""
    name: bytes
    counter: int
    """What the allocator's name counter said when this name arrived."""
    kept: bool
    """True when the name got real space (the counter equalled nth) and the position moved on."""
    offset: int
    """Where in the scratch area the name's bytes were written."""
    scratch: bytes
    """The scratch area after this write, up to the furthest byte written so far."""


@dataclass(frozen=True)
class DirNameTrace:
    """Everything one ``fd_prestat_dir_name(fd)`` call does inside the adapter."""

    fd: int
    nth: int
    behavior: Behavior
    names: tuple[bytes, ...]
    steps: tuple[Placement, ...]
    source_offset: int
    """Where the adapter copies the answer from: the wanted entry's allocation."""
    length: int
    """How many bytes it copies: the wanted name's length, remembered at start-up."""
    returned: bytes

    @property
    def right(self) -> bool:
        """Whether the guest got the name it asked for."""
        return self.returned == self.names[self.nth]


def dir_name_trace(names: Sequence[bytes], fd: int, behavior: Behavior) -> DirNameTrace:
    """Replay the adapter's allocator for one ``fd_prestat_dir_name(fd)`` call."""
    names = tuple(names)
    nth = fd - FIRST_FD
    if not 0 <= nth < len(names):
        raise ValueError(f"fd {fd} is not a preopen: there are {len(names)}, from fd {FIRST_FD}")
    if behavior == "native":  # the host answers directly; no allocator involved
        return DirNameTrace(fd, nth, behavior, names, (), 0, len(names[nth]), names[nth])
    scratch = bytearray()
    position = counter = 0
    wanted_offset = 0
    steps = []
    for index, name in enumerate(names):
        kept = counter == nth
        offset = position
        end = offset + len(name)
        if end > len(scratch):
            scratch.extend(b"\0" * (end - len(scratch)))
        scratch[offset:end] = name
        if index == nth:
            wanted_offset = offset
        if kept:
            position = end
        steps.append(Placement(index, name, counter, kept, offset, bytes(scratch)))
        if behavior != "missing-increment":
            counter += 1  # the ``early`` design counted its own way; only its result is modelled
    length = len(names[nth])
    returned = bytes(scratch[wanted_offset : wanted_offset + length])
    return DirNameTrace(fd, nth, behavior, names, tuple(steps), wanted_offset, length, returned)


def dir_name(names: Sequence[bytes], nth: int, behavior: Behavior) -> bytes:
    """What ``fd_prestat_dir_name(FIRST_FD + nth)`` returns: ``dir_name_trace`` without the trace."""
    if behavior != "missing-increment" or nth == 0:
        return names[nth]
    scratch = bytearray()
    for name in names:  # every name lands at offset 0, on top of the last
        scratch[: len(name)] = name
    return bytes(scratch[: len(names[nth])])


def fd_table(paths: Sequence[str], behavior: Behavior, last_fd: int | None = None) -> tuple[FdEntry, ...] | None:
    """The answers a guest gets walking fd 3, 4, ... until an error (or, with ``last_fd``, every
    fd up to it, past any error: the walker); None if it traps.

    The adapter answers EBADF for an empty name's fd alone: the fds after it still answer."""
    names = [encode(p) for p in paths]
    if behavior != "native" and len(names) > ADAPTER_MAX_PREOPENS:
        return None
    entries = []
    for nth, name in enumerate(names):
        fd = FIRST_FD + nth
        if behavior in ("fixed", "missing-increment") and not name:
            entries.append(FdEntry(fd, EBADF))
            if last_fd is None:
                return tuple(entries)
            continue
        returned = dir_name(names, nth, behavior)
        entries.append(FdEntry(fd, 0, len(name), 0, decode(returned)))
    beyond = range(FIRST_FD + len(names), (last_fd if last_fd is not None else FIRST_FD + len(names)) + 1)
    entries.extend(FdEntry(fd, EBADF) for fd in beyond)
    return tuple(e for e in entries if last_fd is None or e.fd <= last_fd)


# -- 3: wasi-libc's routing --------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    fd: int
    prefix: bytes
    """The prefix as wasi-libc stores it: leading ``/`` and ``./`` removed, ``.`` as empty."""
    relative: bytes


@lru_cache(maxsize=65536)
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


def told_names(fds: Sequence[FdEntry]) -> dict[int, str]:
    """The name each fd answered with, for the fds that answered."""
    return {e.fd: e.name for e in fds if e.errno == 0 and e.name is not None}


def route_table(fds: Sequence[FdEntry]) -> list[tuple[int, bytes]]:
    """wasi-libc's table: every fd that answered with a name, before the first error."""
    return [(fd, encode(name)) for fd, name in told_names(fds).items()]


# -- all together ------------------------------------------------------------------------


def predict(
    paths: Sequence[str],
    behavior: Behavior = "missing-increment",
    *,
    guest: str = "opener",
    adapter: str | None = None,
    adapter_sha256: str | None = None,
    scratch_capacity: int | None = None,
) -> RunResult:
    """What a run of ``guest`` with these preopens will show, without running anything.

    ``scratch_capacity`` is how many bytes the build's scratch area holds (measured,
    ``profiles.profile_of``); None leaves that limit out. ``adapter`` and
    ``adapter_sha256`` only label the result (default: the behaviour), so that a
    prediction for a build compares with ``==`` to a real run through it.
    """
    if behavior not in BEHAVIORS:
        raise ValueError(f"unknown behaviour {behavior!r}: one of {', '.join(BEHAVIORS)}")
    if guest not in GUESTS:
        raise ValueError(f"the model speaks for {', '.join(GUESTS)}, not {guest!r}")
    paths = tuple(paths)
    label = adapter or behavior
    fds = fd_table(paths, behavior, WALK_LAST_FD if guest == "walker" else None)
    needs = scratch.calls(paths, behavior, guest) if scratch_capacity is not None else []
    overflow = next((i for i, need in enumerate(needs) if need > scratch_capacity), None)
    if fds is None or overflow is not None:
        cause = ADAPTER_TRAP if fds is None else SCRATCH_TRAP
        # The probe and the walker print each fd's answer as they get it: those before the call that
        # traps stay printed.
        told, trapped_fd = (), FIRST_FD
        if fds is not None and guest in ("probe", "walker") and overflow:
            trapped_fd = FIRST_FD + scratch.asked(paths, guest)[overflow - 1]
            told = tuple(e for e in fds if e.fd < trapped_fd)
        seen = told_names(told)
        # The walker opened MARKER through each fd it walked before the call that traps.
        walked = _walker_opens(paths, seen, trapped_fd) if guest == "walker" else {}
        preopens = tuple(
            walked.get(i) or PreopenResult(i, p, FIRST_FD + i, seen.get(FIRST_FD + i), None, None, None, None, None,
                                           "trap", cause)
            for i, p in enumerate(paths)
        )
        return RunResult(guest, label, adapter_sha256, paths, preopens, told, (), exit_code=None, trap=cause,
                         warnings=warnings_for(paths))

    names = told_names(fds)
    table = route_table(fds[:next((i + 1 for i, e in enumerate(fds) if e.errno), len(fds))])
    layout = host_files(paths)
    slots = None if behavior == "native" else ADAPTER_TABLE - FIRST_FD - len(paths)
    preopens = []
    for index, path in enumerate(paths):
        marker = errno = None
        if guest == "walker" and FIRST_FD + index > WALK_LAST_FD:  # never asked
            preopens.append(PreopenResult(index, path, FIRST_FD + index, None, None, None, None, None, None,
                                          "missing"))
            continue
        if guest == "walker":  # MARKER through the fd itself: no routing by names
            route, routed_by = Route(FIRST_FD + index, encode(names.get(FIRST_FD + index, "")), b"MARKER"), "fd itself"
        else:
            route = libc_route(table, encode(marker_target(path)))
            routed_by = "wasi-libc rule" if guest == "probe" else "guest"
        if guest != "probe":
            if route is None:
                errno = ENOENT
            else:
                marker, errno = open_in(layout[route.fd - FIRST_FD], route.relative)
                granted = marker is not None or errno == EBADF  # a directory opens; its read fails
                if granted and slots is not None:
                    if slots < 1:  # the host opened it; the adapter has no slot left for it
                        marker, errno = None, ENOMEM
                    elif guest == "keeper":
                        slots -= 1  # held until the guest exits
        routed_fd = -1 if route is None else route.fd
        prefix = None if route is None or guest == "walker" else decode(route.prefix)
        outcome = classify(index, routed_fd, marker, guest)
        preopens.append(PreopenResult(
            index, path, FIRST_FD + index, names.get(FIRST_FD + index),
            routed_fd, prefix, routed_by, marker, errno, outcome,
        ))
    return RunResult(guest, label, adapter_sha256, paths, tuple(preopens), fds, (), warnings=warnings_for(paths))


def _walker_opens(paths: tuple[str, ...], seen: dict[int, str], before_fd: int) -> dict[int, PreopenResult]:
    """The walker's opens through the fds it walked before ``before_fd``: each its own MARKER."""
    layout = host_files(paths)
    found = {}
    for index in range(min(len(paths), before_fd - FIRST_FD)):
        marker, errno = open_in(layout[index], b"MARKER")
        found[index] = PreopenResult(index, paths[index], FIRST_FD + index, seen.get(FIRST_FD + index),
                                     FIRST_FD + index, None, "fd itself", marker, errno,
                                     classify(index, FIRST_FD + index, marker, "walker"))
    return found


# -- explaining one call -----------------------------------------------------------------


def explain(paths: Sequence[str], fd: int, behavior: Behavior = "missing-increment") -> DirNameTrace:
    """The adapter's allocator, step by step, for ``fd_prestat_dir_name(fd)``."""
    return dir_name_trace([encode(p) for p in paths], fd, behavior)
