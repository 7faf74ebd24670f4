"""Page 7's scanner: ``scan`` of the reader's own file, in the reader's browser.

A JavaScript port of ``scan``: ``live/reading.js`` reads a component as ``artifacts.inside``
does; ``live/scanner.js`` runs each preview1 adapter's own code in a Web Worker with the WASIp2
imports served as ``reach.adapter_host`` serves them, and judges as ``reach.scan`` judges, for
the same three preopen lists. Its constants are not written twice: ``constants()`` takes them from the
Python modules, and the report build writes them beside the script (``scan-constants.js``).
``live/scanbox.js`` is the page's drop zone: what the scan found, put on the page as text,
never as HTML.

A published adapter file is embedded first, as ``scan`` does (composed with the probe, or the
reactor library, and taken back out): by wasm-tools as jco-transpile ships it, bundled
(``tools.js``, 3.5 MB) and loaded only when a scan needs it. The same wasm-tools prints each
adapter's allocator when its design is asked for (``live/design.js``, with ``allocator``'s
patterns): the drop zone shows the answer first, then the designs. What the page does not do,
and says: compare the adapter's code with the catalogued builds'. Where the two stop an adapter
differs (fuel for a loop in its own code and an address space for the lab, time and the
browser's limits here), and so do the WebAssembly features each engine accepts: a file that runs
into one can get "cannot tell" on one side and a verdict on the other (``bounds_sentence``).
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..artifacts import guests, seal
from ..artifacts.cache import cache_dir, sha256_bytes, write_atomically
from ..artifacts.inside import NESTING_MAX, PREVIEW1
from ..model.wasi import FIRST_FD
from ..reach import adapter_host, scan
from ..reach.repair import CHECK_PATHS
from ..reach.words import describe_scan
from . import chromium, live

SCRIPTS_IN_ORDER = ("scan-constants.js", "reading.js", "design.js", "scanner.js", "scanbox.js")
"""What page 7 loads for its scanner, in this order, once it has loaded."""
ADAPTER_SECONDS = 3.0
"""Seconds one adapter may run in the page, its three lists and compiling included. The lab's
wasmtime stops a loop in an adapter's own code by fuel (``adapter_host.FUEL``, reached in about
0.5 s here) and judges the file's other adapters; a browser has no fuel, so each adapter gets this much
wall clock, within the file's ``scan.SCAN_SECONDS``. The catalogued builds take under 0.1 s."""
DESIGN_SECONDS = 10.0
"""Seconds all of a file's designs may take in the page, after its answer, wasm-tools' loading and
printing included (the lab's wasm-tools gets ``printed.TOOL_SECONDS`` a module); one published
adapter takes under 0.5 s."""
ON_DEMAND = "tools.js"
"""wasm-tools as jco ships it, bundled: loaded when a scan needs it (to embed a published adapter
file, to print an adapter for its allocator's design), never to open the page."""
PAGE_SCRIPTS = (*SCRIPTS_IN_ORDER, ON_DEMAND)
"""Every script of page 7's scanner in a report's ``assets/live``."""


