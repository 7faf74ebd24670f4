"""The lab's preopen checks as a test suite in wasi-testsuite's form, and a runner for it.

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
``export`` writes the suite and, per host the lab runs it on, which tests that host fails and
the lab's judgement of each (``expectations/<host>/linux.toml``, as wasi-testsuite keeps
them); ``run`` runs a suite on one host.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..artifacts import adapters
from ..artifacts.cache import read_regular, write_atomically
from ..artifacts.compose import compose
from ..artifacts.guests import CONFORMANCE, GUEST_MAX_BYTES
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
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
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


# -- writing the suite --------------------------------------------------------------------------

README = """# A preopen conformance suite (wasi-testsuite's form, one field added)

Written by `python -m analysis export-tests`. {tests} tests, each a WASIp1 program
(`wasip1/`) and the same program made a WASIp2 component with each catalogued
`wasi_snapshot_preview1` adapter build (`components/<build>/`).

## The form

As wasi-testsuite's tests: `<test>.wasm` and `<test>.json`, the JSON with `args`, `env`,
`exit_code` and `stdout`; a test passes when the program exits with `exit_code` and prints
`stdout` (nothing: the guest prints one line per failed expectation).

## The proposed extension: `preopens`

wasi-testsuite's spec preopens one directory. These tests need several, named, in order:

```json
"preopens": [{{"dir": "report-case.dirs/0", "guest": "/a"}}, {{"dir": "report-case.dirs/1", "guest": "/b"}}]
```

Preopen each `dir` (relative to the folder holding the `.json`) under the name `guest`, in
this order, so that the first is fd 3. Each directory holds `MARKER` reading `preopen-<i>`;
the folder above them holds a `MARKER` reading `outside`, which a runtime that lets
`../MARKER` through would read.

## What the program checks

For each fd from 3: `fd_prestat_get` answers a directory whose name is as long as the name
given; `fd_prestat_dir_name` tells exactly that name; `MARKER` opened through the fd reads
its own `preopen-<i>`; `<name>/MARKER` opened by path (wasi-libc routes it by the names it
was told) reads the MARKER of a preopen given that name. Then the fd after the last answers
EBADF. The `hosts-*` tests (argument `--hosts`) also check that fds 0 to 2 are not
preopens, that a missing file is ENOENT and that `../MARKER` is refused.

## Expectations

