"""Many runs on every CPU: worker processes, each with a runner of its own.

Threads do not help here (most of a run is Python, under the GIL); processes do. Each
worker is started fresh by a fork server (a process forked after it has run a guest
hangs in wasmtime's runtime threads), pins itself to one CPU (``runner.pin_to_cpu``),
ignores Ctrl-C (the parent decides), and keeps its runner, so it compiles each
component once. Work goes out in chunks and comes back in the order it was given.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.util

import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar


from .errors import LabError
from .contained import forkserver
from .cpus import pin_to_cpu, usable_cpus
from .runner import Runner

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


def _start_worker(choices: list[int], counter: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    pin_to_cpu(choices[index % len(choices)])


def map_chunks(func: Callable[[Sequence[T]], list[R]], items: Sequence[T], workers: int, chunk: int = 250,
               desc: str = "runs", progress: bool = True) -> list[R]:
    """``func`` over ``items`` in chunks, in ``workers`` processes; the results flattened, in order.

    ``func`` must be a module-level function (it is sent to the workers by name) that does
    its runs with ``worker_runner()``."""
    chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
    context = forkserver()
    counter = context.Value("i", 0)
    results: list[list[R] | None] = [None] * len(chunks)
    from tqdm.auto import tqdm  # here, not above: its import costs ~35 ms of every command (-X importtime)

    with tqdm(total=len(items), desc=desc, unit="run", delay=1.0, disable=not progress) as bar:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                   initargs=(usable_cpus(), counter))
        try:
            futures = {pool.submit(func, part): i for i, part in enumerate(chunks)}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update(len(chunks[futures[future]]))
        except BrokenProcessPool:
            pool.shutdown(wait=True, cancel_futures=True)
            raise LabError("a worker process died during the sweep; nothing was saved: run it again "
                           "with --workers 1 to see the failing run") from None
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C: every worker gone before we return
            raise
        # Every result is in: the workers tidy up and exit while the caller goes on (saving,
        # drawing); the interpreter still waits for them before it exits.
        pool.shutdown(wait=False)
    return [row for part in results for row in part or ()]
