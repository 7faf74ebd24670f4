"""What the lab costs on files other people made: ``scan`` on a small and a large
component (``bench --scan``), and each hostile guest run and each hostile adapter scanned
as a user would (``bench --hostile``).
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
from ..model.errors import first_line, last_line
from ..reach import scan
from . import hostile
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
            lines.append(timing(f"scan_file from Python, a child each, {label} ({size})", samples).line())
            lines.append(time_command(["scan", str(component)], repeat=5).line())
    return lines


def hostile_rows(adapter: str) -> list[tuple[str, ...]]:
    """Each hostile guest (``guests/hostile``) run as a user would run it, natively and
    through ``adapter``, then each hostile adapter (``bench.hostile``) scanned: what the
    command said, its exit status, its wall-clock time, and the peak memory of the largest
    process it took (the lab, or the child the file's code ran in)."""
    rows = [("file", "command", "what it said", "status", "wall s", "peak MiB")]
    with tempfile.TemporaryDirectory(prefix="preopen-lab-bench-") as folder:
        runs = [(path.stem, guests.hostile(path.stem, Path(folder)).binary)
                for path in sorted(guests.HOSTILE_DIR.glob("*.wat"))]
        runs.append(("slow-to-compile", hostile.slow_guest(Path(folder))))
        for name, binary in runs:
            for via in ("native", adapter):
                through = ["--adapter", via] if via != "native" else []
                rows.append((name, f"run {via}", *_measured(["run", "--guest", str(binary), *through, "--json", "/a"],
                                                            Path(folder))))
        for name, path in hostile.adapters(Path(folder)).items():
            rows.append((name, "scan", *_measured(["scan", str(path)], Path(folder))))
    return rows


def _measured(args: list[str], folder: Path) -> tuple[str, str, str, str]:
    """``python -m analysis ARGS`` as a user types it: what it said, status, seconds, peak MiB."""
    out, err = folder / "out", folder / "err"
    start = time.perf_counter()
    with open(out, "w") as stdout, open(err, "w") as stderr:
        child = subprocess.Popen([sys.executable, "-m", "analysis", *args], stdout=stdout, stderr=stderr)
        peak = peak_of_tree(child)
    seconds = time.perf_counter() - start
    said = _said(out.read_text(), err.read_text()) if args[0] == "run" else _scan_said(out.read_text(),
                                                                                      err.read_text())
    return said, str(child.returncode), f"{seconds:.1f}", f"{peak / 2**20:.0f}"


def _scan_said(out: str, err: str) -> str:
    """The reason a scan gives (its last line), or its error."""
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    return lines[-1][:90] if lines else first_line(err.removeprefix("error: "), "no output")[:90]


def _said(out: str, err: str) -> str:
    try:
        result = json.loads(out)
    except ValueError:
        return first_line(err.removeprefix("error: "), "no output")[:70]
    trap = last_line(result.get("trap") or "", "")
    outcome = ", ".join(sorted(set(p["outcome"] for p in result["preopens"])))
    if result.get("exit_code"):
        outcome += f" (exit status {result['exit_code']})"
    return f"{outcome}: {trap[:60]}" if trap else outcome
