"""A host's process, run as every run is bounded: confined, watched, and read honestly.

Every host but wasmtime-py (the Wasmtime CLI, node, the WASIp1 hosts) runs the guest in
a process of its own, started here:

- **confined** (``landlock``): it reads the system and the host's own files, and writes
  only under the run's root; a guest on a host that lets it out of its preopens still
  cannot touch the cache, the home folder or the repository. Without Landlock, a guest
  from outside the lab is refused on a host that does not keep guests in by itself.
- **bounded** while it runs: the deadline; ``HOST_MEMORY`` bytes resident for the host and
  everything it started (each host also gets its own knob for the guest's memory, so a
  greedy guest usually meets a refused ``memory.grow`` first); ``DISK_LIMIT`` bytes and
  ``ENTRIES_LIMIT`` files under the run's root, in all (``bounds``); ``contained.OUTPUT_LIMIT``
  bytes a file. Past a bound its process group is killed, and the run says which bound it hit.
- **read honestly**: how the guest ended comes from the host, never from the guest's own
  words. The lab's drivers (node, pywasm) say it on a socket named by ``STATUS_ENV`` (a socket:
  it cannot be opened again through ``/proc``, so a guest that escapes cannot write
  there), with the whole exit code, not the 8 bits of a process status. The native
  binaries say it by their status: the Wasmtime CLI's 134 is a trap, and no guest can
  exit with it (the CLI refuses codes of 126 and more); wamr ends a trap and an exit 1
  alike, with its words on the stderr the guest shares, so only the lab's own guests'
  traps are told apart there (``WORDED_TRAPS``).
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from ..model.errors import LabError
from ..model.results import STOPPED
from . import contained, landlock
from .bounds import POLL, over
from .guest_output import Execution

STATUS_ENV = "PREOPEN_LAB_STATUS_FD"
"""The variable naming the descriptor where a driver of the lab's (node, pywasm) says how
the guest ended: one JSON line, ``{"exit": N}`` or ``{"trap": "the host's words"}``."""
WORDED_TRAPS = {"wamr": "Error: AOT execution failed"}
"""Hosts whose process says a trap only in words, on the stderr the guest writes too."""
CLI_TRAP_STATUS = 134
"""The Wasmtime CLI's status for a trap (128 + SIGABRT, as a status, not a signal)."""


@dataclass(frozen=True)
class HostCommand:
    """What to start: ``argv``, the folders its own files live in (read-only to it), and
    whether it reports the guest's end on the socket ``STATUS_ENV`` names (a driver of the lab's)."""

    argv: Sequence[str]
    reads: Sequence[str] = ()
    reports: bool = False


def confined() -> bool:
    """True when this kernel can confine a host's process (Landlock)."""
    return landlock.abi() > 0


def run(host: str, command: HostCommand, root: str, seconds: float, own: bool,
        keeps_in: bool) -> Execution:
    """Run ``command`` for ``host`` on the run whose files are under ``root``.

    ``own``: the guest is one of the lab's (it was compiled from the repository and only
    reads); ``keeps_in``: the host is measured to keep a guest inside its preopens. Without
    Landlock, a guest of your own on a host that does not is refused, in one line."""
    if not confined() and not own and not keeps_in:
        raise LabError(f"{host} lets a guest out of its preopens and this kernel has no Landlock to hold it in: "
                       "run a guest of your own on a host that keeps it in (wasmtime-py, the default), or on a "
                       "kernel with Landlock")
    out, err = os.path.join(root, "host.stdout"), os.path.join(root, "host.stderr")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": root, "TMPDIR": root}
    with ExitStack() as stack:
        stdout = stack.enter_context(open(out, "wb"))
        stderr = stack.enter_context(open(err, "wb"))
        ruleset = None
        if confined():
            reads = (*landlock.SYSTEM, *landlock.python_folders(), *command.reads,
                     landlock.program_folder(command.argv[0]))
            ruleset = stack.enter_context(landlock.Ruleset(reads, [root]))
        ours = theirs = None
        if command.reports:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            stack.callback(ours.close)
            stack.callback(theirs.close)
            env[STATUS_ENV] = str(theirs.fileno())  # kept at its number in the child (``pass_fds``)

        def prepare() -> None:  # in the child, between fork and exec (and before close_fds)
            if ruleset is not None:
                ruleset.restrict_self()  # its descriptor closes at exec
            contained.limit_file_size()
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the lab

        process = subprocess.Popen(list(command.argv), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                   env=env, start_new_session=True, preexec_fn=prepare,
                                   pass_fds=(theirs.fileno(),) if theirs is not None else ())
        if theirs is not None:
            theirs.close()
        try:
            bound = _watch(host, process, root, seconds)
        finally:
            _stop(process)
        said_status = _status(ours) if ours is not None else None
    said, complaint = _read(out), _read(err)
    if bound is not None:
        return Execution(said, complaint, None, bound)
    return _ended(host, command, process.returncode, said, complaint, said_status, own)


def _watch(host: str, process: subprocess.Popen, root: str, seconds: float) -> str | None:
    """Wait for ``process``; None when it ended by itself within its bounds, else the bound it
    hit (worded). A run that ended between two looks is looked at once more: on a busy machine
    a fast writer may finish before the next look, and it still went past the bound."""
    until = time.monotonic() + seconds
    while True:
        try:
            process.wait(timeout=POLL)
            return over(host, None, root)
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() > until:
            return f"{STOPPED} after {seconds:g} s: {host} was still running"
        bound = over(host, process.pid, root)
        if bound is not None:
            return bound


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def _status(sock: socket.socket) -> dict | None:
    """The driver's last complete line on the status socket, if it is one it could have written."""
    sock.setblocking(False)
    chunks, size = [], 0
    try:
        while size < 1 << 16:
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (BlockingIOError, OSError):
        pass
    lines = b"".join(chunks).split(b"\n")
    complete = [line for line in lines[:-1] if line.strip()]
    if not complete:
        return None
    try:
        said = json.loads(complete[-1])
    except ValueError:
        return None
    if isinstance(said, dict) and (isinstance(said.get("exit"), int) or isinstance(said.get("trap"), str)):
        return said
    return None


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read(contained.OUTPUT_LIMIT + 1)
    except OSError:
        return b""


def _ended(host: str, command: HostCommand, code: int, said: bytes, complaint: bytes, status: dict | None,
           own: bool) -> Execution:
    """How the guest ended, from what the host itself says (``status``, its process status)."""
    words = complaint.decode("utf-8", "replace")
    if code < 0:
        return Execution(said, complaint, None, f"{host} ended by signal {signal.Signals(-code).name}")
    if status is not None:
        if "trap" in status:
            return Execution(said, complaint, None, status["trap"] or f"{host} reported a trap")
        return Execution(said, complaint, status["exit"], None)
    if command.reports:
        return Execution(said, complaint, None, f"{host} ended (status {code}) without saying how the guest ended")
    if host == "wasmtime-cli" and code == CLI_TRAP_STATUS:
        return Execution(said, complaint, None, _last_error(words) or "the Wasmtime CLI reported a trap")
    worded = WORDED_TRAPS.get(host)
    if worded and own and code == 1 and worded in words:
        return Execution(said, complaint, None, words[words.rindex(worded):].strip())
    return Execution(said, complaint, code, None)


def _last_error(words: str) -> str:
    """The Wasmtime CLI's own report: from its last ``Error:`` line on, without the backtrace."""
    at = words.rfind("Error: ")
    if at < 0:
        return ""
    return words[at:].split("\nStack backtrace:")[0].strip()
