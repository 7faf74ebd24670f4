"""Every HTML view escapes what came from a user or a guest: a guest's file name, preopen
names (any UTF-8), the names a guest was told, its output, its trap, a scanned file's name,
error messages. Real runs with markup in all of those, rendered through each view, read as
text: no element of theirs in the HTML, and in chromium no script of theirs runs."""
from __future__ import annotations

import nbformat
import pytest

from analysis.artifacts import adapters, guests
from analysis.artifacts.compose import compose
from analysis.findings import checks
from analysis.model.results import NATIVE, RunResult
from analysis.publish import offline, pages
from analysis.publish.notebooks import Notebook
from analysis.reach import scan
from analysis.show import views, widgets

from conftest import AFFECTED, wat_guest

GUEST_FILE = "<img src=x onerror=alert(1)>.wasm"
"""The file name that ran script in a notebook's view, once."""
PATHS = ("/<script>window.pwned='script'</script>", "/<img src=x onerror=window.pwned='img'>", "/b",
         "/a\"><svg onload=window.pwned='attribute'>")
"""Preopen names a user may type: each one, shown as markup, would set ``window.pwned``."""
TRAP_TEXT = "<script>window.pwned='trap'</script><img src=x onerror=window.pwned='trap-img'>"
MARKUP = ("<script>window.pwned", "<img src=x", "<svg onload", "<img src=x onerror=alert")
"""What no view may carry as it came: each payload's opening, unescaped."""

TRAPS = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "{text}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const {size}))
    (drop (call $w (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 16))) unreachable))"""
"""A guest that says ``text`` on stderr, then traps: its words become the run's trap text."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[RunResult]:
    """The opener, as a file named with markup, natively and through an affected build (whose
    names for the middle preopens are stitched from the others); a trapping guest, named so too."""
    from analysis.runs.runner import Runner

    folder = tmp_path_factory.mktemp("guests")
    opener = folder / GUEST_FILE
    opener.write_bytes(guests.get("opener").wasm())
    trapping = wat_guest(tmp_path_factory.mktemp("trapping"), GUEST_FILE.removesuffix(".wasm"),
                         TRAPS.format(text=TRAP_TEXT, size=len(TRAP_TEXT.encode())))
    runner = Runner()
    found = [runner.run(PATHS, guest=guests.from_file(opener), adapter=adapter) for adapter in (NATIVE, AFFECTED)]
    found.append(runner.run(PATHS, guest=guests.from_file(trapping)))
    assert all(r.guest == GUEST_FILE.removesuffix(".wasm") for r in found)
    assert found[0].all_ok and any(p.outcome != "ok" for p in found[1].preopens)
    assert found[2].trap is not None and "window.pwned='trap'" in found[2].trap_summary
    return found


@pytest.fixture(scope="module")
def shown(runs) -> dict[str, str]:
    """Each view's HTML for these runs, by the view's name."""
    _, affected, trapped = runs
    component = compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED)).read_bytes()
    table = [(e.fd, e.name) for e in affected.fds if e.name is not None]
    refuted = checks.every("Every preopen keeps its name", [(f"the list {' '.join(PATHS)}", False)], "lists")
    explorer = widgets.Explorer(build=AFFECTED, scheme="custom")
    explorer.custom.value = ", ".join(PATHS)
    explored = explorer.view.value
    explorer.custom.value = ", ".join([*PATHS, "/nul\0" + PATHS[0]])  # refused: the error names the path
    refused = explorer.view.value
    assert "NUL" in refused
    stepper = widgets.Stepper(PATHS, fd=4)
    case = offline.StepperCase(f"the user's list {PATHS[0]}", PATHS, 4)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": views.result_html(r)}) for r in runs])])
    return {
        **{f"result_html {i}": views.result_html(r) for i, r in enumerate(runs)},
        **{f"lines_html {i}": str(views.lines_html(r)) for i, r in enumerate(runs)},
        **{f"fd_frame {i}": views.frame_html(views.fd_frame(r)) for i, r in enumerate(runs)},
        "side_by_side": str(views.side_by_side(runs, titles=PATHS[:3])),
        "survival_row_html": views.survival_row_html(affected),
        "result_table_html": views.result_table_html(trapped),
        "routing_frame": views.frame_html(views.routing_frame(table, [f"{p}/MARKER" for p in PATHS])),
        "findings_html": views.findings_html(checks.Findings("a page", (refuted,))),
        "scan_html": str(views.scan_html(scan.scan_bytes(component, GUEST_FILE))),
        "Scanner.report": widgets.Scanner.report(GUEST_FILE, component).value,
        "Explorer": explored,
        "Explorer, refused": refused,
        "Stepper": stepper.caption.value,
        "offline.stepper_html": offline.with_line(offline.stepper_html((case,)), "stepper"),
        "pages.nav_html": pages.nav_html(Notebook("01_a", PATHS[0], ""), Notebook("03_c", PATHS[1], "")),
        "pages.export_html": pages.export_html(notebook, PATHS[0], pages.nav_html(None, None)),
    }


def test_each_view_shows_the_markup_as_text(shown):
    for name, text in shown.items():
        for opening in MARKUP:
            assert opening not in text, f"{name} carries {opening!r} unescaped"
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown["result_html 0"]  # shown, as text
    assert "fixed.wasm" in shown["Scanner.report"]  # the repair's download link, its name escaped too


def test_no_script_of_theirs_runs_in_chromium(shown):
    """Each view loaded into chromium as a page: no dialog opens, ``window.pwned`` stays unset.
    The same check on one unescaped payload first, so a check that cannot see is caught."""
    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium: `make browser` installs Debian's")
    with chromium.browser() as chrome:
        page = chrome.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        def ran(body: str) -> object:
            page.evaluate("delete window.pwned")  # a new document keeps its window
            page.set_content(f"<!doctype html><html><body>{body}</body></html>")
            page.wait_for_timeout(200)  # an image's error comes after the load
            return page.evaluate("window.pwned")

        assert ran(f"<p>guest {PATHS[1].lstrip('/')}</p>") == "img"  # the check sees a payload that runs
        for name, text in shown.items():
            assert ran(text) is None, name
        assert dialogs == []
