"""The exported page's live explorer, in chromium from ``file://`` with the network off
(``bench --live``): a build's first use, one run after that, a change of a control to the
updated table, a run of 10,000 preopens and how late the page's main thread answered meanwhile
(the runs go in a worker), the live assets' size, and the page's first paint with and without them.

It exports page 3 itself, from ``reports/executed/03_explorer.ipynb`` (``make report``
writes it), into a scratch folder; figures only, nothing here asserts a time.
"""
from __future__ import annotations

import re
import statistics
import tempfile
from pathlib import Path

from ..artifacts.adapters import catalogue
from ..artifacts.cache import REPORTS_DIR
from ..model.errors import LabError
from ..publish import chromium
from .timing import timing

RUNS = 50
"""Runs of the report's case timed in the page after its build is loaded."""
CHANGES = 30
"""Changes of the build menu timed, from the change to the table showing the new run."""
BIG = 10_000
"""Preopens of the large run (past the adapter's 125: a trap at start-up, after the page laid them all out)."""
BIG_RUNS = 5
"""Large runs timed, each with the main thread's worst answer while it was in flight."""
ANSWERING = """async ([build, runs, n]) => { const out = []; for (let i = 0; i < runs; i++) {
  // setTimeout round trips on the main thread while the run is in flight: the worst lateness.
  let settled = false, worst = 0;
  const t = performance.now();
  const run = preopenLab.run({build, paths: Array.from({length: n}, (_, i) => '/d' + i)})
    .finally(() => { settled = true; });
  while (!settled) { const asked = performance.now(); await new Promise(done => setTimeout(done, 10));
    worst = Math.max(worst, performance.now() - asked - 10); }
  await run; out.push([performance.now() - t, worst]); } return out; }"""
CHANGE_CEILING_MS = 30_000
"""A change that has not updated the table by then failed: a ceiling for a busy machine, not a figure."""


def live_lines(adapter: str, executed: Path = REPORTS_DIR / "executed" / "03_explorer.ipynb") -> list[str]:
    import nbformat

    from ..publish import live
    from ..publish.pages import export_html

    if not executed.is_file():
        raise LabError(f"{executed} is not there: `make report` writes it, then run this again")
    with tempfile.TemporaryDirectory(prefix="preopen-lab-live-") as scratch:
        out = Path(scratch)
        live.write_assets(out / "assets" / live.ASSETS, affected=[adapter])
        notebook = nbformat.read(executed, as_version=4)
        page = export_html(notebook, views={"live-explorer": live.explorer_html("assets", "")})
        (out / "live.html").write_text(page)
        bare = re.sub(r'<div class="live-explorer".*?</div><script>.*?</script>', "", page, flags=re.S)
        if bare == page:
            raise LabError("the exported page has no live explorer to time")
        (out / "bare.html").write_text(bare)
        size = sum(f.stat().st_size for f in (out / "assets" / live.ASSETS).iterdir())
        builds = [b.id for b in catalogue()]
        with chromium.browser() as chrome:
            tab = chrome.new_page(viewport={"width": 1366, "height": 768})
            tab.route("**/*", lambda r: r.abort() if not r.request.url.startswith("file:") else r.continue_())
            paint = {name: _first_paint(tab, out / f"{name}.html") for name in ("bare", "live")}
            tab.goto((out / "live.html").as_uri())
            tab.wait_for_selector(".live-table td.outcome")
            first = [tab.evaluate("async b => { const t = performance.now(); await preopenLab.run({build: b, paths: "
                                  "['/a', '/b', '/c', '/d', '/e']}); return performance.now() - t; }", b)
                     for b in builds if b != adapter]
            runs = tab.evaluate(f"async b => {{ const out = []; for (let i = 0; i < {RUNS}; i++) {{ "
                                "const t = performance.now(); await preopenLab.run({build: b, paths: "
                                "['/a', '/b', '/c', '/d', '/e']}); out.push(performance.now() - t); } return out; }",
                                adapter)
            changes = []
            for i in range(CHANGES):
                target = builds[i % len(builds)]
                changes.append(tab.evaluate(
                    "b => new Promise((done, fail) => { const status = document.querySelector('.live-status');"
                    " const select = document.querySelector('.live-explorer select[aria-label=\"adapter build\"]');"
                    " const t = performance.now();"
                    f" setTimeout(() => fail(new Error('no table for ' + b)), {CHANGE_CEILING_MS});"
                    " const seen = new MutationObserver(() => { if (status.textContent.startsWith(b + ' with ')) {"
                    " seen.disconnect(); done(performance.now() - t); } });"
                    " seen.observe(status, {childList: true, characterData: true, subtree: true});"
                    " select.value = b; select.dispatchEvent(new Event('change')); })", target))
            big = tab.evaluate(ANSWERING, [adapter, BIG_RUNS, BIG])  # last: its garbage would weigh on the rest
    ms = [x / 1000 for x in runs]
    return [
        f"chromium {chromium.chromium()}, page 3 exported from {executed.name}, from file://, network off",
        timing(f"one run of the report's case ({adapter}, loaded)", ms).line(),
        timing("a build's first use (script load, compile, run)", [x / 1000 for x in first]).line(),
        timing("a change of the build menu to the updated table", [x / 1000 for x in changes]).line(),
        timing(f"a run of {BIG:,} preopens (a trap at start-up)", [t / 1000 for t, _ in big]).line(),
        (f"the page's main thread during those runs: answered within {max(w for _, w in big):.0f} ms at worst "
         "(setTimeout lateness, the run in its worker)"),
        f"live assets: {size / 1e6:.2f} MB for {len(builds)} builds (each loaded only when first picked)",
        f"first contentful paint: {paint['live']:.0f} ms with the live explorer, {paint['bare']:.0f} ms without "
        f"(median of 5 loads each)",
    ]


def _first_paint(tab, page: Path) -> float:
    samples = []
    for _ in range(5):
        tab.goto(page.as_uri())
        samples.append(tab.evaluate("() => new Promise(done => { const e = performance.getEntriesByName("
                                    "'first-contentful-paint'); if (e.length) done(e[0].startTime); else new "
                                    "PerformanceObserver(l => done(l.getEntries()[0].startTime)).observe("
                                    "{type: 'paint', buffered: true}); })"))
    return statistics.median(samples)
