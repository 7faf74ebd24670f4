"""The main job: execute every notebook, export it to HTML, and write the index and the deck.

``build`` runs each notebook in ``notebooks/`` top to bottom on a fresh kernel (one per
CPU at once), exports it with its figures and widget state (``pages``), then writes
``index.html`` and ``slides/index.html`` with the headline measured in that same build.
The assets the pages load are copied beside them (``assets``), so a reader needs no network.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from ..artifacts.cache import REPORTS_DIR, write_atomically
from ..experiments import verdicts
from ..findings.advice import EMPTY_NAME_STOP
from ..model.errors import LabError
from ..reach import host_matrix
from ..reach.survey import survey
from ..reach.toolchains import toolchain_map
from ..runs.cpus import usable_cpus
from ..runs.waiting import as_done
from . import live, live_check, live_scan, offline, paper
from .assets import fetch_assets
from .deck import Claims, deck_page
from .notebooks import NOTEBOOKS_DIR, Notebook, execute, notebooks
from .pages import TITLE, Built, export_html, index_html, measured_headline, nav_html
from .story import PARTS, story

CAVEATS = (EMPTY_NAME_STOP,
           "A single preopen whose name is 60,001 bytes long",
           "With nested names not even the first slot is safe")
"""The claims of page 6 the handout names as caveats, by the words they start with."""
CAUSE = ("04_root_cause", "Adding the increment cures every affected build")
"""The claim of page 4 the handout states first among what the runs found: the cause, in the binaries."""
LIVE = "live-explorer"
NOT_CHECKED = ("Not checked against the lab in this build: it had no chromium to run the page in "
               "(`make browser` installs Debian's).")
"""What page 3 says of its live explorer when the build could not check it."""


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
    # What the pages in this build show in place of widgets, made only where one is asked for:
    # the live explorer (page 3, and the deck's slide) needs its bundles, their check and the host matrix.
    needed = offline.named_views(directory / f"{nb.stem}.ipynb" for nb in chosen) | (set() if only else {LIVE})
    checked = short = native = ""
    matrix = None
    if LIVE in needed:
        live.write_assets(out / "assets" / live.ASSETS, affected=[v.adapter for v in verdicts.measure() if v.affected],
                          keep=live_scan.PAGE_SCRIPTS)
        agreement = live_check.checked(out / "assets" / live.ASSETS)
        checked = agreement.sentence() if agreement else NOT_CHECKED
        short = agreement.short() if agreement else NOT_CHECKED
        log(f"live explorer: {checked}")
        matrix = host_matrix.measured()
        native = live.native_sentence({h: matrix.differs_on(h) for h in live.BROWSER_HOSTS})
    scanned = ""
    if "scan" in needed:  # page 7's own scanner, and its check against the lab's
        live_scan.write_assets(out / "assets" / live.ASSETS)
        agreed = live_scan.checked(out / "assets" / live.ASSETS)
        scanned = agreed.sentence() if agreed else NOT_CHECKED
        log(f"page scanner: {scanned}")
    views = offline.views(needed, *verdicts.pick_builds(), lambda: live.explorer_html("assets", checked, native),
                          lambda: live_scan.scanner_html("assets", scanned))
    stop = threading.Event()  # set on Ctrl-C: kernels killed, and no page written after it
    with ThreadPoolExecutor(max_workers=max(1, min(workers or os.cpu_count() or 1, len(chosen)))) as pool:
        cpus = usable_cpus()
        futures = [pool.submit(_build_one, nb, every, directory, out, cpus[i % len(cpus)], stop, views)
                   for i, nb in enumerate(chosen)]
        try:
            for future in as_done(futures):
                page = future.result()
                log(f"{page.notebook.stem}: {page.figures} figure(s), {page.seconds:.1f} s -> {page.html}")
        except BaseException:
            stop.set()
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
    executed = {b.notebook.stem: nbformat.read(out / "executed" / f"{b.notebook.stem}.ipynb", 4) for b in built}
    explorer = live.explorer_html("../assets", checked, native)
    slides = story(executed, found, measured_headline(found), (short, checked), explorer, matrix,
                   toolchain_map(survey()), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    write_atomically(out / "slides" / "index.html", deck_page(slides, TITLE, "../assets", PARTS).encode())
    log(f"slides -> {out / 'slides' / 'index.html'} ({len(slides)} slides)")
    claims = Claims(executed)
    caveats = [claims.sentence(CAUSE[0], CAUSE[1]), *(claims.sentence("06_practices", starts) for starts in CAVEATS)]
    write_atomically(out / "handout.html", paper.handout_html(found, toolchain_map(survey()), caveats,
                                                             measured_headline(found)).encode())
    for pdf in paper.print_pdfs(out, log):
        log(f"paper -> {pdf}")
    return built


def _build_one(nb: Notebook, every: Sequence[Notebook], directory: Path, out: Path, cpu: int | None,
               stop: threading.Event, views: dict[str, str]) -> Built:
    start = time.perf_counter()
    executed = execute(directory / f"{nb.stem}.ipynb", cpu=cpu, stop=stop)
    at = [n.stem for n in every].index(nb.stem)
    nav = nav_html(every[at - 1] if at > 0 else None, every[at + 1] if at + 1 < len(every) else None)
    pages = {str(int(n.stem.split("_")[0])): f"{n.stem}.html" for n in every if n.stem.split("_")[0].isdigit()}
    page = export_html(executed, f"{nb.title} · preopen lab", nav, pages, views=views)
    target = out / f"{nb.stem}.html"
    if stop.is_set():  # the export finished after Ctrl-C: it is not published
        raise LabError("interrupted")
    write_atomically(target, page.encode())
    write_atomically(out / "executed" / f"{nb.stem}.ipynb", nbformat.writes(executed).encode())
    figures = len(re.findall(r'<img[^>]*src="data:image/png;base64', page))
    return Built(nb, target, time.perf_counter() - start, figures)
