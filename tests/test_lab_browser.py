"""The live lab in a real browser: JupyterLab serving a copy of the notebooks, Debian's chromium
driven by Playwright, notebooks 3 and 4 run with Run > Run All Cells, then the explorer's and
the stepper's controls turned as a reader would. What the page shows is checked against this
process's own runs of the same configuration. (The exported reports have their own test,
tests/test_reports.py; this one needs a kernel.)"""
from __future__ import annotations

import dataclasses

import pytest
from bs4 import BeautifulSoup

from analysis.bench import live_lab, live_widgets
from analysis.model import chain
from analysis.model.describe import shown, step_sentence
from analysis.model.wasi import FIRST_FD
from analysis.publish import chromium
from analysis.runs.runner import default_runner
from analysis.show.views import prose
from analysis.show.widgets import build_options

from conftest import AFFECTED, FIXED


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if chromium.chromium() is None:
        pytest.skip("no Chromium: `make browser` installs Debian's chromium (it needs root or sudo)")
    with live_lab.running_lab(tmp_path_factory.mktemp("live-lab")) as running, chromium.browser() as chrome:
        yield running, chrome


def _shows_its_run(explorer: live_widgets.LiveExplorer, expected: live_widgets.ExplorerSettings) -> None:
    """The controls read ``expected``, and the view shows, fd by fd, the outcomes this
    process measures for that configuration."""
    assert explorer.settings() == expected
    paths, build = expected.paths(), dict(build_options())[expected.build]  # the dropdown shows labels
    labels = [f"fd {FIRST_FD + i} · {shown(p)}" for i, p in enumerate(paths)]
    cells = explorer.wait_for(f"{build}, measured", labels)
    run = default_runner().run(paths, guest=expected.guest, adapter=build)
    assert [c.fd for c in cells] == [p.expected_fd for p in run.preopens]
    assert [c.outcome for c in cells] == list(run.outcomes), (expected, paths)


def test_explorer_in_the_live_lab_shows_the_labs_own_runs(lab):
    running, chrome = lab
    with live_lab.open_notebook(chrome, running, "03_explorer.ipynb") as page:
        live_lab.run_all(page)
        _explore(live_widgets.LiveExplorer(page))


def _explore(explorer: live_widgets.LiveExplorer) -> None:
    settings = explorer.settings()  # the notebook picks its build by measurement
    assert settings.build.startswith("jco-") and settings.order == "as given"
    _shows_its_run(explorer, settings)
    changes = [
        (lambda: explorer.set_count(7), {"count": 7}),
        (lambda: explorer.choose("adapter build", FIXED), {"build": FIXED}),
        (lambda: explorer.choose("order", "reversed"), {"order": "reversed"}),
        (lambda: explorer.choose("adapter build", AFFECTED), {"build": AFFECTED}),
        (lambda: explorer.nudge_count(-1), {"count": 6}),
        (lambda: explorer.choose("names", "realistic"), {"names": "realistic"}),
        (lambda: explorer.choose("order", "shuffled"), {"order": "shuffled"}),
        (lambda: explorer.type("shuffle seed", "3"), {"seed": 3}),
        (lambda: explorer.choose("guest", "probe"), {"guest": "probe"}),
        (lambda: explorer.choose("adapter build", "native (no adapter)"), {"build": "native (no adapter)"}),
    ]
    for change, what in changes:
        change()
        settings = dataclasses.replace(settings, **what)
        _shows_its_run(explorer, settings)


def test_stepper_in_the_live_lab_captions_each_step_as_the_model_explains_it(lab):
    running, chrome = lab
    with live_lab.open_notebook(chrome, running, "04_root_cause.ipynb") as page:
        live_lab.run_all(page)
        _step(live_widgets.LiveStepper(page))


def _step(stepper: live_widgets.LiveStepper) -> None:
    paths, behavior, fd = stepper.settings()
    trace = chain.explain(paths, fd, behavior)
    assert stepper.last_step() == len(trace.steps) + 1

    def said(caption: live_widgets.Caption, step: int) -> None:
        expected = BeautifulSoup(f"<p>{prose(step_sentence(trace, step))}</p>", "html.parser")
        assert caption.step == step
        assert caption.text == expected.get_text()
        assert caption.code == tuple(code.get_text() for code in expected.find_all("code"))

    caption = stepper.caption()
    said(caption, caption.step)
    step = caption.step
    for button in ["Prev"] * step + ["Next"] * 3:  # back to the first step, then forward
        step += 1 if button == "Next" else -1
        said(stepper.click(button), step)
