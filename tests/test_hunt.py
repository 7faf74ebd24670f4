"""The hunter and the domains: lists drawn as users type them, real runs, shrunk counterexamples,
and ``claims --on`` with a list of one's own."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, Phase, find, given, settings

from analysis.findings import domains as d
from analysis.findings.checks import HUNTER, Claim, Findings, Trial
from analysis.findings.hunt import hunt, try_list
from analysis.model.wasi import encode
from analysis.show.views import findings_html

from conftest import AFFECTED, FIXED, cli


def _drawn(strategy, condition, examples: int = 2_000):
    """The first list drawn that meets ``condition`` (not shrunk: shrinking names of kilobytes is slow)."""
    return find(strategy, condition, settings=settings(max_examples=examples, database=None, derandomize=True,
                                                       phases=(Phase.generate,)))


def _sample(strategy, examples: int = 300) -> list:
    """What Hypothesis draws from ``strategy`` in ``examples`` tries, derandomised as the hunter draws."""
    drawn = []

    @settings(max_examples=examples, database=None, derandomize=True, phases=(Phase.generate,),
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(paths):
        drawn.append(paths)

    collect()
    return drawn


def test_the_generator_draws_what_users_type():
    """Every kind of list the issue names is among 300 lists drawn."""
    lists = _sample(d.preopen_lists())
    names = {n for p in lists for n in p}
    assert any(len(p) != len(set(p)) for p in lists)  # a duplicate
    assert any(a != b and b.startswith(a.rstrip("/") + "/") for p in lists for a in p for b in p)  # nesting
    assert "" in names and any(n.endswith("/") and n != "/" for n in names) and any("//" in n for n in names)
    assert any(n in (".", "..") for n in names) and any(n.startswith("./") for n in names)
    assert any(n and not n.startswith(("/", ".")) for n in names)  # relative
    assert any(not n.isascii() for n in names)
    counts = [len(p) for p in lists]
    assert min(counts) == 1 and max(counts) > 125 and sum(9 < c < 90 for c in counts) >= 3
    assert max(len(encode(n)) for n in names) > 30_000


def test_the_domain_strategies_draw_inside_their_domains():
    for strategy, conditions in ((d.equal_length_lists(), (d.EQUAL_LENGTH, d.DISTINCT)),
                                 (d.with_an_empty_name(), (d.AN_EMPTY_NAME,)),
                                 (d.preopen_lists(2, 124, distinct=True, plain=True), (d.DISTINCT, d.PLAIN))):
        outside = _maybe(strategy, lambda p: not all(c.test(p, AFFECTED, "opener") for c in conditions), 300)
        assert outside is None, outside


def _maybe(strategy, condition, examples: int):
    try:
        return _drawn(strategy, condition, examples)
    except Exception:  # noqa: BLE001 - NoSuchExample: nothing drawn fails the condition
        return None


def test_conditions_say_what_their_words_say():
    assert d.PLAIN.test(("/", "/a/b", "/é中"), AFFECTED, "opener")
    assert not any(d.PLAIN.test((name,), AFFECTED, "opener")
                   for name in ("", ".", "./a", "a", "/a/", "/a//b", "/a/..", "/./a"))
    fits = d.FITS.test
    assert fits(("/a",), AFFECTED, "probe") and fits(("/" + "n" * 60_000,), "native", "probe")
    assert not fits(tuple("/" + c * 20_000 for c in "abc"), AFFECTED, "probe")  # an affected build needs them all
    assert fits(tuple("/" + c * 20_000 for c in "abc"), FIXED, "probe")  # a fixed one, two at a time
    assert not d.OWN_ROUTE.test(("/a", "/a/MARKER"), FIXED, "opener") and d.OWN_ROUTE.test(("/a/MARKER", "/b"), FIXED, "opener")
    assert d.SLOTS.test(("/a",) * 124, FIXED, "opener") and not d.SLOTS.test(("/a",) * 63, FIXED, "keeper")
    assert d.SLOTS.test(("/a",) * 130, "native", "keeper")


def test_the_generator_draws_as_an_adversary_too():
    """Names made from other names and the lab's layout, and lists at the thresholds, among 300 drawn."""
    lists = _sample(d.preopen_lists())
    assert any(b == a.rstrip("/") + "/MARKER" for p in lists for a in p for b in p)  # /a /a/MARKER
    assert any("" in p[:-1] and len(p) > 2 for p in lists)  # the empty name inside a list
    assert {len(p) for p in lists} & {124, 125, 126}
    names = {n for p in lists for n in p}
    assert any(254 <= len(encode(n)) <= 258 for n in names)  # around NAME_MAX
    assert any(4_085 <= len(encode(n)) <= 4_095 for n in names)  # <name>/MARKER around PATH_MAX


