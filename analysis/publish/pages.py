"""One executed notebook as an HTML page, and the index that opens the reports.

A page is nbconvert's lab export with what a reader without a kernel needs added: its
own title, links to the pages beside it, each figure's title as its alternative text, in
place of each widget what it would show (``offline``), and a print style. The index is ``templates/index.html.j2``
filled with each notebook's title and summary and the headline measured in that build.
"""
from __future__ import annotations

import copy
import html
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import markupsafe
import nbformat

from ..experiments import verdicts
from ..model.describe import headline, prose, span
from ..reach.survey import survey
from ..reach.toolchains import toolchain_map
from ..reach.words import still_affected
from ..show.palette import OUTCOME_COLORS, chip, marked
from ..show.plots import png_base64, survival_grid
from ..show.links import linked
from ..show.views import figure_title
from .notebooks import Notebook
from .offline import replace_widgets
from .paper import WAY_IN

TEMPLATES_DIR = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Built:
    """One notebook executed and written as a page."""

    notebook: Notebook
    html: Path
    seconds: float
    figures: int


TITLE = "preopen lab: the WASIp1-to-WASIp2 adapter preopen bug"
GLOSSARY = "01_wasi_preopen_model.html#glossary"
"""Where the words the pages use are defined (page 1, ahead of its first figure)."""


def measured_headline(found: Sequence[verdicts.Verdict]) -> str:
    """The one-sentence result of this build, from ``verdicts.measure()``."""
    builds = found[1:]
    return headline([v.adapter for v in builds if v.affected], [v.adapter for v in builds if not v.affected])


def export_html(notebook: nbformat.NotebookNode, title: str = "preopen lab", nav: str = "",
                pages: dict[str, str] | None = None, assets_url: str = "assets",
                views: Mapping[str, str] | None = None) -> str:
    """One executed notebook as a page: its own ``title``, ``nav`` links at its top and
    bottom, each figure's title as its alternative text, "notebook 5" in its prose a link to
    that page (``pages``: notebook number -> page file), and each widget replaced by the view
    its cell names (``views``: ``offline.views``)."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    notebook = copy.deepcopy(notebook)
    replace_widgets(notebook, views or {})
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and pages:
            cell.source = _CROSS_REF.sub(lambda m: f"[{m.group(0)}]({pages[m.group(1)]})" if m.group(1) in pages
                                         else m.group(0), cell.source)

    exporter = HTMLExporter(template_name="lab")
    exporter.require_js_url = f"{assets_url}/require.js"
    exporter.mathjax_url = ""
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    page = BeautifulSoup(body, features="html.parser")
    figure_alts(page, notebook)
    scrollable(page)
    for empty in page.select('script[src=""]'):  # the MathJax slot, left empty: no page has a formula
        empty.decompose()
    if page.head is not None:
        page.head.append(BeautifulSoup(f"<style>{PAGE_CSS}{dark_theme()}</style>", features="html.parser"))
    if nav and page.body is not None:
        page.body.insert(0, BeautifulSoup(nav, features="html.parser"))
        page.body.append(BeautifulSoup(nav, features="html.parser"))
    return str(page)


PAGE_CSS = """
.live-explorer { border-left: 4px solid #009E73; background: #f4faf7; padding: 0.4rem 0.8rem; margin: 0.5rem 0 1rem;
  font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 0.95rem; }
