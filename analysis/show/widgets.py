"""Interactive views for JupyterLab: the explorer and the allocator stepper.

Both run everything for real (or through the model, where the user picks it) and
never raise into the notebook: a trap is a result to show, bad input is one line.
"""
from __future__ import annotations

import asyncio
import base64
import html
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import ipywidgets as w
from IPython.display import clear_output, display

from ..artifacts import adapters
from ..experiments.scenarios import ORDERS, SCHEME_CHOICES, check_scheme, ordering, scheme_paths
from ..experiments.verdicts import REPORT_CASE
from ..model import chain
from ..model.describe import NATIVE_LABEL, step_sentence
from ..model.errors import LabError
from ..model.results import NATIVE, RunResult
from ..model.wasi import FIRST_FD, check_fd, check_paths, preopen_fds
from ..reach import alloc_trace, repair, scan
from ..runs.runner import Runner, default_runner
from .diagrams import ALLOCATION_STYLE, allocation_html, scratch_diagram
from .palette import OUTCOME_COLORS
from .views import figure_img, prose, result_html, scan_html

MODEL_PREFIX = "model: "


def build_options() -> list[tuple[str, str]]:
    """Every catalogued build, native, and the model's two adapter behaviours."""
    builds = [(b.id, b.id) for b in adapters.catalogue()]
    models = [(f"{MODEL_PREFIX}{b}", f"{MODEL_PREFIX}{b}") for b in ("missing-increment", "fixed")]
    return [(NATIVE_LABEL, NATIVE), *builds, *models]


class Debouncer:
    """Collapses bursts of widget changes into one call.

    Inside a running event loop (a Jupyter kernel) the call waits ``delay`` seconds and
    each new request restarts the wait, so a dragged slider runs once, with its last
    value. Without a loop (tests, scripts) it calls at once.
    """

    def __init__(self, func: Callable[[], None], delay: float = 0.03) -> None:
        self.func = func
        self.delay = delay
        self._handle: asyncio.TimerHandle | None = None

    def __call__(self, *_: object) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.func()
            return
        if self._handle is not None:
            self._handle.cancel()
        self._handle = loop.call_later(self.delay, self.func)


def _error_html(message: str) -> str:
    return (f'<p style="border-left:4px solid {OUTCOME_COLORS["missing"]};padding-left:8px">'
            f'<b>Cannot run this:</b> {prose(message)}</p>')


# -- the explorer -------------------------------------------------------------------------