`expectations/<host>/linux.toml` lists, for each host the lab ran the suite on, the tests it
fails and the lab's judgement of each.
"""


def _test_json(case: Case, dirs: str) -> dict:
    return {"args": case.args, "env": {}, "exit_code": 0, "stdout": "",
            "preopens": [{"dir": f"{dirs}/{i}", "guest": name} for i, name in enumerate(case.names)]}


def export(out: Path, builds: Sequence[str] | None = None, expect_on: Sequence[str] = (),
           affected: Iterable[str] = (), tell: Callable[[str, Path, float], None] | None = None) -> dict[str, int]:
    """Write the suite into ``out`` (which must not exist, or be an empty folder): the WASIp1
    tests, a component per build for each test, the README, and for each host of ``expect_on``
    its expectations (``tell``: host, file, seconds, as each is written). Everything is written
    beside ``out`` first and moved into place at the end, so an interrupted export leaves nothing.
    How many tests and bytes."""
    import time

    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        raise LabError(f"{out} exists and is not an empty folder: give a new folder for the suite")
    if not out.parent.is_dir():
        raise LabError(f"{out.parent} is not a folder: the suite's folder goes into one that exists")
    chosen = [adapters.resolve(b) for b in builds] if builds is not None else list(adapters.catalogue())
    module = CONFORMANCE.wasm()
    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        p1 = staging / "wasip1"
        p1.mkdir(parents=True)  # the staging folder and this one: out's parent exists
        (p1 / ".conformance.wasm").write_bytes(module)
        for case in CASES:
            folder = p1 / f"{case.name}.dirs"
            folder.mkdir()
            (folder / MARKER).write_text(OUTSIDE)
            for index in range(len(case.names)):
                (folder / str(index)).mkdir()
                (folder / str(index) / MARKER).write_text(marker_text(index))
            _link(p1 / ".conformance.wasm", p1 / f"{case.name}.wasm")
            (p1 / f"{case.name}.json").write_text(json.dumps(_test_json(case, f"{case.name}.dirs"), indent=1) + "\n")
        for build in chosen:
            folder = staging / "components" / build.id
            folder.mkdir(parents=True)
            write_atomically(folder / ".conformance.wasm", compose(module, build).read_bytes())
            for case in CASES:
                _link(folder / ".conformance.wasm", folder / f"{case.name}.wasm")
                (folder / f"{case.name}.json").write_text(
                    json.dumps(_test_json(case, f"../../wasip1/{case.name}.dirs"), indent=1) + "\n")
        (staging / "README.md").write_text(README.format(tests=len(CASES)))
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        for host in expect_on:
            started = time.monotonic()
            path = expect(staging, host, affected, stamp)
            if tell:
                tell(host, out / path.relative_to(staging), time.monotonic() - started)
        if out.exists():
            out.rmdir()
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return size(out)


def _link(source: Path, target: Path) -> None:
    """The same bytes under a test's name: a hard link where the folder allows one."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def size(suite: Path) -> dict[str, int]:
    """Tests (one .json each) and bytes on disk (a hard-linked file counted once)."""
    seen, total, tests = set(), 0, 0
    for path in suite.rglob("*"):
        if path.is_file():
            tests += path.suffix == ".json"
            key = (path.stat().st_dev, path.stat().st_ino)
            if key not in seen:
                seen.add(key)
                total += path.stat().st_size
    return {"tests": tests, "bytes": total}


# -- reading and running a suite -----------------------------------------------------------------


@dataclass(frozen=True)
class Test:
    """One test as its JSON gives it."""

    name: str
    wasm: Path
    args: tuple[str, ...]
    exit_code: int
    stdout: str | None
    preopens: tuple[tuple[Path, str], ...]
    group: str
    """``wasip1`` or the adapter build the component was made with."""


def load(suite: Path) -> list[Test]:
    """Every test of a suite folder, its spec checked: a clear error for anything else."""
    if not suite.is_dir():
        raise LabError(f"{suite} is not a folder: give the folder export-tests wrote")
    base = suite.resolve()
    specs = sorted(base.glob("wasip1/*.json")) + sorted(base.glob("components/*/*.json"))
    if not specs:
        raise LabError(f"{suite} holds no tests (wasip1/*.json, components/*/*.json): give the folder "
                       "export-tests wrote")
    return [_test(spec, base) for spec in specs]


def _test(spec: Path, base: Path) -> Test:
    group = "wasip1" if spec.parent.name == "wasip1" else spec.parent.name
    if not (_NAME.fullmatch(spec.stem) and _NAME.fullmatch(group)):
        raise LabError(f"{shown(str(spec.relative_to(base)), 300)}: a test's and its folder's names are letters, digits, "
                       "'.', '_' and '-'")
    try:
        data = json.loads(read_regular(spec, 1 << 20))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise LabError(f"{spec}: not a test's JSON ({first_line(exc, 'unreadable')})") from None
    args, code = data.get("args", []) if isinstance(data, dict) else None, data.get("exit_code", 0) if isinstance(
        data, dict) else None
    stdout = data.get("stdout") if isinstance(data, dict) else None
    preopens = data.get("preopens", []) if isinstance(data, dict) else None
    if not (isinstance(args, list) and all(isinstance(a, str) for a in args)
            and isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= 255
            and (stdout is None or isinstance(stdout, str))
            and isinstance(preopens, list) and len(preopens) <= MAX_PREOPENS
            and all(isinstance(p, dict) and isinstance(p.get("dir"), str) and isinstance(p.get("guest"), str)
                    for p in preopens)):
        raise LabError(f"{spec}: not as the spec says (args: a list of strings; exit_code: 0 to 255; stdout: a "
                       f"string; preopens: at most {MAX_PREOPENS} of {{\"dir\": string, \"guest\": string}})")
    if sum(len(a.encode()) + 1 for a in args) + sum(len(p["guest"].encode()) for p in preopens) > MAX_ARG_BYTES:
        raise LabError(f"{spec}: its arguments and names take more than {MAX_ARG_BYTES:,} bytes")
    found = tuple((_inside(spec.parent / p["dir"], base, spec), p["guest"]) for p in preopens)
    return Test(spec.stem, spec.with_suffix(".wasm"), tuple(args), code, stdout, found, group)


