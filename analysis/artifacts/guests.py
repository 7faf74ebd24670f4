"""The guest programs: WASIp1 core modules that report what they see of their preopens,
and one component that asks the WASIp2 host directly.

``probe`` and ``direct`` are WAT, compiled at run time, as is ``CONFINE``, which tries to
create files outside its preopen (the WASIp1 hosts' matrix runs it; ``run`` does not).
``walker`` is WAT too. ``opener`` (C on wasi-libc), ``keeper`` (the opener keeping its files
open) and ``rust-open`` (Rust std) are committed as built ``.wasm``
files next to their sources; ``build`` rebuilds them with the toolchains named in
``guests/README.md``.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import wasmtime

from ..model.errors import LabError, first_line
from .cache import PROJECT_ROOT, read_regular, sha256_bytes
from .inside import core_modules

GUESTS_DIR = PROJECT_ROOT / "guests"
Protocol = Literal["opener", "probe", "walker", "text", "direct", "escape"]


@dataclass(frozen=True)
class Guest:
    name: str
    language: str
    source: Path
    binary: Path | None
    """The committed build; None for WAT, which is compiled from ``source`` when used."""
    description: str
    protocol: Protocol
    """How its output reads: ``opener``, ``probe`` and ``walker`` JSON lines, ``text`` (rust-open), or
    ``direct``: a component whose ``get-directories`` export returns the host's list; ``escape``:
    ``CONFINE``'s JSON lines, one per attempt to create a file (``reach.host_checks`` reads them)."""

    reads_only: bool = True
    """The lab's own guests only read their preopens, so runs may share read-only trees;
    a guest of your own gets fresh, writable directories every run."""
    sha256: str | None = None
    """For a guest of your own, the bytes it was read with: a file rebuilt at the same path
    is a different guest, so no process keeps running its old bytes."""

    @property
    def is_component(self) -> bool:
        """True for ``direct``, which needs no adapter; the others are WASIp1 core modules."""
        return self.protocol == "direct"

    def wasm(self) -> bytes:
        """The guest's WebAssembly: a WASIp1 core module, or for ``direct`` a component."""
        return _wasm(self)


GUESTS: dict[str, Guest] = {
    "opener": Guest(
        name="opener",
        language="C (wasi-libc)",
        source=GUESTS_DIR / "opener" / "opener.c",
        binary=GUESTS_DIR / "opener" / "opener.wasm",
        description="lists its preopens, then routes and opens <path>/MARKER for each argument",
        protocol="opener",
    ),
    "probe": Guest(
        name="probe",
        language="WAT",
        source=GUESTS_DIR / "probe" / "probe.wat",
        binary=None,
        description="raw fd_prestat_get / fd_prestat_dir_name for fd 3, 4, ... until an error",
        protocol="probe",
    ),
    "direct": Guest(
        name="direct",
        language="component WAT",
        source=GUESTS_DIR / "direct" / "direct.wat",
        binary=None,
        description="a component, no adapter: the WASIp2 host's own get-directories list, as it arrives",
        protocol="direct",
    ),
    "walker": Guest(
        name="walker",
        language="WAT",
        source=GUESTS_DIR / "walker" / "walker.wat",
        binary=None,
        description="asks every fd from 3 to 133, past any error, and opens MARKER through each fd itself",
        protocol="walker",
    ),
    "keeper": Guest(
        name="keeper",
        language="C (wasi-libc)",
        source=GUESTS_DIR / "opener" / "opener.c",
        binary=GUESTS_DIR / "keeper" / "keeper.wasm",
        description="the opener built with -DKEEP_OPEN: each file it opens stays open until it exits",
        protocol="opener",
    ),
    "rust-open": Guest(
        name="rust-open",
        language="Rust (std)",
        source=GUESTS_DIR / "rust-open" / "main.rs",
        binary=GUESTS_DIR / "rust-open" / "rust-open.wasm",
        description="reads <path>/MARKER with std::fs and prints std's own error text",
        protocol="text",
    ),
}

CONFINE = Guest(
    name="confine",
    language="WAT",
    source=GUESTS_DIR / "confine" / "confine.wat",
    binary=None,
    description="creates a file from fd 3 four ways: inside the preopen (the control), through `../`, at an "
                "absolute path given as argv[1], and through a symlink to `..` it makes itself",
    protocol="escape",
    reads_only=False,
)
"""Not in ``GUESTS``: it needs an absolute path under the run's root in its argv, which
``run`` cannot give, and what it did is read from the disk, not from its output alone
(``reach.host_checks.confinement``)."""


CONFORMANCE = Guest(
    name="conformance",
    language="C (wasi-libc)",
    source=GUESTS_DIR / "conformance" / "conformance.c",
    binary=GUESTS_DIR / "conformance" / "conformance.wasm",
    description="checks itself: each fd's prestat and name against the names in its arguments, MARKER through "
                "each fd and by each name's path; one line per failed expectation, exit 0 only if all hold",
    protocol="text",
)
"""Not in ``GUESTS``: it says pass or fail by its exit status, as wasi-testsuite's tests do, and
is run by the exported suite (``reach.suite``), not read by the lab's protocols."""


HOSTILE_DIR = GUESTS_DIR / "hostile"
"""Guests that fight back (asleep in a host call, printing without end, asking for
gigabytes), as WAT: for the tests and ``python -m analysis bench --hostile``."""