class Explorer:
    """Turn the knobs, watch which fd slots survive; every change is a real run."""

    def __init__(self, runner: Runner | None = None, max_count: int = 12, *, build: str = NATIVE,
                 scheme: str = "equal", count: int = 5) -> None:
        self.runner = runner or default_runner()
        if not 1 <= count <= max_count:
            raise LabError(f"count {count} is out of range: choose 1..{max_count} (or raise max_count)")
        check_scheme(scheme)
        if build not in {value for _, value in build_options()}:
            raise LabError(f"unknown adapter build {build!r}: choose native, a catalogued id or a model: entry")
        style = {"description_width": "110px"}
        self.count = w.IntSlider(value=count, min=1, max=max_count, description="directories", style=style)
        self.scheme = w.Dropdown(options=SCHEME_CHOICES, value=scheme, description="names", style=style)
        # Text fields apply on Enter or when they lose focus, never on a half-typed keystroke.
        self.custom = w.Text(value="/data, /cache, /tmp", description="custom names", style=style,
                             placeholder="comma-separated guest paths", continuous_update=False)
        self.order = w.Dropdown(options=ORDERS, value="as given", description="order", style=style)
        self.seed = w.IntText(value=0, description="shuffle seed", style=style, continuous_update=False)
        self.by_hand = w.Text(value="", description="order by hand", style=style, placeholder="e.g. 4 0 3 1 2",
                              continuous_update=False)
        self.build = w.Dropdown(options=build_options(), value=build, description="adapter build", style=style)
        self.guest = w.Dropdown(options=list(chain.GUESTS), value="opener", description="guest", style=style)
        self.view = w.HTML()
        self.result: RunResult | None = None
        self.error: str | None = None
        self.request = Debouncer(self.refresh)
        controls = [self.count, self.scheme, self.custom, self.order, self.seed, self.by_hand, self.build, self.guest]
        for control in controls:
            control.observe(self.request, names="value")
        self.widget = w.VBox([w.HBox([w.VBox(controls[:4]), w.VBox(controls[4:])]), self.view])
        self.widget.add_class("preopen-explorer")  # stable names for a page's scripts and tests
        self.view.add_class("explorer-view")
        self.refresh()

    def paths(self) -> list[str]:
        """The preopen list the controls describe, in the chosen order.

        Custom names are taken whole: their number is the count (the slider follows it).
        """
        if self.scheme.value == "custom":
            custom = self._custom_names()
            names = scheme_paths("custom", len(custom), custom)
        else:
            names = scheme_paths(self.scheme.value, self.count.value)
        order = ordering(len(names), self.order.value, self.seed.value, self.by_hand.value)
        return [names[i] for i in order]

    def _custom_names(self) -> list[str]:
        return [p.strip() for p in self.custom.value.split(",")]

    def _sync_controls(self) -> None:
        """Grey out what the current choices ignore; with custom names the slider shows their number."""
        custom = self.scheme.value == "custom"
        self.custom.disabled, self.count.disabled = not custom, custom
        self.seed.disabled = self.order.value != "shuffled"
        self.by_hand.disabled = self.order.value != "by hand"
        if custom:
            number = len(self._custom_names())
            if self.count.min <= number <= self.count.max and number != self.count.value:
                self.count.unobserve(self.request, names="value")  # the names changed, not the count: no second run
                self.count.value = number
                self.count.observe(self.request, names="value")

    def _waiting_for(self) -> str | None:
        """What the user still has to type before there is anything to run."""
        if self.order.value == "by hand" and not self.by_hand.value.strip():
            count = len(self._custom_names()) if self.scheme.value == "custom" else self.count.value
            return (f"Type an order in <i>order by hand</i>: each position 0..{count - 1} once, "
                    f"e.g. {' '.join(str(i) for i in reversed(range(count)))}, then press Enter.")
        return None

    def run(self) -> RunResult:
        paths = check_paths(self.paths())
        choice = self.build.value
        if choice.startswith(MODEL_PREFIX):
            return chain.predict(paths, choice.removeprefix(MODEL_PREFIX), guest=self.guest.value)
        return self.runner.run(paths, guest=self.guest.value, adapter=choice)

    def refresh(self) -> None:
        """Run the current configuration and redraw; never raises into the notebook."""
        self._sync_controls()
        prompt = self._waiting_for()
        if prompt is not None:
            self.result, self.error = None, None
            self.view.value = f"<p>{prompt}</p>"
            return
        try:
            self.result, self.error = self.run(), None
        except LabError as exc:
            self.result, self.error = None, str(exc)
        except Exception as exc:  # a bug of ours: say so in the view rather than go stale
            self.result, self.error = None, f"internal error ({type(exc).__name__}: {exc}); please report it"
        if self.error is not None:
            self.view.value = _error_html(self.error)
            return
        source = "predicted by the model" if self.build.value.startswith(MODEL_PREFIX) else "measured"
        self.view.value = result_html(self.result, f"{self.build.value}, {source}")

    def _ipython_display_(self) -> None:
        display(self.widget)


# -- the stepper ----------------------------------------------------------------------------


