"""What runs, sweeps and whole commands cost, each beside the baseline a user would pick
instead (the Wasmtime CLI, a new runner per run), measured in the same call.

Prints measured figures only; nothing here asserts a time.
"""
from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import wasmtime

from . import guests, hosts, live_lab, model, scan
from .adapters import all_builds, resolve
from .compose import compose
from .errors import LabError, first_line
from .hostdirs import make_host_dirs, run_root
from .cpus import usable_cpus
from .runner import Runner
from .scenarios import ordering, scheme_paths
from .sweeps import named_sweep
from .verdicts import REPORT_CASE
from .wasi import FIRST_FD


@dataclass(frozen=True)
class Timing:
    label: str
    runs: int
    median_ms: float
    p95_ms: float

    def line(self) -> str:
        return f"{self.label:<44} runs={self.runs:<5} median={self.median_ms:8.3f} ms  p95={self.p95_ms:8.3f} ms"


def _timing(label: str, samples: list[float]) -> Timing:
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]
    return Timing(label, len(samples), statistics.median(samples) * 1000, p95 * 1000)


def time_runs(adapter: str, runs: int = 500, baseline_runs: int = 500, guest: str = "opener") -> tuple[Timing, Timing]:
    """Median cost of one run with everything kept, and with a new runner each run (a new
    engine; compiled code loaded from the cache, as a new command or worker does)."""
    warm = Runner()
    warm.run(REPORT_CASE, guest=guest, adapter=adapter)  # fetch, compose, compile once
    reused = []
    for _ in range(runs):
        start = time.perf_counter()
        warm.run(REPORT_CASE, guest=guest, adapter=adapter)
        reused.append(time.perf_counter() - start)
    renewed = []
    for _ in range(baseline_runs):
        start = time.perf_counter()
        Runner().run(REPORT_CASE, guest=guest, adapter=adapter)
        renewed.append(time.perf_counter() - start)
    return _timing(f"{guest} via {adapter}, reused", reused), _timing(f"{guest} via {adapter}, new runner", renewed)


TEN_PREOPENS = ("/data", "/cache", "/tmp", "/home/user", "/a", "/bb", "/ccc", "/d/x", "/", "/srv")


def time_model(runs: int = 2000) -> list[Timing]:
    """The model's answer to a ten-preopen question, per behaviour."""
    timings = []
    for behavior in model.BEHAVIORS:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            model.predict(TEN_PREOPENS, behavior)
            samples.append(time.perf_counter() - start)
        timings.append(_timing(f"model predict, 10 preopens, {behavior}", samples))
    return timings


def time_explorer(adapter: str, changes: int = 300) -> Timing:
    """From a widget change to the redrawn output, driving the explorer's widgets."""
    from .widgets import Explorer  # ipywidgets, only when the explorer is timed

    explorer = Explorer(build=resolve(adapter).id)
    samples = []
    for i in range(changes):
        start = time.perf_counter()
        explorer.count.value = 2 + i % 10  # each change runs and redraws before returning
        samples.append(time.perf_counter() - start)
    return _timing(f"explorer change -> redraw, {adapter}", samples)


def time_orders(builds: tuple[str, ...]) -> tuple[int, float]:
    """All 5,040 orders of seven realistic directories through ``builds``: (runs, seconds)."""
    sweep = named_sweep("orders", builds)
    start = time.perf_counter()
    sweep.run(progress=False)
    return sweep.runs, time.perf_counter() - start


def time_command(args: list[str], repeat: int = 3) -> Timing:
    """A whole ``python -m analysis`` command as a user types it: start-up, runs, files, figures."""
    samples = []
    with tempfile.TemporaryDirectory(prefix="preopen-lab-bench-") as out:
        for _ in range(repeat):
            start = time.perf_counter()
            writes = args[0] in ("sweep", "report")  # into a scratch folder, not reports/
            done = subprocess.run([sys.executable, "-m", "analysis", *args, *(["--out", out] if writes else [])],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  preexec_fn=_every_cpu)  # this process is pinned; the command must not inherit it
            samples.append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                raise LabError(f"`python -m analysis {' '.join(args)}` failed (status {done.returncode}); run it alone")
    return _timing(f"python -m analysis {' '.join(args)}", samples)


def _every_cpu() -> None:
    os.sched_setaffinity(0, usable_cpus())


