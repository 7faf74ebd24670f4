"""One WASIp1 host on one preopen list, and what each check of the matrix compares.

The opener runs with one more argument than the list (``<first>/absent``: the missing-file
check) and, unless only the opener is needed, the probe runs too. ``REFERENCE``, wasmtime's
own WASIp1, runs in this process, one run at a time whichever thread asks; every other
host runs in a process of its own (``runs.hosts.execute``).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..artifacts.guests import GUESTS, GUESTS_DIR, Guest
from ..model.results import NATIVE, RunResult
from ..runs import hosts, wasip1_hosts
from ..runs.guest_output import interpret, json_records, lines_of, opener_routes
from ..runs.hostdirs import make_host_dirs
from ..runs.runner import Runner

REFERENCE = "wasmtime-py"
"""The host every other is compared with: wasmtime's own WASIp1, in this process."""
CHECKS = ("names", "order", "reads", "missing file", "non-directory fd", "address 0")
STDIO = Guest("stdio", "WAT", GUESTS_DIR / "stdio" / "stdio.wat", None,
              "fd_prestat_get on fds 0, 1, 2: open, but not preopened directories", "probe")
ABSENT = "absent"
"""The directory the missing-file check asks for under the first preopen (never created)."""
_IN_PROCESS = threading.Lock()
"""wasmtime-py runs in this process: one at a time, whichever thread asks."""


@dataclass(frozen=True)
class Observed:
    """One host's answers for one list."""

    host: str
    list_name: str
    paths: tuple[str, ...]
    probe: RunResult
    opener: RunResult
    missing_errno: int | None
    """The errno of opening ``<first>/absent/MARKER``; None if the guest said nothing."""
    seconds: float


# -- running ---------------------------------------------------------------------------------


def observe(host: str, list_name: str, paths: tuple[str, ...], runner: Runner, probe: bool = True) -> Observed:
    """The opener (and the probe, unless ``probe`` is false) on ``host`` for ``paths``; the
    opener is also asked for a missing file. ``seconds``: one run, process start included."""
    start = time.perf_counter()
    opener = GUESTS["opener"]
    missing = f"{paths[0].rstrip('/') or paths[0]}/{ABSENT}" if paths else ABSENT
    done = _raw(host, opener, paths, [opener.name, *paths, missing], runner)
    result = _as_given(host, interpret(opener, paths, done, NATIVE, None, host))
    seconds = time.perf_counter() - start
    routes = opener_routes(json_records(lines_of(done.stdout)))
    errno = routes[len(paths)].errno if len(routes) > len(paths) else None
    probed = _run(host, GUESTS["probe"], paths, runner) if probe else result
    return Observed(host, list_name, paths, probed, result, errno, seconds)


def _run(host: str, guest: Guest, paths: tuple[str, ...], runner: Runner) -> RunResult:
    done = _raw(host, guest, paths, [guest.name, *paths], runner)
    return _as_given(host, interpret(guest, paths, done, NATIVE, None, host))


def _as_given(host: str, result: RunResult) -> RunResult:
    return result if host == REFERENCE else wasip1_hosts.as_given(host, result)


def _raw(host: str, guest: Guest, paths: tuple[str, ...], argv: list[str], runner: Runner):
    def populate(root):
        return list(zip(make_host_dirs(root, paths), paths))

    if host == REFERENCE:
        with _IN_PROCESS:
            return runner.execute(runner.program(guest, NATIVE), argv, populate)
    return hosts.execute(host, guest.wasm(), False, argv, populate, runner.fuel)


def stdio_errnos(host: str, runner: Runner) -> tuple[int, ...]:
    result = _run(host, STDIO, ("/a",), runner)
    return tuple(e.errno for e in result.fds)


# -- comparing -------------------------------------------------------------------------------


def names(r: RunResult) -> tuple[str, ...]:
    return tuple(sorted(e.name for e in r.fds if e.errno == 0 and e.name is not None))


def by_fd(r: RunResult) -> tuple[tuple[int, int, str | None], ...]:
    return tuple((e.fd, e.errno, e.name) for e in r.fds)


def _reads(r: RunResult) -> tuple[str, ...]:
    return tuple(p.marker if p.marker is not None else f"errno {p.errno}" for p in r.preopens)


SEEN: dict[str, Callable[[Observed], object]] = {
    "names": lambda o: names(o.opener),
    "order": lambda o: by_fd(o.opener),
    "address 0": lambda o: "what the opener is told" if by_fd(o.probe) == by_fd(o.opener) else by_fd(o.probe),
    "reads": lambda o: _reads(o.opener),
    "missing file": lambda o: o.missing_errno,
}


def failed_run(o: Observed) -> bool:
    """The opener trapped, crashed or said nothing: this list tells nothing of the checks."""
    return o.opener.trap is not None or (not o.opener.fds and bool(o.paths))


def differs(check: str, mine: Observed, reference: Observed) -> bool:
    if check == "order" and names(mine.opener) != names(reference.opener):
        return False  # judged under names
    return SEEN[check](mine) != SEEN[check](reference)


def worded(value: object) -> str:
    """What a check saw (``SEEN``), in one line for the matrix's differences."""
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return " ".join(f"fd {fd}: {name!r}" if errno == 0 else f"fd {fd}: errno {errno}" for fd, errno, name in value)
    if isinstance(value, tuple):
        return " ".join(repr(v) for v in value) or "(none)"
    return "(nothing)" if value is None else str(value)
