"""Page 7's scanner, in chromium from ``file://`` with the network off (``bench --page-scan``):
one scan of a component of 64 KB and of 10 MB after the page has loaded (to the answer), the
64 KB one again with its allocator's design read, a published adapter file's first scan (which
loads wasm-tools) and the ones after, the same files scanned by the
lab in-process as the baseline, how late the page's main thread answered while a scan ran,
what the page loads to open, and its first paint with the scanner and without it (page 7 as
it was before: the recorded scans alone).

It exports page 7 from ``reports/executed/07_am_i_affected.ipynb`` (``make report`` writes
it) into a scratch folder; figures only, nothing here asserts a time.
"""
from __future__ import annotations

import base64
import shutil
import tempfile
import time
from pathlib import Path

from ..artifacts import adapters, guests
from ..artifacts.cache import REPORTS_DIR
from ..artifacts.compose import compose
from ..experiments import verdicts
from ..model.errors import LabError
from ..publish import chromium, live, live_scan, offline
from ..publish.assets import fetch_assets
from ..reach import scan
from .live_page import _first_paint
from .timing import timing

SMALL, BIG = 64 << 10, 10 << 20
"""The budgets' two sizes: a component of 64 KB and one of 10 MB."""
RUNS, BIG_RUNS = 30, 10
DESIGN_RUNS = 10
SCAN_TIMED = """async ([b64, runs, design]) => { const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0)); const out = [];
  for (let i = 0; i < runs; i++) { let settled = false, worst = 0; const t = performance.now();
    const scan = preopenLab.scan(bytes, {design}).finally(() => { settled = true; });
    while (!settled) { const asked = performance.now(); await new Promise(done => setTimeout(done, 10));
      worst = Math.max(worst, performance.now() - asked - 10); }
    const said = await scan; out.push([performance.now() - t, worst, said.answer]); } return out; }"""


def padded(component: bytes, size: int) -> bytes:
    """``component`` with a custom section (id 0) that brings it to ``size`` bytes, as debug
    information does: the scanner reads past it, nothing in it is compiled."""
    name = b"\x07padding"
    fill = size - len(component) - 1 - 5 - len(name)
    if fill < 0:
        raise LabError(f"the component is already larger than {size:,} bytes")
    return component + b"\x00" + _leb5(len(name) + fill) + name + bytes(fill)


def _leb5(value: int) -> bytes:
    """A LEB128 in exactly five bytes (a section size, whatever its value)."""
    return bytes([(value >> (7 * i)) & 0x7F | (0x80 if i < 4 else 0) for i in range(5)])


def scan_page_lines(adapter: str, executed: Path = REPORTS_DIR / "executed" / "07_am_i_affected.ipynb") -> list[str]:
    import nbformat

    from ..publish.pages import export_html

    if not executed.is_file():
        raise LabError(f"{executed} is not there: `make report` writes it, then run this again")
    component = compose(guests.get("opener").wasm(), adapters.resolve(adapter)).read_bytes()
    files = {"64 KB component": padded(component, SMALL), "10 MB component": padded(component, BIG),
             "published adapter file": adapters.fetch(adapters.resolve(adapter)).read_bytes()}
    lab = {label: _lab_scan(data, RUNS if len(data) < BIG else BIG_RUNS) for label, data in files.items()}
    affected, fixed = verdicts.pick_builds()
    with tempfile.TemporaryDirectory(prefix="preopen-lab-scan-page-") as scratch:
        out = Path(scratch)
        written = live_scan.write_assets(out / "assets" / live.ASSETS)
        for name, path in fetch_assets().items():  # what an exported page loads beside its own (require.js)
            (out / "assets" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out / "assets" / name)
        notebook = nbformat.read(executed, as_version=4)
        for name, scanner in (("before", str), ("scanner", lambda: live_scan.scanner_html("assets", ""))):
            views = offline.views({"scan"}, affected, fixed, str, scanner)
            (out / f"{name}.html").write_text(export_html(nbformat.from_dict(notebook), views=views))
        with chromium.browser() as chrome:
            tab = chrome.new_page(viewport={"width": 1366, "height": 768})
            loaded: dict[str, list[int]] = {"before": [], "scanner": [], "scans": []}
            at = {"page": "before"}

            def route(r):
                if not r.request.url.startswith("file:"):
                    return r.abort()
                path = Path(r.request.url.removeprefix("file://"))
                if path.is_file():
                    loaded[at["page"]].append(path.stat().st_size)
                return r.continue_()
            tab.route("**/*", route)
            paint, opened = {}, {}
            for name in ("before", "scanner"):
                at["page"] = name
                paint[name] = _first_paint(tab, out / f"{name}.html")
                loaded[name].clear()
                tab.goto((out / f"{name}.html").as_uri())
                tab.wait_for_load_state("load")
                if name == "scanner":
                    tab.wait_for_selector(".live-scan-ready")
                opened[name] = sum(loaded[name]) / 1e6
            at["page"] = "scans"  # what the scans load after (wasm-tools) is not the page's opening
            # first: the first of these loads wasm-tools' script into the page
            designs = tab.evaluate(SCAN_TIMED, [base64.b64encode(files["64 KB component"]).decode(), DESIGN_RUNS, True])
            page = {label: tab.evaluate(SCAN_TIMED, [base64.b64encode(data).decode(),
                                                     RUNS if len(data) < BIG else BIG_RUNS, False])
                    for label, data in files.items()}
    lines = [f"{chromium.version()}, page 7 exported from {executed.name}, from file://, network off; "
             f"the lab's scan in-process (a child each) as the baseline; through {adapter}"]
    for label, runs in page.items():
        here = timing(f"page: {label} ({len(files[label]) / 1024:,.0f} KB)", [ms / 1000 for ms, _, _ in runs[1:] or runs])
        lines.append(here.line() + f"  ({runs[0][2]}; ×{here.median_ms / lab[label].median_ms:.2f} the lab's)")
        lines.append(lab[label].line())
        if label == "published adapter file":
            lines.append(f"  its first scan: {runs[0][0]:.0f} ms (each one loads wasm-tools afresh in its worker)")
        lines.append(f"  the page's main thread meanwhile: answered within {max(w for _, w, _ in runs):.0f} ms at worst")
    lines.append(timing("page: 64 KB, the answer and its allocator's design", [ms / 1000 for ms, _, _ in designs]).line()
                 + "  (a worker of its own loads wasm-tools and prints the adapter)")
    lines.append(f"  the page's main thread meanwhile: answered within {max(w for _, w, _ in designs):.0f} ms at worst "
                 "(the first loads wasm-tools' script into the page)")
    lines += [f"what page 7 loads to open: {opened['scanner']:.2f} MB with the scanner, {opened['before']:.2f} MB before "
              f"(its scanner's scripts {sum(w['bytes'] for n, w in written.items() if n != live_scan.ON_DEMAND) / 1e3:.0f} KB; "
              f"wasm-tools, {written[live_scan.ON_DEMAND]['bytes'] / 1e6:.2f} MB, when a scan needs it: an adapter's "
              "design, a published adapter file)",
              f"first contentful paint: {paint['scanner']:.0f} ms with the scanner, {paint['before']:.0f} ms before "
              f"(×{paint['scanner'] / paint['before']:.2f}; median of 5 loads each)"]
    return lines


def _lab_scan(data: bytes, runs: int):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        scan.scan_bytes(data, "bench.wasm")
        samples.append(time.perf_counter() - start)
    return timing(f"lab: scan_bytes, a child each ({len(data) / 1024:,.0f} KB)", samples)
