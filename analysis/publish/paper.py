"""The reports on paper: the deck printed one slide a page (``slides.pdf``), and a handout of
one or two pages to take away (``handout.pdf``, beside its ``handout.html``).

Both are printed by headless chromium (``chromium``), the deck through reveal.js's own print
layout (``?print-pdf``). The handout says what the index says, shorter: am I affected, how to
check, how to repair, what this build's runs found, and the toolchains, the rows this build
measured apart from the ones cited from upstream, each cited row with its source.
"""
from __future__ import annotations

import html
import time
from collections.abc import Sequence
from pathlib import Path

from ..artifacts.cache import write_atomically
from ..experiments import practices, verdicts
from ..model.describe import span
from ..reach.toolchains import Toolchain
from ..reach.words import still_affected
from ..show.links import linked
from . import chromium
from .deck import SLIDE_SIZE

WAY_IN = (
    ("Scan it in your browser", 'open <a href="07_am_i_affected.html#scan-your-own-file">page 7</a> of these reports '
                                "and drop your <code>.wasm</code> file on its scanner: the page runs a JavaScript port of "
                                "the lab's scan in your browser (checked against it in Chromium), with nothing installed "
                                "and nothing sent anywhere. To repair, or to see which catalogued build an adapter's code "
                                "is, use the lab itself:"),
    ("Get the lab", "a copy of this lab's repository (the folder these reports were built in), on a machine with "
                    "Python 3.11+ and npm."),
    ("Set it up", "<code>make setup</code> (a venv and the pinned adapter builds, a few minutes); "
                  "<code>make report</code> adds every experiment run for real and these pages in <code>reports/</code> "
                  "(it installs Debian's chromium where root or sudo allows, for the browser checks and the PDFs)."),
    ("Scan your file", "<code>.venv/bin/python -m analysis scan app.wasm</code>: exit status 1 when an adapter "
                       "inside it is affected; <code>repair app.wasm -o fixed.wasm</code> re-adapts it."),
)
"""From nothing to a scan of your own component: the page first, then the lab (the index and the handout)."""

HANDOUT_CSS = """
@page { size: A4; margin: 14mm 14mm 14mm 14mm; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 10.5pt; line-height: 1.35; color: #111; }
h1 { font-size: 17pt; margin: 0 0 4pt; } h2 { font-size: 12.5pt; margin: 10pt 0 3pt; }
p, li { margin: 0 0 4pt; } ul, ol { margin: 0 0 4pt; padding-left: 16pt; }
code { font-size: 9.5pt; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; margin-bottom: 4pt; }
tr, table { break-inside: avoid; }
caption { text-align: left; font-weight: 600; padding: 4pt 0 2pt; }
th, td { border-bottom: 1px solid #bbb; padding: 2pt 4pt; text-align: left; vertical-align: top; }
.small { font-size: 8.5pt; color: #333; } a { color: #0b62a4; word-break: break-all; }
h2 { break-after: avoid; } .kept { break-inside: avoid; }
@media screen and (prefers-color-scheme: dark) {
  body { background: #121212; color: #e6e6e6; } .small { color: #c8c8c8; } a { color: #9cc3ff; }
}
"""
"""The handout on A4, a heading kept on the page of what follows it (the toolchains' heading, its
note and first table move together), light on screen unless the reader's desktop is dark."""


