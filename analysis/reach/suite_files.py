"""A suite folder as ``suite_export`` writes it, read test by test (each JSON checked against the
spec and the lab's limits before anything runs) and run on one host, each test in its own
confined process."""
from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..artifacts import adapters
from ..artifacts.cache import read_regular
from ..artifacts.compose import compose
from ..artifacts.guests import CONFORMANCE, GUEST_MAX_BYTES
from ..model.describe import shown
from ..model.errors import LabError, first_line
from ..runs import hosts
from ..runs.wasip1_hosts import P1_HOSTS
from .suite import MAX_ARG_BYTES, MAX_PREOPENS, P1_KEEPS_IN, PLAIN_NAME, Outcome, run_on


# -- reading a suite -----------------------------------------------------------------


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
    if not (PLAIN_NAME.fullmatch(spec.stem) and PLAIN_NAME.fullmatch(group)):
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
        if not own and host not in (hosts.KEEPS_IN if is_component else P1_KEEPS_IN):
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
