"""What people read: HTML views of results for notebooks, and the report build.

``build`` executes every notebook on a fresh kernel, exports each to HTML with its
figures and widget state, and writes ``reports/index.html`` with a summary of each
notebook and the headline measured in that same build. The widget renderer and
require.js are fetched from npm (pinned by checksum) and shipped beside the reports,
so a reader needs no network.
"""
from __future__ import annotations

import base64
import html
import io
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._cache import PROJECT_ROOT, cache_dir, sha256_bytes, write_atomically
from .errors import LabError
from .experiments import sentence
from .model import libc_route
from .adapters import span as _span
from .plots import EMPTY, OUTCOME_COLORS, survival_grid
from .results import TABLE_HEADINGS, RunResult, shown, table_row

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
REPORTS_DIR = PROJECT_ROOT / "reports"


# -- HTML views of results ---------------------------------------------------------------


class Html(str):
    """A string that notebooks render as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def _cell(text: str, outcome: str | None) -> str:
    color = OUTCOME_COLORS.get(outcome or "", EMPTY)
    ink = "white" if outcome else "black"
    return (f'<td style="background:{color};color:{ink};padding:3px 8px;'
            f'border:2px solid white;text-align:center">{html.escape(text)}</td>')


def survival_row_html(result: RunResult) -> str:
    """The run as one row of fd slots, like a row of the survival grid."""
    cells = "".join(_cell(f"fd {p.expected_fd} · {shown(p.path)}", p.outcome) for p in result.preopens)
    return f'<table style="border-collapse:collapse"><tr>{cells}</tr></table>'


def result_table_html(result: RunResult) -> str:
    head = "".join(f'<th style="padding:2px 8px;text-align:left">{h}</th>' for h in TABLE_HEADINGS)
    rows = []
    for p in result.preopens:
        cells = "".join(f'<td style="padding:2px 8px">{html.escape(v)}</td>' for v in table_row(p)[:-1])
        rows.append(f"<tr>{cells}{_cell(p.outcome, p.outcome)}</tr>")
    return (f'<table style="border-collapse:collapse;font-family:monospace"><tr>{head}</tr>'
            f'{"".join(rows)}</table>')


def result_html(result: RunResult, title: str | None = None) -> str:
    label = title or ("native (no adapter)" if result.adapter == "native" else result.adapter)
    warnings = "".join(f'<p style="color:#8a5a00">warning: {html.escape(w)}</p>' for w in result.warnings)
    return (f"<div><p><b>{html.escape(label)}</b> · guest {result.guest}</p>{survival_row_html(result)}"
            f"<p>{html.escape(sentence(result))}</p>{warnings}{result_table_html(result)}</div>")


def side_by_side(results: Sequence[RunResult], titles: Sequence[str] = ()) -> Html:
    """Several runs next to each other, for comparing builds on one preopen list."""
    titles = list(titles) or [None] * len(results)
    cells = "".join(f'<div style="flex:1;min-width:320px">{result_html(r, t)}</div>'
                    for r, t in zip(results, titles))
    return Html(f'<div style="display:flex;gap:24px;flex-wrap:wrap">{cells}</div>')


def lines_html(result: RunResult) -> Html:
    """The guest's own output, verbatim."""
    return Html(f"<pre>{html.escape(chr(10).join(result.lines))}</pre>")


def fd_frame(result: RunResult) -> pd.DataFrame:
    """The raw fd_prestat answers the guest got, one row per fd."""
    return pd.DataFrame([
        {"fd": e.fd, "errno": e.errno, "name_len": e.name_len, "name": shown(e.name) if e.name is not None else "",
         "name bytes": "" if e.name is None else e.name.encode("utf-8", "surrogateescape").hex(" ")}
        for e in result.fds
    ])


def routing_frame(table: Sequence[tuple[int, str]], queries: Sequence[str]) -> pd.DataFrame:
    """wasi-libc's rule (from the model) applied to ``queries`` for a table of (fd, name)."""
    encoded = [(fd, name.encode()) for fd, name in table]
    rows = []
    for query in queries:
        route = libc_route(encoded, query.encode())
        rows.append({"path": query, "fd": route.fd if route else "none",
                     "matched prefix": repr(route.prefix.decode()) if route else "",
                     "opened relative to it": route.relative.decode() if route else "(ENOENT)"})
    return pd.DataFrame(rows)


def verdicts_frame(found: Sequence) -> pd.DataFrame:
    """``experiments.verdicts`` as a table."""
    return pd.DataFrame([
        {"adapter": v.adapter, "jco releases": _span(v.releases), "verdict": v.label,
         "outcomes (/a /b /c /d /e)": " ".join(v.result.outcomes), "evidence": "; ".join(v.evidence)}
        for v in found
    ])


