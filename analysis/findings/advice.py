"""The claims behind the advice: what a host can do (notebook 6), and whether a component
built elsewhere is affected and can be repaired (notebook 7). The same form as ``claims``,
each computed from this build's runs."""
from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..artifacts import adapters, compose, guests
from ..experiments import practices
from ..experiments.profiles import LONGEST_TRIED, longest_name, profile_of
from ..experiments.verdicts import Verdict
from ..model import scratch
from ..model.describe import shown, span
from ..model.results import RunResult
from ..model.wasi import EBADF, FIRST_FD
from ..reach import repair, scan
from ..reach.survey import JCO, Row
from ..runs.runner import Runner, default_runner
from . import domains as d
from .checks import Domain, Findings, Trial, every, label, some
from .claims import split
from .hunt import REPORT_HUNT, hunted

# -- 6 · practices ------------------------------------------------------------------------------


def practices_findings(found: Sequence[Verdict], paths: Sequence[str], orders, adapter: str,
                       runner: Runner | None = None, hunt: int = REPORT_HUNT) -> Findings:
    """``orders`` is ``practices.order_search`` of ``paths`` through ``adapter``, an affected build."""
    runner = runner or default_runner()
    affected, unaffected = split(found)
    checks = {b: practices.preflight(paths, b, runner) for b in [*affected, *unaffected]}
    parents = {b: practices.shared_parent(["a", "b", "c", "d", "e"], b, runner=runner) for b in affected}
    lone = orders[orders["reachable"] == 1]
    lone_last = lone["order"].iloc[0].split(" ")[-1] if len(lone) else ""
    targets = practices.upgrade_targets(found)
    ends = sum(row.kept == f"{row.order.split(' ')[0]} {row.order.split(' ')[-1]}" for row in orders.itertuples())

    def last_misrouted_by_a_tail(result: RunResult) -> bool:
        last = result.preopens[-1]
        told = {e.fd: e.name for e in result.fds}
        return last.path == lone_last and last.outcome == "misrouted" and told.get(last.routed_fd) == last.path + "/"

    def stops_at_the_empty_name(r: RunResult) -> bool:
        """The opener's walk (wasi-libc's) ends with EBADF at the first empty name's fd; nothing after it is reached."""
        at = r.paths.index("")
        walked = [(e.fd, e.errno) for e in r.fds]
        return (len(walked) == at + 1 and walked[-1] == (FIRST_FD + at, EBADF)
                and all(o != "ok" for o in r.outcomes[at + 1:]))

    def asked_on(r: RunResult) -> bool:
        """Each empty name's fd answers EBADF, every other preopen's fd its own name; every preopen read."""
        told = {e.fd: (e.errno, e.name) for e in r.fds}
        return r.all_ok and all(told.get(FIRST_FD + i) == ((EBADF, None) if not p else (0, p))
                                for i, p in enumerate(r.paths))

    def fd3_told_its_name(r: RunResult) -> bool:
        return [(e.fd, e.errno, e.name) for e in r.fds][:1] == [(FIRST_FD, 0, r.paths[0])]

    nested = [runner.run(NESTED, adapter=b) for b in affected]
    emptied = [runner.run(EMPTY_NAME, adapter=b) for b in targets]
    natively = runner.run(EMPTY_NAME)
    walked = [runner.run(p, guest="walker", adapter=b) for b in targets for p in (EMPTY_NAME, WALKED)]
    long_one = [runner.run(["/" + "n" * (LONG_NAME - 1)], guest="probe", adapter=b) for b in [*affected, *unaffected]]
    longest = {g: {b: longest_single_name(b, g, runner) for b in [*affected, *unaffected]}
               for g in ("probe", "opener", "rust-open")}
    singles = [runner.run([p], guest="probe", adapter=b) for b in [*affected, *unaffected] for p in SINGLES]
    n = len(paths)
    every_build = (*affected, *unaffected)
    these_orders = Domain(f"the {len(orders)} orders of {' '.join(paths)}",
                          lambda given, build, guest: sorted(given) == sorted(paths) and len(given) == len(paths))
    one_list = Domain.only(paths)
    return hunted(Findings("6 · what a host can do", (
        every("Preflight fails through every affected build and passes through every unaffected one.",
              ((b, not c.passed if b in affected else c.passed) for b, c in checks.items()),
              f"builds, with {' '.join(paths)}").with_domain(one_list),
        every("One parent preopen reaches every child through every affected build.",
              ((b, bool((frame["outcome"] == "ok").all())) for b, frame in parents.items()), "affected builds"
              ).with_domain(Domain.about("one parent preopen holding the children a to e")),
        every(f"No order of the {n} directories keeps them all reachable; the best keeps "
              f"{orders['reachable'].max()}, the worst {orders['reachable'].min()}.",
              ((row.order, row.reachable < n) for row in orders.itertuples()),
              f"orders through {adapter}"
              ).with_domain(these_orders, Trial("opener", (adapter,), lambda r: not r.all_ok)),
        every(f"Every order keeps the first directory; {ends} of {len(orders)} keep exactly the first and the last.",
              ((row.order, row.kept.split(" ")[0] == row.order.split(" ")[0]) for row in orders.itertuples()),
              f"orders through {adapter}"
              ).with_domain(these_orders, Trial("opener", (adapter,), lambda r: r.outcomes[0] == "ok")),
        every(f"The {len(lone)} orders that keep only one all end with {lone_last}, misrouted: a middle fd is told "
              f"{lone_last}/, a longer match.",
              ((order, last_misrouted_by_a_tail(runner.run(order.split(" "), adapter=adapter)))
               for order in lone["order"]), "one-survivor orders").with_domain(
            Domain.only(*(order.split(" ") for order in lone["order"])),
            Trial("opener", (adapter,), last_misrouted_by_a_tail)),
        every(f"Every upgrade target ({span(targets)}) passes the preflight.",
              ((b, practices.preflight(paths, b, runner).passed) for b in targets), "upgrade targets"
              ).with_domain(one_list),
        some(f"With nested names not even the first slot is safe: through an affected build, "
             f"{' '.join(NESTED)} sends fd 3's open into another preopen's directory.",
             ((label(r), r.outcomes[0] == "misrouted") for r in nested), "affected builds"
             ).with_domain(Domain.only(NESTED),
                           Trial("opener", tuple(affected), lambda r: r.outcomes[0] == "misrouted")),
        every(f"{EMPTY_NAME_STOP}, which every upgrade target answers for the fd whose preopen name is empty: a "
              f"program on wasi-libc (C, Rust std) loses every preopen after it (with "
              f"{' '.join(map(shown, EMPTY_NAME))}, natively all three are reached).",
              [("natively: " + label(natively), natively.all_ok),
               *((label(r), stops_at_the_empty_name(r)) for r in emptied)],
              "opener runs: native and each upgrade target"
              ).with_domain(d.within(d.count(2, d.USABLE_PREOPENS), d.AN_EMPTY_NAME, d.OPENABLE, d.FITS,
                                     lists=d.with_an_empty_name()),
                            Trial("opener", tuple(targets), stops_at_the_empty_name, ("keeper",))),
        every(f"The EBADF is the adapter's answer for the empty name's fd alone: a guest that asks on past it (the "
              f"walker) is told every later name and, opening through each fd itself, reaches every preopen, the "
              f"empty one included (with {' '.join(map(shown, WALKED))}).",
              ((label(r), asked_on(r)) for r in walked), "walker runs through each upgrade target"
              ).with_domain(d.within(d.count(2, d.USABLE_PREOPENS), d.AN_EMPTY_NAME, d.FITS,
                                     lists=d.with_an_empty_name()),
                            Trial("walker", tuple(targets), asked_on)),
        every("A single preopen whose name is not empty and fits the build's scratch area (as the probe uses it) is "
              "fd 3, told its own name, through every catalogued build.",
              ((label(r), fd3_told_its_name(r)) for r in singles),
              f"probe runs of {', '.join(map(shown, SINGLES))} through every build").with_domain(
            d.within(d.count(1, 1), d.NO_EMPTY_NAME, d.FITS, lists=d.preopen_lists(1, 1)),
            Trial("probe", every_build, fd3_told_its_name)),
        every(f"A single preopen whose name is {LONG_NAME:,} bytes long traps every catalogued build, those not "
              f"affected included; the longest single name a build takes is measured per build and per guest: "
              f"{_range(longest['probe'].values())} bytes with the probe, {_range(longest['opener'].values())} with "
              f"the opener (its arguments share the scratch area), {_range(longest['rust-open'].values())} with "
              "rust-open (Rust std, whose use of the area the model does not count).",
              [*((f"{r.adapter}: {r.trap_cause or 'no trap'}", r.trap is not None) for r in long_one),
               *((f"{b} with the {g}: longest {n:,} bytes", n < LONG_NAME)
                 for g, sizes in longest.items() for b, n in sizes.items())],
              "cases: each build's run of the long name, and its longest single name with each guest"
              ).with_domain(Domain.only(("/" + "n" * (LONG_NAME - 1),)), Trial("probe", every_build,
                                                                             lambda r: r.trap is not None)),
    )), hunt, runner)


