"""The lab's general statements, each computed from this build's runs and checked.

A claim is a sentence with the runs behind it: whether it holds, what it was checked
on, and the first counterexample (for a claim about every run) or the run that shows
it (for a claim that something can happen). Notebooks state their conclusions only
through these, so a claim the runs refute shows as failed, with its counterexample,
and the test suite runs every one. Each ``*_findings`` function gathers one notebook's.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..experiments import sweeps
from ..experiments.scenarios import SCHEMES
from ..experiments.verdicts import REPORT_CASE, Verdict
from ..model.chain import libc_route, route_table
from ..model.describe import shown, span
from ..model.markers import marker_target
from ..model.results import NATIVE, RunResult
from ..model.wasi import ADAPTER_MAX_PREOPENS, ENOENT, ENOMEM, FIRST_FD, encode
from ..runs.hosts import WASIP2_HOSTS
from ..runs.runner import Runner, default_runner
from . import domains as d
from .checks import Claim, Domain, Findings, Trial, every, label, some
from .hunt import REPORT_HUNT, hunted


def split(found: Sequence[Verdict]) -> tuple[list[str], list[str]]:
    """The affected builds and the unaffected ones, in release order."""
    builds = found[1:]
    return [v.adapter for v in builds if v.affected], [v.adapter for v in builds if not v.affected]


def _runs(lists: Iterable[Sequence[str]], builds: Iterable[str], runner: Runner, guest: str = "opener") -> list[RunResult]:
    return [runner.run(paths, guest=guest, adapter=build) for build in builds for paths in lists]


SCHEME_LISTS = tuple(tuple(make(count)) for make in SCHEMES.values() for count in range(1, 9))
"""Every naming scheme at 1 to 8 preopens: 40 lists."""
FIRST_MISROUTED = ("/tmp", "/abc", "/tmp2")
LAST_MISROUTED = ("/tmp", "/cache", "/home/user", "/srv", "/data")
INTACT = ("/", "/tmp", "/tmp/x")
LONG_THREE = tuple("/" + letter * 20_000 for letter in "abc")
"""Three names of 20,001 bytes: together more than any build's scratch area holds (each is measured:
``profiles``), each one alone well within it."""
REPEATED = ("/a", "/b", "/a")
SHADOWED = ("/a", "/a/MARKER")
"""A preopen named after another's test file: a skeptical reader's counterexample."""


# -- 1 · the preopen model -------------------------------------------------------------


def preopen_model_findings(runner: Runner | None = None, hunt: int = REPORT_HUNT) -> Findings:
    runner = runner or default_runner()
    probes = _runs(SCHEME_LISTS, ["native"], runner, "probe")
    odd = [INTACT, ("/data", "/data"), (".", "/tmp"), ("./x", "/x", "/"), ("/a//b", "/a")]
    openers = _runs([*SCHEME_LISTS, *odd], ["native"], runner)

    def walk(r: RunResult) -> bool:
        told = [(e.fd, e.errno, e.name) for e in r.fds]
        expected = [(FIRST_FD + i, 0, p) for i, p in enumerate(r.paths)] + [(FIRST_FD + len(r.paths), 8, None)]
        return told[:len(expected)] == expected and (r.guest == "walker" or len(told) == len(expected))

    def routed_by_names(r: RunResult) -> bool:
        table = route_table(r.fds)
        for p in r.preopens:
            route = libc_route(table, encode(marker_target(p.path)))
            if (p.routed_fd, p.routed_prefix) != ((route.fd, route.prefix.decode()) if route else (-1, None)):
                return False
        return True

    every_list = d.within(d.count(1, d.MOST_PREOPENS), d.ANY)
    return hunted(Findings("1 · the preopen model", (
        every("Natively, the preopens are fds 3, 4, ... in the host's order, each told its own name, and the "
              "first fd after them answers EBADF.", ((label(r), walk(r)) for r in probes),
              "native probe runs: five naming schemes at 1 to 8 preopens"
              ).with_domain(every_list, Trial("probe", (NATIVE,), walk, ("walker",))),
        every("wasi-libc routes each path by the names it was told: its own lookup picks the fd that the rule "
              "(longest prefix on a component boundary, newest first) picks.",
              ((label(r), routed_by_names(r)) for r in openers),
              "native opener runs: the naming schemes, nesting, duplicates, `.` and `./` names"
              ).with_domain(every_list, Trial("opener", (NATIVE,), routed_by_names, ("keeper",))),
    )), hunt, runner)


# -- 2 · the reproduction ---------------------------------------------------------------


def reproduction_findings(found: Sequence[Verdict], runner: Runner | None = None) -> Findings:
    """Claims about the report's case alone: there is nothing to hunt."""
    runner = runner or default_runner()
    affected, unaffected = split(found)
    by_build = {v.adapter: v.result for v in found}
    probes = _runs([REPORT_CASE], affected, runner, "probe")
    rust = {r.adapter: r for r in _runs([REPORT_CASE], affected, runner, "rust-open")}
    direct = runner.run(REPORT_CASE, guest="direct")
    elsewhere = [runner.run(REPORT_CASE, adapter=b, host=h)
                 for b in (affected[-1], unaffected[-1]) for h in WASIP2_HOSTS]

    def told_wrong_in_the_middle(r: RunResult) -> bool:
        middle = {e.fd: e.name for e in r.fds if FIRST_FD < e.fd < FIRST_FD + len(r.paths) - 1}
        return all(name != r.paths[fd - FIRST_FD] for fd, name in middle.items()) and len(middle) == 3

    def same_failures(build: str) -> bool:
        c_fails = [p.path for p in by_build[build].preopens if p.errno == ENOENT]
        rust_fails = [line.split()[1].rstrip(":") for line in rust[build].lines if line.startswith("error ")]
        return bool(c_fails) and c_fails == rust_fails

    outcomes = ("ok", "missing", "missing", "missing", "ok")
    case = Domain.only(REPORT_CASE, words="the report's case only: /a /b /c /d /e")
    return Findings("2 · reproducing wasmtime#10058", (
        every("Through every affected build the report's case gives exactly the report's symptom: /a and /e "
              "are reachable, /b, /c and /d are missing.",
              ((label(by_build[b]), by_build[b].outcomes == outcomes) for b in affected),
              f"affected builds ({', '.join(affected)})"
              ).with_domain(case, Trial("opener", tuple(affected), lambda r: r.outcomes == outcomes,
                                        ("keeper", "rust-open"))),
        every("The guest is told a wrong name for each of the three middle fds, and wasi-libc then finds no "
              "preopen for /b, /c or /d.",
              ((label(r), told_wrong_in_the_middle(r)
                and [p.routed_fd for p in by_build[r.adapter].preopens[1:4]] == [-1, -1, -1]) for r in probes),
              "probe and opener runs through the affected builds").with_domain(case),
        every("Rust std fails on exactly the paths where C's open() fails with ENOENT.",
              ((b, same_failures(b)) for b in affected), "affected builds, rust-open beside opener").with_domain(case),
        every("The host hands over all five directories: natively and through every unaffected build all "
              "five are reachable.",
              ((label(by_build[b]), by_build[b].all_ok) for b in ["native", *unaffected]),
              f"runs: native and {len(unaffected)} unaffected builds"
              ).with_domain(case, Trial("opener", (NATIVE, *unaffected), lambda r: r.all_ok,
                                        ("keeper", "rust-open", "walker"))),
        Claim("Asked directly over WASIp2, with no adapter, the host lists the five names in order, byte for byte.",
              [e.name for e in direct.fds] == list(REPORT_CASE), "one run of the direct guest",
              f"it listed {' '.join(shown(e.name) for e in direct.fds)}"
              ).with_domain(case, Trial("direct", (NATIVE,), lambda r: [e.name for e in r.fds] == list(r.paths))),
        every(f"The bug follows the adapter, not the host: under {', '.join(WASIP2_HOSTS)} alike, {affected[-1]} "
              f"gives the report's symptom and {unaffected[-1]} reaches all five.",
              ((f"{r.host}: {label(r)}", r.outcomes == (outcomes if r.adapter == affected[-1] else ("ok",) * 5))
               for r in elsewhere), "runs, one per host and build").with_domain(case),
    ))