def time_wasmtime_cli(adapter: str, configs: int = 60) -> Timing:
    """The baseline a user would pick instead: the Wasmtime CLI, one process per configuration,
    on a precompiled component (``wasmtime compile``, ``run --allow-precompiled``), with the
    host directories made fresh for each, as the lab makes them. Orders of the seven
    realistic directories, as in the orders sweep."""
    cli = hosts.wasmtime_cli()
    component = compose(guests.get("opener").wasm(), resolve(adapter))
    orders = [s.paths for s in named_sweep("orders", (adapter,)).scenarios[:configs]]
    samples = []
    with tempfile.TemporaryDirectory(prefix="preopen-lab-bench-") as scratch:
        compiled = Path(scratch) / "opener.cwasm"
        subprocess.run([cli, "compile", str(component), "-o", str(compiled)], check=True, capture_output=True)
        for paths in orders:
            start = time.perf_counter()
            with run_root(lambda root: list(zip(make_host_dirs(root, paths), paths))) as (_, preopens):
                subprocess.run([cli, "run", "--allow-precompiled", "--argv0", "opener",
                                *(f"--dir={h}::{g}" for h, g in preopens), str(compiled), *paths],
                               check=True, capture_output=True)
            samples.append(time.perf_counter() - start)
    return _timing(f"wasmtime CLI, one process per configuration, {adapter}", samples)


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
            lines.append(_timing(f"scan in-process, {label} ({size})", samples).line())
            lines.append(time_command(["scan", str(component)], repeat=5).line())
    return lines


BROWSER_CHANGES = 36
"""Changes timed in the live lab: six rounds of count up, build, order, count down, build, order."""


@dataclass(frozen=True)
class Turn:
    """One change of the explorer's controls, and the configuration it leads to."""

    control: str
    """``count`` (one arrow key on the slider), ``adapter build`` or ``order``."""
    value: int | str
    count: int
    build: str
    order: str

    def paths(self) -> list[str]:
        names = scheme_paths("equal", self.count)
        return [names[i] for i in ordering(self.count, self.order)]


def browser_turns(build: str, other: str, changes: int = BROWSER_CHANGES) -> list[Turn]:
    """``changes`` turns from 5 equal names as given through ``build``, each unlike the one before."""
    round_ = [("count", +1), ("adapter build", other), ("order", "reversed"),
              ("count", -1), ("adapter build", build), ("order", "as given")]
    state = Turn("start", 0, 5, build, "as given")
    turns = []
    for i in range(changes):
        control, value = round_[i % len(round_)]
        field = {"count": "count", "adapter build": "build", "order": "order"}[control]
        state = replace(state, control=control, value=value,
                        **{field: state.count + value if control == "count" else value})
        turns.append(state)
    return turns


def browser_lines(adapter: str, changes: int = BROWSER_CHANGES) -> list[str]:
    """From a change in the browser to the page showing its run: notebook 3 in a private
    JupyterLab, run with Run All, its explorer turned ``changes`` times in Debian's chromium
    (the count by one arrow key on the slider, the build and the order by choosing), each
    timed in the page from the input event to the DOM mutation that shows the new run.
    Against it, the same changes made to an ``Explorer`` in this process: what the kernel,
    the comm round trip, the widget's debounce and the page add."""
    from . import verdicts
    from .describe import shown
    from .widgets import Explorer  # ipywidgets, only when the explorer is timed

    build = resolve(adapter).id
    other = next(b for b in verdicts.pick_builds() if b != build)
    turns = browser_turns(build, other, changes)
    with tempfile.TemporaryDirectory(prefix="preopen-lab-bench-") as folder, contextlib.ExitStack() as stack:
        with _children_on_every_cpu():  # this process is pinned; the lab and the browser must not be
            lab = stack.enter_context(live_lab.running_lab(Path(folder)))
            chrome = stack.enter_context(live_lab.browser())
        with live_lab.open_notebook(chrome, lab, "03_explorer.ipynb") as page:
            live_lab.run_all(page)
            explorer = live_lab.LiveExplorer(page)
            explorer.choose("adapter build", build)  # where the turns start: 5 names as given
            explorer.choose("order", "as given")
            explorer.set_count(5)
            samples = []
            for turn in turns:
                labels = [f"fd {FIRST_FD + i} · {shown(p)}" for i, p in enumerate(turn.paths())]
                ms = explorer.timed_change(lambda: _turn_live(explorer, turn), f"{turn.build}, measured", labels)
                samples.append(ms / 1000)
    local = Explorer(build=build, count=5)
    in_process = []
    for turn in turns:
        start = time.perf_counter()
        if turn.control == "count":
            local.count.value = turn.count
        else:
            (local.build if turn.control == "adapter build" else local.order).value = turn.value
        in_process.append(time.perf_counter() - start)  # each change runs and redraws before returning
    browser = _timing("explorer, chromium: change -> page shows it", samples)
    baseline = _timing("the same changes to an in-process Explorer", in_process)
    return [f"the live lab: notebook 3 in JupyterLab, its explorer turned {len(turns)} times in chromium between "
            f"{build} and {other} (count by one arrow key, build and order by choosing)",
            browser.line(), baseline.line(),
            f"in the browser / in-process (median): {browser.median_ms / baseline.median_ms:.1f}x "
            "(the kernel's widget debounce, the comm round trip and the page's redraw)"]


