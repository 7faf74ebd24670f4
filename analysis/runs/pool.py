"""Many runs on every CPU: worker processes, each with a runner of its own.

Threads do not help here (most of a run is Python, under the GIL); processes do. Each
worker pins itself to one CPU (``cpus.pin_to_cpu``), ignores Ctrl-C (the parent decides)
and keeps its runner, so it compiles each component once. Work goes out in chunks and
comes back in the order it was given.

How workers start depends on the process that asks. A process that has one thread (a
command that has not run a guest yet) forks them: they start in milliseconds with
everything already imported. A process that has run a guest holds wasmtime's runtime
threads, and a process forked from it can hang in them, so there (a notebook's kernel, a
second sweep) the workers start from multiprocessing's fork server and import afresh.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.util
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, TypeVar

from ..model.errors import LabError
from .contained import STOPPING, forkserver
from .cpus import pin_to_cpu, usable_cpus
from .runner import Runner
from .waiting import as_done

T = TypeVar("T")
R = TypeVar("R")

_runner: Runner | None = None


def worker_runner() -> Runner:
    """This worker's runner (in the parent process: a fresh one)."""
    global _runner
    if _runner is None:
        _runner = Runner()
        if multiprocessing.parent_process() is not None:  # a worker: it ends without atexit hooks
            multiprocessing.util.Finalize(None, _runner.close, exitpriority=10)
    return _runner


def single_threaded() -> bool:
    """True when this process has exactly one thread, native ones included: then, and
    only then, a fork copies nothing that another thread was in the middle of."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: cannot tell, so never fork
        return False


class Workers:
    """``count`` worker processes, started now; ``map_chunks`` hands them work.

    Start them before this process runs anything (so they can be forked), and use them
    in a ``with`` block: leaving it normally lets them exit while the caller goes on;
    leaving it by an exception (Ctrl-C included) waits until every one has gone. A
    worker also ends when the process that started it ends, however that ends."""

    def __init__(self, count: int) -> None:
        forked = single_threaded()
        context = multiprocessing.get_context("fork") if forked else forkserver()
        self.count = count
        self.start_method: str = context.get_start_method()
        """``fork`` or ``forkserver``: how these workers were started."""
        self._started = context.Value("i", 0)  # kept here: a worker still starting reads it
        self._executor = ProcessPoolExecutor(count, mp_context=context, initializer=_start_worker,
                                             initargs=(usable_cpus(), self._started))
        before = set(multiprocessing.active_children())
        # Ctrl-C or SIGTERM during a fork would be lost inside it: held until the forks are done.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING) if forked else None
        try:
            try:
                for _ in range(count):  # starts them now rather than at the first chunk
                    self._executor.submit(int)
            finally:
                if held is not None:
                    signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a signal held meanwhile arrives here
        except BaseException as exc:  # a fork failed part way, or Ctrl-C: no ``with`` block will end these
            for process in set(multiprocessing.active_children()) - before:
                process.kill()
                process.join()
            self._executor.shutdown(wait=True, cancel_futures=True)
            if isinstance(exc, OSError):
                raise LabError(f"cannot start {count} worker processes ({exc.strerror or exc}): run with "
                               "fewer, or with --workers 1") from None
            raise

    def map_chunks(self, func: Callable[[Sequence[T]], list[R]], items: Sequence[T], desc: str = "runs",
                   progress: bool = True,
                   meanwhile: Callable[[], object] | None = None) -> list[R]:
        """``func`` over ``items`` in chunks; the results flattened, in order.

        ``func`` must be a module-level function (it is sent to the workers by name) that
        does its runs with ``worker_runner()``. ``meanwhile`` is called here once the work
        is handed out, while the workers run."""
        from tqdm.auto import tqdm  # here, not above: its import costs ~35 ms of every command (-X importtime)

        chunks = guided_chunks(items, self.count)
        results: list[list[R] | None] = [None] * len(chunks)
        with tqdm(total=len(items), desc=desc, unit="run", delay=1.0, disable=not progress) as bar:
            try:
                futures = {self._executor.submit(func, part): i for i, part in enumerate(chunks)}
                if meanwhile is not None:
                    meanwhile()
                for future in as_done(futures):
                    results[futures[future]] = future.result()
                    bar.update(len(chunks[futures[future]]))
            except BrokenProcessPool:
                raise LabError("a worker process died during the sweep; nothing was saved: run it again "
                               "with --workers 1 to see the failing run") from None
        return [row for part in results for row in part or ()]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        # On success every result is in: the workers tidy up and exit while the caller
        # goes on (saving, drawing); the interpreter still waits for them before it exits.
        # A worker that is still starting (a short sweep) is waited for, so that what it
        # reads as it starts is still there.
        done = kind is None and self._started.value >= self.count
        self._executor.shutdown(wait=not done, cancel_futures=kind is not None)


def guided_chunks(items: Sequence[T], workers: int, largest: int = 250, smallest: int = 25) -> list[Sequence[T]]:
    """``items`` cut into chunks of a share of what is left: large at first (each chunk
    costs a round trip), small at the end, so that the workers finish together rather
    than one waiting for the other's last large chunk."""
    chunks, start = [], 0
    while start < len(items):
        size = max(smallest, min(largest, (len(items) - start) // (2 * workers)))
        chunks.append(items[start:start + size])
        start += size
    return chunks


_PR_SET_PDEATHSIG = 1
"""Linux's prctl option: the signal a process gets when the thread that started it ends."""


def _start_worker(choices: list[int], counter: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker inherits the command's handler
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)  # and its mask, held during the fork
    _end_with_parent()
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    pin_to_cpu(choices[index % len(choices)])


def _end_with_parent() -> None:
    """Ask Linux to kill this worker when its parent ends, even by SIGKILL: otherwise it
    waits for work for ever, holding the caller's stdout and stderr open. (``contained``'s
    lifeline pipe cannot serve here: a forked worker inherits the pipe's other end too,
    so no end-of-file would ever come.)"""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: a parent killed outright leaves its workers
        pass


__all__ = ["Workers", "guided_chunks", "single_threaded", "worker_runner"]
