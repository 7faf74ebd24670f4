"""One WASIp1 host on one preopen list, and what each check of the matrix compares.

The opener runs with one more argument than the list (``<first>/absent``: the missing-file
check) and, unless only the opener is needed, the probe runs too. ``REFERENCE``, wasmtime's
own WASIp1, runs in this process, one run at a time whichever thread asks; every other
host runs in a process of its own (``runs.hosts.execute``).

``confinement`` runs the ``confine`` guest once per host, with one writable preopen: it
tries to create files outside it (``ATTEMPTS``), and the kernel tells which it did
(``_Watch``, inotify on the run's root and the preopen's directory), whatever the guest was
told: every escape target lies in the run's root, the preopen's parent, so a host that lets
the guest out writes inside the folder the lab removes after the run (and one that sends a
path elsewhere meets Landlock: see ``confinement``).
"""
from __future__ import annotations

import ctypes
import os
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..artifacts.guests import CONFINE, GUESTS, GUESTS_DIR, Guest
from ..model.errors import LabError
from ..model.markers import marker_text
from ..model.results import NATIVE, RunResult
from ..model.wasi import decode, errno_name
from ..runs import host_process, hosts, wasip1_hosts
from ..runs.guest_output import Execution, interpret, json_records, lines_of, opener_routes
from ..runs.hostdirs import Populate, make_host_dirs
from ..runs.runner import Runner

REFERENCE = "wasmtime-py"
"""The host every other is compared with: wasmtime's own WASIp1, in this process."""
CHECKS = ("names", "order", "reads", "missing file", "directory read", "non-directory fd", "address 0",
          "confinement")
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


def _raw(host: str, guest: Guest, paths: tuple[str, ...], argv: list[str], runner: Runner,
         populate: Populate | None = None, own: bool | None = None) -> Execution:
    def fresh(root):
        return list(zip(make_host_dirs(root, paths), paths))

    populate = populate or fresh
    if host == REFERENCE:
        with _IN_PROCESS:
            return runner.execute(runner.program(guest, NATIVE), argv, populate)
    own = guest.reads_only if own is None else own
    return hosts.execute(host, guest.wasm(), False, argv, populate, runner.fuel, own=own)


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


def order(o: Observed) -> tuple[tuple[int, int, str], ...]:
    """The directories given (each name given once) in the order of the fds that served them:
    the fd through which each ``<path>/MARKER`` read its own MARKER. Read from what was reached,
    not from the names, so a host that tells other names (wasmer-wasi: `a` for `/a`, after a
    `/` of its own at fd 3) is judged on its order too."""
    r = o.opener
    served = [p for p in r.preopens if r.paths.count(p.path) == 1 and p.routed_fd is not None
              and p.marker == marker_text(p.index)]
    return tuple((p.routed_fd, 0, p.path) for p in sorted(served, key=lambda p: (p.routed_fd, p.index)))


SEEN: dict[str, Callable[[Observed], object]] = {
    "names": lambda o: names(o.opener),
    "order": order,
    "address 0": lambda o: "what the opener is told" if by_fd(o.probe) == by_fd(o.opener) else by_fd(o.probe),
    "reads": lambda o: _reads(o.opener),
    "missing file": lambda o: o.missing_errno,
}


def failed_run(o: Observed) -> bool:
    """The opener trapped, crashed or said nothing: this list tells nothing of the checks."""
    return o.opener.trap is not None or (not o.opener.fds and bool(o.paths))


def differs(check: str, mine: Observed, reference: Observed) -> bool:
    if check == "order":  # among the directories both served: one neither read is a matter of reads
        mine_in, reference_in = ([path for *_, path in order(o)] for o in (mine, reference))
        both = set(mine_in) & set(reference_in)
        return [p for p in mine_in if p in both] != [p for p in reference_in if p in both]
    return SEEN[check](mine) != SEEN[check](reference)


def worded(value: object) -> str:
    """What a check saw (``SEEN``), in one line for the matrix's differences."""
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return " ".join(f"fd {fd}: {name!r}" if errno == 0 else f"fd {fd}: errno {errno}" for fd, errno, name in value)
    if isinstance(value, tuple):
        return " ".join(repr(v) for v in value) or "(none)"
    return "(nothing)" if value is None else str(value)


