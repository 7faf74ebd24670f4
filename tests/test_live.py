"""The real adapter builds run in chromium from file:// (``publish.live``), compared field by
field with the lab's own wasmtime runs of the same configuration (``publish.live_check``); the
runs go in a worker, so the page answers meanwhile; and nothing from the cache reaches a page
unless it carries this user's seal."""
from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from dataclasses import asdict, replace

import pytest

from analysis.artifacts import adapters, cache, seal
from analysis.publish import chromium, live, live_check
from analysis.runs.runner import DEADLINE

PLANTED = b"\n;globalThis.planted = 'by whoever can write the cache';\n"

RESPONSIVE_MS = 1000
"""The most the page's main thread may take to answer while a run is busy in its worker: a
generous bound for a loaded machine (it answers in milliseconds), the one time asserted here."""

ANSWERING = """async run => {
  // setTimeout round trips on the page's main thread for as long as the run is in flight: the worst lateness.
  let settled = false, worst = 0, rounds = 0;
  const running = run().finally(() => { settled = true; });
  while (!settled) {
    const asked = performance.now();
    await new Promise(done => setTimeout(done, 10));
    worst = Math.max(worst, performance.now() - asked - 10);
    rounds += 1;
  }
  return { result: await running, worst, rounds };
}"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    if chromium.chromium() is None:
        pytest.skip("no chromium: `make browser` installs it")
    folder = tmp_path_factory.mktemp("report") / "assets" / live.ASSETS
    live.write_assets(folder)
    return folder


@pytest.fixture(scope="module")
def chrome(folder):
    with chromium.browser() as chrome:
        yield chrome


@pytest.fixture(scope="module")
def page(chrome, folder):
    return live_check.open_page(chrome, folder)


@pytest.fixture(scope="module")
def cache_of_its_own(tmp_path_factory, folder):
    """A cache for the tests that plant or drop entries, which no other process's build then
    meets: the adapters copied, the bundler's npm tree the real cache's (only read)."""
    real = cache.cache_dir()
    own = tmp_path_factory.mktemp("cache")
    shutil.copytree(real / "adapters", own / "adapters")
    (own / "live-bundler").symlink_to(real / "live-bundler")
    return own


@pytest.fixture
def own_cache(cache_of_its_own, monkeypatch):
    monkeypatch.setenv("PREOPEN_LAB_CACHE", str(cache_of_its_own))
    return cache_of_its_own


def plant(path, data: bytes) -> None:
    """Write ``data`` at ``path`` as whoever can write the cache would: with a sha256 beside it
    in the seal's place (the HMAC under this user's key is out of reach)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.with_name(path.name + seal.SEAL_SUFFIX).write_text(hashlib.sha256(data).hexdigest())


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


def test_a_10000_preopen_run_leaves_the_page_answering(page):
    """The adapter holds 125 preopens: 10,000 trap at start-up, as in the lab (the 126 of
    ``LISTS`` are checked equal), and the page's own share (laying out 10,000 directories,
    reading the output) is small beside the worker's."""
    seen = page.evaluate(f"async () => {{ const s = await ({ANSWERING})(() => preopenLab.run({{build: 'jco-1.8.1', "
                         "paths: Array.from({length: 10000}, (_, i) => '/d' + i)})); const r = s.result;"
                         " return {outcomes: [...new Set(r.preopens.map(p => p.outcome))], preopens: r.preopens.length,"
                         " fds: r.fds.length, worst: s.worst}; }")
    assert (seen["outcomes"], seen["preopens"], seen["fds"]) == (["trap"], 10_000, 0)
    assert seen["worst"] < RESPONSIVE_MS, seen["worst"]


def test_a_run_past_the_deadline_is_stopped_and_the_next_starts_afresh(chrome, folder):
    """A build that never returns (made here: the catalogued ones end in milliseconds) runs in
    the worker until the lab's deadline, the page answering all along; then the worker is
    ended, every preopen is a timeout, as the lab words one, and the next run has a fresh worker."""
    tab = live_check.open_page(chrome, folder)
    try:
        tab.evaluate("() => { preopenLabSources['forever/opener'] = function () {"
                     " globalThis.preopenLabBuilds['forever/opener'] = { run() { for (;;) {} } }; };"
                     " preopenLabManifest.builds.forever = { opener: { file: 'forever.opener.js' } }; }")
        seen = tab.evaluate(f"({ANSWERING})(() => preopenLab.run({{build: 'forever', paths: ['/a', '/b']}}))")
        result = seen["result"]
        assert result["trap"].startswith(f"stopped by the lab after {DEADLINE:g} s") and "\n" not in result["trap"]
        assert [p["outcome"] for p in result["preopens"]] == ["timeout", "timeout"]
        assert result["fds"] == [] and {p["name_seen"] for p in result["preopens"]} == {None}
        assert seen["rounds"] > 1 and seen["worst"] < RESPONSIVE_MS, seen
        outcomes = tab.evaluate("async () => (await preopenLab.run({build: 'jco-1.8.1', paths: ['/a', '/b', '/c', "
                                "'/d', '/e']})).preopens.map(p => p.outcome)")
        assert outcomes == ["ok", "missing", "missing", "missing", "ok"]
    finally:
        tab.close()


