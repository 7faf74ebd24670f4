"""The real adapter builds run in chromium from file:// (``publish.live``), compared field by
field with the lab's own wasmtime runs of the same configuration."""
from __future__ import annotations

import pytest

from analysis.artifacts import adapters
from analysis.publish import live

LISTS = [
    ("/a", "/b", "/c", "/d", "/e"),  # the report's case
    ("/data", "/cache", "/tmp", "/home/user", "/srv"),
    ("/data", "/data/x", "/cache"),
    ("/", "/tmp", "/home"),
    ("/a", "/b", "/a"),
    (".", "/a", "./x"),
    ("/a", "", "/b"),
    ("/a/", "/b//c"),
    ("/é", "/中文", "/a"),
    ("10", "2", "a"),
    ("/" + "l" * 999, "/" + "m" * 2999),
    ("/" + "n" * 20_001, "/b", "/c"),  # the long-name trap of affected builds
    tuple(f"/d{i}" for i in range(40)),
    tuple(f"/d{i}" for i in range(125)),  # a full table: no file opens
    tuple(f"/d{i}" for i in range(126)),  # more than the adapter holds: a trap at start-up
]
FIELDS = ("path", "expected_fd", "name_seen", "routed_fd", "routed_prefix", "marker", "errno", "outcome")


def lab_view(result) -> dict:
    """What a browser run can know of a lab run, in the same JSON shape."""
    return {"preopens": [{k: getattr(p, k) for k in FIELDS} for p in result.preopens],
            "fds": [{"fd": e.fd, "errno": e.errno, "name": e.name} for e in result.fds],
            "trapped": result.trap is not None}


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from analysis.bench import live_lab

    if live_lab.chromium() is None:
        pytest.skip("no chromium: `make browser` installs it")
    folder = tmp_path_factory.mktemp("report") / "assets" / live.ASSETS
    live.write_assets(folder)
    html = folder.parent.parent / "live.html"
    html.write_text('<!DOCTYPE html><meta charset="utf-8"><script src="assets/live/manifest.js"></script>'
                    '<script src="assets/live/preopenlab.js"></script>')
    with live_lab.browser() as chrome:
        tab = chrome.new_page()
        tab.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:") else
                  route.continue_())  # the network is off: everything comes from the folder
        tab.goto(html.as_uri())
        yield tab


def test_the_page_lists_every_catalogued_build(page):
    assert page.evaluate("preopenLab.builds()") == [b.id for b in adapters.catalogue()]


@pytest.mark.parametrize("build", [b.id for b in adapters.catalogue()])
def test_every_build_in_the_browser_equals_the_lab(page, runner, build):
    for paths in LISTS:
        there = page.evaluate("async a => { const r = await preopenLab.run(a);"
                              " return {preopens: r.preopens, fds: r.fds, trapped: r.trap !== null}; }",
                              {"build": build, "paths": list(paths)})
        here = lab_view(runner.run(paths, adapter=build))
        assert there == here, (build, paths[:6])


def test_the_report_case_shows_the_bug_in_the_browser(page):
    outcomes = page.evaluate("async () => (await preopenLab.run({build: 'jco-1.8.1', paths: ['/a', '/b', '/c', '/d', "
                             "'/e']})).preopens.map(p => p.outcome)")
    assert outcomes == ["ok", "missing", "missing", "missing", "ok"]


def test_an_unknown_build_is_refused_in_one_line(page):
    said = page.evaluate("preopenLab.run({build: 'nope', paths: ['/a']}).then(() => '', e => e.message)")
    assert said.startswith("unknown build nope")


def test_the_hunters_lists_in_the_browser_equal_the_lab(page, runner):
    """200 lists from the hunter's generator (empty, nested, duplicated, relative, dotted, non-ASCII,
    up to 60 KB names, up to 130 preopens), each through a build drawn with it. One difference is
    the hosts', and expected: where an open's path reaches Linux's PATH_MAX, wasmtime answers
    ENAMETOOLONG (37) and preview2-shim's in-memory filesystem, which has no such limit, ENOENT (44)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from analysis.findings import domains

    builds = [b.id for b in adapters.catalogue()]
    agreed, path_max, differ = [], [], []

    @settings(max_examples=200, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(domains.preopen_lists(), st.sampled_from(builds))
    def agree(paths, build):
        there = page.evaluate("async a => { const r = await preopenLab.run(a);"
                              " return {preopens: r.preopens, fds: r.fds, trapped: r.trap !== null}; }",
                              {"build": build, "paths": list(paths)})
        here = lab_view(runner.run(paths, adapter=build))
        if there == here:
            agreed.append(paths)
            return
        unerred = [[{**p, "errno": None} for p in side["preopens"]] for side in (there, here)]
        only_errno = unerred[0] == unerred[1]
        pairs = {(a["errno"], b["errno"]) for a, b in zip(there["preopens"], here["preopens"]) if a != b}
        if only_errno and there["fds"] == here["fds"] and pairs == {(44, 37)}:
            path_max.append(paths)
        else:
            differ.append((build, paths))

    agree()
    assert not differ, differ[:3]
    assert len(agreed) + len(path_max) >= 200 - 10 and len(agreed) > 150  # Hypothesis may draw a few fewer