def test_the_hunter_refutes_an_overbroad_claim_and_shrinks_its_counterexample(runner):
    """ "Through an affected build every preopen is reachable" over distinct plain names: the
    hunter draws a list that refutes it, and shrinks it to three names, the fewest that can (where
    each name's test file is routed to its own preopen: ``/MARKER /`` refutes it with two, natively too)."""
    claim = Claim("Through an affected build every preopen is reachable.", True, "stated, not checked").with_domain(
        d.within(d.count(1, 8), d.DISTINCT, d.PLAIN, d.FITS, d.OWN_ROUTE, lists=d.preopen_lists(1, 8, True, True)),
        Trial("opener", (AFFECTED,), lambda r: r.all_ok))
    refuted = hunt(claim, 100, runner)
    assert not refuted.holds and refuted.example.startswith(HUNTER) and refuted.hunted >= 1
    shrunk = refuted.example.split(": ", 1)[1]
    names = shrunk.split(" → ")[0].removeprefix(f"{AFFECTED}, opener: ").split(" ")
    assert len(names) == 3, shrunk
    assert not runner.run(names, adapter=AFFECTED).all_ok  # the shrunk list refutes it for real
    page = findings_html(Findings("refuted", (refuted,)))
    assert "does not hold" in page and "refuted by list" in page and "For: 1 to 8 preopens" in page


def test_a_claim_that_holds_says_how_many_lists_the_hunter_drew(runner):
    claim = Claim("Natively every preopen of distinct plain names is reachable.", True, "stated").with_domain(
        d.within(d.count(1, 8), d.DISTINCT, d.PLAIN, d.OWN_ROUTE, lists=d.preopen_lists(1, 8, True, True)),
        Trial("opener", ("native",), lambda r: r.all_ok))
    held = hunt(claim, 30, runner)
    assert held.holds and 20 <= held.hunted <= 30, held.hunted
    assert held.hunt_note == (f"the hunter drew {held.hunted} lists inside the domain, natively with the opener: "
                              "none refutes it")


def test_a_list_of_ones_own_is_tried_against_the_claims_whose_domain_holds_it(runner):
    ends = Claim("Through an affected build fd 3 is told its own name.", True, "").with_domain(
        d.within(d.count(1, 124), d.NO_EMPTY_NAME), Trial("probe", (AFFECTED,), lambda r: r.fds[0].name == r.paths[0]))
    broad = Claim("Through an affected build every preopen is reachable.", True, "").with_domain(
        d.within(d.count(1, 124)), Trial("opener", (AFFECTED,), lambda r: r.all_ok))
    done = try_list(("/a", "/b", "/c"), [ends, broad], runner)
    assert [(t.claim, t.held) for t in done] == [(ends, True), (broad, False)]
    assert [t.claim for t in try_list(("",), [ends, broad], runner)] == [broad]  # "" is outside the first domain


