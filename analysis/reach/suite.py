"""The lab's preopen checks as tests in wasi-testsuite's form: the cases, one test run, and the
smallest lists that catch the bug.

wasi-testsuite (WebAssembly/wasi-testsuite) is the conformance suite WASI runtimes run: one
``.wasm`` and one ``.json`` per test, the JSON giving the test's arguments, environment,
expected exit code and output; each test checks itself and says pass or fail by its exit
status. Its spec can preopen one directory. This suite keeps that form and adds one field,
``preopens``: the directories to preopen, in order, each ``{"dir": ..., "guest": ...}`` with
``dir`` relative to the test's own folder.

Every test runs the same guest, ``guests/conformance`` (C on wasi-libc): its arguments are
the names given, and each preopen's directory holds ``MARKER`` reading ``preopen-<i>``. The
WASIp1 tests are the core module; the same tests are also written once per catalogued
adapter build as a component, so a runtime that runs components tests the adapter it ships.
``suite_export`` writes a suite with each host's expectations, ``suite_files`` reads and runs one.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..artifacts.cache import read_regular
from ..artifacts.guests import CONFORMANCE
from ..model.describe import shown
from ..model.errors import LabError, first_line
from ..model.markers import MARKER, marker_text
from ..runs import hosts
from ..runs.runner import DEFAULT_FUEL, default_runner, fuel_for
from ..runs.wasip1_hosts import P1_HOSTS

_RUN_ROOT = re.compile(r"/\S*?preopen-lab-[^/\s`']*/")
"""A run's temporary folder, left out of what a test said (it differs every run)."""
MAX_PREOPENS = 256
"""The most preopens a test may ask for (the suite's own largest has 126)."""
MAX_TEST_BYTES = 1 << 20
"""The most a test's directories may hold in all, copied into its run: a suite of a few hundred
kilobytes must not fill the scratch folder (``/dev/shm``, memory) before the host starts."""
MAX_ARG_BYTES = 64 << 10
"""The most a test's arguments may take in all."""
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A test's or a group's name, as the suite writes them: printed as they are, so nothing else."""
OUTSIDE = "outside"
"""What the ``MARKER`` beside a test's directories says: a host that lets ``../MARKER``
through fd 3 reads it, and the guest's ``escape`` check fails."""


@dataclass(frozen=True)
class Case:
    """One test of the suite: the names preopened, in order, and why it is there."""

    name: str
    family: str
    names: tuple[str, ...]
    why: str
    hosts_checks: bool = False
    """The guest also checks what a WASIp1 host may get wrong alone (``--hosts``): fds 0 to 2
    are no preopens, a missing file is ENOENT, ``../`` is refused."""

    @property
    def args(self) -> list[str]:
        return ["--hosts", *self.names] if self.hosts_checks else list(self.names)


def _many(count: int) -> tuple[str, ...]:
    return tuple(f"/{i:03d}" for i in range(count))


CASES: tuple[Case, ...] = (
    Case("report-case", "report", ("/a", "/b", "/c", "/d", "/e"), "the list of wasmtime#10058"),
    Case("minimal-three", "minimal", ("/a", "/b", "/c"), "three names: the smallest list found that catches it"),
    Case("nesting", "nesting", ("/", "/tmp", "/home"), "nested names: a path can read another preopen's files"),
    Case("shared-prefix", "shared prefix", ("/tmp", "/abc", "/tmp2"), "the first preopen misrouted"),
    Case("shared-prefix-last", "shared prefix", ("/tmp2", "/abc", "/tmp"), "the last preopen misrouted"),
    Case("equal-length", "equal lengths", ("/aa", "/bb", "/cc", "/dd"), "names of one length: only the ends kept"),
    Case("stitched", "unequal lengths", ("/a", "/bbbb", "/c", "/dd"), "a name stitched from two (/ddbb)"),
    Case("empty-name", "empty name", ("/a", "", "/b"), "an empty name before the last preopen"),
    Case("many-124", "many", _many(124), "124 preopens"),
    Case("many-125", "many", _many(125), "125 preopens: with fds 0 to 2, the adapter's 128 slots full"),
    Case("many-126", "many", _many(126), "126 preopens: one more than the adapter's slots hold"),
    Case("hosts-basic", "hosts", ("/a", "/b", "/c"), "stdio fds, a missing file, ../ refused", True),
    Case("hosts-order", "hosts", ("/c", "/a", "/b"), "names not in sorted order"),
    Case("hosts-numeric", "hosts", ("/2", "/10", "/1"), "names a JavaScript object would sort first"),
    Case("hosts-twice", "hosts", ("/a", "/a"), "one name given twice"),
)
"""The suite's tests: the report's case, the smallest catching list, each family of the
claims' counterexamples, and what the WASIp1 hosts' matrix checks."""

POOL = ("/", "/a", "/b", "/ab")
"""The names the search for the smallest catching lists draws from: distinct, nested, sharing a prefix."""


CHECK_OF = {"prestat": "names", "name": "names", "end": "names", "through": "order", "route": "reads",
            "stdio": "non-directory fd", "missing": "missing file", "escape": "confinement"}
"""The WASIp1 hosts' matrix check (``reach.host_checks.CHECKS``) each of the guest's checks tests."""

P1_ONLY = tuple(h for h in P1_HOSTS if h != "wasmtime-cli")
"""The WASIp1 hosts beyond wasmtime, which run the suite's modules only."""
P1_KEEPS_IN = tuple(h for h, spec in P1_HOSTS.items() if spec.keeps_in)
"""The WASIp1 hosts a suite's program that is not the lab's own may run on: those measured to keep a
guest inside its preopens (page 8's confinement check)."""