def _inside(path: Path, base: Path, spec: Path) -> Path:
    try:
        real = path.resolve()
    except (OSError, ValueError, RuntimeError):
        real = base.parent
    if not real.is_relative_to(base) or not real.is_dir():
        raise LabError(f"{spec}: preopen {shown(path.name)} is not a folder inside the suite")
    return real


def run(suite: Path, host: str = "wasmtime-cli", only: str | None = None,
        tell: Callable[[Test, Outcome], None] | None = None, workers: int = 1) -> list[tuple[Test, Outcome]]:
    """Run the suite's tests ``host`` can run (components on the WASIp2 hosts, WASIp1 modules on
    the Wasmtime CLI and the WASIp1 hosts), one at a time unless told (``workers``: the lab's own
    suite, in a scratch folder); ``only``: ``wasip1`` or one build."""
    if host not in hosts.HOSTS or host == "wasmtime-py":
        raise LabError(f"conformance runs a suite in a host process: choose one of "
                       f"{', '.join(h for h in hosts.HOSTS if h != 'wasmtime-py')}")
    everything = load(suite)
    groups = sorted({t.group for t in everything})
    if only is not None and only not in groups:
        raise LabError(f"no group {shown(str(only), 300)} in this suite: choose one of {', '.join(groups)}")
    tests = [t for t in everything if only in (None, t.group)]
    runnable = [t for t in tests if (t.group == "wasip1") == (host in P1_HOSTS)
                or (host == "wasmtime-cli")]
    if not runnable:
        raise LabError(f"{host} runs none of these tests: components run on wasmtime-cli and node, WASIp1 "
                       "modules on wasmtime-cli and the WASIp1 hosts")
    module = CONFORMANCE.wasm()
    ours: dict[str, bytes] = {"wasip1": module}

    def lab_own(group: str, wasm: bytes) -> bool:
        """The lab's conformance guest, or it made a component with the catalogued build the
        group is named after: byte for byte what the lab builds, compared, never a stored hash."""
        if group not in ours:
            known = {b.id: b for b in adapters.catalogue()}
            ours[group] = compose(module, known[group]).read_bytes() if group in known else b""
        return wasm == ours[group]

    def one(test: Test) -> tuple[Test, Outcome]:
        try:
            wasm = read_regular(test.wasm, GUEST_MAX_BYTES)
        except OSError as exc:
            raise LabError(f"{test.group}/{test.name}: cannot read its program {test.name}.wasm "
                           f"({exc.strerror or exc})") from None
        is_component = wasm[4:8] != b"\x01\x00\x00\x00"
        if wasm[:4] != b"\0asm" or is_component != (test.group != "wasip1"):
            raise LabError(f"{test.group}/{test.name}: its program is not a "
                           f"{'WASIp1 core module' if test.group == 'wasip1' else 'component'}")
        own = lab_own(test.group, wasm)
        if not own and not (hosts.KEEPS_IN if is_component else P1_KEEPS_IN).__contains__(host):
            raise LabError(f"{test.group}/{test.name} is not the lab's conformance guest, and {host} is not measured "
                           f"to keep a guest inside its preopens: run this suite on "
                           f"{', '.join(hosts.KEEPS_IN if is_component else P1_KEEPS_IN)}")
        code, said = run_on(host, wasm, is_component, test.args, [g for _, g in test.preopens],
                            [d for d, _ in test.preopens], own=own)
        passed = code == test.exit_code and (test.stdout is None or said == test.stdout.strip())
        outcome = Outcome(test.name, passed, said)
        if tell:
            tell(test, outcome)
        return test, outcome

    if workers == 1 or host == "node":  # node's host folder takes one run at a time
        return [one(test) for test in runnable]  # Ctrl-C reaches the run under way at once
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, runnable))


