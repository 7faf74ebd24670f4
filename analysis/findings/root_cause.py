"""Page 4's claims, the root cause: the model against real runs, the model against the real
builds' own allocator calls (``alloc_trace``), and the increment put into and taken out of the
published binaries (``intervention``)."""
from __future__ import annotations

from collections.abc import Sequence

from ..experiments.modelcheck import FIELD_GUESTS, FIELDS, ModelCheck, field_counts
from ..experiments.profiles import profile_of
from ..experiments.verdicts import REPORT_CASE
from ..model.chain import explain, predict
from ..model.describe import shown, span
from ..model.results import RunResult
from ..reach.intervention import Row
from ..runs.runner import Runner
from . import domains as d
from .checks import Claim, Domain, Findings, Trial, every
from .claims import FIRST_MISROUTED, INTACT, LAST_MISROUTED, REPEATED
from .hunt import REPORT_HUNT, hunted
from .intervention import intervention_findings


def root_cause_findings(check: ModelCheck, runner: Runner | None = None, hunt: int = REPORT_HUNT,
                        intervention: Sequence[Row] = ()) -> Findings:
    """Page 4's claims: the model against real runs, the model against the real allocator's
    calls, and (given its table) the increment put into and taken out of the binaries."""
    builds = ", ".join(f"{adapter} as {profile.behavior}" for adapter, profile in check.backends)
    through = tuple(adapter for adapter, _ in check.backends)
    claims = []
    for name, (agree, compared) in check.fields.items():
        trapped = f"; {check.trapped:,} of the runs trapped" if name == "traps" else ""
        guest, *others = FIELD_GUESTS[name]
        claims.append(Claim(f"The model predicts the {FIELDS[name]}.", compared > 0 and agree == compared,
                            f"{agree:,} of {compared:,} agree, {check.comparisons:,} runs through {builds}{trapped}"
                            ).with_domain(d.within(d.count(1, d.MOST_PREOPENS), d.ANY),
                                          Trial(guest, through, _model_agrees_on(name), tuple(others))))
    claims += allocator_claims()
    if intervention:
        claims += intervention_findings(intervention).claims
    return hunted(Findings("4 · the root cause", tuple(claims)), hunt, runner)


STITCHED = ("/a", "/bbbb", "/c", "/dd")
TRACED_LISTS = (REPORT_CASE, STITCHED, FIRST_MISROUTED, LAST_MISROUTED, INTACT, REPEATED, ("/", "/tmp", "/home"))
"""Where the real allocator is traced, fd by fd: the report's case and every list a claim of pages 3
and 5 names."""


def allocator_claims(lists: Sequence[Sequence[str]] = TRACED_LISTS) -> list[Claim]:
    """The model's ``explain`` against the real builds' ``cabi_import_realloc``, traced (``alloc_trace``)
    for every catalogued build, every list of ``lists`` and every fd."""
    from ..artifacts.adapters import catalogue
    from ..reach import alloc_trace

    lists = [tuple(p) for p in lists]
    behaviors = {b.id: profile_of(b.id).behavior for b in catalogue()}
    counting = tuple(b for b, how in behaviors.items() if how in ("fixed", "missing-increment"))
    early = tuple(b for b, how in behaviors.items() if how == "early")
    traced = {(b, paths): alloc_trace.traces(b, paths) for b in behaviors for paths in lists}

    def beside(build: str, paths: tuple[str, ...]) -> list[alloc_trace.Beside]:
        got = traced.get((build, paths)) or alloc_trace.traces(build, paths)
        return [alloc_trace.beside(t, explain(paths, t.fd, behaviors[build])) for t in got]

    def where(b: alloc_trace.Beside) -> str:
        listed = " ".join(shown(n.decode("utf-8", "replace"), 24) for n in b.real.names)
        real = "none" if b.real.offsets is None else list(b.real.offsets)
        return (f"{b.real.build}: {listed}, fd {b.real.fd}: offsets {real}, the model's {[s.offset for s in b.model.steps]}; "
                f"told {b.real.told!r}, the model {b.model.returned!r}")

    def once_at_startup(b: alloc_trace.Beside) -> bool:
        start, names = b.real.startup, b.real.names
        side_by_side = start is not None and len(start.names) == len(names) and all(
            start.offset(i) == sum(len(n) for n in names[:i]) for i in range(len(names)))
        return not b.real.listings and side_by_side and b.real.told == names[b.real.nth]

    listed = "; ".join(" ".join(p) for p in lists)
    out = [every("Run for real, each build that lists the names again at every call (all but the early ones) puts "
                 "each name where the model's `explain` says: for every fd, each name's offset from the end of the "
                 "list (the list's address plus its size), and the name told, are the model's.",
                 ((where(b), b.agrees) for build in counting for paths in lists for b in beside(build, paths)),
                 f"traces of fd_prestat_dir_name (each cabi_import_realloc call), {len(counting)} builds measured "
                 f"fixed or missing-increment ({span(counting)}) × {len(lists)} lists × every fd"
                 ).with_domain(Domain.only(*lists, words=(
                     f"these lists only, every fd: {listed}; through the builds that list the names again at each "
                     f"call ({span(counting)}); the early builds ({span(early) if early else 'none'}) make no "
                     "allocation during the call, so they are the next claim's")),
                     Trial("probe", counting, lambda r: all(b.agrees for b in beside(r.adapter, tuple(r.paths)))))]
    if early:
        out.append(every(f"The early builds ({span(early)}) make no allocation during fd_prestat_dir_name: they "
                         "listed the names once, at start-up, side by side, and each fd is told its own name from "
                         "there.", ((where(b), once_at_startup(b)) for build in early for paths in lists
                                    for b in beside(build, paths)),
                         f"traces, {len(early)} early builds × {len(lists)} lists × every fd"
                         ).with_domain(Domain.only(*lists, words=f"these lists only, every fd: {listed}; through the "
                                                                 f"early builds ({span(early)})"),
                                       Trial("probe", early, lambda r: all(once_at_startup(b) for b in
                                                                             beside(r.adapter, tuple(r.paths))))))
    return out


def _model_agrees_on(name: str):
    """Whether the model's prediction of a run agrees with it on one field of ``FIELDS``."""
    def agrees(measured: RunResult) -> bool:
        profile = profile_of(measured.adapter)
        predicted = predict(measured.paths, profile.behavior, guest=measured.guest, adapter=measured.adapter,
                            adapter_sha256=measured.adapter_sha256, scratch_capacity=profile.scratch_capacity)
        agree, compared = field_counts(predicted, measured).get(name, (0, 0))
        return agree == compared
    return agrees


# -- 5 · reach -------------------------------------------------------------------------------
