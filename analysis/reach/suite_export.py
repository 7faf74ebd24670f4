"""A suite written out (``export``), each host's failures judged into its expectations file, and
the suite run on every host the lab offers, kept (``measured``, for page 9)."""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..artifacts import adapters
from ..artifacts.cache import write_atomically
from ..artifacts.compose import compose
from ..artifacts.guests import CONFORMANCE
from ..model.errors import LabError
from ..model.markers import MARKER, marker_text
from ..runs import hosts
from ..runs.wasip1_hosts import P1_HOSTS
from .suite import CASES, CHECK_OF, OUTSIDE, P1_ONLY, Case, Outcome
from .suite_files import Test, run


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


# -- expectations: which tests each host fails, and the lab's judgement ------------------------------

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


def expect(suite: Path, host: str, affected: Iterable[str], stamp: str,
           tell: Callable[[Test, Outcome], None] | None = None) -> Path:
    """Run the suite on ``host`` and write what it failed, judged, as the host's expectations."""
    results = run(suite, host, tell=tell)
    verdicts = None
    if host in P1_HOSTS and host != "wasmtime-cli" and any(not o.passed for _, o in results):
        from .host_matrix import measured

        matrix = measured()
        verdicts = lambda check: matrix.cell(host, check).verdict  # noqa: E731
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
    for file in (Path(__file__), Path(__file__).with_name("suite.py"), Path(__file__).with_name("suite_files.py"),
                 CONFORMANCE.binary, Path(hosts.__file__)):
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
