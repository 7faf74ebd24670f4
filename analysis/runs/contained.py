"""A call in a child process that this one can always stop: where guests of your own run.

The runner stops a guest at its deadline whenever the guest runs WebAssembly (an epoch
tick), but a guest asleep inside one host call (``poll_oneoff`` on an hour's clock) only
wakes when that call returns, and a guest that prints without end fills memory or disk.
In a child process all of it has a bound: the parent waits at most the deadline plus
``GRACE`` and then kills the child; Ctrl-C and SIGTERM kill it too (the parent raises
as usual); every file the child writes, stdout included, stops at ``OUTPUT_LIMIT``
bytes; and everything it made lives in one folder the parent removes afterwards, however
the child ended.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..artifacts.cache import scratch_folder
from ..model.errors import LabError, first_line
from .hostdirs import RUN_PREFIX, scratch_base

T = TypeVar("T")

GRACE = 2.0
"""Seconds past its deadline a child may take to answer (start-up, compiling) before it is killed."""
OUTPUT_LIMIT = 16 << 20
"""Bytes a guest of your own may write to any one file, stdout included (the lab's own
guests print under 10 KB). Past it a write fails, as on a full file system."""


_LONGEST_TMPDIR = 64
"""Characters of a temporary folder under which multiprocessing's Unix sockets still fit
(a socket's path holds 107 bytes, and ``pymp-<8>/listener-<8>`` follows it)."""


def forkserver() -> Any:
    """multiprocessing's fork server context, with its socket where the path fits.

    The fork server listens on a Unix socket in a folder multiprocessing makes once per
    process under ``TMPDIR``; under a long ``TMPDIR`` the socket's path is too long and the
    server cannot start. That folder is then made in a short place (``/dev/shm``, ``/tmp``)."""
    import multiprocessing.util

    if len(tempfile.gettempdir()) > _LONGEST_TMPDIR:
        short = next((p for p in ("/dev/shm", "/tmp", "/var/tmp") if os.access(p, os.W_OK | os.X_OK)), None)
        if short is None:
            raise LabError(f"TMPDIR ({tempfile.gettempdir()}) is too long to hold the Unix sockets that start "
                           f"worker processes: set TMPDIR to a folder of at most {_LONGEST_TMPDIR} characters")
        saved, tempfile.tempdir = tempfile.tempdir, short
        try:
            multiprocessing.util.get_temp_dir()  # made once; the fork server's socket goes there
        finally:
            tempfile.tempdir = saved
    return multiprocessing.get_context("forkserver")


@dataclass(frozen=True)
class Ended(Generic[T]):
    """How a contained call ended: its ``value``, or why there is none."""

    value: T | None
    stopped: bool = False
    """True when the parent killed it at its time limit."""
    died: str | None = None
    """How the child died on its own (a signal, an exit status), if it did."""


def call(func: Callable[..., T], args: tuple, seconds: float) -> Ended[T]:
    """``func(*args)`` in a fresh child process, waiting at most ``seconds`` for it.

    ``func`` must be a module-level function (it travels by name). A ``LabError`` it
    raises is raised here; in it, ``tempfile`` puts everything in a folder of its own."""
    context = forkserver()
    receive, send = context.Pipe(duplex=False)
    lifeline, held = context.Pipe(duplex=False)  # EOF in the child when this process is gone
    with scratch_folder(Path(scratch_base()), RUN_PREFIX) as folder:
        child = context.Process(target=_child, args=(send, lifeline, func, args, str(folder)), daemon=True,
                                name="preopen-lab-guest")
        try:
            child.start()
            send.close()
            lifeline.close()
            if not receive.poll(seconds):
                return Ended(None, stopped=True)
            try:
                kind, payload = receive.recv()
            except EOFError:
                child.join(5)
                return Ended(None, died=_how_it_died(child.exitcode))
        finally:
            if child.is_alive():
                child.kill()
            child.join()
            receive.close()
            held.close()
    if kind == "error":
        raise LabError(payload)
    return Ended(payload)


def limit_file_size(limit: int = OUTPUT_LIMIT) -> None:
    """In the child: any write past ``limit`` bytes into any file fails (EFBIG), not the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _child(send: Any, lifeline: Any, func: Callable[..., Any], args: tuple, folder: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    threading.Thread(target=_die_with_parent, args=(lifeline,), daemon=True).start()
    os.environ["TMPDIR"] = tempfile.tempdir = folder
    try:
        message = ("value", func(*args))
    except LabError as exc:
        message = ("error", str(exc))
    except Exception as exc:  # noqa: BLE001 - any failure goes back as one line
        message = ("error", f"the guest's process failed: {first_line(exc, type(exc).__name__)}")
    send.send(message)


def _die_with_parent(lifeline: Any) -> None:
    """In the child: end at once when the parent is gone (kill -9 runs no cleanup), so no
    guest outlives the lab. Only the parent holds the other end of ``lifeline``."""
    try:
        lifeline.recv()
    except (EOFError, OSError):
        pass
    os._exit(1)


def _how_it_died(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {signal.Signals(-code).name}"
    return f"exit status {code}"