# -- expectations: which tests each host fails, and the lab's judgement ------------------------------

CHECK_OF = {"prestat": "names", "name": "names", "end": "names", "through": "order", "route": "reads",
            "stdio": "non-directory fd", "missing": "missing file", "escape": "confinement"}
"""The WASIp1 hosts' matrix check (``reach.host_checks.CHECKS``) each of the guest's checks tests."""

ADAPTER_LIMITS = {
    "empty name": "API limit: a build not affected answers EBADF for the fd whose preopen name is empty, and "
                  "wasi-libc's scan of the preopens stops at that first EBADF",
    "many": "API limit: the adapter's descriptor table (fds 0 to 2, the preopens and every open file) is full",
}
"""Why a build measured not affected still fails a test, by the test's family."""
BUG = "bug: wasmtime#10058, the adapter tells fds between the first and the last a wrong name"


def judge(results: Sequence[tuple[Test, Outcome]], affected: Iterable[str],
          matrix_verdict: Callable[[str], str] | None = None) -> list[tuple[str, str, str]]:
    """(test as ``group/name``, judgement, first failed line) for each failed test. A component
    that fails through an affected build where every build not affected passes it: #10058; a
    failure every build shares: the family's adapter limit; a WASIp1 module: the matrix's
    verdict (``matrix_verdict``: check -> verdict) for the check that failed."""
    affected = set(affected)
    family = {c.name: c.family for c in CASES}
    fixed_fails = {t.name for t, o in results if t.group != "wasip1" and t.group not in affected and not o.passed}
    judged = []
    for test, outcome in results:
        if outcome.passed:
            continue
        first = outcome.said.splitlines()[0] if outcome.said else "no output"
        if test.group == "wasip1":
            check = CHECK_OF.get(first.split(" ", 1)[0])
            judgement = (f"{matrix_verdict(check) if matrix_verdict else 'unjudged'} ({check})" if check
                         else f"API limit: the host refused the list ({first})")
        elif test.group in affected and test.name not in fixed_fails:
            judgement = BUG
        else:
            judgement = ADAPTER_LIMITS.get(family.get(test.name, ""), "unexplained")
        judged.append((f"{test.group}/{test.name}", judgement, first))
    return judged


def expectations_toml(host: str, judged: Sequence[tuple[str, str, str]], stamp: str, ran: int) -> str:
    """The expectations file: the tests ``host`` fails, each with the lab's judgement."""
    lines = [f"# The tests {host} fails in this suite, measured by the preopen lab on {stamp}",
             f"# ({ran} tests run; the others passed).", ""]
    for test, judgement, said in judged:
        lines += ["[[fails]]", f"test = {json.dumps(test)}", f"judgement = {json.dumps(judgement)}",
                  f"said = {json.dumps(said)}", ""]
    return "\n".join(lines)


def read_expectations(path: Path) -> set[str]:
    """The tests an expectations file lists as failing."""
    import tomllib

    try:
        data = tomllib.loads(read_regular(path, 1 << 20).decode())
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise LabError(f"{path}: not an expectations file ({first_line(exc, 'unreadable')})") from None
    fails = data.get("fails", [])
    if not isinstance(fails, list) or not all(isinstance(e, dict) and isinstance(e.get("test"), str) for e in fails):
        raise LabError(f"{path}: not an expectations file (fails: a list of tables, each with a test)")
    return {entry["test"] for entry in fails}


