"""The explorer's and the stepper's controls in a live JupyterLab page, read and turned as a
reader would: the slider by keyboard or by typing in its readout, the dropdowns by
choosing, the buttons by clicking. Each change waits on the page, never on the clock.

The page comes from ``live_lab``: a private JupyterLab, a notebook opened in chromium.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..experiments.scenarios import ordering, scheme_paths
from ..model.errors import LabError
from .live_lab import CHANGE_TIMEOUT, PANEL, RUN_TIMEOUT

if TYPE_CHECKING:  # playwright is a test extra: imported where it is used
    from playwright.sync_api import Locator, Page


def _control(page: Page, root: Locator, label: str) -> Locator:
    """The control inside ``root`` whose label reads exactly ``label`` ("order", not "order by hand")."""
    return root.locator(".widget-inline-hbox").filter(
        has=page.locator(":scope > label.widget-label", has_text=re.compile(f"^{re.escape(label)}$")))


# -- the explorer (notebook 3) -------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One fd slot of a result view's first table, as the page shows it."""

    fd: int
    outcome: str
    text: str


@dataclass(frozen=True)
class ExplorerSettings:
    """The explorer's controls as the page shows them."""

    count: int
    names: str
    custom: str
    order: str
    seed: int
    by_hand: str
    build: str
    guest: str

    def paths(self) -> list[str]:
        """The preopen list these settings stand for: ``Explorer.paths`` computed afresh."""
        if self.names == "custom":
            custom = [p.strip() for p in self.custom.split(",")]
            names = scheme_paths("custom", len(custom), custom)
        else:
            names = scheme_paths(self.names, self.count)
        return [names[i] for i in ordering(len(names), self.order, self.seed, self.by_hand)]


# The first table of the view: one td.outcome per fd slot, and the title in bold above it.
_READ_VIEW = """view => ({
  title: view.querySelector('b')?.textContent ?? '',
  cells: [...(view.querySelector('table')?.querySelectorAll('td.outcome') ?? [])]
    .map(td => ({fd: Number(td.dataset.fd), outcome: td.dataset.outcome ?? '', text: td.textContent}))
})"""
_SHOWS = """([view, title, labels]) => {
  const shown = (%s)(view);
  return shown.title === title && shown.cells.length === labels.length
    && shown.cells.every((c, i) => c.text.endsWith(labels[i]));
}""" % _READ_VIEW


class LiveExplorer:
    """The ``Explorer`` widget on a page: its controls found by their labels."""

    def __init__(self, page: Page, timeout: float = RUN_TIMEOUT) -> None:
        self.page = page
        self.root = page.locator(f"{PANEL} .preopen-explorer")  # widgets.Explorer's own class
        self.root.wait_for(timeout=timeout * 1000)
        self.view = self.root.locator(".explorer-view .widget-html-content")
        self.view.locator("table td.outcome").first.wait_for(timeout=timeout * 1000)

    def control(self, label: str) -> Locator:
        return _control(self.page, self.root, label)

    def settings(self) -> ExplorerSettings:
        """What the controls show now (a dropdown's label, which for the builds is not its value)."""
        return ExplorerSettings(
            count=int(self.control("directories").locator(".widget-readout").inner_text()),
            names=self._value("names", "select"), custom=self._value("custom names", "input"),
            order=self._value("order", "select"), seed=int(self._value("shuffle seed", "input") or 0),
            by_hand=self._value("order by hand", "input"), build=self._value("adapter build", "select"),
            guest=self._value("guest", "select"))

    def _value(self, label: str, element: str) -> str:
        return self.control(label).locator(element).input_value()

    def set_count(self, count: int) -> None:
        """Type ``count`` into the slider's readout and press Enter (one change, not a drag)."""
        readout = self.control("directories").locator(".widget-readout")
        readout.fill(str(count))
        readout.press("Enter")

    def nudge_count(self, step: int) -> None:
        """One arrow key on the focused slider handle: the count moves by one."""
        handle = self.control("directories").locator(".noUi-handle")
        handle.focus()
        handle.press("ArrowRight" if step > 0 else "ArrowLeft")

    def choose(self, label: str, value: str) -> None:
        """Pick ``value`` in the dropdown labelled ``label`` (names, order, adapter build, guest)."""
        self.control(label).locator("select").select_option(value)

    def type(self, label: str, text: str) -> None:
        """Type into a text field and press Enter, which is when the explorer applies it."""
        field = self.control(label).locator("input")
        field.fill(text)
        field.press("Enter")

    def cells(self) -> list[Cell]:
        return [Cell(**c) for c in self.view.evaluate(_READ_VIEW)["cells"]]

    def wait_for(self, title: str, labels: list[str], timeout: float = CHANGE_TIMEOUT) -> list[Cell]:
        """Wait until the view shows the run titled ``title`` with one cell per label (each
        cell's text ends with its label, e.g. ``fd 3 · /a``); then its cells."""
        self.page.wait_for_function(_SHOWS, arg=[self.view.element_handle(), title, labels],
                                    timeout=timeout * 1000)
        return self.cells()

    def timed_change(self, change: Callable[[], None], title: str, labels: list[str],
                     timeout: float = CHANGE_TIMEOUT) -> float:
        """Milliseconds, measured in the page, from the input event ``change`` causes (the
        first keydown, input or change event) to the DOM mutation after which the view shows
        ``title`` and ``labels``. The view must not show them already."""
        view = self.view.element_handle()
        armed = self.page.evaluate(_ARM % _SHOWS, [view, title, labels])
        if not armed:
            raise LabError(f"the explorer already shows {title} with {labels}: a timed change must change it")
        try:
            change()
            self.page.wait_for_function("() => window.__preopenLab.t1 !== null", timeout=timeout * 1000)
            return self.page.evaluate("() => window.__preopenLab.t1 - window.__preopenLab.t0")
        finally:
            self.page.evaluate("() => window.__preopenLab.stop()")