def handout_html(found: Sequence[verdicts.Verdict], toolchains: Sequence[Toolchain], caveats: Sequence[str],
                 headline: str) -> str:
    """The handout as a page: ``caveats`` are claims of this build (HTML), ``toolchains`` the
    toolchain map (``toolchains.toolchain_map``)."""
    builds = list(found)[1:]
    affected = [v for v in builds if v.affected]
    targets = practices.upgrade_targets(found)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    def rows(basis: str) -> str:
        chosen = [t for t in toolchains if t.basis == basis and t.inside]
        return "".join(f"<tr><td>{html.escape(t.product)}</td><td>{html.escape(t.affected)}</td>"
                       f"<td>{html.escape(t.first_fixed)}</td><td class=\"small\">{linked(t.source, spelled=True)}</td></tr>"
                       for t in chosen)

    head = "<thead><tr><th>toolchain</th><th>affected</th><th>first fixed</th><th>{}</th></tr></thead>"
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>preopen lab: the handout</title>
<style>{HANDOUT_CSS}</style></head><body>
<h1>The WASIp1-to-WASIp2 adapter preopen bug: a handout</h1>
<p class="small">From the lab's build of {stamp}. Upstream: wasmtime issue 10058
(https://github.com/bytecodealliance/wasmtime/issues/10058), fixed by pull request 10064, released in Wasmtime 29.0.1.</p>
<h2>Am I affected?</h2>
<p>A WASIp1 program made a WASIp2 component with the <code>wasi_snapshot_preview1</code> adapter, given several
preopened directories, can be told wrong names for the directories between the first and the last. {html.escape(headline)}</p>
<h2>How to check</h2>
<ol>{"".join(f"<li><b>{what}:</b> {how}</li>" for what, how in WAY_IN)}</ol>
<h2>How to repair</h2>
<p>Re-adapt the program with a build measured not affected (<code>repair</code> takes the oldest after the affected ones
and scans the result), or upgrade the toolchain to {", ".join(f"<code>{t}</code>" for t in targets)} or
newer{_lts(toolchains)}.</p>
<h2>What the runs found</h2>
<ul><li>Affected adapter builds: {", ".join(f"<code>{v.adapter}</code> (jco {html.escape(span(v.releases))})"
                                          for v in affected)}.</li>
{"".join(f"<li>{c}</li>" for c in caveats)}</ul>
<section class="kept"><h2>Toolchains: what ships inside your component</h2>
<p class="small">Measured: the lab scanned the adapters the packages ship, running their own code. Cited: from upstream,
not run here; each with its source.</p>
<table><caption>Measured in this build</caption>{head.format("what was run")}{rows("measured")}</table></section>
<table><caption>Cited from upstream, not run here</caption>{head.format("source")}{rows("cited")}</table>
{_internals(toolchains)}
</body></html>
"""


def _lts(toolchains: Sequence[Toolchain]) -> str:
    """What stays affected though newer releases carry the fix (the LTS patches), said after "or newer"."""
    kept = still_affected(toolchains)
    if not kept:
        return ""
    return f" ({html.escape(kept)} stays affected; each toolchain's first fixed release is in the tables below)"


def _internals(toolchains: Sequence[Toolchain]) -> str:
    """The tools whose adapter is their own, never put in what they build: said apart."""
    inner = [t for t in toolchains if not t.inside]
    return "".join(f'<p class="small"><b>A tool\'s own internals, not in your component:</b> {html.escape(t.product)}, '
                   f"{html.escape(t.basis)}: affected {html.escape(t.affected)}, first fixed {html.escape(t.first_fixed)} "
                   f"({linked(t.source, spelled=True)}).</p>" for t in inner)


def print_pdfs(out: Path, log=print) -> list[Path]:
    """``out/slides.pdf`` from the deck and ``out/handout.pdf`` from ``out/handout.html``; none
    without chromium (said in the log)."""
    if chromium.chromium() is None:
        log("no chromium: slides.pdf and handout.pdf not printed (`make browser` installs it)")
        return []
    width, height = SLIDE_SIZE
    written = []
    with chromium.browser() as chrome:
        tab = chrome.new_page()
        tab.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        tab.goto((out / "slides" / "index.html").as_uri() + "?print-pdf")
        tab.wait_for_selector(".reveal .pdf-page")
        try:
            tab.wait_for_selector(".live-table td.outcome", state="attached", timeout=30_000)  # the live slide, run before printing
        except Exception:  # noqa: BLE001 - printed without its run, which the slide then says it lacks
            pass
        pages = tab.evaluate("document.querySelectorAll('.reveal .pdf-page').length")
        # One page a slide: chromium adds a blank page after reveal's last page break, which this leaves out.
        written.append(_pdf(tab, out / "slides.pdf", width=f"{width}px", height=f"{height}px", page_ranges=f"1-{pages}"))
        tab.goto((out / "handout.html").as_uri())
        written.append(_pdf(tab, out / "handout.pdf", format="A4"))
    return written


def _pdf(tab, target: Path, **size) -> Path:
    data = tab.pdf(print_background=True, prefer_css_page_size=True, tagged=True, outline=True, **size)
    write_atomically(target, data)
    return target
