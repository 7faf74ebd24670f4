"""The real adapter builds run in chromium from file:// (``publish.live``), compared field by
field with the lab's own wasmtime runs of the same configuration (``publish.live_check``)."""
from __future__ import annotations

import pytest

from analysis.artifacts import adapters
from analysis.publish import live, live_check


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium: `make browser` installs it")
    folder = tmp_path_factory.mktemp("report") / "assets" / live.ASSETS
    live.write_assets(folder)
    return folder


@pytest.fixture(scope="module")
def page(folder):
    from analysis.publish import chromium

    with chromium.browser() as chrome:
        yield live_check.open_page(chrome, folder)


def test_the_page_lists_every_catalogued_build_and_both_guests(page):
    assert page.evaluate("preopenLab.builds()") == [b.id for b in adapters.catalogue()]
    assert page.evaluate("preopenLab.guests()") == list(live.GUESTS) == ["opener", "probe"]


def test_the_report_case_shows_the_bug_in_the_browser(page):
    outcomes = page.evaluate("async () => (await preopenLab.run({build: 'jco-1.8.1', paths: ['/a', '/b', '/c', '/d', "
                             "'/e']})).preopens.map(p => p.outcome)")
    assert outcomes == ["ok", "missing", "missing", "missing", "ok"]


@pytest.mark.parametrize("asked, said", [
    ({"build": "nope", "paths": ["/a"]}, "unknown build nope"),
    ({"build": "jco-1.8.1", "guest": "rust-open", "paths": ["/a"]}, "unknown guest rust-open"),
    ({"build": "jco-1.8.1", "paths": "/a"}, "paths: a list of guest paths"),
    ({"build": "jco-1.8.1", "paths": []}, "no preopen paths given"),
    ({"build": "jco-1.8.1", "paths": ["/a", 3]}, "preopen path 3 is not text"),
    ({"build": "jco-1.8.1", "paths": ["/a\0b"]}, 'preopen path "/a\\u0000b" contains a NUL byte'),
    ({"build": "jco-1.8.1", "paths": ["/a\udc80"]}, 'preopen path "/a\\udc80" is not valid UTF-8'),
])
def test_a_bad_request_is_refused_in_one_line(page, asked, said):
    """What the lab refuses, the page refuses, in the lab's words."""
    message = page.evaluate("a => preopenLab.run(a).then(() => '', e => e.message)", asked)
    assert message.startswith(said) and "\n" not in message, message


def test_runs_asked_for_at_once_each_get_their_own_answer(page, runner):
    """The builds share one in-memory filesystem: runs go one at a time, whoever asks."""
    asked = [("jco-1.8.1", "opener", ("/a", "/b", "/c")), ("jco-1.33.0", "probe", ("/x", "/y")),
             ("jco-1.8.1", "probe", ("/p", "/q", "/r", "/s")), ("jco-1.0.0", "opener", ("/m",) * 3)]
    answers = page.evaluate("asked => Promise.all(asked.map(([build, guest, paths]) =>"
                            " preopenLab.run({build, guest, paths}).then(r => r.preopens)))", asked)
    assert answers == [live_check.lab_view(runner.run(paths, guest=guest, adapter=build))["preopens"]
                       for build, guest, paths in asked]


def test_every_build_and_guest_in_the_browser_equals_the_lab(page, runner):
    """Every build × guest on the fixed lists, and the hunter's 200 draws (empty, nested,
    duplicated, relative, dotted, non-ASCII, up to 60 KB names, up to 130 preopens): equal
    field by field, but for the one difference of the hosts that the check names (Linux's length limits)."""
    agreement = live_check.check(page, runner)
    fixed = len(adapters.catalogue()) * len(live.GUESTS) * len(live_check.LISTS)
    assert agreement.differ == ()
    assert agreement.equal + agreement.path_max == agreement.configurations >= fixed + 150
    assert agreement.equal >= fixed  # no fixed list reaches Linux's length limits
    assert agreement.sentence().startswith("Checked on ")


def test_compare_names_only_the_path_max_difference():
    row = {"path": "/a", "expected_fd": 3, "name_seen": "/a", "routed_fd": 3, "routed_prefix": "a", "marker": None,
           "errno": 37, "outcome": "missing"}
    lab = {"preopens": [row], "fds": [], "trapped": False}
    assert live_check.compare(lab, lab) == "equal"
    assert live_check.compare({**lab, "preopens": [{**row, "errno": 44}]}, lab) == "path-max"
    assert live_check.compare({**lab, "preopens": [{**row, "errno": 2}]}, lab) == "differ"
    assert live_check.compare({**lab, "preopens": [{**row, "errno": 44, "outcome": "ok"}]}, lab) == "differ"
