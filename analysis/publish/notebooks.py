"""The story's notebooks: read in order, and executed top to bottom on a fresh kernel."""
from __future__ import annotations

import atexit
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from ..artifacts.cache import PROJECT_ROOT, TMP_PREFIX, cache_dir, scratch_folder
from ..model.errors import LabError, first_line
from ..runs.cpus import PIN_VARIABLE

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


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


def execute(path: Path, timeout: int = 600, cpu: int | None = None,
            stop: threading.Event | None = None) -> nbformat.NotebookNode:
    """Run a notebook top to bottom on a fresh kernel; a failing cell is named in one line.

    ``cpu``: keep the kernel's runs on that CPU (``PREOPEN_LAB_CPU``). ``stop``: when it is
    set (Ctrl-C in the process that asked), the kernel is killed and this raises at once."""
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
            try:
                with _stopped_on(stop, kernel):
                    client.execute(env=env, cleanup_kc=True)  # shut the kernel down: we made its manager
            finally:  # stopped while the kernel started, nbclient leaves both behind
                atexit.unregister(client._cleanup_kernel)
                _end(kernel)
    except CellExecutionError as exc:
        index = next((i for i, c in enumerate(notebook.cells)
                      if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        where = f"cell {index + 1}" if index is not None else "a cell"
        raise LabError(f"{path.name}: {where} failed: {exc.ename}: {exc.evalue}") from None
    except Exception as exc:  # a cell timeout, a dead kernel, a kernel that never started
        raise LabError(f"{path.name}: execution stopped ({type(exc).__name__}: "
                       f"{first_line(exc, 'no detail')})") from None
    return notebook


@contextmanager
def _stopped_on(stop: threading.Event | None, kernel: Any) -> Iterator[None]:
    """Once ``stop`` is set, interrupt ``kernel`` (as its interrupt button does) every tenth
    of a second, so the running cell and then the client end; kill it after ``STOP_GRACE``."""
    done = threading.Event()

    def watch() -> None:
        waited = 0.0
        while stop is not None and not done.wait(0.1):
            if stop.is_set():
                process = _process(kernel)
                if process is None:
                    return
                waited += 0.1
                process.send_signal(signal.SIGINT if waited < STOP_GRACE else signal.SIGKILL)

    watcher = threading.Thread(target=watch, name="preopen-lab-kernel-stop", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        if stop is not None and stop.is_set():
            raise LabError("interrupted")


def _end(kernel: Any) -> None:
    """Kill ``kernel``'s process if it is still there; nothing to say if it is not."""
    process = _process(kernel)
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()


def _process(kernel: Any) -> Any:
    """The kernel's process (a ``Popen``), as jupyter_client's local provisioner keeps it."""
    return getattr(getattr(kernel, "provisioner", None), "process", None)


STOP_GRACE = 5.0
"""Seconds a kernel is interrupted before it is killed, when its notebook's run is stopped."""
_SOCKET_PATH_MAX = 96
"""Characters a Unix socket path may have (108 on Linux) less the ``-<port>`` suffix."""