# -- 3 · which slots survive ---------------------------------------------------------------


def survival_findings(found: Sequence[Verdict], runner: Runner | None = None, hunt: int = REPORT_HUNT) -> Findings:
    runner = runner or default_runner()
    affected, unaffected = split(found)
    orders = sweeps.order_sweep(SCHEMES["realistic"](5), affected, "realistic").scenarios
    lists = [*SCHEME_LISTS, *(s.paths for s in orders)]
    broken = _runs(lists, affected, runner)
    sound = _runs(SCHEME_LISTS, ["native", *unaffected], runner)
    special = {paths: _runs([paths], affected, runner) for paths in (FIRST_MISROUTED, LAST_MISROUTED, INTACT)}
    equal = [r for r in broken if r.paths in {tuple(SCHEMES["equal"](n)) for n in range(1, 9)}]
    long_names = [runner.run(LONG_THREE, guest="probe", adapter=b) for b in [*affected, *unaffected[-1:]]]
    repeated = _runs([REPEATED], affected, runner)
    shadowed = _runs([SHADOWED], [NATIVE], runner)
    walked = _runs(SCHEME_LISTS, affected, runner, "walker")
    table = d.count(1, d.USABLE_PREOPENS)

    def names_at_the_ends(r: RunResult) -> bool:
        told = {e.fd: e.name for e in r.fds}
        return told.get(FIRST_FD) == r.paths[0] and told.get(FIRST_FD + len(r.paths) - 1) == r.paths[-1]

    def ends_only(r: RunResult) -> bool:
        n = len(r.paths)
        expected = ("ok",) * n if n <= 2 else ("ok", *("missing",) * (n - 2), "ok")
        return r.outcomes == expected

    def one_kept(r: RunResult) -> bool:
        return sum(o == "ok" for o in r.outcomes) == 1

    what = (f"runs through the affected builds: five naming schemes at 1 to 8 preopens and all "
            f"{len(orders)} orders of five realistic names")
    through_affected = tuple(affected)
    return hunted(Findings("3 · which fd slots survive", (
        every("Through an affected build, fd 3 is told its own name and the last fd the last name.",
              ((label(r), names_at_the_ends(r)) for r in broken), what).with_domain(
            d.within(table, d.NO_EMPTY_NAME, d.FITS, lists=d.preopen_lists(1, d.USABLE_PREOPENS)),
            Trial("probe", through_affected, names_at_the_ends, ("walker", "opener", "keeper"))),
        every(f"Except where the names do not fit the adapter's scratch area: then the run traps before anything is "
              f"told (three names of {len(LONG_THREE[0]):,} bytes trap every affected build, and the newest "
              f"unaffected build runs them; the early builds trap on such lists too, notebook 5).",
              ((f"{r.adapter}: {r.trap_cause or 'no trap'}", (r.trap is not None) == (r.adapter in affected))
               for r in long_names), "probe runs through the affected builds and the newest unaffected one"
              ).with_domain(d.within(table, d.OVERFLOWS, lists=d.preopen_lists(1, d.USABLE_PREOPENS)),
                            Trial("probe", through_affected, lambda r: r.trap is not None and not r.fds,
                                  ("walker", "opener", "keeper"))),
        every("With distinct names of equal length, exactly the first and the last preopen are reachable (both of "
              "them, with two or fewer).", ((label(r), ends_only(r)) for r in equal),
              "runs with equal-length names through the affected builds").with_domain(
            d.within(table, d.EQUAL_LENGTH, d.DISTINCT, d.PLAIN, d.FITS, d.SLOTS, lists=d.equal_length_lists()),
            Trial("opener", through_affected, ends_only, ("keeper",))),
        every(f"With a name repeated it can be fewer: {' '.join(REPEATED)} keeps one preopen reachable.",
              ((label(r), one_kept(r)) for r in repeated), "affected builds"
              ).with_domain(Domain.only(REPEATED), Trial("opener", through_affected, one_kept)),
        every("Two distinct preopens show no symptom.",
              ((label(r), r.all_ok) for r in broken if len(r.paths) == 2),
              "two-preopen runs through the affected builds").with_domain(
            d.within(d.count(2, 2), d.DISTINCT, d.PLAIN, d.OPENABLE, d.FITS, d.OWN_ROUTE,
                     lists=d.preopen_lists(2, 2, True, True)),
            Trial("opener", through_affected, lambda r: r.all_ok, ("keeper", "walker"))),
        some("The first preopen can be misrouted: fd 4 is told the first name too and wins wasi-libc's "
             "newest-first tie.", ((label(r), r.outcomes[0] == "misrouted") for r in special[FIRST_MISROUTED]),
             f"runs of {' '.join(FIRST_MISROUTED)}").with_domain(
            Domain.only(FIRST_MISROUTED), Trial("opener", through_affected, lambda r: r.outcomes[0] == "misrouted")),
        some("The last preopen can be misrouted: a middle fd is told the last name plus a tail of a longer "
             "one, a longer match.", ((label(r), r.outcomes[-1] == "misrouted") for r in special[LAST_MISROUTED]),
             f"runs of {' '.join(LAST_MISROUTED)}").with_domain(
            Domain.only(LAST_MISROUTED), Trial("opener", through_affected, lambda r: r.outcomes[-1] == "misrouted")),
        some("Some lists of three or more survive intact.", ((label(r), r.all_ok) for r in special[INTACT]),
             f"runs of {' '.join(INTACT)}").with_domain(
            Domain.only(INTACT), Trial("opener", through_affected, lambda r: r.all_ok)),
        every("Natively and through every unaffected build, every preopen is reachable.",
              ((label(r), r.all_ok) for r in sound), "runs of the five naming schemes at 1 to 8 preopens").with_domain(
            d.within(table, d.DISTINCT, d.PLAIN, d.OPENABLE, d.FITS, d.SLOTS, d.OWN_ROUTE,
                     lists=d.preopen_lists(1, d.USABLE_PREOPENS, True, True)),
            Trial("opener", (NATIVE, *unaffected), lambda r: r.all_ok, ("keeper", "walker"))),
        some(f"Natively too, a preopen can be out of reach of its own name: in {' '.join(SHADOWED)} the second "
             "name is a longer match for the first one's test file, and wasi-libc opens it there.",
             ((label(r), r.outcomes[0] == "misrouted") for r in shadowed), f"native runs of {' '.join(SHADOWED)}"
             ).with_domain(Domain.only(SHADOWED), Trial("opener", (NATIVE,), lambda r: r.outcomes[0] == "misrouted")),
        every("Through every affected build, a guest that opens MARKER through each fd itself, never by a name, "
              "reaches every preopen: the descriptors are right, only the names told are wrong.",
              ((label(r), r.all_ok) for r in walked), "walker runs of the naming schemes through the affected builds"
              ).with_domain(d.within(table, d.FITS, lists=d.preopen_lists(1, d.USABLE_PREOPENS)),
                            Trial("walker", through_affected, lambda r: r.all_ok)),
    )), hunt, runner)