REACTOR_SOURCE = GUESTS_DIR / "reactor" / "reactor.wat"


def reactor_module() -> bytes:
    """A WASIp1 library (no ``_start``) that calls the preopen functions: composed with a
    reactor adapter, the shape of component that library toolchains ship."""
    return wasmtime.wat2wasm(REACTOR_SOURCE.read_text())


def hostile(name: str, folder: Path) -> Guest:
    """``guests/hostile/<name>.wat`` as a guest of your own: built into ``folder`` and read
    from there, exactly as a user's file would be."""
    path = folder / f"{name}.wasm"
    path.write_bytes(wasmtime.wat2wasm((HOSTILE_DIR / f"{name}.wat").read_text()))
    return from_file(path)


def get(name: str) -> Guest:
    """A built-in guest by name, or a WASIp1 core module from a ``.wasm`` file."""
    if name in GUESTS:
        return GUESTS[name]
    if name.endswith(".wasm") or "/" in name:
        return from_file(Path(name))
    raise LabError(f"unknown guest {name!r}: choose one of {', '.join(GUESTS)}, or give a .wasm file")


_CORE_VERSION = b"\x01\x00\x00\x00"
GUEST_MAX_BYTES = 64 * 1024 * 1024
"""The largest guest file the lab reads (the lab's own are under 200 KB)."""


def from_file(path: Path) -> Guest:
    """Your own WASIp1 program as a guest. Its stdout is read with the opener's protocol
    (JSON lines), so a program that prints nothing of it reports no preopen as reached."""
    try:
        if not path.is_file():  # a FIFO or a device (/dev/zero) would block or never end
            raise LabError(f"{path} is not a regular file: give a WASIp1 core module (.wasm)")
        if path.stat().st_size > GUEST_MAX_BYTES:
            raise LabError(f"{path} is {path.stat().st_size:,} bytes, more than a guest may be "
                           f"({GUEST_MAX_BYTES:,}): give a WASIp1 core module")
        data = read_regular(path, GUEST_MAX_BYTES)  # never waits: a /proc file that would block is refused
    except OSError as exc:
        raise LabError(f"cannot read guest file {path}: {exc.strerror or exc}") from None
    if data[:4] != b"\0asm":
        raise LabError(f"{path} is not a WebAssembly module or component: give a WASIp1 core module (.wasm)")
    if data[4:8] != _CORE_VERSION:
        raise LabError(f"{path} is a component, not a core module: give the WASIp1 core module; "
                       "the lab composes it with each adapter build itself")
    config = wasmtime.Config()
    config.wasm_memory64 = False  # as the runner's engine: wasm32 only
    try:  # validated here, compiled only in the child that runs it (a module can take minutes to compile)
        wasmtime.Module.validate(wasmtime.Engine(config), data)
        exports = core_modules(data)[0].exports
    except (wasmtime.WasmtimeError, LabError) as exc:
        raise LabError(f"{path} is not a valid WebAssembly module ({first_line(exc, 'invalid')}): "
                       "check how it was built") from None
    if ("_start", "func") not in exports:
        raise LabError(f"{path} has no _start function to run: build it as a WASIp1 command (a program with main)")
    return Guest(path.stem, "your own .wasm", path, path, f"core module from {path}", "opener", reads_only=False,
                 sha256=sha256_bytes(data))


@lru_cache(maxsize=None)
def _wasm(guest: Guest) -> bytes:
    if guest.binary is None:
        return wasmtime.wat2wasm(guest.source.read_text())
    if not guest.binary.is_file():
        raise LabError(f"{guest.binary} is missing: run `make guests` to rebuild it")
    try:
        data = read_regular(guest.binary, GUEST_MAX_BYTES)
    except OSError as exc:
        raise LabError(f"cannot read guest file {guest.binary}: {exc.strerror or exc}") from None
    if guest.sha256 is not None and sha256_bytes(data) != guest.sha256:
        raise LabError(f"{guest.binary} changed after it was read: give it again (--guest) to run the new build")
    return data


# -- building ---------------------------------------------------------------------


def build(name: str, out: Path | None = None) -> Path:
    """Rebuild a compiled guest from its source; ``out`` defaults to the committed path."""
    guest = CONFORMANCE if name == "conformance" else get(name)
    if guest.binary is None:
        raise LabError(f"guest {name!r} is WAT and is compiled when used; nothing to build")
    out = out or guest.binary
    out.parent.mkdir(parents=True, exist_ok=True)
    if guest.language.startswith("C "):
        command = [sys.executable, "-m", "ziglang", "cc", "-target", "wasm32-wasi", "-O2", "-s",
                   *(["-DKEEP_OPEN"] if name == "keeper" else []), str(guest.source), "-o", str(out)]
    else:
        rustc = _debian_rustc()
        command = [rustc, "--target", "wasm32-wasi", "-O", "-C", "strip=symbols",
                   str(guest.source), "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise LabError(f"building guest {name!r} failed: {first_line(done.stderr)}")
    return out


def _debian_rustc() -> str:
    """Debian's rustc, whose wasm32-wasi std comes from ``libstd-rust-dev-wasm32``."""
    for candidate in ("/usr/bin/rustc", shutil.which("rustc")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise LabError(
        "rustc was not found: `make guests` installs Debian's rustc and "
        "libstd-rust-dev-wasm32 (apt-get install rustc libstd-rust-dev-wasm32)"
    )