def catalogue_frame() -> pd.DataFrame:
    """The adapter catalogue: builds, the jco releases that ship them, and their source."""
    from .adapters import catalogue

    return pd.DataFrame([{"adapter": b.id, "jco releases": _span(b.releases), "sha256": b.short_sha + "…",
                          "source (per jco's history)": b.source} for b in catalogue()])


# -- assets for offline widgets ----------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    name: str
    package: str
    version: str
    member: str
    sha256: str


ASSETS = (
    Asset("require.js", "requirejs", "2.3.7", "package/require.js",
          "8215b90000b571bd241d28512c83f59855cecc3158db94b79b2d974c9923b5d2"),
    Asset("embed-amd.js", "@jupyter-widgets/html-manager", "1.0.13", "package/dist/embed-amd.js",
          "c2641b204c7502f367e90cbf766e4acc767437593d0bf2941297891e6285bb61"),
)
"""What the exported pages load to draw saved widgets: pinned, shipped beside the reports."""


def fetch_assets() -> dict[str, Path]:
    """The cached asset files, fetched with npm and checked on first use."""
    from .npm import pack_members

    found = {}
    for asset in ASSETS:
        path = cache_dir() / "assets" / f"{asset.sha256}-{asset.name}"
        if not (path.is_file() and sha256_bytes(path.read_bytes()) == asset.sha256):
            data = pack_members(asset.package, asset.version, [asset.member],
                                f"report asset {asset.package}@{asset.version}")[asset.member]
            if sha256_bytes(data) != asset.sha256:
                raise LabError(f"checksum mismatch for {asset.package}@{asset.version} {asset.name}; "
                               "nothing was cached: check npm's registry settings and retry")
            write_atomically(path, data)
        found[asset.name] = path
    return found


# -- the report build ------------------------------------------------------------------------


@dataclass(frozen=True)
class Notebook:
    stem: str
    title: str
    summary: str


NOTEBOOKS = (
    Notebook("01_wasi_preopen_model", "The WASI preopen model",
             "How a WASIp1 guest learns its directories: fds from 3 on, fd_prestat_get and "
             "fd_prestat_dir_name until EBADF, and how wasi-libc turns those names into a table and "
             "routes every path by longest prefix, newest first. Shown with the model and checked "
             "against real runs of the probe and the opener, natively."),
    Notebook("02_reproduce", "Reproducing wasmtime#10058",
             "The report's five directories, natively, through an affected adapter build and through a "
             "fixed one, side by side; the raw names the guest is told; Rust std printing the report's "
             "exact error; and the evidence that the host hands over all five directories, so the loss "
             "happens inside the adapter."),
    Notebook("03_explorer", "Explorer",
             "The widget explorer: directory count, order, names, adapter build and guest, every change "
             "a real run, with a guide to what to try and the survival grid of a sweep for readers "
             "without a kernel."),
    Notebook("04_root_cause", "Root cause in the adapter",
             "The adapter's two calls to get-directories, its import allocator and the counter that never "
             "moves, step by step on the scratch area; why the first and the last preopen survive; and what "
             "the one-line fix changes, before and after, with the upstream links."),
    Notebook("05_reach", "Which builds, and what else breaks",
             "Which published adapter builds are affected (measured), beside the source range from the "
             "upstream tags; fabricated names and silent misrouting into another directory; and the "
             "adapter's 125-preopen ceiling."),
    Notebook("06_practices", "What a host can do",
             "A preflight check that proves every preopen reachable through the adapter you ship; one "
             "shared parent preopen instead of many; what ordering can and cannot save; upgrading the "
             "adapter. Each backed by a run."),
)


