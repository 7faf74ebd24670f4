"""What an exported page shows where the lab has a widget that needs a kernel.

A saved widget is a form that does nothing in a page, so no page carries one. A code cell
whose metadata names a view (``preopen_lab.offline_view``) has its widget replaced, when the
page is exported, by what that widget would show for the page's own case, made by this
build, and one line on running the widget itself:

- ``live-explorer``: the live explorer (``live``): the real builds run in the reader's page.
- ``stepper``: the stepper recorded, every step's sentence and figure for the report's case and
  two lists that break it differently, with Prev and Next (a few lines of script; without
  script, the opening step of the first list); for the report's case through the affected
  build and the fixed one, each step also shows what that build's own allocator did, traced
  for real (``reach.alloc_trace``), beside the model's offsets.
- ``scan``: the page's own scanner (``live_scan``: drop a file, it is scanned in the browser),
  then the widget's answer recorded for the lab's opener composed with an affected and a fixed
  build, as it gives it for an upload (the repair's download link included).
"""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..artifacts import adapters, guests
from ..artifacts.compose import compose
from ..experiments.verdicts import REPORT_CASE
from ..findings.claims import LAST_MISROUTED
from ..model import chain
from ..model.describe import prose, step_sentence
from ..reach import alloc_trace
from ..show.diagrams import ALLOCATION_STYLE, allocation_html, scratch_diagram
from ..show.views import figure_img

VIEWS = ("live-explorer", "stepper", "scan")
"""The views a cell may name."""

LIVE_LINE = {
    "live-explorer": "In JupyterLab (<code>make lab</code>) this cell is the lab's own explorer, a widget that runs "
                     "each change in the kernel's wasmtime, native runs included.",
    "stepper": "In JupyterLab (<code>make lab</code>) this cell is a widget: any list, any fd, the adapter as "
               "published or fixed, and beside it any catalogued build's own allocator, traced for real; in a "
               "terminal, <code>python -m analysis explain --fd N --adapter ID PATH...</code>.",
    "scan": "In JupyterLab (<code>make lab</code>) this cell is a widget that scans a <code>.wasm</code> file you "
            "drop on it; in a terminal, <code>python -m analysis scan FILE</code> answers the same.",
}
"""The one line under each view: the widget it stands for, and where it runs."""


@dataclass(frozen=True)
class StepperCase:
    """One call the recorded stepper walks: whose name ``fd`` asks for, in ``paths``."""

    label: str
    paths: tuple[str, ...]
    fd: int
    opens_at: int | None = None
    """The step shown first (None: the last, the copy)."""
    behavior: chain.Behavior = "missing-increment"
    """The model's behaviour for this call."""
    real: str | None = None
    """``affected`` or ``fixed``: that measured build's own allocator is traced and shown beside
    each step (None: the model alone)."""


STEPPER_CASES = (
    StepperCase("the report's case, fd 5 (/c)", REPORT_CASE, 5, opens_at=3, real="affected"),
    StepperCase("names of different lengths, fd 4: a name stitched from two", ("/a", "/bbbb", "/c", "/dd"), 4),
    StepperCase("real directory names, fd 4: the last name routed elsewhere", LAST_MISROUTED, 4),
    StepperCase("the report's case, fd 5 (/c), the fixed adapter", REPORT_CASE, 5, opens_at=3, behavior="fixed",
                real="fixed"),
)
"""The report's case and two lists that break it differently (page 4's diagrams), and the report's
case again as the fixed adapter runs it; the report's case beside the real builds' allocators."""


def views(needed: Iterable[str], affected: str, fixed: str, explorer: Callable[[], str],
          scanner: Callable[[], str] = str) -> dict[str, str]:
    """The HTML of each view ``needed`` in this build: ``affected`` and ``fixed`` (build ids) for
    the scan and the stepper's real allocators, ``explorer`` makes the live explorer's own HTML
    (``live.explorer_html``), ``scanner`` the page's own scanner, above the recorded scans
    (``live_scan.scanner_html``)."""
    makers = {"live-explorer": explorer, "stepper": lambda: stepper_html(STEPPER_CASES, affected, fixed),
              "scan": lambda: scanner() + scan_html(affected, fixed)}
    return {name: makers[name]() for name in VIEWS if name in set(needed)}


def named_views(notebooks: Iterable[Path]) -> set[str]:
    """The views the cells of these notebooks name."""
    import nbformat

    return {cell.metadata.get("preopen_lab", {}).get("offline_view") for path in notebooks
            for cell in nbformat.read(path, as_version=4).cells} & set(VIEWS)


