"""The lab as a reader meets it: JupyterLab, live, driven in a real browser.

Used by ``tests/test_lab_browser.py`` and ``python -m analysis bench --browser``. It starts a
private JupyterLab on a free localhost port over a *copy* of the notebooks (JupyterLab
autosaves, and the committed notebooks must never gain outputs), opens a notebook in Debian's
chromium through Playwright from PyPI (launched by ``executable_path``: Playwright's own browser
download is never used), runs it with JupyterLab's own Run menu, and reads and turns the
explorer's and the stepper's controls as a reader would: the slider by keyboard or by typing in
its readout, the dropdowns by choosing, the buttons by clicking. Everything waits on the page,
never on the clock; every timeout is a ceiling for a shared two-CPU machine, not a measurement.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ._cache import PROJECT_ROOT
from .errors import LabError, first_line
from .scenarios import ordering, scheme_paths

if TYPE_CHECKING:  # playwright is a test extra: imported where it is used
    from playwright.sync_api import Browser, Locator, Page

NOTEBOOKS = PROJECT_ROOT / "notebooks"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
"""The notebook on show: every element this module looks for is inside it."""
START_TIMEOUT = 60.0
"""Seconds for JupyterLab to answer, and for a notebook's kernel to connect."""
RUN_TIMEOUT = 120.0
"""Seconds for Run All: notebooks 3 and 4 run real WebAssembly for a few seconds each."""
CHANGE_TIMEOUT = 30.0
"""Seconds for one widget change to come back from the kernel onto the page."""

# JupyterLab's own settings for this private lab: every cell in the page (no windowing, so the
# widgets below the fold exist to be found), and no news or update prompt over the controls.
_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
}