def notebook_paths(directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    return [directory / f"{nb.stem}.ipynb" for nb in NOTEBOOKS]


def execute(path: Path, timeout: int = 600):
    """Run a notebook top to bottom on a fresh kernel; a failing cell is named in one line."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}, store_widget_state=True)
    try:
        client.execute()
    except CellExecutionError as exc:
        index = next((i for i, c in enumerate(notebook.cells)
                      if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        where = f"cell {index + 1}" if index is not None else "a cell"
        raise LabError(f"{path.name}: {where} failed: {exc.ename}: {exc.evalue}") from None
    except Exception as exc:  # a cell timeout, a dead kernel, a kernel that never started
        raise LabError(f"{path.name}: execution stopped ({type(exc).__name__}: "
                       f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'})") from None
    return notebook


def export_html(notebook, assets_url: str = "assets") -> str:
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.require_js_url = f"{assets_url}/require.js"
    exporter.widget_renderer_url = f"{assets_url}/embed-amd.js"
    exporter.mathjax_url = ""
    body, _ = exporter.from_notebook_node(notebook)
    return body


@dataclass(frozen=True)
class Built:
    notebook: Notebook
    html: Path
    seconds: float
    figures: int


def build(out: Path = REPORTS_DIR, notebooks: Path = NOTEBOOKS_DIR, only: Sequence[str] = (),
          log=print) -> list[Built]:
    """Execute and export every notebook, then write the index with this build's headline."""
    import nbformat

    from .experiments import verdicts

    chosen = [nb for nb in NOTEBOOKS if not only or nb.stem in only]
    if only and len(chosen) != len(set(only)):
        raise LabError(f"unknown notebook in {list(only)}: choose from {', '.join(n.stem for n in NOTEBOOKS)}")
    assets = fetch_assets()
    (out / "assets").mkdir(parents=True, exist_ok=True)
    for name, path in assets.items():
        shutil.copyfile(path, out / "assets" / name)
    built = []
    for nb in chosen:
        start = time.perf_counter()
        executed = execute(notebooks / f"{nb.stem}.ipynb")
        page = export_html(executed)
        target = out / f"{nb.stem}.html"
        write_atomically(target, page.encode())
        write_atomically(out / "executed" / f"{nb.stem}.ipynb", nbformat.writes(executed).encode())
        figures = len(re.findall(r'<img[^>]*src="data:image/png;base64', page))
        built.append(Built(nb, target, time.perf_counter() - start, figures))
        log(f"{nb.stem}: {built[-1].figures} figure(s), {built[-1].seconds:.1f} s -> {target}")
    if only:
        log("built a subset of the notebooks: index.html left as it was")
        return built
    found = verdicts()
    figure = survival_grid([v.result for v in found], labels=[v.adapter for v in found],
                           title="The report's five directories through every build, measured in this build")
    write_atomically(out / "index.html", index_html(built, found, png_base64(figure)).encode())
    log(f"index -> {out / 'index.html'}")
    return built


def headline(found: Sequence) -> str:
    builds = found[1:]
    affected = [v.adapter for v in builds if v.affected]
    return (f"Measured in this build: {len(affected)} of {len(builds)} published adapter builds lose "
            f"preopens in the report's five-directory case ({', '.join(affected) or 'none'}); "
            f"native runs and the other {len(builds) - len(affected)} builds reach all five.")


def png_base64(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def index_html(built: Sequence[Built], found: Sequence, figure_png: str) -> str:
    items = "".join(
        f'<li><h2><a href="{b.html.name}">{html.escape(b.notebook.title)}</a></h2>'
        f"<p>{html.escape(b.notebook.summary)}</p>"
        f'<p class="meta">{b.figures} figure(s) · executed in {b.seconds:.0f} s</p></li>'
        for b in built
    )
    rows = "".join(
        f"<tr><td>{html.escape(v.adapter)}</td><td>{html.escape(_span(v.releases))}</td>"
        f'<td style="color:{OUTCOME_COLORS["missing"] if v.affected else OUTCOME_COLORS["ok"]}">'
        f"<b>{v.label}</b></td></tr>"
        for v in found
    )
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>preopen lab: the WASIp1-to-WASIp2 adapter preopen bug</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }}
ol {{ padding-left: 1.2rem; }} h2 {{ margin-bottom: 0.2rem; font-size: 1.2rem; }}
.meta {{ color: #666; font-size: 0.9rem; margin-top: 0; }}
.headline {{ border-left: 6px solid {OUTCOME_COLORS["missing"]}; padding: 0.5rem 1rem; background: #faf5f0; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 10px; text-align: left; }}
</style></head><body>
<h1>preopen lab: the WASIp1-to-WASIp2 adapter preopen bug</h1>
<p>A WASIp1 program made into a WASIp2 component with the <code>wasi_snapshot_preview1</code> adapter,
given several preopened directories, can reach only the first and the last of them
(<a href="https://github.com/bytecodealliance/wasmtime/issues/10058">wasmtime#10058</a>, fixed by
<a href="https://github.com/bytecodealliance/wasmtime/pull/10064">#10064</a>). Every result in these
reports was measured when they were built, {stamp}, with wasmtime-py as the host and the adapter builds
published in <code>@bytecodealliance/jco</code>.</p>
<p class="headline">{html.escape(headline(found))}</p>
<img src="data:image/png;base64,{figure_png}" alt="Survival grid: the report's five directories through every adapter build" style="max-width:100%">
<ol>{items}</ol>
<h2>Verdicts per build, this build</h2>
<table><tr><th>adapter</th><th>jco releases</th><th>verdict</th></tr>{rows}</table>
</body></html>
"""
