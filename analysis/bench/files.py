"""What the lab costs on files other people made: ``scan`` on a small and a large
component (``bench --scan``), and each hostile guest run as a user would run it
(``bench --hostile``).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import wasmtime

from ..artifacts import guests
from ..artifacts.adapters import resolve
from ..artifacts.compose import compose
from ..model.errors import first_line
from ..reach import scan
from .timing import peak_of_tree, time_command, timing


def scan_lines(adapter: str, repeat: int = 20) -> list[str]:
    """``scan`` on a component of about 130 KB (rust-open through ``adapter``) and on one of
    about 10 MB (a guest carrying a 10 MB data segment): in-process, and as a whole command."""
    lines = []
    with tempfile.TemporaryDirectory(prefix="preopen-lab-bench-") as folder:
        big = Path(folder) / "big.wasm"
        big.write_bytes(wasmtime.wat2wasm(
            '(module (import "wasi_snapshot_preview1" "fd_prestat_get" (func (param i32 i32) (result i32)))'
            ' (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func (param i32 i32 i32) (result i32)))'
            f' (memory (export "memory") 200) (data (i32.const 0) "{"x" * (10 << 20)}") (func (export "_start")))'))
        for label, core in (("rust-open", guests.get("rust-open").wasm()), ("10 MB data", big.read_bytes())):
            component = compose(core, resolve(adapter))
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                scan.scan_file(component)
                samples.append(time.perf_counter() - start)
            size = f"{component.stat().st_size / 1024:,.0f} KB"
            lines.append(timing(f"scan in-process, {label} ({size})", samples).line())
            lines.append(time_command(["scan", str(component)], repeat=5).line())
    return lines


def hostile_rows(adapter: str) -> list[tuple[str, ...]]:
    """Each hostile guest (``guests/hostile``) run as a user would run it, natively and
    through ``adapter``: what the run said, its wall-clock time, and the peak memory of
    the largest process it took (the lab, or the child the guest ran in)."""
    rows = [("guest", "through", "what the run said", "wall s", "peak MiB")]
    with tempfile.TemporaryDirectory(prefix="preopen-lab-bench-") as folder:
        for path in sorted(guests.HOSTILE_DIR.glob("*.wat")):
            guest = guests.hostile(path.stem, Path(folder))
            for via in ("native", adapter):
                out, err = Path(folder) / "out", Path(folder) / "err"
                start = time.perf_counter()
                with open(out, "w") as stdout, open(err, "w") as stderr:
                    child = subprocess.Popen([sys.executable, "-m", "analysis", "run", "--guest", str(guest.binary),
                                              *(["--adapter", via] if via != "native" else []), "--json", "/a"],
                                             stdout=stdout, stderr=stderr)
                    peak = peak_of_tree(child)
                seconds = time.perf_counter() - start
                said = _said(out.read_text(), err.read_text())
                rows.append((path.stem, via, said, f"{seconds:.1f}", f"{peak / 2**20:.0f}"))
    return rows


def _said(out: str, err: str) -> str:
    try:
        result = json.loads(out)
    except ValueError:
        return first_line(err.removeprefix("error: "), "no output")[:70]
    trap = (result.get("trap") or "").strip().splitlines()[-1:] or [""]
    trap = trap[0].strip()
    outcome = ", ".join(sorted(set(p["outcome"] for p in result["preopens"])))
    if result.get("exit_code"):
        outcome += f" (exit status {result['exit_code']})"
    return f"{outcome}: {trap[:60]}" if trap else outcome
