"""The adapter's scratch area: how many bytes each of its calls needs, and when it runs out.

The adapter cannot use the guest's allocator, so whatever the host hands it (the
preopen list from ``get-directories``, the argument list) is lowered into a fixed
scratch area inside the adapter's own state. Each list costs its entries (12 bytes a
preopen: a descriptor handle and a string's pointer and length; 8 bytes an argument)
plus the bytes of the names that the import allocator places. When one call needs
more than the area holds, the allocator traps, before the guest has printed anything.

What one call places, by design (sizes in bytes of the UTF-8 names):

- ``missing-increment``: for fd 3 (``nth = 0``) the broken test gives every name real
  space, so the call needs all the names together; for any later fd every name lands
  at the same offset, so the longest name is all it needs.
- ``fixed``: the names before ``nth`` land at offset 0, the wanted one gets real space
  there, the names after it land right behind it: the wanted name plus the longest
  later one, or the longest earlier one if that is more.
- The guest asks for the names of fd 3, 4, ... up to the first empty name (the adapter
  answers EBADF there, without placing anything), so later names cost only the calls
  that are made; the walker asks on past it.
- wasi-libc (the opener) also reads its arguments, one name at a time in the same area.
- ``early`` (jco 1.0.0 to 1.2.4) keeps every preopen name and, for the opener, every
  argument too, all in one area for the whole run (entries aligned to 4 bytes).

How much the area holds differs from build to build (the rest of the adapter's state
changes size), so ``need`` is compared with a capacity measured per build by running
it (``profiles.scratch_capacity``), never with a number written here.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from .wasi import encode

PREOPEN_ENTRY_BYTES = 12
"""One entry of ``get-directories``' list: a descriptor handle, a string pointer and length."""
ARGUMENT_ENTRY_BYTES = 8
"""One entry of ``get-arguments``' list: a string pointer and length."""
ARGV_READERS = ("opener", "keeper")
"""The guests on wasi-libc, which read their arguments (the preopen paths) at start-up."""
PAST_EBADF = ("walker",)
"""The guests that ask every fd, past the empty name's EBADF (the others stop there)."""


def need(paths: Sequence[str], behavior: str, guest: str) -> int:
    """The most bytes any one call of the adapter needs in its scratch area during a run."""
    return max(calls(paths, behavior, guest))


def calls(paths: Sequence[str], behavior: str, guest: str) -> list[int]:
    """The bytes each call of the adapter needs, in the order they are made: start-up (the
    preopens, every name read once for its length, and the opener's arguments), then
    ``fd_prestat_dir_name`` for fd 3, 4, ... up to the first empty name (past it, for the
    walker: every non-empty name). The first call that
    needs more than the area holds traps: what the guest printed before it stays printed."""
    sizes = [len(encode(p)) for p in paths]
    count = len(sizes)
    if behavior == "native":
        return [0]
    arguments = [len(guest), *sizes] if guest in ARGV_READERS else []  # argv is the guest's name, then the paths
    if behavior == "early":  # one area for the whole run, filled at start-up
        kept = _align4(PREOPEN_ENTRY_BYTES * count + sum(sizes))
        return [kept + (ARGUMENT_ENTRY_BYTES * len(arguments) + sum(arguments) if arguments else 0)]
    entries = PREOPEN_ENTRY_BYTES * count
    start_up = entries + max(sizes, default=0)
    if arguments:
        start_up = max(start_up, ARGUMENT_ENTRY_BYTES * len(arguments) + max(arguments))
    placed = []
    for nth in asked(paths, guest):
        if behavior == "missing-increment":
            placed.append(sum(sizes) if nth == 0 else max(sizes))
        else:
            before, after = max(sizes[:nth], default=0), max(sizes[nth + 1:], default=0)
            placed.append(max(before, sizes[nth] + after))
    return [start_up, *(entries + p for p in placed)]


def asked(paths: Sequence[str], guest: str) -> list[int]:
    """The preopens whose names the guest asks for, by index: up to the first empty name,
    or (the walker) every one with a name."""
    sizes = [len(encode(p)) for p in paths]
    if guest in PAST_EBADF:
        return [nth for nth, size in enumerate(sizes) if size]
    return list(range(sizes.index(0) if 0 in sizes else len(sizes)))


def longest_fitting(fits: Callable[[int], bool], low: int, high: int, hint: int | None = None) -> int:
    """The largest size in ``[low, high)`` for which ``fits`` holds, for a ``fits`` that holds
    up to some size and not beyond; ``low - 1`` if even ``low`` does not fit.

    With a ``hint`` (a size measured before, or predicted), two calls settle it when the
    hint is right: ``hint`` fits and ``hint + 1`` does not. Otherwise it bisects."""
    if hint is not None and low <= hint < high - 1:
        if fits(hint):
            if not fits(hint + 1):
                return hint
            low = hint + 1
        else:
            high = hint
    if not fits(low):
        return low - 1
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def _align4(size: int) -> int:
    return -(-size // 4) * 4