NESTED = ("/data", "/cache", "/data/x")
"""A preopen inside another, with one between them."""
EMPTY_NAME = ("/a", "", "/b")
"""A list with the empty name in the middle."""
SINGLES = ("/data", "/", ".", "/data/", "/é中")
"""Single preopens of different kinds."""
LONG_NAME = 60_001
"""Bytes of a name longer than any build takes with any guest (each is measured: ``longest_single_name``)."""
EMPTY_NAME_STOP = "wasi-libc's preopen scan stops at the first EBADF"
"""How page 6's claim on the empty name begins: the handout and the deck look it up by these words."""
WALKED = ("/a", "", "/b", "/c")
"""The reader's list: through a fixed build fd 4 answers EBADF and fds 5 and 6 their own names."""


def longest_single_name(build: str, guest: str, runner: Runner) -> int:
    """``profiles.longest_name``, starting from the model's count for ``guest`` (two runs when it is right)."""
    profile = profile_of(build, runner)
    hint = scratch.longest_fitting(lambda size: scratch.need(["/" + "n" * (size - 1)], profile.behavior, guest)
                                   <= profile.scratch_capacity, 2, LONGEST_TRIED)
    return longest_name(build, guest, runner, hint)


def _range(sizes) -> str:
    """``27,438 to 59,016``, or one size."""
    low, high = min(sizes), max(sizes)
    return f"{low:,}" if low == high else f"{low:,} to {high:,}"