def chromium() -> str | None:
    """Debian's chromium (``make browser`` installs it), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


# -- the server ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lab:
    """A running private JupyterLab: where it listens, its token, and the folder it serves."""

    base: str
    token: str
    root: Path
    log: Path

    def url(self, notebook: str) -> str:
        """The notebook alone in a workspace of its own, reset: no tab restored from before."""
        return f"{self.base}/lab/workspaces/{Path(notebook).stem}/tree/{notebook}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.base}/api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else None


@contextmanager
def running_lab(workdir: Path, notebooks: Path = NOTEBOOKS, timeout: float = START_TIMEOUT) -> Iterator[Lab]:
    """JupyterLab serving a copy of ``notebooks`` made in ``workdir`` (which holds its settings,
    its kernels' files and its log too), on a free localhost port with a random token.

    Stopped, with its kernels, however the block ends: shut down through its API, then its
    process group is killed, then any kernel it left behind.
    """
    root = workdir / "notebooks"
    root.mkdir(parents=True)
    for notebook in sorted(notebooks.glob("*.ipynb")):
        shutil.copy2(notebook, root / notebook.name)
    for name, values in _SETTINGS.items():
        path = workdir / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ)
    for variable, folder in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                             ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
        env[variable] = str(workdir / folder)  # nothing read from, or written to, the user's own
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
               f"--LabApp.user_settings_dir={workdir / 'settings'}",
               f"--LabApp.workspaces_dir={workdir / 'workspaces'}"]
    if os.getuid() == 0:
        command.append("--allow-root")  # as root (a container) JupyterLab refuses to start without it
    log = workdir / "jupyterlab.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env=env, cwd=root, start_new_session=True)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, log)
    try:
        _wait_until_up(lab, server, timeout)
        _check_kernels(lab)
        yield lab
    finally:
        _stop(lab, server)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(lab: Lab, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise LabError(f"JupyterLab stopped at start (status {server.returncode}): {_last_line(lab.log)}")
        try:
            lab.api("status")
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)  # polling a process that is starting, not timing anything
    raise LabError(f"JupyterLab did not answer on {lab.base} within {timeout:.0f} s: {_last_line(lab.log)}")


def _check_kernels(lab: Lab) -> None:
    """Each notebook's kernel must be this environment's Python, where ``analysis`` is installed.

    jupyter_client starts a kernelspec whose command is a bare ``python`` with the server's
    interpreter, which here is ``sys.executable``; any other interpreter is refused."""
    specs = lab.api("kernelspecs")["kernelspecs"]
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    for notebook in sorted(lab.root.glob("*.ipynb")):
        name = json.loads(notebook.read_text())["metadata"].get("kernelspec", {}).get("name", "python3")
        if name not in specs:
            raise LabError(f"{notebook.name} asks for kernel {name!r}, which this environment lacks: "
                           "run `make setup`")
        program = specs[name]["spec"]["argv"][0]
        if program not in bare and Path(program).resolve() != Path(sys.executable).resolve():
            raise LabError(f"kernel {name!r} runs {program}, not this environment's {sys.executable}: "
                           "remove the other kernelspec or run `make setup`")


def _stop(lab: Lab, server: subprocess.Popen) -> None:
    try:
        lab.api("shutdown", method="POST")  # shuts its kernels down too
        server.wait(timeout=15)
    except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
        pass
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    server.wait()
    for pid in _kernels_of(server.pid):  # kernels run in sessions of their own
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _kernels_of(server: int) -> list[int]:
    """Processes started by the server ``server`` (jupyter_client marks each kernel with it)."""
    mark = f"JPY_PARENT_PID={server}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return first_line(lines[-1] if lines else "", "no output")[:300]


# -- the browser -------------------------------------------------------------------------


@contextmanager
def browser() -> Iterator[Browser]:
    """Headless Debian chromium under Playwright; closed however the block ends."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise LabError("playwright is not installed: `make setup` installs the test extras") from None
    executable = chromium()
    if executable is None:
        raise LabError("no Chromium: `make browser` installs Debian's chromium (it needs root or sudo)")
    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=executable, headless=True,
                                            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            yield chrome
        finally:
            chrome.close()


@contextmanager
def open_notebook(chrome: Browser, lab: Lab, notebook: str, timeout: float = START_TIMEOUT) -> Iterator[Page]:
    """A page of its own on ``notebook``, once its kernel has connected and is idle; closed
    when the block ends (the kernel stays until the lab stops)."""
    context = chrome.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(CHANGE_TIMEOUT * 1000)
        page.goto(lab.url(notebook))
        # The toolbar's indicator says idle before the kernel is there, and a Run All then runs
        # nothing: wait until the server counts this page's connection to the notebook's kernel.
        deadline = time.monotonic() + timeout
        while not _connected(lab, notebook):
            if time.monotonic() > deadline:
                raise LabError(f"{notebook}: its kernel did not start and connect within {timeout:.0f} s: "
                               f"{_last_line(lab.log)}")
            time.sleep(0.2)  # polling the server, not timing anything
        page.wait_for_selector(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=timeout * 1000)
        yield page
    finally:
        context.close()


def _connected(lab: Lab, notebook: str) -> bool:
    kernels = [s["kernel"] for s in lab.api("sessions") if s.get("path") == notebook and s.get("kernel")]
    return any(k.get("connections", 0) >= 1 and k.get("execution_state") == "idle" for k in kernels)


_PROMPTS = f"() => [...document.querySelectorAll('{PANEL} .jp-InputPrompt')].map(p => p.textContent.trim())"
# Run All is finished when no cell waits ([*]) and every cell with code has a number; cells
# left unnumbered with none waiting mean JupyterLab stopped at an error.
_RUN_STATE = """() => {
  const cells = [...document.querySelectorAll('%s .jp-CodeCell')]
    .filter(c => (c.querySelector('.cm-content')?.textContent ?? '').trim() !== '');
  const prompts = cells.map(c => c.querySelector('.jp-InputPrompt')?.textContent ?? '');
  if (prompts.some(p => p.includes('*')) || !prompts.some(p => /\\d/.test(p))) return null;
  if (prompts.every(p => /\\d/.test(p))) return {ok: true};
  const failed = cells.find(c => /Error|Exception/.test(c.querySelector('.jp-OutputArea')?.textContent ?? ''));
  const words = failed ? failed.querySelector('.jp-OutputArea').textContent.trim().split('\\n') : [];
  return {ok: false, cell: cells.indexOf(failed) + 1, error: words.length ? words[words.length - 1] : 'unknown'};
}""" % PANEL


def run_all(page: Page, timeout: float = RUN_TIMEOUT) -> None:
    """Run > Run All Cells, as a reader would, and wait until every cell has run."""
    from playwright.sync_api import TimeoutError as Timeout

    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator("li[data-command='runmenu:run-all']:not(.lm-mod-disabled)").click()
    try:  # a cell waiting ([*]) or done shows at once that Run All began
        page.wait_for_function(f"() => ({_PROMPTS})().some(p => /[*\\d]/.test(p))", timeout=CHANGE_TIMEOUT * 1000)
    except Timeout:
        raise LabError("Run All ran no cell: the notebook's kernel was not ready for it") from None
    try:
        state = page.wait_for_function(_RUN_STATE, timeout=timeout * 1000, polling=100).json_value()
    except Timeout:
        prompts = " ".join(page.evaluate(_PROMPTS))
        status = page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator").get_attribute("data-status")
        raise LabError(f"Run All did not finish within {timeout:.0f} s (cells {prompts}; kernel {status})") from None
    if not state["ok"]:
        raise LabError(f"Run All stopped at code cell {state['cell']}: {state['error']}")


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


__all__ = ["CHANGE_TIMEOUT", "Caption", "Cell", "ExplorerSettings", "Lab", "LiveExplorer", "LiveStepper",
           "NOTEBOOKS", "RUN_TIMEOUT", "START_TIMEOUT", "browser", "chromium", "open_notebook", "run_all",
           "running_lab"]