# -- running one test ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One test on one host: passed, and what the guest said (its failed expectations)."""

    test: str
    passed: bool
    said: str


def _populate(names: Sequence[str], dirs: Sequence[Path] | None = None) -> Callable[[Path], list[tuple[str, str]]]:
    """The run's host directories: each test directory copied (or, without ``dirs``, made with
    its MARKER), and the MARKER beside them that a ``../`` escape would read."""

    def populate(root: Path) -> list[tuple[str, str]]:
        (root / MARKER).write_text(OUTSIDE)
        made, budget = [], [MAX_TEST_BYTES]
        for index, name in enumerate(names):
            target = root / f"p{index}"
            if dirs is None:
                target.mkdir()
                (target / MARKER).write_text(marker_text(index))
            else:
                _copy_dir(dirs[index], target, budget)
            made.append((str(target), name))
        return made

    return populate


def _copy_dir(source: Path, target: Path, budget: list[int], depth: int = 0) -> None:
    """A test's directory: regular files and folders only, a few of them, small, shallow;
    ``budget``: the bytes the whole test may still copy."""
    target.mkdir()
    entries = sorted(source.iterdir())
    if len(entries) > 16 or depth > 4:
        raise LabError(f"{shown(str(source), 300)}: a test's directory holds at most 16 entries, at most 4 folders deep")
    for entry in entries:
        if entry.is_symlink() or not (entry.is_file() or entry.is_dir()):
            raise LabError(f"{shown(str(entry), 300)}: a test's directory holds only regular files and folders")
        if entry.is_dir():
            _copy_dir(entry, target / entry.name, budget, depth + 1)
            continue
        budget[0] -= entry.stat().st_size
        if budget[0] < 0:
            raise LabError(f"{shown(str(entry), 300)}: a test's directories hold more than {MAX_TEST_BYTES:,} bytes in all")
        try:
            (target / entry.name).write_bytes(read_regular(entry, MAX_TEST_BYTES))
        except OSError as exc:
            raise LabError(f"{shown(str(entry), 300)}: cannot read this file of the test ({exc.strerror or exc})") from None


def run_lab(case_args: Sequence[str], names: Sequence[str], build: str = "native") -> Outcome:
    """The conformance guest in this process (wasmtime-py), natively or through ``build``."""
    runner = default_runner()
    program = runner.program(CONFORMANCE, build)
    done = runner.execute(program, ["conformance", *case_args], _populate(names))
    said = done.stdout.decode("utf-8", "replace").strip() or (done.trap or "")
    return Outcome(" ".join(names), done.exit_code == 0 and done.trap is None, said)


def run_on(host: str, wasm: bytes, is_component: bool, args: Sequence[str], names: Sequence[str],
           dirs: Sequence[Path] | None = None, own: bool = True) -> tuple[int | None, str]:
    """One test on ``host`` (the Wasmtime CLI, node, or a WASIp1 host), in its own confined
    process: its exit status and what it printed (or why it did not end)."""
    argv = ["conformance", *args]
    done = hosts.execute(host, wasm, is_component, argv, _populate(names, dirs), fuel_for(DEFAULT_FUEL, argv),
                         own=own, deadline=hosts.YOURS_DEADLINE)
    said = done.stdout.decode("utf-8", "replace").strip() or done.trap or first_line(
        done.stderr.decode("utf-8", "replace"), "")
    return (done.exit_code if done.trap is None else None), _RUN_ROOT.sub("", said)


# -- the smallest lists that catch it -----------------------------------------------------------


def builds() -> tuple[list[str], list[str]]:
    """The catalogued builds, measured on the report's case: those affected, those not."""
    from ..experiments import verdicts

    found = verdicts.measure()[1:]
    return [v.adapter for v in found if v.affected], [v.adapter for v in found if not v.affected]


@dataclass(frozen=True)
class Catching:
    """Which lists, of the sizes tried, fail on every affected build and pass natively and on
    every build not affected."""

    tried: int
    """Lists tried: every ordering of 1 to ``sizes`` distinct names from ``POOL``."""
    runs: int
    smallest: int | None
    lists: tuple[tuple[str, ...], ...]
    """The catching lists of the smallest size."""
    by_size: dict[int, int]
    """How many lists of each size catch it."""
    tried_by_size: dict[int, int]
    """How many lists of each size were tried."""
    missed: tuple[tuple[str, ...], ...] = ()
    """The lists of the smallest catching size that do not catch it."""


def catching_lists(affected: Sequence[str], fixed: Sequence[str], sizes: int = 3) -> Catching:
    """Every list of 1 to ``sizes`` distinct names from ``POOL``, in every order, run with the
    conformance guest natively and through every build given."""
    from itertools import permutations

    candidates = [p for k in range(1, sizes + 1) for p in permutations(POOL, k)]
    catching, runs = [], 0
    for names in candidates:
        passes = [run_lab(names, names, b).passed for b in ("native", *fixed)]
        fails = [not run_lab(names, names, b).passed for b in affected]
        runs += len(passes) + len(fails)
        if all(passes) and all(fails):
            catching.append(names)
    by_size = {k: sum(len(c) == k for c in catching) for k in range(1, sizes + 1)}
    smallest = min((len(c) for c in catching), default=None)
    tried = {k: sum(len(c) == k for c in candidates) for k in range(1, sizes + 1)}
    missed = tuple(c for c in candidates if len(c) == smallest and c not in catching)
    return Catching(len(candidates), runs, smallest, tuple(c for c in catching if len(c) == smallest), by_size, tried,
                    missed)