def constants() -> dict:
    """Everything the page's scanner shares with ``scan`` and ``adapter_host``, from them."""
    seconds = scan.SCAN_SECONDS
    return {
        "name_lists": [[n.decode() for n in names] for names in scan.NAME_LISTS],
        "max_bytes": scan.SCAN_MAX_BYTES, "seconds": seconds, "nesting_max": NESTING_MAX,
        "preview1": sorted(PREVIEW1), "version_pattern": scan._VERSION.pattern,
        "first_fd": FIRST_FD, "asked_max": adapter_host._ASKED_MAX, "first_descriptor": adapter_host._FIRST_DESCRIPTOR,
        "stdio_handles": adapter_host._STDIO_HANDLES, "directory": adapter_host._DIRECTORY,
        "memory_limit": adapter_host.MEMORY_LIMIT, "table_limit": adapter_host.TABLE_LIMIT,
        "published_note": scan.PUBLISHED_NOTE,
        "adapter_seconds": ADAPTER_SECONDS,
        "adapter_stopped": (f"it ran past {ADAPTER_SECONDS:g} s, this page's limit for one adapter (the lab's wasmtime "
                            f"stops a loop in the adapter's own code by fuel, {adapter_host.FUEL:,} instructions a "
                            f"preopen list, and the whole file at {scan.SCAN_SECONDS:g} s)"),
        "not_here": ("not read in this page: the catalogued build whose code each adapter carries "
                     "(python -m analysis scan FILE gives it)"),
        "probe": base64.b64encode(guests.get("probe").wasm()).decode(),
        "reactor_library": base64.b64encode(guests.reactor_module()).decode(),
        "deadline_problem": (f"the scan ran past its limit of {seconds:g} s, compiling included: an adapter that "
                             "loops, or takes that long to compile, was stopped"),
        "no_repair": (f"This page offers no repaired file: for a command, repair writes one only after the re-adapted "
                      f"program has run with {' '.join(CHECK_PATHS)} and read the file each preopen holds, which this "
                      "page cannot do for a program of yours. The line above repairs a plain component; repair refuses "
                      "core modules and nested or linked components."),
        "design": _design_constants(), "design_seconds": DESIGN_SECONDS,
        "what_to_do": describe_scan(_affected_example())[-1].strip().replace(_EXAMPLE, "FILE"),
    }


_EXAMPLE = "app.wasm"


def _design_constants() -> dict:
    """What ``live/design.js`` reads a design with, from ``allocator`` and ``printed``."""
    from ..reach import allocator, printed

    patterns = {"counts": allocator.COUNTS, "missing": allocator.MISSING, "early": allocator.EARLY,
                "early_taken": allocator.EARLY_TAKEN, "bump": allocator.BUMP, "clone": allocator._CLONE}
    return {"export": printed.EXPORT, "function_max": printed.FUNCTION_MAX_BYTES, "module_max": printed.MODULE_MAX_BYTES,
            "line_max": printed.LINE_MAX_BYTES,
            "patterns": {name: [step for step, _ in pattern] for name, pattern in patterns.items()},
            "why": allocator.WHY, "implies": allocator.IMPLIES}


def _affected_example() -> scan.FileScan:
    """A scan shaped as an affected one, for ``describe_scan``'s last line (what to do)."""
    finding = scan.Finding("component > module 1", "affected", None, "command", (), "")
    return scan.FileScan(_EXAMPLE, "component", 2, (finding,))


def write_assets(folder: Path) -> dict[str, dict]:
    """The scanner's scripts into ``folder`` (a report's ``assets/live``): file, bytes, sha256 each."""
    made = {"scan-constants.js": f"globalThis.preopenLabScanConstants = {json.dumps(constants())};\n".encode(),
            **{name: (live.SCRIPTS / name).read_bytes() for name in SCRIPTS_IN_ORDER[1:]},
            ON_DEMAND: live.bundle(None, "tools")}
    for name, data in made.items():
        write_atomically(folder / name, data)
    return {name: {"file": name, "bytes": len(data), "sha256": sha256_bytes(data)} for name, data in made.items()}


def scanner_html(assets_url: str, checked: str) -> str:
    """The drop zone page 7 holds, what the build's check of it found (``checked``), and the
    scripts that run it, loaded after the page has loaded."""
    base = f"{assets_url}/live/"
    return ('<section class="live-scan" id="scan-your-own-file" aria-labelledby="live-scan-title"><h3 id="live-scan-title">Scan your own '
            "file, here</h3><p>Drop a <code>.wasm</code> component or core module below, or choose one. This page "
            "reads it in your browser, runs each preview1 adapter it finds in a Web Worker of its own (ended after "
            f"{ADAPTER_SECONDS:g} s an adapter, {scan.SCAN_SECONDS:g} s a file) and answers as "
            "<code>python -m analysis scan</code> does on every file the build checked (below). The file never "
            'leaves this page.</p><div class="live-scan-drop" tabindex="-1"><label>Choose a .wasm file: '
            '<input type="file" accept=".wasm,application/wasm"></label> <span>or drop it here</span></div>'
            '<p class="live-scan-said sr-only" role="status" aria-live="polite"></p><div class="live-scan-answer"></div>'
            f'<p class="live-scan-checked">{html.escape(checked)} {html.escape(bounds_sentence())}</p></section>'
            f"<script>addEventListener('load', () => {json.dumps([base + n for n in SCRIPTS_IN_ORDER])}.reduce("
            "(ready, src) => ready.then(() => new Promise((done, fail) => { const s = document.createElement('script');"
            " s.src = src; s.onload = done; s.onerror = fail; document.head.appendChild(s); })), Promise.resolve()));"
            "</script>")