.live-explorer select, .live-explorer input { font: inherit; margin-right: 0.6rem; }
.live-checked, .live-native { font-size: 0.85rem; color: #333; }
.live-table { border-collapse: collapse; margin-bottom: 0.6rem; } .live-table td, .live-table th { padding: 2px 10px; text-align: left; }
.live-scan { border-left: 4px solid #009E73; background: #f4faf7; padding: 0.4rem 0.8rem; margin: 0.5rem 0 1rem;
  font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 0.95rem; }
.live-scan h3 { margin: 0.2rem 0 0.4rem; font-size: 1.1rem; }
.live-scan-drop { border: 2px dashed #555; border-radius: 6px; padding: 0.8rem; margin: 0.4rem 0; }
.live-scan-drop.live-scan-over { border-color: #009E73; background: #e2f3ec; }
.live-scan-drop input { font: inherit; }
.live-scan-answer p { margin: 0.15rem 0; font-family: ui-monospace, monospace; font-size: 0.85rem; overflow-wrap: anywhere; }
.live-scan-answer .live-scan-head { font-weight: bold; } .live-scan-answer .live-scan-evidence { padding-left: 1.5rem; }
.live-scan-answer .live-scan-todo { font-family: inherit; border-top: 1px solid #999; padding-top: 0.3rem; }
.live-scan-checked { font-size: 0.85rem; color: #333; }
@media print { .live-scan-drop { display: none; } }
.offline-view { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.offline-line { border-left: 4px solid #56B4E9; background: #eef6fb; padding: 0.3rem 0.8rem; font-size: 0.9rem; }
.recorded-stepper button, .recorded-stepper select { font: inherit; }
td.outcome { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.jp-RenderedHTMLCommon a code { color: inherit; text-decoration: underline; }
.jp-InputPrompt, .jp-OutputPrompt { color: #595959 !important; opacity: 1 !important; }
.jp-RenderedHTMLCommon a, nav a { text-decoration: underline !important; }
:root { --jp-mirror-editor-operator-color: #7a1fc2; --jp-mirror-editor-number-color: #006b00; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.jp-CodeMirrorEditor, .jp-InputArea-editor, .jp-OutputArea-output pre { overflow-x: auto !important; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
.table-scroll, .figure-scroll { max-width: 100%; overflow-x: auto; }
thead { display: table-header-group; }
@media (max-width: 600px) {
  .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
  nav { flex-direction: column; gap: 0.3rem; }
  .live-table, .live-table tbody, .live-table tr, .live-table td { display: block; }
  .live-table tr:first-child { display: none; }
  .live-table tr { border-bottom: 1px solid #999; padding: 0.3rem 0; }
  .live-table td { text-align: left !important; }
  .live-table td::before { content: attr(data-label) ": "; font-weight: bold; }
  .live-explorer select, .live-explorer input, .recorded-stepper select { margin: 0.2rem 0.4rem 0.2rem 0; max-width: 100%; }
  .figure-scroll img { max-width: none !important; }
}
@media print {
  nav, .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
  .stepper-controls, .offline-line { display: none; }
  .recorded-stepper .stepper-step[hidden] { display: block !important; }
  .recorded-stepper .stepper-step { break-inside: avoid; border-top: 1px solid #999; }
  .jp-CodeMirrorEditor, .jp-InputArea-editor, .jp-OutputArea-output pre { overflow: visible !important; }
  pre, .highlight pre, .cm-line { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  .table-scroll, .figure-scroll { overflow: visible; }
  .jp-OutputArea-output img { max-width: 100% !important; break-inside: avoid; }
  .jp-OutputArea-child, pre, tr { break-inside: avoid; }
  h1, h2, h3, h4, caption { break-after: avoid; }
  .jp-MarkdownOutput a[href^="http"]::after { content: " (" attr(href) ")"; font-size: 80%; color: #555; }
  body { font-size: 11pt; }
}
"""
"""What each page adds to nbconvert's lab style: the views in place of widgets, code inside a link
drawn as a link, text at 4.5:1 or more, code and wide tables that scroll sideways on a phone (the
explorer's table stacks its rows there, each cell led by its heading), and a print style (no
navigation, no controls, every step of the recorded stepper, code wrapped inside the page, table
headers repeated, headings kept with what follows; outcome cells keep their colours)."""

DARK_CSS = """
:root { --jp-mirror-editor-operator-color: #d09cf5; }
body { background: var(--jp-layout-color0); color: var(--jp-content-font-color1); }
a, nav a { color: #9cc3ff; }
.jp-InputPrompt, .jp-OutputPrompt { color: #a8a8a8 !important; }
.live-explorer, .live-scan { background: #10261d; }
.live-scan-drop.live-scan-over { background: #143528; }
.offline-line { background: #0f2230; }
.live-checked, .live-native, .live-scan-checked { color: #d0d0d0; }
.live-scan-drop { border-color: #aaa; }
.jp-OutputArea-output img, .jp-RenderedHTMLCommon img { background: #fff; padding: 4px; border-radius: 4px; }
:root .stepper-real tr.now td { background: #4a3b00; color: #fff; }
:root .stepper-real td.differ { color: #ff8a80; }
.jp-RenderedHTMLCommon [style*="color:#555"] { color: #c8c8c8 !important; }
.jp-RenderedHTMLCommon [style*="color:#8a5a00"] { color: #f0b454 !important; }
"""
"""What a reader with a dark desktop gets, after JupyterLab's own dark theme (``dark_theme``): the
boxes the pages add in dark tints, lighter links and greys, each figure on a light card."""


def dark_theme() -> str:
    """JupyterLab's dark theme as nbconvert ships it, and ``DARK_CSS``, for ``prefers-color-scheme: dark``
    only: the pages stay light for everyone else and in print."""
    from nbconvert import HTMLExporter

    for folder in HTMLExporter(template_name="lab").template_paths:
        theme = Path(folder) / "static" / "theme-dark.css"
        if theme.is_file():
            return f"@media screen and (prefers-color-scheme: dark) {{\n{theme.read_text()}\n{DARK_CSS}}}"
    return ""


_CROSS_REF = re.compile(r"\bnotebook (\d+)\b(?!\])")


def figure_alts(page, notebook: nbformat.NotebookNode) -> None:
    """Each figure's ``<img>`` in an exported page (a BeautifulSoup tree) gets the alternative
    text its output carries (``views.figure_png`` puts the figure's title there). An image an
    HTML output drew (``views.figure_img``) has its own already, and is not counted."""
    alts = [o.get("metadata", {}).get("image/png", {}).get("alt") for cell in notebook.cells
            for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    drawn = [img for img in page.select('img[src^="data:image/png"]')
             if not img.get("alt", "").startswith("Figure")]  # nbconvert's own: none, or its placeholder
    for img, alt in zip(drawn, alts):
        if alt:
            img["alt"] = alt


def scrollable(page) -> None:
    """Code cells, figures and output tables in an exported page (a BeautifulSoup tree) scroll
    sideways where the screen is narrower than they are; ``SCROLLING`` makes each one that does
    reachable from the keyboard (a tab stop, named for a screen reader), and only those. A phone
    shows a figure at its own size, its labels as large as on a laptop, rather than shrunk."""
    from bs4 import BeautifulSoup

    for editor in page.select(".jp-InputArea-editor"):
        editor["data-scroll-label"] = "code, scrolls sideways"
    for img in page.select(".jp-OutputArea-output img"):
        img.wrap(page.new_tag("div", attrs={"class": "figure-scroll", "data-scroll-label": "figure, scrolls sideways"}))
    heading = None
    for node in page.select("h1, h2, h3, .jp-OutputArea-output table"):
        if node.name != "table":
            heading = node.get_text(" ", strip=True).rstrip("¶")
        elif node.find_parent("table") is None:
            caption = node.find("caption")
            name = caption.get_text(" ", strip=True) if caption else f"table under {heading}" if heading else "table"
            node.wrap(page.new_tag("div", attrs={"class": "table-scroll", "data-scroll-label": f"{name}, scrolls sideways"}))
    if page.body is not None:
        page.body.append(BeautifulSoup(SCROLLING, features="html.parser"))


SCROLLING = """<script>(() => {
  // Each box wider than the screen becomes a tab stop with a name; the others stay out of the way.
  const mark = () => document.querySelectorAll('[data-scroll-label]').forEach((box) => {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.tabIndex = 0; box.setAttribute('role', 'region'); box.setAttribute('aria-label', box.dataset.scrollLabel);
    } else { box.removeAttribute('tabindex'); box.removeAttribute('role'); box.removeAttribute('aria-label'); }
  });
  addEventListener('load', mark); addEventListener('resize', mark);
})();</script>"""


def nav_html(before: Notebook | None, after: Notebook | None) -> str:
    """Links to the previous page, the index with the glossary ("words"), and the next page."""
    links = [f'<a href="{html.escape(before.stem)}.html">← {html.escape(before.title)}</a>' if before else "",
             f'<span><a href="index.html">index</a> · <a href="{GLOSSARY}">words</a></span>',
             f'<a href="{html.escape(after.stem)}.html">{html.escape(after.title)} →</a>' if after else ""]
    return ('<nav style="display:flex;justify-content:space-between;max-width:70rem;margin:0.5rem auto;'
            f'font-family:system-ui,sans-serif">{"".join(f"<span>{link}</span>" for link in links)}</nav>')


def index_html(built: Sequence[Built], found: Sequence[verdicts.Verdict]) -> str:
    """The index page: what each notebook answers, and this build's verdicts."""
    figure = survival_grid([v.result for v in found], labels=[v.adapter for v in found],
                           title="The report's five directories through every build, measured in this build")
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                                     undefined=jinja2.StrictUndefined)
    return environment.get_template("index.html.j2").render(
        built=built,
        found=found,
        headline=measured_headline(found),
        figure_png=png_base64(figure),
        figure_alt=figure_title(figure),
        colors=OUTCOME_COLORS,
        chip=chip,
        span=span,
        marked=marked,
        prose=lambda text: markupsafe.Markup(prose(text)),
        stamp=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        toolchains=toolchain_map(survey()),
        still_affected=still_affected,
        glossary=GLOSSARY,
        way_in=WAY_IN,
        linked=lambda text: markupsafe.Markup(linked(text)),
    )