def _turn_live(explorer: live_lab.LiveExplorer, turn: Turn) -> None:
    if turn.control == "count":
        explorer.nudge_count(int(turn.value))
    else:
        explorer.choose(turn.control, str(turn.value))


@contextlib.contextmanager
def _children_on_every_cpu() -> Iterator[None]:
    """Processes started in the block may use every CPU, whatever this one is pinned to."""
    pinned = os.sched_getaffinity(0)
    os.sched_setaffinity(0, usable_cpus())
    try:
        yield
    finally:
        os.sched_setaffinity(0, pinned)


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
                    peak = _peak_of_tree(child)
                seconds = time.perf_counter() - start
                said = _said(out.read_text(), err.read_text())
                rows.append((path.stem, via, said, f"{seconds:.1f}", f"{peak / 2**20:.0f}"))
    return rows


def _peak_of_tree(child: subprocess.Popen) -> int:
    """The largest peak resident memory (``VmHWM``) of ``child`` and every process under it,
    the guest's own process included, read from /proc every 5 ms until ``child`` ends."""
    peaks: dict[int, int] = {}
    while child.poll() is None:
        frontier = [child.pid]
        while frontier:
            pid = frontier.pop()
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                kids = [int(k) for t in Path(f"/proc/{pid}/task").iterdir()
                        for k in (t / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            hwm = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM")), 0)
            peaks[pid] = max(peaks.get(pid, 0), hwm)
            frontier += kids
        time.sleep(0.005)
    return max(peaks.values(), default=0)


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


def main(adapter: str, runs: int, baseline_runs: int, every_build: bool = True) -> None:
    reused, fresh = time_runs(adapter, runs, baseline_runs)
    print(f"in-process cost of one run: {len(REPORT_CASE)} preopens, guest opener, adapter {adapter}")
    print(reused.line())
    print(fresh.line())
    print(f"new runner / reused (median): {fresh.median_ms / reused.median_ms:.1f}x")
    print("the model, no WebAssembly:")
    for timing in time_model():
        print(timing.line())
    print("the explorer (widgets driven in-process, no browser):")
    print(time_explorer(adapter).line())
    count, seconds = time_orders((adapter,))
    print(f"all orders of 7 directories through {adapter}: {count} runs in {seconds:.1f} s "
          f"({count / seconds:.0f} runs/s), inside one process")
    print("whole commands, as a user types them (median of 3), against the Wasmtime CLI:")
    whole = time_command(["sweep", "orders", "--builds", adapter])
    print(whole.line())
    cli = time_wasmtime_cli(adapter)
    print(cli.line())
    cli_total = cli.median_ms * count / 1000
    print(f"the same {count} configurations on the CLI: {cli_total:.1f} s projected from its median; "
          f"the lab's whole command is {cli_total / (whole.median_ms / 1000):.1f}x its throughput")
    for args in (["verdicts"], ["check-model", "--configs", "200"]):
        print(time_command(args).line())
    if every_build:
        builds = all_builds()
        count, seconds = time_orders(builds)
        print(f"the same through native and all {len(builds) - 1} catalogued builds: {count} runs in "
              f"{seconds:.1f} s ({count / seconds:.0f} runs/s)")