def test_claims_on_the_issue_counterexamples_refutes_nothing():
    """Each counterexample that broke a page's sentence lies inside some claims' domains now, and none is refuted."""
    for paths in (["/a", "/b", "/a"], ["/data", "/cache", "/data/x"], ["/a", "", "/b"]):
        done = cli("claims", "--json", "--on", *paths)
        assert done.returncode == 0, done.stdout + done.stderr
        answer = json.loads(done.stdout)
        assert answer["paths"] == paths and answer["claims"] and all(c["held"] for c in answer["claims"])
    text = cli("claims", "--on", "/a", "", "/b").stdout
    assert "held    6 · what a host can do: wasi-libc's preopen scan stops at the first EBADF" in text


READER_LISTS = (["/a", "/a/MARKER"], ["/a", "/a/MARKER", "/bc"], ["/", "/MARKER", "/zz"], ["/a", "", "/b", "/c"],
                ["/a/MARKER", "/a"], [f"/d{i}" for i in range(124)])
"""A skeptical reader's counterexamples, each built from the lab's own layout or guests."""


def test_claims_on_the_readers_counterexamples_refutes_nothing_with_any_guest():
    for paths in READER_LISTS:
        done = cli("claims", "--json", "--on", *paths)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr
        answer = json.loads(done.stdout)
        guests = {g for c in answer["claims"] for g in c["guests"]}
        assert {"walker", "keeper", "opener"} <= guests, guests
        assert all(c["held"] for c in answer["claims"])
    walked = json.loads(cli("claims", "--json", "--on", "/a", "", "/b", "/c", "--guest", "walker").stdout)
    assert walked["claims"] and all("walker" in c["guests"] for c in walked["claims"])
    assert all(", walker:" in run for c in walked["claims"] for run in c["runs"])


def test_claims_refuses_bad_input_in_one_line():
    for args in (["--hunt", "-1"], ["--on", "/a", "--hunt", "5"], ["--on"], ["--guest", "walker"],
                 ["--on", "/a", "--guest", "nope"]):
        done = cli("claims", *args)
        assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr


def test_the_hunter_finds_the_readers_counterexamples_on_its_own(runner):
    """The domains as they were before a reader refuted them: the adversarial lists and the new
    guests refute each within a few dozen lists, and shrink to the reader's kind of list."""
    reachable = Claim("Natively every preopen is reachable.", True, "").with_domain(
        d.within(d.count(1, 124), d.DISTINCT, d.PLAIN, d.OPENABLE, lists=d.preopen_lists(1, 124, True, True)),
        Trial("opener", ("native",), lambda r: r.all_ok))
    shadowed = hunt(reachable, 50, runner)
    assert not shadowed.holds and len(shadowed.refuted_by[0]) == 2, shadowed.example
    a, b = sorted(shadowed.refuted_by[0], key=len)
    assert b == a.rstrip("/") + "/MARKER"  # one preopen named after the other's test file

    lost = Claim("Through a fixed build every preopen after an empty name is lost.", True, "").with_domain(
        d.within(d.count(2, 124), d.AN_EMPTY_NAME, d.OPENABLE, d.FITS, lists=d.with_an_empty_name()),
        Trial("opener", (FIXED,), lambda r: all(p.outcome != "ok" for p in r.preopens[r.paths.index("") + 1:]),
              ("walker",)))
    asked_on = hunt(lost, 50, runner)
    assert not asked_on.holds and asked_on.refuted_by[2] == "walker", asked_on.example

    ends = Claim("Through an affected build only the first and last are reachable.", True, "").with_domain(
        d.within(d.count(1, 124), d.EQUAL_LENGTH, d.DISTINCT, d.PLAIN, d.FITS, lists=d.equal_length_lists()),
        Trial("keeper", (AFFECTED,), lambda r: r.outcomes[-1] == "ok"))
    held_open = hunt(ends, 100, runner)  # 124 names come in one draw in twelve: 100 leave a miss at 2 in 10,000
    assert not held_open.holds and len(held_open.refuted_by[0]) == 124, held_open.example
