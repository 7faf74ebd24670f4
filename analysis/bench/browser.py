"""The explorer in a live JupyterLab, in chromium: from a change of a control to the page
showing its run, beside the same changes in this process (``bench --browser``).
"""
from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..artifacts.adapters import resolve
from ..experiments.scenarios import ordering, scheme_paths
from ..model.wasi import FIRST_FD
from ..publish import chromium
from . import live_lab, live_widgets
from .timing import children_on_every_cpu, timing

BROWSER_CHANGES = 36
"""Changes timed in the live lab: six rounds of count up, build, order, count down, build, order."""


@dataclass(frozen=True)
class Turn:
    """One change of the explorer's controls, and the configuration it leads to."""

    control: str
    """``count`` (one arrow key on the slider), ``adapter build`` or ``order``."""
    value: int | str
    count: int
    build: str
    order: str

    def paths(self) -> list[str]:
        names = scheme_paths("equal", self.count)
        return [names[i] for i in ordering(self.count, self.order)]


def browser_turns(build: str, other: str, changes: int = BROWSER_CHANGES) -> list[Turn]:
    """``changes`` turns from 5 equal names as given through ``build``, each unlike the one before."""
    round_ = [("count", +1), ("adapter build", other), ("order", "reversed"),
              ("count", -1), ("adapter build", build), ("order", "as given")]
    state = Turn("start", 0, 5, build, "as given")
    turns = []
    for i in range(changes):
        control, value = round_[i % len(round_)]
        field = {"count": "count", "adapter build": "build", "order": "order"}[control]
        state = replace(state, control=control, value=value,
                        **{field: state.count + value if control == "count" else value})
        turns.append(state)
    return turns


def browser_lines(adapter: str, changes: int = BROWSER_CHANGES) -> list[str]:
    """From a change in the browser to the page showing its run: notebook 3 in a private
    JupyterLab, run with Run All, its explorer turned ``changes`` times in Debian's chromium
    (the count by one arrow key on the slider, the build and the order by choosing), each
    timed in the page from the input event to the DOM mutation that shows the new run.
    Against it, the same changes made to an ``Explorer`` in this process: what the kernel,
    the comm round trip, the widget's debounce and the page add."""
    from ..experiments import verdicts
    from ..model.describe import shown
    from ..show.widgets import Explorer  # ipywidgets, only when the explorer is timed

    build = resolve(adapter).id
    other = next(b for b in verdicts.pick_builds() if b != build)
    turns = browser_turns(build, other, changes)
    with tempfile.TemporaryDirectory(prefix="preopen-lab-bench-") as folder, contextlib.ExitStack() as stack:
        with children_on_every_cpu():  # this process is pinned; the lab and the browser must not be
            lab = stack.enter_context(live_lab.running_lab(Path(folder)))
            chrome = stack.enter_context(chromium.browser())
        with live_lab.open_notebook(chrome, lab, "03_explorer.ipynb") as page:
            live_lab.run_all(page)
            explorer = live_widgets.LiveExplorer(page)
            explorer.choose("adapter build", build)  # where the turns start: 5 names as given
            explorer.choose("order", "as given")
            explorer.set_count(5)
            samples = []
            for turn in turns:
                labels = [f"fd {FIRST_FD + i} · {shown(p)}" for i, p in enumerate(turn.paths())]
                ms = explorer.timed_change(lambda: _turn_live(explorer, turn), f"{turn.build}, measured", labels)
                samples.append(ms / 1000)
    local = Explorer(build=build, count=5)
    in_process = []
    for turn in turns:
        start = time.perf_counter()
        if turn.control == "count":
            local.count.value = turn.count
        else:
            (local.build if turn.control == "adapter build" else local.order).value = turn.value
        in_process.append(time.perf_counter() - start)  # each change runs and redraws before returning
    browser = timing("explorer, chromium: change -> page shows it", samples)
    baseline = timing("the same changes to an in-process Explorer", in_process)
    return [f"the live lab: notebook 3 in JupyterLab, its explorer turned {len(turns)} times in chromium between "
            f"{build} and {other} (count by one arrow key, build and order by choosing)",
            browser.line(), baseline.line(),
            f"in the browser / in-process (median): {browser.median_ms / baseline.median_ms:.1f}x "
            "(the kernel's widget debounce, the comm round trip and the page's redraw)"]


def _turn_live(explorer: live_widgets.LiveExplorer, turn: Turn) -> None:
    if turn.control == "count":
        explorer.nudge_count(int(turn.value))
    else:
        explorer.choose(turn.control, str(turn.value))
