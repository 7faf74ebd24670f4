"""Headless chromium for the report build: the live explorer's agreement check, the deck and
handout printed to PDF. Debian's chromium (``make browser`` installs it), driven by Playwright
from PyPI through ``executable_path``: Playwright's own browser download is never used."""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.errors import LabError

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ARGS = ("--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run")
"""No sandbox (containers and root have none to give), and nothing that reaches the network."""


def chromium() -> str | None:
    """Debian's chromium, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def version() -> str:
    """What ``chromium --version`` says, for the record and for cache keys; "" without one."""
    executable = chromium()
    if executable is None:
        return ""
    done = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60)
    return done.stdout.strip()


def open_scripts(chrome: Browser, folder: Path, names: Sequence[str]):
    """A tab on a blank page of ``folder`` that loads the scripts ``names`` there, opened from
    ``file://``; anything asked of the network is refused."""
    page = folder / "scripts.html"
    page.write_text('<!DOCTYPE html><meta charset="utf-8">' + "".join(f'<script src="{n}"></script>' for n in names))
    tab = chrome.new_page()
    tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
    tab.goto(page.as_uri())
    page.unlink()
    return tab


@contextmanager
def browser() -> Iterator[Browser]:
    """Headless chromium under Playwright; closed however the block ends."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise LabError("playwright is not installed: `make setup` installs it") from None
    executable = chromium()
    if executable is None:
        raise LabError("no Chromium: `make browser` installs Debian's chromium (it needs root or sudo)")
    with sync_playwright() as playwright:
        chrome = playwright.chromium.launch(executable_path=executable, headless=True, args=list(ARGS))
        try:
            yield chrome
        finally:
            chrome.close()