# -- confinement ------------------------------------------------------------------------------

BOX = "/sandbox"
"""The confine guest's one preopen, as the guest is told it; its host directory is ``p0``
under the run's root, and empty but for its MARKER."""
Landed = Literal["outside the preopen", "in the preopen", "not on disk"]
OUTSIDE: Landed = "outside the preopen"
ATTEMPTS = {"inside": "confine-inside", "dotdot": "escaped-dotdot", "absolute": "escaped-absolute",
            "symlink": "escaped-symlink"}
"""Each attempt of the guest and the file it creates: ``inside`` (the control) in the
preopen's directory; the three escapes, if the host lets them out, in the run's root, the
directory that holds the preopen's (``../escaped-dotdot``; ``<root>/escaped-absolute``, given
as argv[1]; ``link/escaped-symlink`` after ``link -> ..``)."""
ESCAPES = ("dotdot", "absolute", "symlink")
ESCAPE_NAMES = {"dotdot": "`..`", "absolute": "an absolute path", "symlink": "a symlink to `..` it made"}
"""Each escape in a few words, for tables and sentences."""
ESCAPE_WORDS = {"dotdot": "`../escaped-dotdot`", "absolute": "an absolute path (`<run root>/escaped-absolute`)",
                "symlink": "`link/escaped-symlink` through its own `link -> ..`"}


@dataclass(frozen=True)
class Attempt:
    """One file the confine guest tried to create, what it was told and where it landed."""

    attempt: str
    path: str
    """The path the guest gave ``path_open`` (from fd 3)."""
    errno: int | None
    """What ``path_open`` answered (0: opened); None when the guest printed no line for it."""
    landed: Landed
    """Where the kernel saw the file created (inotify): the ground truth."""
    symlink_errno: int | None = None
    """For ``symlink``: what ``path_symlink`` answered when the guest made ``link -> ..``."""
    written: int | None = None
    """The bytes ``fd_write`` said it wrote to the opened file (8 asked)."""


@dataclass(frozen=True)
class Confinement:
    """One host's answer: where each of the confine guest's files landed."""

    host: str
    attempts: tuple[Attempt, ...]
    problem: str | None = None
    """Why this run tells nothing (a trap, no lines, argv not as given); None when it tells."""

    @property
    def escaped(self) -> tuple[str, ...]:
        """The escapes that created their file outside the preopen, on the host's disk."""
        return tuple(a.attempt for a in self.attempts if a.attempt in ESCAPES and a.landed == OUTSIDE)

    def attempt(self, name: str) -> Attempt | None:
        return next((a for a in self.attempts if a.attempt == name), None)

    def worded(self) -> str:
        """The answer in one line, for the matrix's differences."""
        if self.problem:
            return self.problem
        if not self.escaped:
            return "no file outside the preopen (the guest's escapes: " + ", ".join(
                f"{a.attempt} {told(a.errno)}" for a in self.attempts if a.attempt in ESCAPES) + ")"
        return "created outside the preopen: " + ", ".join(
            f"{ESCAPE_WORDS[a]} (told {told(self.attempt(a).errno)})" for a in self.escaped)

    @classmethod
    def from_dict(cls, data: dict) -> Confinement:
        return cls(data["host"], tuple(Attempt(**a) for a in data["attempts"]), data["problem"])


def told(errno: int | None) -> str:
    """What the guest was told, in a word: ``success`` or the errno's name."""
    return "nothing" if errno is None else "success" if errno == 0 else errno_name(errno)