# Arms one measurement: input events stamp t0 (capture phase, before any widget sees them),
# a MutationObserver on the view stamps t1 when the view first shows what is expected.
_ARM = """([view, title, labels]) => {
  const shows = %s;
  if (shows([view, title, labels])) return false;
  const t = {t0: null, t1: null};
  const stamp = () => { if (t.t0 === null) t.t0 = performance.now(); };
  const events = ['keydown', 'input', 'change'];
  events.forEach(e => window.addEventListener(e, stamp, true));
  const observer = new MutationObserver(() => {
    if (t.t0 !== null && t.t1 === null && shows([view, title, labels])) t.t1 = performance.now();
  });
  observer.observe(view, {childList: true, subtree: true, characterData: true});
  t.stop = () => { observer.disconnect(); events.forEach(e => window.removeEventListener(e, stamp, true)); };
  window.__preopenLab = t;
  return true;
}"""


# -- the stepper (notebook 4) ---------------------------------------------------------------


@dataclass(frozen=True)
class Caption:
    """What the stepper shows: its step, the caption's text and the words it sets as code."""

    step: int
    text: str
    code: tuple[str, ...]


_READ_STEPPER = """root => ({
  step: Number(root.querySelector('.widget-readout').textContent),
  text: root.querySelector('.stepper-caption .widget-html-content').textContent,
  code: [...root.querySelectorAll('.stepper-caption .widget-html-content code')].map(c => c.textContent)
})"""


class LiveStepper:
    """The ``Stepper`` widget on a page: Prev, Next, the step slider and the caption."""

    def __init__(self, page: Page, timeout: float = RUN_TIMEOUT) -> None:
        self.page = page
        self.root = page.locator(f"{PANEL} .preopen-stepper")  # widgets.Stepper's own class
        self.root.locator(".stepper-caption .widget-html-content p").wait_for(timeout=timeout * 1000)

    def settings(self) -> tuple[list[str], str, int]:
        """The preopen list, the adapter behaviour and the fd, as the page shows them."""
        paths = _control(self.page, self.root, "preopens").locator("input").input_value()
        behavior = _control(self.page, self.root, "adapter").locator("select").input_value()
        fd = _control(self.page, self.root, "fd").locator("select").input_value()
        return [p.strip() for p in paths.split(",")], behavior, int(fd)

    def last_step(self) -> int:
        return int(float(self.root.locator(".noUi-handle").get_attribute("aria-valuemax")))

    def caption(self) -> Caption:
        shown = self.root.element_handle().evaluate(_READ_STEPPER)
        return Caption(shown["step"], shown["text"], tuple(shown["code"]))

    def click(self, button: str, timeout: float = CHANGE_TIMEOUT) -> Caption:
        """Click Prev or Next; wait until both the step and the caption have changed."""
        before = self.caption()
        self.root.get_by_role("button", name=re.compile(button)).click()
        self.page.wait_for_function(
            """([root, step, text]) => { const now = (%s)(root); return now.step !== step && now.text !== text; }"""
            % _READ_STEPPER, arg=[self.root.element_handle(), before.step, before.text], timeout=timeout * 1000)
        return self.caption()


__all__ = ["Caption", "Cell", "ExplorerSettings", "LiveExplorer", "LiveStepper"]