def bounds_sentence() -> str:
    """Where the page and the lab may part: each stops an adapter at a bound of its own."""
    from ..runs.contained import ADDRESS_SPACE

    return (f"Where the two part: the lab's wasmtime stops a loop in an adapter's own code by fuel "
            f"({adapter_host.FUEL:,} instructions a preopen list), within {ADDRESS_SPACE >> 30} GiB of address space, "
            f"and a whole file at {scan.SCAN_SECONDS:g} s; this page stops an adapter after {ADAPTER_SECONDS:g} s and a "
            f"file at {scan.SCAN_SECONDS:g} s, within the browser's own stack and memory limits; and the two engines "
            "accept different WebAssembly features. A file that runs into one of these can get \"cannot tell\" on one "
            "side and a verdict on the other.")


def cli_view(data: bytes, label: str = "file.wasm") -> dict:
    """``scan --json`` of ``data`` in the page's shape: what both can know."""
    from ..model.errors import LabError

    try:
        found = scan.scan_bytes(data, label)
    except LabError as exc:
        return {"answer": "error: " + str(exc).removeprefix(f"{label}: ")}
    return {"answer": found.answer, "kind": found.kind, "modules": found.modules, "problem": bool(found.problem),
            "findings": [_finding(f.where, f.verdict, f.role, f.wasi_version, f.evidence, f.note, f.sha256,
                                  (f.design, f.design_evidence, f.design_agrees)) for f in found.findings]}


def page_view(said: dict) -> dict:
    """``preopenLab.scan``'s answer in the same shape."""
    if said["answer"].startswith("error: "):
        return {"answer": said["answer"]}
    return {"answer": said["answer"], "kind": said["kind"], "modules": said["modules"], "problem": bool(said["problem"]),
            "findings": [_finding(f["where"], f["verdict"], f["role"], f["wasi_version"], f["evidence"], f["note"], f["sha256"],
                                  (f.get("design"), f.get("design_evidence"), f.get("design_agrees")))
                         for f in said["findings"]]}


def _finding(where: str, verdict: str, role: str, version: str | None, evidence, note: str, sha256: str,
             design: tuple) -> dict:
    """A finding's fields both sides share; a ``cannot tell``'s reason is worded by each side
    (wasmtime's errors, the browser's), so only its verdict is compared."""
    return {"where": where, "verdict": verdict, "role": role, "wasi_version": version, "note": note, "sha256": sha256,
            "design": list(design),
            "evidence": list(evidence) if verdict != "cannot tell" else None}


# -- the build's check: the page against ``scan --json`` -----------------------------------------


@dataclass(frozen=True)
class Agreement:
    """How the page's scans compared with the lab's, file by file."""

    files: int
    equal: int
    differ: tuple[str, ...]
    """Any other difference: a finding, listed by file."""
    builds: int
    browser: str
    when: str

    def sentence(self) -> str:
        """What page 7 says of it."""
        said = (f"Checked on {self.when} with {self.browser}: for {self.equal} of {self.files} files this page "
                f"gives the same answer and findings as scan --json (the lab's opener and its reactor "
                f"library made components with each of {self.builds} builds, each adapter taken out as a bare "
                f"module, each build's two published adapter files, a nested component, a program that never asks "
                f"names, a module with no adapter, damaged files)")
        if self.differ:
            said += f"; {len(self.differ)} differ otherwise, first {self.differ[0]}"
        return said + "."