def test_a_bundle_planted_in_the_cache_is_made_again_and_never_published(own_cache, tmp_path, said):
    """A line added to a kept bundle, a sha256 beside it: the bundle is made again, and only
    what the lab made reaches the page's folder and its manifest."""
    build = adapters.resolve("jco-1.8.1")
    live.write_assets(tmp_path / "before", builds=[build])
    kept = live.bundle_path(build, "probe")
    plant(kept, kept.read_bytes() + PLANTED)
    out = tmp_path / "assets" / live.ASSETS
    entries = live.write_assets(out, builds=[build])
    assert not [f.name for f in out.iterdir() if PLANTED.strip() in f.read_bytes()]
    published = (out / entries[build.id]["probe"]["file"]).read_bytes()
    assert entries[build.id]["probe"]["sha256"] == hashlib.sha256(published).hexdigest()
    assert PLANTED not in kept.read_bytes() and seal.seal_holds(kept, kept.read_bytes())  # made again, sealed
    assert published == kept.read_bytes()
    assert len([line for line in said if kept.name in line and "fails its seal" in line]) == 1, said


def test_a_check_planted_in_the_cache_is_run_again_and_never_stated(folder, tmp_path, monkeypatch, said):
    """The count page 3 states comes only from a check this user's lab ran: an edited one is run
    again. ``check`` stands in here for the 539 runs in a page, which a test above makes for
    real; a cache of the test's own keeps its answer."""
    monkeypatch.setenv("PREOPEN_LAB_CACHE", str(tmp_path / "cache"))
    made = live_check.Agreement(539, 500, 39, (), 12, 179, "Chromium", "2026-12-06 00:00 UTC")
    ran = []
    monkeypatch.setattr(live_check.chromium, "browser", contextlib.nullcontext)  # this module's chromium is open
    monkeypatch.setattr(live_check, "open_page", lambda chrome, folder: folder)
    monkeypatch.setattr(live_check, "check", lambda tab, runner=None: ran.append(tab) or made)
    path = live_check.check_path(folder)
    plant(path, json.dumps(asdict(replace(made, equal=539, path_max=0))).encode())
    assert live_check.checked(folder) == made and len(ran) == 1
    assert json.loads(path.read_bytes()) == json.loads(json.dumps(asdict(made)))
    assert any("the live explorer's check in the cache" in line and "fails its seal" in line for line in said)
    assert live_check.checked(folder) == made and len(ran) == 1  # now kept, under its seal


def test_without_a_key_no_bundle_is_kept(own_cache, tmp_path, monkeypatch):
    """No usable key: every bundle is made afresh and none is left in the cache to be trusted later."""
    build = adapters.resolve("jco-1.8.1")
    kept = live.bundle_path(build, "opener")
    live.bundle(build, "opener")
    assert kept.exists()  # kept while there was a key
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    seal.key.cache_clear()
    try:
        assert seal.key() is None
        made = live.bundle(build, "opener")
        assert made.startswith(b'(globalThis.preopenLabSources ??= {})["jco-1.8.1/opener"] = function () {')
        assert not kept.exists() and not kept.with_name(kept.name + seal.SEAL_SUFFIX).exists()
    finally:
        monkeypatch.undo()
        seal.key.cache_clear()  # this user's key again for the tests after this one


def test_compare_names_only_the_path_max_difference():
    row = {"path": "/a", "expected_fd": 3, "name_seen": "/a", "routed_fd": 3, "routed_prefix": "a", "marker": None,
           "errno": 37, "outcome": "missing"}
    lab = {"preopens": [row], "fds": [], "trapped": False}
    assert live_check.compare(lab, lab) == "equal"
    assert live_check.compare({**lab, "preopens": [{**row, "errno": 44}]}, lab) == "path-max"
    assert live_check.compare({**lab, "preopens": [{**row, "errno": 2}]}, lab) == "differ"
    assert live_check.compare({**lab, "preopens": [{**row, "errno": 44, "outcome": "ok"}]}, lab) == "differ"
