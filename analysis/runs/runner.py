"""Run a guest against an ordered list of preopens, natively or through an adapter build.

Every preopen gets its own fresh host directory (see ``hostdirs`` and ``model.markers``) whose MARKER file
names it, so whatever the guest reads proves which directory served it.

The lab's own guests run in this process: the engine, compiled modules and components
are kept by the ``Runner`` and reused, and each run gets a fresh store and a temporary
root that is removed afterwards, whatever happened. A guest of your own runs the same
way inside a child process (``contained``), which the lab can stop whatever the guest
does. What the guest printed is read into a ``RunResult`` by ``guest_output``.
"""
from __future__ import annotations

import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path

import wasmtime
from wasmtime import component as wc

from ..artifacts import adapters, guests
from ..artifacts.adapters import AdapterBuild
from ..artifacts.compose import compose
from ..artifacts.guests import Guest
from ..model.errors import LabError
from ..model.results import NATIVE, OUTPUT_LIMIT_HIT, STOPPED, RunResult
from ..model.wasi import check_paths, encode
from . import bounds, contained, hosts, wasip1_hosts
from .cpus import PIN_VARIABLE, pin_to_cpu
from .guest_output import Execution, interpret
from .hostdirs import KeptDirs, free_bytes, make_host_dirs, run_root
from .programs import Program, component_start, core_start, direct_start

MEMORY_LIMIT = 1 << 30
"""Bytes any one linear memory of a run may grow to; a guest asking for more is refused
(``memory.grow`` answers -1), as it would be on a host with less memory."""
TABLE_LIMIT = 1_000_000
"""Elements any one table may grow to (10^9 would ask for 8 GB)."""
DEADLINE = 10.0
"""Wall-clock seconds a run may take. Fuel counts instructions, so a guest that loops on
host calls (``sched_yield``, ``random_get``) burns little of it; the deadline stops it
too, as a ``timeout``. It is checked whenever the guest runs WebAssembly; a guest of
your own asleep inside one host call is stopped by its process being killed (``contained``)."""
FULL_DISK = 1 << 20
"""Bytes free below which the folder of a run's output counts as full: a write may have failed."""
TICK = 0.05
"""How often the engine's epoch advances (seconds): the deadline's resolution."""
DEFAULT_FUEL = 2_000_000_000
"""Instructions' worth of wasmtime fuel a run may use, before ``FUEL_PER_NAME_BYTE``: about a
second of a tight loop here. A guest that burns it is a ``timeout``, not a hung kernel."""
FUEL_PER_NAME_BYTE = 256
"""Fuel added per byte of the arguments, per argument: the opener routes each of n paths against
n names and prints every byte as hex, so its work grows as n times the bytes. 124 names of 4,084
bytes (the largest list inside a claim's domain) need about 4 × 10⁹ natively, measured by
bisection; a reader found 2 × 10⁹ running out at 124 names of 3,000 bytes. This gives 8 times
what that list needs."""


def fuel_for(base: int, argv: Sequence[str]) -> int:
    """``base`` plus ``FUEL_PER_NAME_BYTE`` for each byte of each argument, times their number."""
    return base + FUEL_PER_NAME_BYTE * len(argv) * sum(len(encode(a)) for a in argv)