ADAPTER_MODULE_NAME = "wit-component:adapter:wasi_snapshot_preview1"


def _adapter_metadata(build: adapters.AdapterBuild) -> tuple[str | None, str]:
    """The embedded adapter module's name and producers (language, compiler), as
    ``wasm-tools metadata show`` reads them from the opener composed with ``build``."""
    component = compose.compose(guests.get("opener").wasm(), build)
    tree = json.loads(compose.run_tool(["metadata", "show", "--json", str(component)], "read a component's metadata"))
    modules = [child["module"] for child in tree["component"]["children"] if "module" in child]
    adapter = next((m for m in modules if (m["name"] or "").startswith("wit-component:adapter:")), None)
    if adapter is None:
        return None, ""
    return adapter["name"], "; ".join(f"{field} {name} {version}".strip() for field, tools in adapter["producers"] or ()
                                      for name, version in tools.items())


def am_i_affected_findings(rows: Sequence[Row], found: Sequence[Verdict]) -> Findings:
    """Notebook 7: scan and repair against the runs, and what the survey found."""
    judged = []
    for verdict in found[1:]:
        build = adapters.resolve(verdict.adapter)
        expected = "affected" if verdict.affected else "not affected"
        for variant in (build, build.reactor()):
            answer = scan.scan_file(adapters.fetch(variant)).answer
            judged.append((f"{variant.id}: scan says {answer}, its report's case says {expected}", answer == expected))
    by_release: dict[str, dict[str, set[str]]] = {}  # jco version -> "lib" / "obj" -> scan's answers
    for row in rows:
        if row.package != JCO or not row.adapters:
            continue
        if row.file == "lib/wasi_snapshot_preview1.command.wasm":
            by_release.setdefault(row.version, {}).setdefault("lib", set()).add(row.answer)
        elif row.file.startswith("obj/"):
            by_release.setdefault(row.version, {}).setdefault("obj", set()).add(row.answer)
    own = [(f"jco {version}: lib {sorted(sides['lib'])}, obj {sorted(sides['obj'])}", sides["lib"] == sides["obj"])
           for version, sides in by_release.items() if "lib" in sides and "obj" in sides]
    wheels = [(f"{r.package} {r.version} {r.file}", r.adapters == 0) for r in rows
              if r.package in ("componentize-py", "wasmtime")]
    fixed_with = repair.first_fixed()
    repaired = []
    with tempfile.TemporaryDirectory(prefix="preopen-lab-claims-") as folder:
        for verdict in (v for v in found[1:] if v.affected):
            broken = compose.compose(guests.get("opener").wasm(), adapters.resolve(verdict.adapter))
            done = repair.repair(broken, Path(folder) / f"{verdict.adapter}.wasm", fixed_with)
            repaired.append((f"{verdict.adapter} -> {done.build}: scan {done.after.answer}, "
                             f"run {' '.join(done.run.outcomes)}", done.after.answer == "not affected" and done.run.all_ok))
    metadata = {v.adapter: _adapter_metadata(adapters.resolve(v.adapter)) for v in found[1:]}
    affected, unaffected = split(found)
    same_metadata = [(f"{a} and {f}, both {metadata[a][1]}", metadata[a] == metadata[f])
                     for a in affected for f in unaffected]
    return Findings("What we learned", (
        every(f"Embedded in a component, every catalogued build's adapter module is named {ADAPTER_MODULE_NAME}: "
              "the name says nothing of the build.",
              ((f"{b}: {meta[0]}", meta[0] == ADAPTER_MODULE_NAME) for b, meta in metadata.items()), "builds"
              ).with_domain(Domain.about("the catalogued builds, each composed with the opener")),
        some("An affected and an unaffected build can carry the very same metadata (module name, language, compiler, "
             "read by wasm-tools metadata show): only running the adapter tells them apart.", same_metadata,
             "pairs of an affected and an unaffected build"
             ).with_domain(Domain.about("the catalogued builds, each composed with the opener")),
        every("scan, running each published adapter file's own code, gives every catalogued build, command and "
              "reactor adapter alike, the verdict the report's case gives it.", judged, "adapter files"
              ).with_domain(Domain.about("the catalogued builds' published files, command and reactor")),
        every("In every surveyed jco release that ships its own tools (obj/) with an adapter inside, that adapter "
              "has the verdict of the lib/ command adapter the release gives its users.", own, "releases"
              ).with_domain(Domain.about("the surveyed jco releases")),
        every("The surveyed componentize-py and wasmtime wheels hold no .wasm file with a preview1 adapter in it "
              "(componentize-py builds its adapter into its native binary, which the survey does not read).",
              wheels, "wheels").with_domain(Domain.about("the surveyed componentize-py and wasmtime wheels")),
        every(f"repair with {fixed_with.id} turns the opener composed with each affected build into a component "
              "that scans as not affected and reads all five of the report's directories.", repaired,
              "affected builds").with_domain(Domain.about("the opener composed with each affected build")),
    ))
