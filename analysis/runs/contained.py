"""A call in a child process that this one can always stop: where guests of your own run.

The runner stops a guest at its deadline whenever the guest runs WebAssembly (an epoch
tick), but a guest asleep inside one host call (``poll_oneoff`` on an hour's clock) only
wakes when that call returns, and a guest that prints without end fills memory or disk.
The same holds for anything else that runs code out of a file someone else made (an
adapter ``scan`` judges, compiling it included). In a child process all of it has a
bound: the parent waits at most its deadline and then kills the child; Ctrl-C and
SIGTERM kill it too, at once (the parent raises as usual); the child may map at most
``ADDRESS_SPACE`` bytes, and every file it writes, stdout included, stops at
``OUTPUT_LIMIT`` bytes, and all it puts in its folder, ``bounds.DISK_LIMIT`` (the parent
looks while it waits); and everything it made lives in that folder, which the parent
removes afterwards, however the child ended.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..artifacts.cache import scratch_folder
from ..model.errors import LabError, first_line
from . import bounds, waiting
from .hostdirs import RUN_PREFIX, scratch_base

T = TypeVar("T")

GRACE = 2.0
"""Seconds past its deadline a child may take to answer (start-up, compiling) before it is killed."""
ADDRESS_SPACE = 2 << 30
"""Bytes of address space a child may map, Python, compiled code and every linear memory
included: past it ``memory.grow`` answers -1, and an allocation that cannot be refused
ends the child, never the lab. Engines made in a child map memories as they grow
(``compact``), or a single memory's usual 4 GiB reservation would not fit."""
MALLOC_ARENAS = 2
"""glibc's malloc arenas a child may make (``mallopt(M_ARENA_MAX)``). By default each thread
that allocates may get one, and each reserves up to 128 MiB of address space: a guest making
3,000 nested directories keeps some 20 threads of wasmtime's busy and peaked at 2.16 GB mapped,
over ``ADDRESS_SPACE``, so on a busy machine the child died by SIGABRT (in 2 of 3 full test
runs). With two arenas the same run peaks at 1.25 GB."""
M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameter number for the arena limit (``malloc.h``)."""
STOPPING = {signal.SIGINT, signal.SIGTERM}
"""The signals that stop the lab (Ctrl-C, SIGTERM)."""
OUTPUT_LIMIT = 16 << 20
"""Bytes a guest of your own may write to any one file, stdout included (the lab's own
guests print under 10 KB). Past it a write fails, as on a full file system."""


PASSED_ON = ("PREOPEN_LAB_CACHE", "XDG_CONFIG_HOME")
"""The settings a child takes from its caller at each call: the fork server keeps the
environment it started with, and a caller may have moved the cache or the key since."""
_LONGEST_TMPDIR = 64
"""Characters of a temporary folder under which multiprocessing's Unix sockets still fit
(a socket's path holds 107 bytes, and ``pymp-<8>/listener-<8>`` follows it)."""


def forkserver(preload: str | None = None) -> Any:
    """multiprocessing's fork server context, with its socket where the path fits.

    ``preload``: a module the server imports before it forks anything (when it has not
    started yet), so that children begin with it imported.

    The fork server listens on a Unix socket in a folder multiprocessing makes once per
    process under ``TMPDIR``; under a long ``TMPDIR`` the socket's path is too long and the
    server cannot start. That folder is then made in a short place (``/dev/shm``, ``/tmp``)."""
    import multiprocessing.forkserver
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
    context = multiprocessing.get_context("forkserver")
    if preload is not None:
        context.set_forkserver_preload([preload])
    # The server shares the user's process group, so Ctrl-C reaches it too, and while it
    # imports ``preload`` it would print a KeyboardInterrupt traceback of its own. It and
    # every child it forks write to /dev/null instead: they answer through their pipes.
    stderr, quiet = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(quiet, 2)  # inherited by the server as it starts (about 5 ms)
        multiprocessing.forkserver.ensure_running()
    finally:
        os.dup2(stderr, 2)
        os.close(stderr)
        os.close(quiet)
    return context


@dataclass(frozen=True)
class Ended(Generic[T]):
    """How a contained call ended: its ``value``, or why there is none."""

    value: T | None
    stopped: bool = False
    """True when the parent killed it at its time limit."""
    died: str | None = None
    """How the child died on its own (a signal, an exit status), if it did."""
    bound: str | None = None
    """The bound the parent ended it at, worded (``bounds.over``): the disk, say."""


def call(func: Callable[..., T], args: tuple, seconds: float) -> Ended[T]:
    """``func(*args)`` in a fresh child process, waiting at most ``seconds`` for it.

    ``func`` must be a module-level function (it travels by name); the fork server
    imports its module once, so later children start in milliseconds. A ``LabError`` it
    raises is raised here; in it, ``tempfile`` puts everything in a folder of its own."""
    context = forkserver(preload=func.__module__)
    receive, send = context.Pipe(duplex=False)
    lifeline, held = context.Pipe(duplex=False)  # EOF in the child when this process is gone
    with scratch_folder(Path(scratch_base()), RUN_PREFIX) as folder:
        settings = {name: os.environ.get(name) for name in PASSED_ON}
        child = context.Process(target=_child, args=(send, lifeline, func, args, str(folder), settings), daemon=True,
                                name="preopen-lab-child")
        started = False
        try:
            # Ctrl-C or SIGTERM in the middle of starting it would leave a child nobody knows
            # of: held until it has started, then raised here and the child killed below. (One
            # that another thread takes arrives anyway; that child ends when its lifeline closes.)
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
            try:
                child.start()
                started = True
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            send.close()
            lifeline.close()
            until = time.monotonic() + seconds
            while not waiting.poll(receive, bounds.POLL):
                if time.monotonic() > until:
                    return Ended(None, stopped=True)
                bound = bounds.over("the guest", None, str(folder))  # memory: RLIMIT_AS holds it
                if bound is not None:
                    return Ended(None, bound=bound)
            try:
                kind, payload = receive.recv()
            except EOFError:
                child.join(5)
                return Ended(None, died=_how_it_died(child.exitcode))
        finally:
            if started:
                try:  # the child and whatever it started (wasm-tools): its own process group
                    os.killpg(child.pid, signal.SIGKILL)
                except OSError:  # gone already, or killed before it made its group
                    pass
                if child.is_alive():
                    child.kill()
                child.join()
            receive.close()
            send.close()
            lifeline.close()
            held.close()  # a child that could not be told goes too: its lifeline ends here
    if kind == "error":
        raise LabError(payload)
    return Ended(payload)


def limit_file_size(limit: int = OUTPUT_LIMIT) -> None:
    """In the child: any write past ``limit`` bytes into any file fails (EFBIG), not the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def compact(config: Any, reservation: int = 0) -> Any:
    """``config`` with each linear memory given ``reservation`` bytes of address space up
    front (0: only what it holds, moved as it grows) and no guard pages, bounds being
    checked instead: so that memories count against ``ADDRESS_SPACE`` for what they may
    hold, not wasmtime's usual 4 GiB and more each."""
    config.memory_reservation = reservation
    config.memory_guard_size = 0
    config.memory_reservation_for_growth = 0
    return config



def _few_arenas() -> None:
    """``MALLOC_ARENAS`` arenas at most, where the C library is glibc (elsewhere nothing changes)."""
    try:
        ctypes.CDLL(None).mallopt(M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):
        pass


def _child(send: Any, lifeline: Any, func: Callable[..., Any], args: tuple, folder: str,
           settings: dict[str, str | None]) -> None:
    try:
        os.setpgid(0, 0)  # a group of its own, so that the parent can end what it starts too
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
        threading.Thread(target=_die_with_parent, args=(lifeline,), daemon=True).start()
        _few_arenas()
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        for name, value in settings.items():  # as the caller has them now, not as the fork server started
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        os.environ["TMPDIR"] = tempfile.tempdir = folder
        try:
            message = ("value", func(*args))
        except LabError as exc:
            message = ("error", str(exc))
        except Exception as exc:  # noqa: BLE001 - any failure goes back as one line
            message = ("error", f"the child process failed: {first_line(exc, type(exc).__name__)}")
        send.send(message)
    except BaseException:  # noqa: BLE001 - the parent stopped listening (Ctrl-C): end without a word
        os._exit(1)


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