def with_line(view: str, name: str) -> str:
    """A view and its line on running the widget itself."""
    return f'<div class="offline-view" data-view="{name}">{view}<p class="offline-line">{LIVE_LINE[name]}</p></div>'


def stepper_html(cases: tuple[StepperCase, ...], affected: str | None = None, fixed: str | None = None) -> str:
    """Every step of each case, as the stepper draws it: one shown, Prev and Next to walk. A case
    with ``real`` set shows beside each step what that build (``affected`` or ``fixed``) did, traced."""
    steps, options, first, style = [], [], 0, ""
    builds = {"affected": affected, "fixed": fixed}
    for c, case in enumerate(cases):
        trace = chain.explain(case.paths, case.fd, case.behavior)
        build = builds.get(case.real) if case.real else None
        both = alloc_trace.beside(alloc_trace.trace(build, case.paths, case.fd), trace) if build else None
        style = ALLOCATION_STYLE if both is not None else style
        last = len(trace.steps) + 1
        opens = last if case.opens_at is None else case.opens_at
        first = opens if c == 0 else first
        label = case.label + (f", beside {build} run for real" if build else "")
        options.append(f'<option value="{c}" data-opens="{opens}">{html.escape(label)}</option>')
        for step in range(last + 1):
            figure = figure_img(scratch_diagram(trace, upto=min(step, len(trace.steps)),
                                                show_copy=step > len(trace.steps)))
            real = allocation_html(both, step) if both is not None else ""
            hidden = "" if (c, step) == (0, opens) else " hidden"
            steps.append(f'<div class="stepper-step" data-case="{c}" data-step="{step}" data-last="{last}"{hidden}>'
                         f'<p class="stepper-caption"><b>Step {step} of {last}.</b> '
                         f"{prose(step_sentence(trace, step))}</p>{real}{figure}</div>")
    return ('<div class="recorded-stepper"><p class="stepper-controls"><label>list <select aria-label="list">'
            f'{"".join(options)}</select></label> <button type="button" data-move="-1">◀ Prev</button> '
            f'<span class="stepper-at">step {first}</span> <button type="button" data-move="1">Next ▶</button></p>'
            # what a screen reader says on each move: the shown step's caption
            '<p class="stepper-said sr-only" role="status" aria-live="polite"></p>'
            f'{"".join(steps)}</div>{style}{_STEPPER_SCRIPT}')


_STEPPER_SCRIPT = """<script>
document.querySelectorAll('.recorded-stepper').forEach((box) => {
  const list = box.querySelector('select'), at = box.querySelector('.stepper-at'), said = box.querySelector('.stepper-said');
  let shown = box.querySelector('.stepper-step:not([hidden])');
  const show = (c, s) => {
    const next = box.querySelector(`.stepper-step[data-case="${c}"][data-step="${s}"]`);
    if (!next) return;
    shown.hidden = true; next.hidden = false; shown = next; at.textContent = `step ${s}`;
    said.textContent = next.querySelector('.stepper-caption').textContent;
  };
  list.addEventListener('change', () => show(list.value, list.selectedOptions[0].dataset.opens));
  box.querySelectorAll('button').forEach((b) => b.addEventListener('click', () => {
    const s = Number(shown.dataset.step) + Number(b.dataset.move);
    if (s >= 0 && s <= Number(shown.dataset.last)) show(shown.dataset.case, s);
  }));
});
</script>"""


def scan_html(affected: str, fixed: str) -> str:
    """The scanner's answer for the opener composed with each build, as the widget shows it."""
    from ..show.widgets import Scanner

    parts = []
    for build_id in (affected, fixed):
        build = adapters.resolve(build_id)
        name = f"opener-{build_id}.wasm"
        component = compose(guests.get("opener").wasm(), build)
        parts.append(f"<p><b>Scanned: <code>{html.escape(name)}</code></b>, the lab's opener made a component "
                     f"with the {html.escape(build_id)} adapter.</p>{Scanner.report(name, component.read_bytes()).value}")
    return '<div class="recorded-scan">' + "".join(parts) + "</div>"


def replace_widgets(notebook, views: Mapping[str, str]) -> None:
    """In place: each cell naming a view gets it as its only output; with no widget left, the
    saved widget state goes too (a page then loads no widget script)."""
    from nbformat.v4 import new_output

    for cell in notebook.cells:
        name = cell.metadata.get("preopen_lab", {}).get("offline_view")
        if cell.cell_type == "code" and name in views:
            cell.outputs = [new_output("display_data", data={"text/html": with_line(views[name], name)})]
    left = any("application/vnd.jupyter.widget-view+json" in out.get("data", {})
               for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs)
    if not left:
        notebook.metadata.pop("widgets", None)
