"""The slide deck: the story in a score of slides, cut from the executed notebooks.

A notebook cell becomes a slide when its metadata says so (``preopen_lab.slide``: the
slide's title). Its outputs are the ones that build just produced, so every slide is a
real figure or run of that build; code is left out, as in a talk. nbconvert's reveal.js
export draws the deck, with reveal.js shipped beside the reports (``assets``), so a
session needs no network.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Sequence

import nbformat

SLIDE_KEY = "slide"
"""The key in a cell's ``preopen_lab`` metadata that makes it a slide; its value is the title."""

DECK_CSS = """
.reveal .slides { text-align: left; }
.reveal h1, .reveal h2 { text-transform: none; }
.reveal h2 { font-size: 1.3em; }
.reveal img { max-height: 500px; max-width: 100%; }
.reveal table { font-size: 0.7em; }
.reveal .jp-OutputArea-output pre { font-size: 0.45em; }
.reveal .from { font-size: 0.45em; color: #666; }
"""

DECK_JS = """
// A slide taller than the screen scrolls rather than being cut off. nbconvert's own way
// needs jQuery, which this deck does not load; reveal.js tells its events on .reveal.
(function () {
  var deck = document.querySelector('.reveal');
  function scrollTallSlide() {
    var limit = deck.querySelector('.slides').clientHeight * 0.95;  // the slide's own units, before scaling
    deck.querySelectorAll('.slides > section.present > section').forEach(function (slide) {
      if (slide.scrollHeight > limit) {
        slide.style.height = limit + 'px';
        slide.style.overflowY = 'auto';
      }
    });
  }
  deck.addEventListener('ready', scrollTallSlide);
  deck.addEventListener('slidechanged', scrollTallSlide);
})();
"""


def slide_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The cells of an executed notebook that its author marked as slides, in order."""
    return [c for c in notebook.cells if c.metadata.get("preopen_lab", {}).get(SLIDE_KEY)]


def deck(title: str, opening: str, chapters: Sequence[tuple[str, str, nbformat.NotebookNode]]) -> nbformat.NotebookNode:
    """One notebook of slides: a title slide, then each chapter's marked cells, each under
    its title with a link to the cell on the page it came from. ``chapters``: (title, page, executed notebook)."""
    cells = [_slide(nbformat.v4.new_markdown_cell(f"# {title}\n\n{opening}"), "slide")]
    for chapter, page, notebook in chapters:
        for cell in slide_cells(notebook):
            heading = cell.metadata["preopen_lab"][SLIDE_KEY]
            at = f"#cell-id={cell.id}" if cell.get("id") else ""  # nbconvert's anchor for the cell on its page
            source = f'## {heading}\n\n<p class="from">{chapter} · <a href="../{page}{at}">on its page</a></p>'
            cells.append(_slide(nbformat.v4.new_markdown_cell(source), "slide"))
            shown = copy.deepcopy(cell)
            shown.metadata = {}
            cells.append(_slide(shown, "-"))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _slide(cell: nbformat.NotebookNode, kind: str) -> nbformat.NotebookNode:
    cell.metadata["slideshow"] = {"slide_type": kind}
    return cell


def export_deck(notebook: nbformat.NotebookNode, assets_url: str, title: str) -> str:
    """The deck as one reveal.js page; reveal.js and require.js load from ``assets_url``."""
    from nbconvert import SlidesExporter

    exporter = SlidesExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.reveal_url_prefix = f"{assets_url}/reveal.js"
    exporter.reveal_theme = "white"
    exporter.reveal_number = "c/t"
    exporter.require_js_url = f"{assets_url}/require.js"
    exporter.mathjax_url = ""
    page, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    # nbconvert's deck re-typesets MathJax on every slide change; these pages load no
    # MathJax (no formula in them), so that listener would only throw.
    page, dropped = re.subn(r"\n\s*Reveal\.addEventListener\('slidechanged', update\);", "", page)
    if dropped != 1:
        raise RuntimeError("nbconvert's reveal template changed: the MathJax listener was not found")
    page = page.replace("</head>", f"<style>{DECK_CSS}</style>\n</head>", 1)
    return _offline(page.replace("</body>", f"<script>{DECK_JS}</script>\n</body>", 1), notebook)


def add_figure_alts(page, notebook: nbformat.NotebookNode) -> None:
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


def _offline(page: str, notebook: nbformat.NotebookNode) -> str:
    """The deck without the template's scripts from the network: jQuery (used only for
    scrolling slides, which ``DECK_JS`` does instead), mermaid (no diagram here) and
    the empty MathJax slot (no formula); its figures get their alternative text."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    for script in soup.find_all("script"):
        src = script.get("src")
        if src == "" or (src or "").startswith(("http:", "https:")) or "import mermaid" in (script.string or ""):
            script.decompose()
    add_figure_alts(soup, notebook)
    return str(soup)
