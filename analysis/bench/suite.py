"""What runs, sweeps and whole commands cost, each beside the baseline a user would pick
instead (the Wasmtime CLI, a new runner per run), measured in the same call: ``bench``
without a flag.
"""
from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from ..artifacts import guests
from ..artifacts.adapters import all_builds, resolve
from ..artifacts.compose import compose
from ..experiments.sweeps import named_sweep
from ..experiments.verdicts import REPORT_CASE
from ..model import chain
from ..runs import hosts
from ..runs.hostdirs import make_host_dirs, run_root
from ..runs.runner import Runner
from .timing import Timing, time_command, timing


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
    return timing(f"{guest} via {adapter}, reused", reused), timing(f"{guest} via {adapter}, new runner", renewed)


TEN_PREOPENS = ("/data", "/cache", "/tmp", "/home/user", "/a", "/bb", "/ccc", "/d/x", "/", "/srv")


def time_model(runs: int = 2000) -> list[Timing]:
    """The model's answer to a ten-preopen question, per behaviour."""
    timings = []
    for behavior in chain.BEHAVIORS:
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            chain.predict(TEN_PREOPENS, behavior)
            samples.append(time.perf_counter() - start)
        timings.append(timing(f"model predict, 10 preopens, {behavior}", samples))
    return timings


def time_explorer(adapter: str, changes: int = 300) -> Timing:
    """From a widget change to the redrawn output, driving the explorer's widgets."""
    from ..show.widgets import Explorer  # ipywidgets, only when the explorer is timed

    explorer = Explorer(build=resolve(adapter).id)
    samples = []
    for i in range(changes):
        start = time.perf_counter()
        explorer.count.value = 2 + i % 10  # each change runs and redraws before returning
        samples.append(time.perf_counter() - start)
    return timing(f"explorer change -> redraw, {adapter}", samples)


def time_orders(builds: tuple[str, ...]) -> tuple[int, float]:
    """All 5,040 orders of seven realistic directories through ``builds``: (runs, seconds)."""
    sweep = named_sweep("orders", builds)
    start = time.perf_counter()
    sweep.run(progress=False)
    return sweep.runs, time.perf_counter() - start


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
    return timing(f"wasmtime CLI, one process per configuration, {adapter}", samples)


def main(adapter: str, runs: int, baseline_runs: int, every_build: bool = True) -> None:
    reused, fresh = time_runs(adapter, runs, baseline_runs)
    print(f"in-process cost of one run: {len(REPORT_CASE)} preopens, guest opener, adapter {adapter}")
    print(reused.line())
    print(fresh.line())
    print(f"new runner / reused (median): {fresh.median_ms / reused.median_ms:.1f}x")
    print("the model, no WebAssembly:")
    for figure in time_model():
        print(figure.line())
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
