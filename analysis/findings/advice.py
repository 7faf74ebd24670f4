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
from ..experiments.verdicts import Verdict
from ..model.describe import shown, span
from ..model.results import RunResult
from ..model.wasi import FIRST_FD
from ..reach import repair, scan
from ..reach.survey import JCO, Row
from ..runs.runner import Runner, default_runner
from . import domains as d
from .checks import Claim, Domain, Findings, Trial, every, label, some
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

    def lost_after_the_empty_name(r: RunResult) -> bool:
        return all(o != "ok" for o in r.outcomes[r.paths.index("") + 1:])

    def fd3_told_its_name(r: RunResult) -> bool:
        return [(e.fd, e.errno, e.name) for e in r.fds][:1] == [(FIRST_FD, 0, r.paths[0])]

    nested = [runner.run(NESTED, adapter=b) for b in affected]
    emptied = [runner.run(EMPTY_NAME, adapter=b) for b in targets]
    natively = runner.run(EMPTY_NAME)
    long_one = [runner.run(["/" + "n" * (LONG_NAME - 1)], guest="probe", adapter=b) for b in [*affected, *unaffected]]
    singles = [runner.run([p], guest="probe", adapter=b) for b in [*affected, *unaffected] for p in SINGLES]
    n = len(paths)
    every_build = (*affected, *unaffected)
    these_orders = Domain(f"the {len(orders)} orders of {' '.join(paths)}",
                          lambda given, build: sorted(given) == sorted(paths) and len(given) == len(paths))
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
        every(f"Every upgrade target stops at the first empty preopen name: every preopen after it is lost (with "
              f"{' '.join(map(shown, EMPTY_NAME))}, natively all three are reached).",
              [("natively: " + label(natively), natively.all_ok),
               *((label(r), lost_after_the_empty_name(r)) for r in emptied)], "runs: native and each upgrade target"
              ).with_domain(d.within(d.count(2, d.USABLE_PREOPENS), d.AN_EMPTY_NAME, d.OPENABLE, d.fits("opener"),
                                     lists=d.with_an_empty_name()),
                            Trial("opener", tuple(targets), lost_after_the_empty_name)),
        every("A single preopen whose name is not empty and fits the build's scratch area is fd 3, told its own "
              "name, through every catalogued build.", ((label(r), fd3_told_its_name(r)) for r in singles),
              f"probe runs of {', '.join(map(shown, SINGLES))} through every build").with_domain(
            d.within(d.count(1, 1), d.NO_EMPTY_NAME, d.fits("probe"), lists=d.preopen_lists(1, 1)),
            Trial("probe", every_build, fd3_told_its_name)),
        every(f"A single preopen whose name is {LONG_NAME:,} bytes long traps every catalogued build, fixed ones "
              "included: fd 3 is told its own name only when the name fits the adapter's scratch area.",
              ((f"{r.adapter}: {r.trap_cause or 'no trap'}", r.trap is not None) for r in long_one), "builds"
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
"""Bytes of a name longer than the scratch area of any build holds (each is measured: ``profiles``)."""


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


# -- 8 · other hosts ---------------------------------------------------------------------------


def other_hosts_findings(matrix) -> Findings:
    """What the conformance matrix (``reach.host_matrix``) shows, each sentence from its cells."""
    from ..reach.host_checks import CHECKS, REFERENCE
    from ..reach.host_matrix import LISTS

    hosts = matrix.hosts
    lists = list(next(iter(matrix.differ.values()), {}))
    about = Domain.about(f"the {len(lists)} lists of this page ({', '.join(lists)}) through {len(hosts)} WASIp1 "
                         f"hosts ({', '.join(hosts)}), each against {REFERENCE}")
    case = "the report's case"
    reads_case = [(h, not {"reads", "failed"} & set(matrix.differ[h].get(case, ("failed",)))) for h in hosts]
    clean = [h for h in hosts if all(c.verdict == "same" for c in matrix.cells if c.host == h)
             and not any("failed" in checks for checks in matrix.differ[h].values())]
    bugs = [c for c in matrix.cells if c.verdict == "host bug"]
    judged = [c for c in matrix.cells if c.verdict != "same"]
    moved = [(h, n) for h in hosts for n, checks in matrix.differ[h].items()
             if {"names", "order"} & set(checks) and "failed" not in checks]
    still = sum("reads" not in matrix.differ[h][n] for h, n in moved)
    keyed = [h for h in hosts if any("keyed by guest path" in x for x in matrix.limits.get(h, ()))]
    reordered = [h for h in keyed if "order" in matrix.differ[h].get("integer-like", ())]
    return Findings("8 · other hosts", (
        every(f"On every WASIp1 host tried, each of the report's {len(LISTS[case])} preopens reads its own MARKER, "
              f"as on {REFERENCE}: none shows the adapter's bug.", reads_case,
              "opener runs of the report's case, one per host").with_domain(about),
        Claim(f"{len(clean)} of the {len(hosts)} hosts ran every list and agree with {REFERENCE} on every check"
              f"{': ' + ', '.join(clean) if clean else ''}.", True,
              f"{len(hosts) * len(CHECKS)} (host, check) cells").with_domain(about),
        Claim(f"Where a host tells other names or another fd order, wasi-libc's lookup by name read what "
              f"{REFERENCE} reads in {still} of the {len(moved)} (host, list) pairs.", bool(moved),
              f"{len(moved)} (host, list) pairs with different names or order").with_domain(about),
        every(f"The hosts that take preopens as an object keyed by name ({', '.join(keyed) or 'none'}) cannot be "
              "given a name twice (each run says so under its limits): given /a /b /a, each tells other names than "
              "wasmtime does.",
              ((h, "names" in matrix.differ[h].get("duplicate", ())) for h in keyed),
              "runs of the duplicate list, one per such host").with_domain(about),
        every(f"{', '.join(reordered) or 'None'} also put integer-like names first: given 10 2 a, fd 3 is told 2.",
              ((h, True) for h in reordered), "runs of the integer-like list").with_domain(about),
        *confinement_claims(matrix),
        Claim(f"{len(bugs)} differences are host bugs: "
              f"{'; '.join(f'{c.host} · {c.check}' for c in bugs) or 'none'}.", True,
              f"{len(judged)} differing cells judged from the hosts' source").with_domain(about),
        every("Every difference the runs show is explained: a host bug, an API limit or allowed by the spec.",
              ((f"{c.host} · {c.check}", c.verdict not in ("unexplained", "failed")) for c in judged),
              "differing cells").with_domain(about),
    ))


def confinement_claims(matrix) -> tuple[Claim, ...]:
    """What the confinement check (``reach.host_checks.confinement``) found, from the disk."""
    from ..reach.host_checks import BOX, ESCAPE_NAMES, ESCAPES, OUTSIDE, REFERENCE

    found = {h: matrix.confinement[h] for h in (REFERENCE, *matrix.hosts) if h in matrix.confinement}
    hosts = [h for h in matrix.hosts if h in found]
    if not hosts:
        return ()
    about = Domain.about(f"the confine guest with one writable preopen ({BOX}) on {len(hosts)} WASIp1 hosts "
                         f"({', '.join(hosts)}) and on {REFERENCE}: from fd 3 it creates `../escaped-dotdot`, an "
                         "absolute path under the run's folder, and `link/escaped-symlink` after making `link -> ..`; "
                         "the files are looked for on the disk")
    out = [h for h in hosts if found[h].escaped and not found[h].problem]
    kept = [h for h in hosts if not found[h].escaped and not found[h].problem]
    untried = [h for h in hosts if found[h].problem]
    listed = "; ".join(f"{h} ({_listed([ESCAPE_NAMES[e] for e in found[h].escaped])})" for h in out)
    said = (f"A guest given one writable preopen created files outside it on {len(out)} of the {len(hosts)} hosts"
            f"{': ' + listed if out else ''}. On {_listed(kept) or 'no other'}, as on {REFERENCE}, none of its "
            "three escapes reached the disk" + (f" ({_listed(untried)} could not be tried)" if untried else "") + ".")
    attempts = [(h, a) for h in hosts for a in found[h].attempts if a.attempt in ESCAPES and not found[h].problem]
    refused = [(h, a) for h, a in attempts if a.errno not in (0, None)]
    claims = [Claim(said, not found[REFERENCE].escaped if REFERENCE in found else False,
                    f"{len(attempts)} escapes on {len(hosts) - len(untried)} hosts, each looked for on the disk"
                    ).with_domain(about)]
    if out:
        claims.append(every("Each of those hosts is judged to have a bug: reaching past a preopen is against WASI's "
                            "capability model, and each one's source (or its runs) says how it lets the guest out.",
                            ((h, matrix.cell(h, "confinement").verdict == "host bug") for h in out), "hosts"
                            ).with_domain(about))
    claims.append(every("No host made a file after telling the guest it had refused to.",
                        ((f"{h} · {a.attempt} ({a.errno})", a.landed != OUTSIDE) for h, a in refused),
                        "refused escapes").with_domain(about))
    in_memory = [h for h in kept if found[h].attempt("inside").errno == 0
                 and found[h].attempt("inside").landed == "not on disk"]
    told_done = [h for h in in_memory if any(a.errno == 0 for a in found[h].attempts if a.attempt in ESCAPES)]
    if told_done:
        claims.append(Claim(f"A success is no proof of an escape: {_listed(told_done)} told the guest that escapes "
                            "succeeded, yet nothing reached the disk (these hosts keep the guest's files in memory, "
                            "even the one it made inside its preopen).", True,
                            f"{len(in_memory)} hosts whose files stay in memory").with_domain(about))
    return tuple(claims)


def _listed(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} and {items[-1]}"
