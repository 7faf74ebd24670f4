"""The main job: execute every notebook, export it to HTML, and write the index.

``build`` runs each notebook in ``notebooks/`` top to bottom on a fresh kernel,
exports it with its figures and widget state, and writes ``index.html`` from
``templates/index.html.j2`` with each notebook's title (its first heading), its
summary (the notebook's ``preopen_lab.summary`` metadata) and the headline measured
in that same build. The widget renderer and require.js are fetched with npm (pinned
by checksum) and shipped beside the pages, so a reader needs no network.
"""
from __future__ import annotations

import copy
import html
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import jinja2
import markupsafe
import nbformat

from . import verdicts
from ._cache import (PROJECT_ROOT, REPORTS_DIR, TMP_PREFIX, cache_dir, scratch_folder, sha256_bytes,
                     write_atomically)
from .cpus import PIN_VARIABLE, usable_cpus
from .describe import headline, prose, span
from .errors import LabError, first_line
from .npm import pack_members
from .palette import OUTCOME_COLORS, marked
from .plots import png_base64, survival_grid
from .slides import add_figure_alts, deck, export_deck
from .survey import survey
from .toolchains import toolchain_map

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
TEMPLATES_DIR = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Notebook:
    stem: str
    title: str
    """The notebook's first heading."""
    summary: str
    """A paragraph for the index, from the notebook's ``preopen_lab.summary`` metadata."""


def read_notebook(path: Path) -> Notebook:
    notebook = nbformat.read(path, as_version=4)
    headings = (line for cell in notebook.cells if cell.cell_type == "markdown"
                for line in cell.source.splitlines() if line.startswith("# "))
    title = next(headings, None)
    if title is None:
        raise LabError(f"{path.name} has no '# ' heading: its first heading is its title in the reports")
    summary = notebook.metadata.get("preopen_lab", {}).get("summary", "")
    return Notebook(path.stem, title.removeprefix("# ").strip(), summary)


def notebooks(directory: Path = NOTEBOOKS_DIR) -> list[Notebook]:
    """The story, in file-name order (``01_...``, ``02_...``)."""
    return [read_notebook(path) for path in sorted(directory.glob("*.ipynb"))]