class Runner:
    """Keeps one engine and everything compiled for it, so runs cost instantiation only."""

    def __init__(self, fuel: int = DEFAULT_FUEL, deadline: float = DEADLINE,
                 output_limit: int | None = None, compact: bool = False) -> None:
        config = contained.compact(wasmtime.Config(), MEMORY_LIMIT) if compact else wasmtime.Config()
        config.consume_fuel = True
        config.epoch_interruption = True
        config.wasm_memory64 = False  # every guest here is wasm32; a 64-bit memory is refused, not run
        self.fuel = fuel
        self.deadline = deadline
        self.output_limit = output_limit
        """Set inside a contained run (where the child cannot write more): past it, a run's
        output was cut short, and the run says so. ``compact``: each memory reserves only
        ``MEMORY_LIMIT`` (never moved, never copied as it grows), to fit under a contained
        child's address-space cap."""
        self.engine = wasmtime.Engine(config)
        threading.Thread(target=_tick, args=(weakref.ref(self.engine),), name="preopen-lab-epoch",
                         daemon=True).start()
        self._core_linker = wasmtime.Linker(self.engine)
        self._core_linker.define_wasi()
        self._component_linker = wc.Linker(self.engine)
        self._component_linker.add_wasip2()
        self._programs: dict[tuple[Guest, str], Program] = {}
        self._kept = KeptDirs()

    def close(self) -> None:
        """Remove what the runner keeps on disk (its read-only preopen folders) now."""
        self._kept.remove()

    # -- preparing ----------------------------------------------------------------

    def program(self, guest: Guest, adapter: str | AdapterBuild = NATIVE) -> Program:
        build = _resolve(adapter)
        key = (guest, build.sha256 if build else NATIVE)
        if guest.is_component and build is not None:
            raise LabError(f"the {guest.name} guest is a component that asks the WASIp2 host itself: it takes "
                           "no adapter; run it without --adapter")
        if key not in self._programs:
            if guest.is_component:
                self._programs[key] = Program(direct_start(self.engine, self._component_linker, guest.wasm()), None)
            elif build is None:
                self._programs[key] = Program(core_start(self.engine, self._core_linker, guest.wasm()), None)
            else:
                start = component_start(self.engine, self._component_linker, guest.wasm(), build)
                self._programs[key] = Program(start, build)
        return self._programs[key]

    # -- running ------------------------------------------------------------------

    def run(
        self,
        paths: Sequence[str],
        *,
        guest: str | Guest = "opener",
        adapter: str | AdapterBuild = NATIVE,
        host: str = "wasmtime-py",
    ) -> RunResult:
        """Run ``guest`` with one preopen per entry of ``paths``, in that order.

        ``guest`` is a name from ``guests.GUESTS`` or a ``Guest`` (say, a fresh build).
        ``host`` is one of ``hosts.HOSTS``: in this process (``wasmtime-py``, the default),
        or the same program under the Wasmtime CLI or node.
        """
        paths = check_paths(paths)
        spec = guest if isinstance(guest, Guest) else guests.get(guest)

        def populate(root: Path) -> list[tuple[str, str]]:
            return list(zip(make_host_dirs(root, paths), paths))

        argv = [spec.name, *paths]
        if hosts.check_host(host) == "wasmtime-py" and not spec.reads_only and self.output_limit is None:
            return self._contained(paths, spec, adapter)
        if host == "wasmtime-py" and spec.reads_only:
            program = self.program(spec, adapter)
            build, done = program.build, self._instantiate(program, argv, self._kept.preopens(paths),
                                                           self._kept.io, writable=False)
        elif host == "wasmtime-py":
            program = self.program(spec, adapter)
            build, done = program.build, self.execute(program, argv, populate)
        elif spec.is_component:
            raise LabError(f"the {spec.name} guest runs in this process only: leave out --host")
        else:
            build = _resolve(adapter)
            wasm = compose(spec.wasm(), build) if build else spec.wasm()
            done = hosts.execute(host, wasm, build is not None, argv, populate, fuel_for(self.fuel, argv),
                                 own=spec.reads_only,
                                 deadline=self.deadline + contained.GRACE)
            if build is None:  # a core module on a WASIp1 host (the Wasmtime CLI runs both)
                return wasip1_hosts.as_given(host, interpret(spec, paths, done, NATIVE, None, host))
        return interpret(spec, paths, done, build.id if build else NATIVE, build.sha256 if build else None, host)

    def _contained(self, paths: tuple[str, ...], spec: Guest, adapter: str | AdapterBuild) -> RunResult:
        """A guest of your own, in a child process with its own runner (see ``contained``)."""
        build = _resolve(adapter)
        if build is not None and not spec.is_component:
            compose(spec.wasm(), build)  # here, so the child's clock starts at the run, not at wasm-tools
        seconds = self.deadline + contained.GRACE
        ended = contained.call(_run_alone, (paths, spec, build, self.fuel, self.deadline), seconds)
        if ended.value is not None:
            return ended.value
        if ended.bound is not None:
            trap = ended.bound
        elif ended.stopped:
            trap = (f"{STOPPED} after {seconds:g} s: still running, compiling or asleep in a host call, where "
                    f"its deadline ({self.deadline:g} s of running WebAssembly) cannot reach it")
        else:
            trap = f"the process running the guest died ({ended.died})"
        done = Execution(b"", b"", None, trap)
        return interpret(spec, paths, done, build.id if build else NATIVE, build.sha256 if build else None,
                         "wasmtime-py")

    def execute(self, program: Program, argv: Sequence[str],
                populate: Callable[[Path], list[tuple[str, str]]]) -> Execution:
        """One instantiation in a fresh store, inside a temporary root that is always removed.

        ``populate(root)`` creates the host directories and returns (host dir, guest path)
        pairs, preopened in that order.
        """
        with run_root(populate) as (root, preopens):
            done = self._instantiate(program, argv, preopens, root, writable=True)
            bound = bounds.over("the guest", None, str(root)) if self.output_limit is not None else None
            # a guest of yours that finished between two of the parent's looks still went past the bound
            return Execution(done.stdout, done.stderr, None, bound) if bound else done

    def _instantiate(self, program: Program, argv: Sequence[str], preopens: list[tuple[str, str]], io: Path,
                     writable: bool) -> Execution:
        wasi = wasmtime.WasiConfig()
        wasi.argv = list(argv)
        for host_dir, guest_path in preopens:
            wasi.preopen_dir(str(host_dir), guest_path, fs_mutable=writable)
        # Files, not stdout_custom/stderr_custom: wasmtime-py 50 can call a custom
        # callback from a runtime thread after a trap, which aborts the process.
        stdout_file, stderr_file = os.path.join(io, "stdout"), os.path.join(io, "stderr")
        wasi.stdout_file = stdout_file
        wasi.stderr_file = stderr_file
        store = wasmtime.Store(self.engine)
        store.set_fuel(fuel_for(self.fuel, argv))
        store.set_epoch_deadline(max(1, round(self.deadline / TICK)))
        store.set_limits(memory_size=MEMORY_LIMIT, table_elements=TABLE_LIMIT)
        store.set_wasi(wasi)
        trap, answered = None, b""
        try:
            exit_code, answered = program.start(store)
        except wasmtime.ExitTrap as exc:
            exit_code = _exit_code(exc)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            exit_code, trap = None, str(exc)
        del store, wasi
        stdout, stderr = _read(stdout_file) + answered, _read(stderr_file)
        if free_bytes(io) < FULL_DISK:
            raise LabError(f"the folder holding this run's output ({io.parent}) is full, so what the guest "
                           "printed may be cut short and nothing is reported: free space there, or set "
                           "TMPDIR to a folder with room")
        if self.output_limit is not None and max(len(stdout), len(stderr)) >= self.output_limit and trap is None:
            trap = (f"{OUTPUT_LIMIT_HIT}: the guest wrote {self.output_limit:,} bytes to one file, the most "
                    "a run keeps; what it wrote after that was lost")
        return Execution(stdout, stderr, exit_code, trap)