def corpus() -> list[tuple[str, bytes]]:
    """The files the build scans both ways: every catalogued build made a command component
    (the opener) and a library (the reactor library), its adapter taken out of the command as
    jco's transpiled ``*.core2.wasm`` files are, its published adapter files; then the shapes
    ``tests/test_scan.py`` names."""
    from ..artifacts import adapters, guests, inside
    from ..artifacts.compose import compose

    opener, library = guests.get("opener").wasm(), guests.reactor_module()
    files = []
    for build in adapters.catalogue():
        command = compose(opener, build).read_bytes()
        files += [(f"opener+{build.id}.wasm", command),
                  (f"library+{build.id}-reactor.wasm", compose(library, build.reactor()).read_bytes()),
                  (f"{build.id}.core2.wasm", next(m.data for m in inside.core_modules(command) if inside.is_adapter(m))),
                  (f"{build.id}.wasi_snapshot_preview1.command.wasm", adapters.fetch(build).read_bytes()),
                  (f"{build.id}.wasi_snapshot_preview1.reactor.wasm", adapters.fetch(build.reactor()).read_bytes())]
    first = files[0][1]
    files += [("nested.wasm", inside.MAGIC + inside.COMPONENT_VERSION + b"\x04" + inside.leb128(len(first)) + first),
              ("not-exposed.wasm", compose(_hello(), adapters.catalogue()[0]).read_bytes()),
              ("opener.wasm", opener), ("garbage.wasm", b"hello"), ("truncated.wasm", first[: len(first) // 3]),
              ("cut.wasm", b"\0asm\x0d\x00\x01\x00\x01\xff\xff\x03")]
    return files


def _hello() -> bytes:
    import wasmtime

    return wasmtime.wat2wasm("""(module
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1) (func (export "_start")))""")


def open_page(chrome, folder: Path):
    """A page holding the scanner's scripts in ``folder``, from ``file://``, the network refused."""
    return chromium.open_scripts(chrome, folder, SCRIPTS_IN_ORDER[:4])  # the drop zone's script left out


def page_scan(tab, data: bytes) -> dict:
    """``preopenLab.scan`` of ``data`` in an open page (the bytes travel as base64)."""
    return tab.evaluate("async b => preopenLab.scan(Uint8Array.from(atob(b), c => c.charCodeAt(0)), {design: true})",
                        base64.b64encode(data).decode())


def check(tab) -> Agreement:
    """Every file of ``corpus`` scanned in ``tab`` and by ``scan``, compared."""
    from ..artifacts import adapters

    equal, differ = 0, []
    files = corpus()
    for label, data in files:
        here, there = page_view(page_scan(tab, data)), cli_view(data, label)
        if here == there:
            equal += 1
        else:
            differ.append(label)
    browser = " ".join(chromium.version().split()[:2])
    return Agreement(len(files), equal, tuple(differ), len(adapters.catalogue()), browser,
                     time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))


def checked(folder: Path) -> Agreement | None:
    """``check`` kept in the cache under a key of all it depends on, under this user's seal (a
    kept answer that fails it is checked again, never stated); None without chromium."""
    if chromium.chromium() is None:
        return None
    path = cache_dir() / "live-scan-check" / f"{_inputs_key(folder)}.json"
    kept = seal.read_sealed(path, "the page scanner's check")
    if kept is not None:
        data = json.loads(kept)
        return Agreement(**{**data, "differ": tuple(data["differ"])})
    with chromium.browser() as chrome:
        agreement = check(open_page(chrome, folder))
    seal.write_sealed(path, json.dumps(asdict(agreement)).encode())
    return agreement


def _inputs_key(folder: Path) -> str:
    from importlib import metadata

    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(json.dumps([chromium.version(), metadata.version("wasmtime")]).encode())
    for file in (Path(__file__).resolve(), package / "reach" / "scan.py", package / "reach" / "adapter_host.py",
                 package / "artifacts" / "inside.py", *(folder / name for name in PAGE_SCRIPTS)):
        digest.update(file.read_bytes())
    return digest.hexdigest()[:32]