def confinement(host: str, runner: Runner) -> Confinement:
    """The confine guest on ``host`` with one writable preopen (``BOX``): which of its files
    landed where, as the kernel saw them created, and what the guest was told.

    Its absolute target lies under the run's root, known only once the root is made: the
    populate function puts it into argv, which every runner reads after populating (the guest
    prints the path it got, so a runner that read argv earlier shows as a problem, never as a
    refusal). Where Landlock holds a host's process to the run's root (``host_process``), the
    guest runs as one of the lab's own: whatever the host lets it do, it writes nowhere else
    (and a host that sends a path outside the root, as @tybys/wasm-util does with ``..``,
    meets EACCES there). Without Landlock it runs as a guest of your own, which a host that
    lets guests out refuses: that host's answer is then "not run"."""
    argv = [CONFINE.name, ""]  # argv[1], the absolute target, is known once the run's root is made
    try:
        with _Watch() as watch:
            def populate(root: Path) -> list[tuple[str, str]]:
                watch.add(root, "root")  # before anything is made in it
                box = make_host_dirs(root, (BOX,))[0]
                watch.add(box, "box")
                argv[1] = str(root / ATTEMPTS["absolute"])
                return [(box, BOX)]

            # the lab's own where Landlock holds the host's process to the run's root, else yours
            done = _raw(host, CONFINE, (BOX,), argv, runner, populate, own=host_process.confined())
            created = watch.created()
    except LabError as exc:  # say, a host that lets guests out, on a kernel without Landlock
        return Confinement(host, (), f"not run: {exc}")
    lines = {r.get("attempt"): r for r in json_records(lines_of(done.stdout)) if r.get("kind") == "escape"}
    attempts = []
    for name, target in ATTEMPTS.items():
        line = lines.get(name, {})
        landed: Landed = ("in the preopen" if target in created.get("box", ()) else
                          OUTSIDE if name != "inside" and target in created.get("root", ()) else "not on disk")
        try:
            path = decode(bytes.fromhex(line.get("path_hex", "")))
        except (TypeError, ValueError):
            path = ""
        attempts.append(Attempt(name, path, _int(line.get("errno")), landed, _int(line.get("symlink_errno")),
                                _int(line.get("written"))))
    problem, absolute = None, next(a for a in attempts if a.attempt == "absolute")
    if watch.overflowed:
        problem = "the kernel's record of the files made in the run overflowed: what landed where is not known"
    elif done.trap is not None:
        problem = f"the guest trapped or the host crashed: {(done.trap.splitlines() or [''])[0]}"
    elif not set(ATTEMPTS) <= set(lines):
        problem = f"the guest printed {len(set(ATTEMPTS) & set(lines))} of its {len(ATTEMPTS)} lines (exit code " \
                  f"{done.exit_code})"
    elif absolute.path != argv[1]:  # argv is read after the root is made: a change there shows here
        problem = f"the guest was not given the absolute path under the run's root (it got {absolute.path!r})"
    return Confinement(host, tuple(attempts), problem)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_IN_CREATE, _IN_MOVED_TO, _IN_Q_OVERFLOW = 0x100, 0x80, 0x4000
_EVENT = struct.Struct("iIII")


class _Watch:
    """The names created in a few directories, as the kernel saw them (inotify): read after
    the run, when the lab has already removed its root, so nothing the host did to the disk
    in the meantime can hide from it. A link the guest follows creates its file in the
    directory it leads to, which is what this sees."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise LabError(f"cannot watch the run's folder for the confinement check (inotify: "
                           f"{os.strerror(ctypes.get_errno())}): raise fs.inotify.max_user_instances")
        self._labels: dict[int, str] = {}
        self.overflowed = False
        """True when the kernel dropped events (its queue was full): ``created`` is then partial."""

    def __enter__(self) -> _Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)

    def add(self, folder: Path | str, label: str) -> None:
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(folder), _IN_CREATE | _IN_MOVED_TO)
        if wd < 0:
            raise LabError(f"cannot watch the run's folder for the confinement check (inotify: "
                           f"{os.strerror(ctypes.get_errno())})")
        self._labels[wd] = label

    def created(self) -> dict[str, set[str]]:
        """Per label, the names created (or moved) there since the watch began."""
        found: dict[str, set[str]] = {label: set() for label in self._labels.values()}
        data = b""
        while True:
            try:
                chunk = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        at = 0
        while at + _EVENT.size <= len(data):
            wd, mask, _, size = _EVENT.unpack_from(data, at)
            name = os.fsdecode(data[at + _EVENT.size: at + _EVENT.size + size].rstrip(b"\0"))
            at += _EVENT.size + size
            self.overflowed |= bool(mask & _IN_Q_OVERFLOW)
            if mask & (_IN_CREATE | _IN_MOVED_TO) and wd in self._labels:
                found[self._labels[wd]].add(name)
        return found
