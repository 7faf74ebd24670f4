"""Waiting that Ctrl-C and SIGTERM can always end.

Linux hands a signal sent to a process to any one of its threads that does not block it,
and the lab's processes have many: wasmtime's, the epoch ticker, a process pool's
manager, nbclient's loops. Python runs the handler (``KeyboardInterrupt``) only in the
main thread, and only once that thread is back in Python: a main thread asleep in one
long ``poll`` or ``wait`` sleeps on, since the signal did not land on it. Seen on a
loaded machine: a sweep that ran all its runs after Ctrl-C, a guest killed at its 12 s
deadline instead of at once, a page written after the interrupt. So the lab never waits
in one piece for longer than ``SLICE``.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, TypeVar

T = TypeVar("T")

SLICE = 0.1
"""Seconds the main thread may sleep before it looks for a signal again."""


def as_done(futures: Iterable[Future[T]]) -> Iterator[Future[T]]:
    """Each future as it finishes, as ``concurrent.futures.as_completed`` gives them."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=SLICE, return_when=FIRST_COMPLETED)
        yield from done


def poll(connection: Any, seconds: float) -> bool:
    """``connection.poll(seconds)``: True as soon as there is something to read."""
    until = time.monotonic() + seconds
    while True:
        left = until - time.monotonic()
        if connection.poll(max(0.0, min(SLICE, left))):
            return True
        if left <= SLICE:
            return False