# -- 4 · the root cause ---------------------------------------------------------------------


def reach_findings(found: Sequence[Verdict], ceiling, budget, runner: Runner | None = None,
                   hunt: int = REPORT_HUNT) -> Findings:
    """``ceiling`` and ``budget`` are ``sweeps.ceiling`` and ``sweeps.name_budget`` through the
    builds to speak for."""
    runner = runner or default_runner()
    affected, unaffected = split(found)
    order = [v.adapter for v in found[1:]]
    positions = [order.index(b) for b in affected]
    first_fixed = next((v for v in found[1:] if not v.affected and order.index(v.adapter) > max(positions)), None)
    fabricated = _runs([("/a", "/bbbb", "/c", "/dd")], affected, runner, "probe")
    misrouted = _runs([("/", "/tmp", "/home")], affected, runner)
    rows = ceiling.to_dict("records")
    kept = ADAPTER_MAX_PREOPENS // 2
    keeper_runs = _runs([tuple(f"/k{i}" for i in range(n)) for n in (kept, kept + 1)], [NATIVE, *unaffected],
                        runner, "keeper")
    adapters_measured = sorted({r["build"] for r in rows} - {"native"})
    full = ADAPTER_MAX_PREOPENS

    def at(row: dict) -> bool:
        count, build = row["preopens"], row["build"]
        if build == "native" or (count < full and build in unaffected):
            return row["ok"] == count
        if count < full:
            return True  # an affected build loses preopens to the bug itself; the next claim is about the limit
        if count == full:
            return row["files read"] == 0
        return row["trap"] == count

    def at_the_ceiling(r: RunResult) -> bool:
        return at({"preopens": len(r.paths), "build": r.adapter, "ok": r.count("ok"), "trap": r.count("trap"),
                   "files read": sum(p.marker is not None for p in r.preopens)})

    by_names = budget.groupby("names")
    affected_most = by_names.apply(lambda p: p[p["behavior"] == "missing-increment"]["total name bytes"].max())
    fixed_least = by_names.apply(lambda p: p[p["behavior"] == "fixed"]["total name bytes"].min())
    beyond_two = [n for n in affected_most.index if n >= 3]
    ten = 10 if 10 in affected_most.index else beyond_two[-1]
    one = budget[budget["names"] == 1]["longest name"]
    early_builds = list(dict.fromkeys(budget[budget["behavior"] == "early"]["build"]))
    early_most = by_names.apply(lambda p: p[p["behavior"] == "early"]["total name bytes"].max())
    names_measured = Domain.about(f"the catalogued builds at {', '.join(map(str, by_names.groups))} names of "
                                  "equal length, each as long as the build takes (bisection)")
    early = [every(f"So do the early builds, {span(early_builds)}, which also give every name room (at {ten} "
                   f"names {early_most[ten]:,} in all): some lists that every fixed build runs trap through them too.",
                   ((f"{n} names", early_most[n] < fixed_least[n]) for n in beyond_two),
                   f"name counts from 3 to {beyond_two[-1]}, {len(early_builds)} early builds"
                   ).with_domain(names_measured)] if early_builds else []

    fabricates = ("/a", "/bbbb", "/c", "/dd")
    return hunted(Findings("5 · which builds, and what else breaks", (
        Claim(f"The affected builds are one unbroken run in release order, {affected[0]} to {affected[-1]}; the "
              f"first unaffected build after them is {first_fixed.adapter if first_fixed else 'none'}.",
              bool(affected) and positions == list(range(positions[0], positions[-1] + 1)),
              f"{len(order)} builds measured, {len(affected)} affected"
              ).with_domain(Domain.about("the catalogued builds, each judged by the report's case")),
        some("The bug fabricates names that no one configured.",
             ((label(r), _fabricated(r)) for r in fabricated), "probe runs of /a /bbbb /c /dd through the affected builds"
             ).with_domain(Domain.only(fabricates), Trial("probe", tuple(affected), _fabricated)),
        some("It can send a path into another preopen's directory and read a file there, with no error.",
             ((label(r), _read_elsewhere(r)) for r in misrouted), "runs of / /tmp /home through the affected builds"
             ).with_domain(Domain.only(("/", "/tmp", "/home")), Trial("opener", tuple(affected), _read_elsewhere)),
        every(f"Natively every preopen is reachable at {full - 1}, {full} and {full + 1} preopens; through "
              f"every unaffected build {full - 1} are; through every adapter build, at {full} no file can be "
              f"opened and {full + 1} trap at start-up: for a program holding no other descriptor, {full - 1} is "
              f"the usable ceiling.",
              ((f"{r['build']} at {r['preopens']}", at(r)) for r in rows),
              f"runs: native and {len(adapters_measured)} adapter builds at {full - 1}, {full} and {full + 1}"
              ).with_domain(d.within(d.count(full - 1, full + 1), d.DISTINCT, d.PLAIN, d.OPENABLE, d.FITS, d.OWN_ROUTE,
                                     lists=d.preopen_lists(full - 1, full + 1, True, True)),
                            Trial("opener", (NATIVE, *adapters_measured), at_the_ceiling, ("walker",))),
        every(f"A program that keeps each file it opens open shares those slots: through every unaffected build it "
              f"reaches all {kept} preopens, and at {kept + 1} its last open fails with ENOMEM; natively all "
              f"{kept + 1} open.", ((label(r), _keeps(r, kept)) for r in keeper_runs),
              f"keeper runs at {kept} and {kept + 1} preopens, natively and through {len(unaffected)} unaffected "
              "builds").with_domain(
            d.within(d.count(kept, kept + 1), d.DISTINCT, d.PLAIN, d.OPENABLE, d.FITS, d.OWN_ROUTE,
                     lists=d.preopen_lists(kept, kept + 1, True, True)),
            Trial("keeper", (NATIVE, *unaffected), lambda r: _keeps(r, kept))),
        every(f"From three names on, an affected build takes fewer name bytes than a fixed one (at {ten} names "
              f"{affected_most[ten]:,} in all against {fixed_least[ten]:,}): for fd 3 it gives every name room.",
              ((f"{n} names", affected_most[n] < fixed_least[n]) for n in beyond_two),
              f"name counts from 3 to {beyond_two[-1]}, {budget['build'].nunique()} builds"
              ).with_domain(names_measured),
        *early,
        Claim(f"No build takes a single name longer than {one.max():,} bytes.", bool(len(one)),
              f"{len(one)} builds, longest name found by bisection").with_domain(
            d.within(d.count(1, 1), d.longer_than(int(one.max())), lists=d.one_name(int(one.max()) + 1, 1 << 17)),
            Trial("probe", tuple(adapters_measured), lambda r: r.trap is not None, ("walker", "opener", "keeper"))),
        every("The model's byte counts give every one of these limits to the byte.",
              ((f"{r['build']} at {r['names']} names: measured {r['longest name']}, model "
                f"{r['predicted longest name']}", r["longest name"] == r["predicted longest name"])
               for r in budget.to_dict("records")), "(build, number of names) pairs").with_domain(names_measured),
    )), hunt, runner)


def _keeps(r: RunResult, kept: int) -> bool:
    """The keeper's runs at ``kept`` and one more: all reachable natively or up to ``kept``; the
    one past it fails for want of a slot."""
    if r.adapter == NATIVE or len(r.paths) <= kept:
        return r.all_ok
    return r.outcomes[:-1] == ("ok",) * (len(r.paths) - 1) and r.preopens[-1].errno == ENOMEM


def _fabricated(r: RunResult) -> bool:
    return any(e.name is not None and e.name not in r.paths for e in r.fds)


def _read_elsewhere(r: RunResult) -> bool:
    return any(p.outcome == "misrouted" and p.marker for p in r.preopens) and r.exit_code == 0