def expect(suite: Path, host: str, affected: Iterable[str], stamp: str,
           tell: Callable[[Test, Outcome], None] | None = None) -> Path:
    """Run the suite on ``host`` and write what it failed, judged, as the host's expectations."""
    results = run(suite, host, tell=tell)
    verdicts = None
    if host in P1_HOSTS and host != "wasmtime-cli" and any(not o.passed for _, o in results):
        from .host_matrix import measured

        matrix = measured()
        verdicts = lambda check: matrix.verdict(host, check)  # noqa: E731
    judged = judge(results, affected, verdicts)
    path = suite / "expectations" / host / "linux.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, expectations_toml(host, judged, stamp, len(results)).encode())
    return path


# -- the suite on every host, kept ---------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """The suite run on every host the lab runs it on: per host, each test's group, name,
    pass and first line; how long each host took; when."""

    results: dict[str, list[tuple[str, str, bool, str]]]
    seconds: dict[str, float]
    measured_at: str
    tests: int
    bytes: int

    def failed(self, host: str) -> list[tuple[str, str, str]]:
        """(group, test, first line) of each test ``host`` failed."""
        return [(g, t, said) for g, t, passed, said in self.results[host] if not passed]


P1_ONLY = tuple(h for h in P1_HOSTS if h != "wasmtime-cli")
P1_KEEPS_IN = tuple(h for h, spec in P1_HOSTS.items() if spec.keeps_in)
"""The WASIp1 hosts a suite's program that is not the lab's own may run on: those measured to keep a
guest inside its preopens (page 8's confinement check)."""
"""The WASIp1 hosts beyond wasmtime, which run the suite's modules only."""
SUITE_HOSTS = ("wasmtime-cli", "node", *P1_ONLY)
"""Who the suite runs on: the Wasmtime CLI (modules and components), node (components, through
jco), and the WASIp1 hosts (modules)."""


def measured(host_names: Sequence[str] = SUITE_HOSTS) -> Measured:
    """The suite written to a scratch folder and run on each host; kept in the cache, sealed, under
    a key of everything the runs depend on (the guest, the adapter builds, the hosts' versions,
    the lab's code that runs them), so a warm report shows runs made with exactly these inputs."""
    import hashlib
    import tempfile
    import time

    from ..artifacts import seal
    from ..artifacts.cache import cache_dir
    from . import host_matrix

    digest = hashlib.sha256(json.dumps([host_matrix._inputs_key(), list(host_names),
                                        [b.sha256 for b in adapters.catalogue()]]).encode())
    for file in (Path(__file__), CONFORMANCE.binary, Path(hosts.__file__)):
        digest.update(Path(file).read_bytes())
    path = cache_dir() / "suite" / f"{digest.hexdigest()[:32]}.json"
    kept = seal.read_sealed(path, "the conformance suite's runs", 1 << 24)
    if kept is not None:
        data = json.loads(kept)
        return Measured({h: [tuple(r) for r in rows] for h, rows in data["results"].items()}, data["seconds"],
                        data["measured_at"], data["tests"], data["bytes"])
    with tempfile.TemporaryDirectory(prefix="preopen-lab-suite-") as scratch:
        folder = Path(scratch) / "suite"
        written = export(folder)
        results, seconds = {}, {}
        for host in host_names:
            started = time.monotonic()
            results[host] = [(t.group, t.name, o.passed, o.said.splitlines()[0] if o.said else "")
                             for t, o in run(folder, host, workers=2)]
            seconds[host] = round(time.monotonic() - started, 1)
    found = Measured(results, seconds, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), written["tests"],
                     written["bytes"])
    path.parent.mkdir(parents=True, exist_ok=True)
    seal.write_sealed(path, json.dumps(found.__dict__).encode())
    return found