def execute(path: Path, timeout: int = 600, cpu: int | None = None) -> nbformat.NotebookNode:
    """Run a notebook top to bottom on a fresh kernel; a failing cell is named in one line.

    ``cpu``: keep the kernel's runs on that CPU (``PREOPEN_LAB_CPU``)."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    env = {**os.environ, "PREOPEN_LAB_CACHE": str(cache_dir())}  # one cache, whatever the kernel's folder
    if cpu is not None:
        env[PIN_VARIABLE] = str(cpu)
    try:
        # The kernel's connection file and sockets in a folder of its own in the cache:
        # removed afterwards, or by the next process to use the cache after a kill -9. Unix
        # sockets (no TCP port, no warning about one) where the path fits a socket's name.
        with scratch_folder(cache_dir(), TMP_PREFIX) as kernel_files:
            sockets = str(kernel_files / "ipc")
            transport = {"transport": "ipc", "ip": sockets} if len(sockets) < _SOCKET_PATH_MAX else {}
            kernel = KernelManager(kernel_name="python3", connection_file=str(kernel_files / "kernel.json"),
                                   **transport)
            client = NotebookClient(notebook, km=kernel, timeout=timeout, kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}}, store_widget_state=True)
            client.execute(env=env, cleanup_kc=True)  # shut the kernel down: we made its manager
    except CellExecutionError as exc:
        index = next((i for i, c in enumerate(notebook.cells)
                      if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        where = f"cell {index + 1}" if index is not None else "a cell"
        raise LabError(f"{path.name}: {where} failed: {exc.ename}: {exc.evalue}") from None
    except Exception as exc:  # a cell timeout, a dead kernel, a kernel that never started
        raise LabError(f"{path.name}: execution stopped ({type(exc).__name__}: "
                       f"{first_line(exc, 'no detail')})") from None
    return notebook


_SOCKET_PATH_MAX = 96
"""Characters a Unix socket path may have (108 on Linux) less the ``-<port>`` suffix."""


def export_html(notebook: nbformat.NotebookNode, title: str = "preopen lab", nav: str = "",
                pages: dict[str, str] | None = None, assets_url: str = "assets") -> str:
    """One executed notebook as a page: its own ``title``, ``nav`` links at its top and
    bottom, each figure's title as its alternative text, and "notebook 5" in its prose
    a link to that page (``pages``: notebook number -> page file)."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    notebook = copy.deepcopy(notebook)
    _grey_out_saved_widgets(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and pages:
            cell.source = _CROSS_REF.sub(lambda m: f"[{m.group(0)}]({pages[m.group(1)]})" if m.group(1) in pages
                                         else m.group(0), cell.source)

    exporter = HTMLExporter(template_name="lab")
    exporter.require_js_url = f"{assets_url}/require.js"
    exporter.widget_renderer_url = f"{assets_url}/embed-amd.js"
    exporter.mathjax_url = ""
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    page = BeautifulSoup(body, features="html.parser")
    add_figure_alts(page, notebook)
    _add_offline_notes(page, notebook)
    for empty in page.select('script[src=""]'):  # the MathJax slot, left empty: no page has a formula
        empty.decompose()
    if page.head is not None:
        page.head.append(BeautifulSoup(f"<style>{PAGE_CSS}</style>", features="html.parser"))
    if nav and page.body is not None:
        page.body.insert(0, BeautifulSoup(nav, features="html.parser"))
        page.body.append(BeautifulSoup(nav, features="html.parser"))
    return str(page)


PAGE_CSS = """
.jupyter-widgets, .jupyter-widgets input, .jupyter-widgets select, .jupyter-widgets button,
.widget-html-content { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
.offline-note { border-left: 4px solid #56B4E9; background: #eef6fb; padding: 0.4rem 0.8rem;
  margin: 0.5rem 0 0.5rem 72px; font-family: system-ui, sans-serif; font-size: 0.9rem; }
td.outcome { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.jp-RenderedHTMLCommon a code { color: inherit; text-decoration: underline; }
@media print {
  nav, .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
  .offline-note { margin-left: 0; }
  .jp-OutputArea-output img { max-width: 100% !important; break-inside: avoid; }
  .jp-OutputArea-child, pre, table { break-inside: avoid; }
  .jp-MarkdownOutput a[href^="http"]::after { content: " (" attr(href) ")"; font-size: 80%; color: #555; }
  body { font-size: 11pt; }
}
"""
"""What each page adds to nbconvert's lab style: widgets in the page's sans-serif, the offline
notes, code inside a link drawn as a link, and a print style (no navigation; saved widgets print as saved; outcome cells keep their colours)."""

_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _grey_out_saved_widgets(notebook: nbformat.NotebookNode) -> None:
    """Saved controls change nothing without a kernel, so they are drawn disabled."""
    models = notebook.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    for model in models.values():
        if "disabled" in model.get("state", {}):
            model["state"]["disabled"] = True


def _add_offline_notes(page, notebook: nbformat.NotebookNode) -> None:
    """A note above each saved widget: what it is here, how to use it, and (from the cell's
    ``preopen_lab.offline`` metadata) where the page shows the same thing without a kernel."""
    from bs4 import BeautifulSoup

    pointers = {cell.get("id"): cell.metadata.get("preopen_lab", {}).get("offline", "")
                for cell in notebook.cells}
    for script in page.select(f'script[type="{_WIDGET_VIEW}"]'):
        area = script.find_parent(class_="jp-OutputArea-child")  # a row: prompt, then the output
        cell = script.find_parent(class_="jp-Cell")
        if area is None:
            continue
        cell_id = (cell.get("id") or "").removeprefix("cell-id=") if cell is not None else ""
        pointer = prose(pointers.get(cell_id, ""))
        note = ('<p class="offline-note"><b>A saved copy of a live widget.</b> Without a kernel its controls are '
                "greyed and change nothing; it shows what this build ran. To use it, run this notebook in "
                f"JupyterLab (<code>make lab</code>).{' ' + pointer if pointer else ''}</p>")
        area.insert_before(BeautifulSoup(note, features="html.parser"))


_CROSS_REF = re.compile(r"\bnotebook (\d+)\b(?!\])")


def nav_html(before: Notebook | None, after: Notebook | None) -> str:
    """Links to the previous page, the index and the next page."""
    links = [f'<a href="{before.stem}.html">← {html.escape(before.title)}</a>' if before else "",
             '<a href="index.html">index</a>',
             f'<a href="{after.stem}.html">{html.escape(after.title)} →</a>' if after else ""]
    return ('<nav style="display:flex;justify-content:space-between;max-width:70rem;margin:0.5rem auto;'
            f'font-family:system-ui,sans-serif">{"".join(f"<span>{link}</span>" for link in links)}</nav>')


# -- assets for offline widgets ----------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    name: str
    package: str
    version: str
    member: str
    sha256: str


_REVEAL = "4.6.1"
_REVEAL_FILES = {
    "dist/reveal.js": "73d4b64d59eded6de6a49500e7b709eb8d92c0d1d88d911319ce551c31341e9f",
    "dist/reveal.css": "fa4713396db8274bc0f1def50767464b6d98e61f4f83d17f4de6417210b25901",
    "dist/theme/white.css": "bf59df9ecd8563ac1da668571397dd454048f493e0feddcc565df7eedc40fad4",
    "plugin/notes/notes.js": "5c49866ac430789657b5b33363d2bf3edb2ef804f91c81ebd19ebc351fb0451a",
    "dist/theme/fonts/source-sans-pro/source-sans-pro.css":
        "5292b4fb38f4e609bf20cd98b3e5c039dbd7271d1c9174302305fbaaf42035cc",
    "dist/theme/fonts/source-sans-pro/source-sans-pro-regular.woff":
        "d4eaa48ba450f4dd2d024ab5b0e895c73c81475718e5453fd1890254c16b7a57",
    "dist/theme/fonts/source-sans-pro/source-sans-pro-italic.woff":
        "05d3615fdbe7d35c62d6a1308dc48e3985016b69e65926ed37b99fe7e6b297dc",
    "dist/theme/fonts/source-sans-pro/source-sans-pro-semibold.woff":
        "b0abd2736335424f9fd3eb27974a36d03783b3db141e0801dca7d3a635218b46",
    "dist/theme/fonts/source-sans-pro/source-sans-pro-semibolditalic.woff":
        "7225cacc06c2f360367c138daa4ce727c2a0d26e42875b1f9e802f181fdb81c5",
}

ASSETS = (
    Asset("require.js", "requirejs", "2.3.7", "package/require.js",
          "8215b90000b571bd241d28512c83f59855cecc3158db94b79b2d974c9923b5d2"),
    Asset("embed-amd.js", "@jupyter-widgets/html-manager", "1.0.13", "package/dist/embed-amd.js",
          "c2641b204c7502f367e90cbf766e4acc767437593d0bf2941297891e6285bb61"),
    *(Asset(f"reveal.js/{path}", "reveal.js", _REVEAL, f"package/{path}", digest)
      for path, digest in _REVEAL_FILES.items()),
)
"""What the exported pages load to draw saved widgets, and the deck to run its slides
(reveal.js, with its theme's font): pinned, shipped beside the reports. ``name`` is the
file's path under ``assets/``."""


def fetch_assets() -> dict[str, Path]:
    """The cached asset files, fetched with npm (one ``npm pack`` per package) and checked
    on first use."""
    found, missing = {}, {}
    for asset in ASSETS:
        path = cache_dir() / "assets" / f"{asset.sha256}-{Path(asset.name).name}"
        found[asset.name] = path
        if not (path.is_file() and sha256_bytes(path.read_bytes()) == asset.sha256):
            missing.setdefault((asset.package, asset.version), []).append(asset)
    for (package, version), assets in missing.items():
        members = pack_members(package, version, [a.member for a in assets], f"report asset {package}@{version}")
        for asset in assets:
            if sha256_bytes(members[asset.member]) != asset.sha256:
                raise LabError(f"checksum mismatch for {package}@{version} {asset.member}; "
                               "nothing was cached: check npm's registry settings and retry")
        for asset in assets:
            write_atomically(found[asset.name], members[asset.member])
    return found


# -- the build ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    notebook: Notebook
    html: Path
    seconds: float
    figures: int


def build(out: Path = REPORTS_DIR, directory: Path = NOTEBOOKS_DIR, only: Sequence[str] = (),
          log: Callable[[str], object] = print, workers: int | None = None) -> list[Built]:
    """Execute and export every notebook, then write the index with this build's headline.

    Notebooks run on ``workers`` kernels at once (default: one per CPU); each kernel is a
    process of its own, so they share nothing but the cache."""
    every = notebooks(directory)
    chosen = [nb for nb in every if not only or nb.stem in only]
    if only and len(chosen) != len(set(only)):
        raise LabError(f"unknown notebook in {list(only)}: choose from {', '.join(n.stem for n in every)}")
    for name, path in fetch_assets().items():
        (out / "assets" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out / "assets" / name)
    with ThreadPoolExecutor(max_workers=max(1, min(workers or os.cpu_count() or 1, len(chosen)))) as pool:
        cpus = usable_cpus()
        futures = [pool.submit(_build_one, nb, every, directory, out, cpus[i % len(cpus)])
                   for i, nb in enumerate(chosen)]
        try:
            for future in as_completed(futures):
                page = future.result()
                log(f"{page.notebook.stem}: {page.figures} figure(s), {page.seconds:.1f} s -> {page.html}")
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    built = [future.result() for future in futures]
    if only:
        log("built a subset of the notebooks: index.html left as it was")
        return built
    found = verdicts.measure()
    write_atomically(out / "index.html", index_html(built, found).encode())
    log(f"index -> {out / 'index.html'}")
    write_atomically(out / "slides" / "index.html", deck_html(built, found, out).encode())
    log(f"slides -> {out / 'slides' / 'index.html'}")
    return built


def _build_one(nb: Notebook, every: Sequence[Notebook], directory: Path, out: Path, cpu: int | None) -> Built:
    start = time.perf_counter()
    executed = execute(directory / f"{nb.stem}.ipynb", cpu=cpu)
    at = [n.stem for n in every].index(nb.stem)
    nav = nav_html(every[at - 1] if at > 0 else None, every[at + 1] if at + 1 < len(every) else None)
    pages = {str(int(n.stem.split("_")[0])): f"{n.stem}.html" for n in every if n.stem.split("_")[0].isdigit()}
    page = export_html(executed, f"{nb.title} · preopen lab", nav, pages)
    target = out / f"{nb.stem}.html"
    write_atomically(target, page.encode())
    write_atomically(out / "executed" / f"{nb.stem}.ipynb", nbformat.writes(executed).encode())
    figures = len(re.findall(r'<img[^>]*src="data:image/png;base64', page))
    return Built(nb, target, time.perf_counter() - start, figures)


TITLE = "preopen lab: the WASIp1-to-WASIp2 adapter preopen bug"


def measured_headline(found: Sequence[verdicts.Verdict]) -> str:
    """The one-sentence result of this build, from ``verdicts.measure()``."""
    builds = found[1:]
    return headline([v.adapter for v in builds if v.affected], [v.adapter for v in builds if not v.affected])


def deck_html(built: Sequence[Built], found: Sequence[verdicts.Verdict], out: Path) -> str:
    """The slide deck, cut from the notebooks this build executed (``slides``)."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    opening = (f"{measured_headline(found)}\n\nEvery slide is a figure or a run from the build of {stamp}. "
               "Upstream: [wasmtime#10058](https://github.com/bytecodealliance/wasmtime/issues/10058), fixed by "
               "[#10064](https://github.com/bytecodealliance/wasmtime/pull/10064). The pages behind it: "
               "[the reports' index](../index.html).")
    chapters = [(b.notebook.title, b.html.name, nbformat.read(out / "executed" / f"{b.notebook.stem}.ipynb", 4))
                for b in built]
    return export_deck(deck(TITLE, opening, chapters), "../assets", TITLE)


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
        colors=OUTCOME_COLORS,
        span=span,
        marked=marked,
        prose=lambda text: markupsafe.Markup(prose(text)),
        stamp=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        toolchains=toolchain_map(survey()),
    )