def _run_alone(paths: tuple[str, ...], spec: Guest, build: AdapterBuild | None, fuel: int,
               deadline: float) -> RunResult:
    """A contained run, in the child: compile, then cap every file it writes, then run."""
    runner = Runner(fuel, deadline, output_limit=contained.OUTPUT_LIMIT, compact=True)
    runner.program(spec, build or NATIVE)
    contained.limit_file_size()
    return runner.run(paths, guest=spec, adapter=build or NATIVE)


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _tick(engine: weakref.ref) -> None:
    """Advance the engine's epoch every ``TICK`` for as long as the engine lives."""
    while (alive := engine()) is not None:
        alive.increment_epoch()
        del alive
        time.sleep(TICK)


def _resolve(adapter: str | AdapterBuild | None) -> AdapterBuild | None:
    if adapter is None or adapter == NATIVE:
        return None
    if isinstance(adapter, AdapterBuild):
        return adapter
    return adapters.resolve(adapter)


def _exit_code(exc: wasmtime.ExitTrap) -> int | None:
    code = getattr(exc, "code", None)
    if code is not None:
        return code
    match = re.search(r"exit status (\d+)", str(exc))
    return int(match.group(1)) if match else None


_default: Runner | None = None


def default_runner() -> Runner:
    """One shared runner per process, so notebooks and the CLI reuse compiled code.

    With ``PREOPEN_LAB_CPU`` set, the calling thread is pinned first (``pin_to_cpu``)."""
    global _default
    if _default is None:
        choice = os.environ.get(PIN_VARIABLE)
        if choice:
            pin_to_cpu(None if choice == "current" else int(choice))
        _default = Runner()
    return _default


def run(paths: Sequence[str], *, guest: str | Guest = "opener", adapter: str | AdapterBuild = NATIVE,
        host: str = "wasmtime-py") -> RunResult:
    """Run one configuration with the shared runner; see ``Runner.run``."""
    return default_runner().run(paths, guest=guest, adapter=adapter, host=host)


__all__ = ["Runner", "run", "default_runner"]
