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
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..artifacts.cache import PROJECT_ROOT
from ..model.errors import LabError, first_line

if TYPE_CHECKING:  # playwright is a test extra: imported where it is used
    from playwright.sync_api import Browser, Page

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


__all__ = ["CHANGE_TIMEOUT", "Lab", "NOTEBOOKS", "RUN_TIMEOUT", "START_TIMEOUT",
           "open_notebook", "run_all", "running_lab"]