class Stepper:
    """Walk one ``fd_prestat_dir_name`` call through the adapter, one allocation at a time.

    It opens ``at`` a step (default: the last, where the name is copied out and goes wrong);
    Prev walks back. With a ``build`` picked, each step also shows what that catalogued build's own
    allocator did, traced for real (``reach.alloc_trace``). An exported page shows it recorded
    instead (``publish.offline``).
    """

    def __init__(self, paths: Sequence[str] = REPORT_CASE, behavior: chain.Behavior = "missing-increment",
                 fd: int = FIRST_FD + 2, at: int | None = None, build: str | None = None) -> None:
        check_fd(fd, len(check_paths(paths)))
        if behavior not in ("missing-increment", "fixed"):
            raise LabError(f"unknown adapter behaviour {behavior!r}: choose missing-increment or fixed")
        builds = [b.id for b in adapters.catalogue()]
        if build is not None and build not in builds:
            raise LabError(f"unknown build {build!r} for the stepper: one of {', '.join(builds)}, or none")
        style = {"description_width": "90px"}
        self.paths = w.Text(value=", ".join(paths), description="preopens", style=style)
        self.behavior = w.Dropdown(options=["missing-increment", "fixed"], value=behavior,
                                   description="adapter", style=style)
        self.fd = w.Dropdown(options=list(preopen_fds(len(paths))), value=fd, description="fd", style=style)
        self.step = w.IntSlider(value=0, min=0, max=len(paths) + 1, description="step", style=style)
        self.build = w.Dropdown(options=[("model only", None), *((b, b) for b in builds)], value=build,
                                description="beside", style=style)
        self.real = w.HTML()
        self.beside: alloc_trace.Beside | None = None
        self.prev = w.Button(description="◀ Prev")
        self.next = w.Button(description="Next ▶")
        self.caption = w.HTML()
        self.figure_out = w.Output()
        self.trace: chain.DirNameTrace | None = None
        self.error: str | None = None
        self.prev.on_click(lambda _: self._move(-1))
        self.next.on_click(lambda _: self._move(+1))
        self.paths.observe(self._rebuild, names="value")
        self.behavior.observe(self._rebuild, names="value")
        self.fd.observe(self._rebuild, names="value")
        self.build.observe(self._rebuild, names="value")
        self.step.observe(lambda _: self.draw(), names="value")
        self.widget = w.VBox([w.HBox([self.paths, self.behavior, self.fd, self.build]),
                              w.HBox([self.prev, self.step, self.next]), self.caption, self.real, self.figure_out])
        self.widget.add_class("preopen-stepper")  # stable names for a page's scripts and tests
        self.caption.add_class("stepper-caption")
        self._rebuild()
        last = self.step.max
        if at is not None and not 0 <= at <= last:
            raise LabError(f"step {at} is out of range: this call has steps 0..{last}")
        self.step.value = last if at is None else at

    def _move(self, delta: int) -> None:
        self.step.value = min(self.step.max, max(0, self.step.value + delta))

    def _rebuild(self, *_: object) -> None:
        try:
            names = check_paths([p.strip() for p in self.paths.value.split(",")])
        except LabError as exc:
            self.trace, self.beside, self.error = None, None, str(exc)
            self.caption.value = _error_html(self.error)
            self.real.value = ""
            return
        fds = list(preopen_fds(len(names)))
        if list(self.fd.options) != fds:
            keep = self.fd.value if self.fd.value in fds else fds[-1]
            self.fd.unobserve(self._rebuild, names="value")  # one redraw, not one per trait
            self.fd.options = fds
            self.fd.value = keep
            self.fd.observe(self._rebuild, names="value")
        self.trace = chain.explain(names, self.fd.value, self.behavior.value)
        self.error = None
        self.beside, self.real.value = None, ""
        if self.build.value is not None:
            try:
                self.beside = alloc_trace.beside(alloc_trace.trace(self.build.value, names, self.fd.value), self.trace)
            except LabError as exc:
                self.real.value = _error_html(str(exc))
        self.step.max = len(self.trace.steps) + 1
        self.draw()

    def draw(self) -> None:
        if self.trace is None:
            return
        step = self.step.value
        self.caption.value = f"<p>{prose(step_sentence(self.trace, step))}</p>"
        if self.beside is not None:
            self.real.value = ALLOCATION_STYLE + allocation_html(self.beside, step)
        upto = min(step, len(self.trace.steps))
        fig = scratch_diagram(self.trace, upto=upto, show_copy=step > len(self.trace.steps))
        with self.figure_out:
            clear_output(wait=True)
            display(figure_img(fig))

    def _ipython_display_(self) -> None:
        display(self.widget)




class Scanner:
    """Drop a ``.wasm`` file: what ``scan`` says of it and, when it is affected and can be
    re-adapted, the repaired component to download (checked as ``repair`` checks it)."""

    def __init__(self) -> None:
        # No icon: its font is not shipped with the pages, and a missing glyph shows as a box.
        self.upload = w.FileUpload(accept=".wasm", multiple=False, description="a .wasm file", icon="")
        self.out = w.Output()
        self.upload.observe(self._scan, names="value")
        self.box = w.VBox([self.upload, self.out])

    def _scan(self, *_: object) -> None:
        with self.out:
            clear_output(wait=True)
            if not self.upload.value:
                return
            item = self.upload.value[0]
            name, data = item["name"], bytes(item["content"])
            display(self.report(name, data))

    @staticmethod
    def report(name: str, data: bytes) -> w.HTML:
        """The scan of ``data`` and, for an affected plain component, a link to the repaired file."""
        try:
            found = scan.scan_bytes(data, name)
        except LabError as exc:
            return w.HTML(_error_html(str(exc)))
        parts = [str(scan_html(found))]
        if found.answer == "affected":
            with tempfile.TemporaryDirectory(prefix="preopen-lab-upload-") as folder:
                stem = Path(name).stem.strip(". ") or "upload"  # an upload may be named anything, "..", ""
                source, fixed = Path(folder) / f"{stem}.wasm", Path(folder) / f"{stem}.fixed.wasm"
                source.write_bytes(data)
                try:
                    done = repair.repair(source, fixed)
                except LabError as exc:
                    parts.append(f"<p>Not repaired here: {html.escape(str(exc))}</p>")
                else:
                    encoded = base64.b64encode(fixed.read_bytes()).decode()
                    said = (f"Repaired with {done.build} (imports WASI {done.after.findings[0].wasi_version}), "
                            f"scanned as {done.after.answer}")
                    parts.append(f'<p>{html.escape(said)}: <a download="{html.escape(fixed.name)}" '
                                 f'href="data:application/wasm;base64,{encoded}">download {html.escape(fixed.name)}</a></p>')
        return w.HTML("".join(parts))

    def _ipython_display_(self) -> None:
        display(self.box)
