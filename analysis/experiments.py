"""Experiments built from many real runs: which builds are affected, and whether the
model predicts what they do.

The verdict for each build is measured every time it is asked for, by running the
bug report's five-directory case through the build and natively. Nothing in the
code says which builds are affected.
"""
from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import adapters, model
from ._cache import PROJECT_ROOT, write_atomically
from .adapters import NATIVE, AdapterBuild
from .errors import LabError
from .results import FIRST_FD, OUTCOMES, RunResult, errno_name, shown
from .runner import Runner, default_runner

REPORT_CASE: tuple[str, ...] = ("/a", "/b", "/c", "/d", "/e")
"""The preopens of wasmtime#10058."""


@dataclass(frozen=True)
class Verdict:
    adapter: str
    releases: tuple[str, ...]
    affected: bool
    evidence: tuple[str, ...]
    """One line per preopen that did not come back ``ok``."""
    result: RunResult

    @property
    def label(self) -> str:
        return "affected" if self.affected else "not affected"


def evidence(result: RunResult) -> tuple[str, ...]:
    """What went wrong, per preopen, in the words a reader needs."""
    lines = []
    for p in result.preopens:
        if p.outcome == "ok":
            continue
        seen = "no name" if p.name_seen is None else f"named {shown(p.name_seen)}"
        if p.outcome == "misrouted":
            lines.append(f"{shown(p.path)} misrouted to fd {p.routed_fd} (fd {p.expected_fd} {seen})")
        else:
            lines.append(f"{shown(p.path)} {p.outcome} (fd {p.expected_fd} {seen})")
    return tuple(lines)


def verdict(build: AdapterBuild | str, runner: Runner | None = None) -> Verdict:
    """Run the report's case through ``build``; affected when any preopen is not ``ok``."""
    runner = runner or default_runner()
    result = runner.run(REPORT_CASE, guest="opener", adapter=build)
    releases = build.releases if isinstance(build, AdapterBuild) else ()
    return Verdict(result.adapter, releases, not result.all_ok, evidence(result), result)


def verdicts(
    builds: tuple[AdapterBuild, ...] | None = None,
    runner: Runner | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Verdict]:
    """Native first (the control), then every build, in release order."""
    runner = runner or default_runner()
    native = verdict(NATIVE, runner)
    if native.affected:
        raise LabError(
            "the native run of the report's case failed, so the host itself is broken "
            f"here ({'; '.join(native.evidence)}); fix that before judging adapters"
        )
    found = [native]
    for build in builds if builds is not None else adapters.catalogue():
        if progress:
            progress(build.id)
        found.append(verdict(build, runner))
    return found


# -- the model against real runs ---------------------------------------------------------

_FAMILIES = ("equal", "varied", "shared-prefix", "nested", "duplicates", "non-ascii", "long", "odd")


def random_preopens(rng: random.Random, max_count: int = 12) -> list[str]:
    """A preopen list drawn from the families that matter to the bug.

    Equal and varied lengths, shared prefixes, nesting, duplicates, non-ASCII, names of
    hundreds of bytes and odd-but-legal names, mixed within one list.
    """
    count = rng.randint(1, max_count)
    equal_len = rng.randint(1, 6)
    paths: list[str] = []
    for _ in range(count):
        family = rng.choice(_FAMILIES)
        if family == "equal":
            path = "/" + "".join(rng.choice("abcde") for _ in range(equal_len))
        elif family == "varied":
            path = "/" + "".join(rng.choice("abcxyz") for _ in range(rng.randint(1, 8)))
        elif family == "shared-prefix":
            path = rng.choice(["/d", "/dd", "/data", "/dat", "/d/x", "/data/cache"])
        elif family == "nested":
            path = rng.choice(["/", "/tmp", "/tmp/x", "/tmp/x/y", "/home", "/home/user"])
        elif family == "duplicates" and paths:
            path = rng.choice(paths)
        elif family == "non-ascii":
            path = "/" + "".join(rng.choice("aé中üß") for _ in range(rng.randint(1, 5)))
        elif family == "long":
            path = "/" + rng.choice("lmn") * rng.randint(100, 400)
        else:
            path = rng.choice([".", "", "rel", "..", "/a/..", "./x", "/a//b", "x/"])
        paths.append(path)
    return paths


@dataclass(frozen=True)
class Disagreement:
    paths: tuple[str, ...]
    adapter: str
    guest: str
    predicted: RunResult
    measured: RunResult

    def describe(self) -> str:
        lines = [f"{self.adapter} / {self.guest}: {list(self.paths)!r}"]
        if self.predicted.fds != self.measured.fds:
            lines.append(f"  fds predicted {self.predicted.fds}")
            lines.append(f"  fds measured  {self.measured.fds}")
        for p, m in zip(self.predicted.preopens, self.measured.preopens):
            if p != m:
                lines.append(f"  predicted {p}")
                lines.append(f"  measured  {m}")
        if self.predicted.exit_code != self.measured.exit_code:
            lines.append(f"  exit code predicted {self.predicted.exit_code}, measured {self.measured.exit_code}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ModelCheck:
    comparisons: int
    disagreements: tuple[Disagreement, ...]
    backends: tuple[tuple[str, str], ...]
    """(adapter id, behaviour the model assumed for it)."""

    @property
    def agreements(self) -> int:
        return self.comparisons - len(self.disagreements)


def pick_builds(found: list[Verdict] | None = None) -> tuple[str, str]:
    """One affected and one unaffected build, by measurement: the newest of each."""
    found = found or verdicts()
    affected = [v.adapter for v in found[1:] if v.affected]
    fixed = [v.adapter for v in found[1:] if not v.affected]
    if not affected or not fixed:
        raise LabError("check-model needs one affected and one unaffected build, and the verdicts found "
                       f"{len(affected)} affected and {len(fixed)} unaffected")
    return affected[-1], fixed[-1]


def compare(paths: Sequence[str], adapter: str, behavior: model.Behavior, guest: str,
            runner: Runner | None = None) -> Disagreement | None:
    """One real run against the model's prediction for it."""
    measured = (runner or default_runner()).run(paths, guest=guest, adapter=adapter)
    predicted = model.predict(paths, behavior, guest=guest, adapter=measured.adapter,
                              adapter_sha256=measured.adapter_sha256)
    if predicted == measured:
        return None
    return Disagreement(tuple(paths), measured.adapter, guest, predicted, measured)


def check_model(configs: int, seed: int, affected: str, fixed: str,
                guests: tuple[str, ...] = ("opener", "probe"),
                runner: Runner | None = None) -> ModelCheck:
    """Random preopen lists, each run for real through both builds and natively."""
    rng = random.Random(seed)
    backends = tuple((b, behavior_of(b, runner)) for b in (NATIVE, affected, fixed))
    found = []
    comparisons = 0
    for _ in range(configs):
        paths = random_preopens(rng)
        for adapter, behavior in backends:
            for guest in guests:
                comparisons += 1
                miss = compare(paths, adapter, behavior, guest, runner)
                if miss is not None:
                    found.append(miss)
    return ModelCheck(comparisons, tuple(found), backends)


# -- sweeps --------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_SHARED = ["/d", "/dd", "/data", "/dat", "/data/cache", "/db", "/d/x", "/ddd", "/data2", "/da"]
_NESTED = ["/", "/tmp", "/tmp/x", "/home", "/home/user", "/tmp/x/y", "/var", "/var/log", "/home/user/src", "/srv"]
_REALISTIC = ["/data", "/cache", "/tmp", "/home/user", "/etc", "/var/log", "/srv/www", "/opt/app",
              "/usr/share", "/mnt/disk"]


def _equal(count: int) -> list[str]:
    width = 1
    while 26**width < count:
        width += 1
    names = []
    for i in range(count):
        letters = ""
        for _ in range(width):
            i, r = divmod(i, 26)
            letters = _LETTERS[r] + letters
        names.append("/" + letters)
    return names


def _varied(count: int) -> list[str]:
    return ["/" + _LETTERS[i % 26] * (1 + i % 8) for i in range(count)]


def _from_list(base: list[str]) -> Callable[[int], list[str]]:
    def make(count: int) -> list[str]:
        return base[:count] + [f"/extra{i}" for i in range(count - len(base))]

    return make


SCHEMES: dict[str, Callable[[int], list[str]]] = {
    "equal": _equal,
    "varied": _varied,
    "shared-prefix": _from_list(_SHARED),
    "nested": _from_list(_NESTED),
    "realistic": _from_list(_REALISTIC),
}
"""Naming schemes: each turns a count into that many guest paths. ``custom`` takes a list."""

ORDERS = ("as given", "reversed", "shuffled", "by hand")


def scheme_paths(scheme: str, count: int, custom: Sequence[str] = ()) -> list[str]:
    if scheme == "custom":
        if not custom:
            raise LabError("the custom scheme needs names: give at least one path")
        return list(custom)[:count]
    if scheme not in SCHEMES:
        raise LabError(f"unknown naming scheme {scheme!r}: choose one of {', '.join([*SCHEMES, 'custom'])}")
    if count < 1:
        raise LabError(f"a preopen count must be at least 1, not {count}")
    return SCHEMES[scheme](count)


def parse_order(text: str, count: int) -> list[int]:
    """A hand-typed order such as ``"2 0 1"``: every position from 0 to count-1, once."""
    try:
        order = [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise LabError(f"order {text!r} is not a list of numbers: type positions such as 2 0 1") from None
    if sorted(order) != list(range(count)):
        raise LabError(f"order {text!r} must name each of the positions 0..{count - 1} exactly once")
    return order


def ordering(count: int, how: str, seed: int = 0, by_hand: str = "") -> list[int]:
    """The permutation of positions for an order choice of the explorer."""
    if how == "as given":
        return list(range(count))
    if how == "reversed":
        return list(range(count))[::-1]
    if how == "shuffled":
        order = list(range(count))
        random.Random(seed).shuffle(order)
        return order
    if how == "by hand":
        return parse_order(by_hand, count)
    raise LabError(f"unknown order {how!r}: choose one of {', '.join(ORDERS)}")


def position_class(position: int, count: int) -> str:
    if count == 1:
        return "only"
    return "first" if position == 0 else "last" if position == count - 1 else "middle"


@dataclass(frozen=True)
class Scenario:
    label: str
    scheme: str
    paths: tuple[str, ...]
    order: tuple[int, ...]
    """Which entry of the scheme's list stands at each position."""


COLUMNS: dict[str, str] = {
    "sweep": "the sweep's name",
    "scenario": "the scenario's label within the sweep",
    "scheme": "the naming scheme (equal, varied, shared-prefix, nested, realistic, custom)",
    "build": "adapter build id, or native",
    "count": "number of preopens in the run",
    "order": "the scheme entries at positions 0, 1, ... (space-separated indices)",
    "position": "0-based position of this preopen in the run; its fd is 3 + position",
    "position_class": "first, middle, last, or only",
    "path": "the guest path the host gave this preopen",
    "fd": "the fd the host put it at",
    "name_seen": "the name the guest read for that fd (empty if enumeration stopped before it)",
    "routed_fd": "the fd wasi-libc sent <path>/MARKER to; -1 for none or not known (rust-open)",
    "outcome": "measured: ok, missing, misrouted, trap or timeout",
    "model_outcome": "what the model predicted for the same run",
}
"""The columns of a sweep's DataFrame, one row per preopen per run."""


def behavior_of(build: str, runner: Runner | None = None) -> model.Behavior:
    """The model behaviour for a build, measured (and cached per process): affected builds
    are ``missing-increment``; of the others, those that report an empty name are the
    ``early`` design, the rest ``fixed``."""
    if build == NATIVE:
        return "native"
    key = adapters.resolve(build).sha256
    if key not in _BEHAVIORS:
        if verdict(build, runner).affected:
            _BEHAVIORS[key] = "missing-increment"
        else:
            probe = (runner or default_runner()).run(["/a", "", "/b"], guest="probe", adapter=build)
            reports_empty = any(e.fd == FIRST_FD + 1 and e.errno == 0 for e in probe.fds)
            _BEHAVIORS[key] = "early" if reports_empty else "fixed"
    return _BEHAVIORS[key]


_BEHAVIORS: dict[str, model.Behavior] = {}


@dataclass(frozen=True)
class Sweep:
    """A declared grid: every scenario through every build, run for real."""

    name: str
    scenarios: tuple[Scenario, ...]
    builds: tuple[str, ...]
    guest: str = "opener"

    @property
    def runs(self) -> int:
        return len(self.scenarios) * len(self.builds)

    def run(self, runner: Runner | None = None, progress: bool = True) -> pd.DataFrame:
        """Run it, with the model's prediction beside each result; one row per preopen."""
        from tqdm.auto import tqdm

        runner = runner or default_runner()
        behaviors = {b: behavior_of(b, runner) for b in self.builds}
        rows = []
        with tqdm(total=self.runs, desc=self.name, unit="run", delay=1.0, disable=not progress) as bar:
            for build in self.builds:
                for scenario in self.scenarios:
                    result = runner.run(scenario.paths, guest=self.guest, adapter=build)
                    predicted = model.predict(scenario.paths, behaviors[build], guest=self.guest)
                    rows.extend(_rows(self.name, scenario, result, predicted))
                    bar.update()
        return pd.DataFrame(rows, columns=list(COLUMNS))


def _rows(sweep: str, scenario: Scenario, result: RunResult, predicted: RunResult) -> list[dict]:
    count = len(scenario.paths)
    order = " ".join(map(str, scenario.order))
    return [
        {
            "sweep": sweep, "scenario": scenario.label, "scheme": scenario.scheme,
            "build": result.adapter, "count": count, "order": order,
            "position": p.index, "position_class": position_class(p.index, count),
            "path": p.path, "fd": p.expected_fd, "name_seen": p.name_seen or "",
            "routed_fd": -1 if p.routed_fd is None else p.routed_fd,
            "outcome": p.outcome, "model_outcome": q.outcome,
        }
        for p, q in zip(result.preopens, predicted.preopens)
    ]


def all_builds() -> tuple[str, ...]:
    """Native and every catalogued build, in release order."""
    return (NATIVE, *(b.id for b in adapters.catalogue()))


def count_sweep(scheme: str = "equal", max_count: int = 10, builds: Sequence[str] = (),
                custom: Sequence[str] = ()) -> Sweep:
    scenarios = tuple(
        Scenario(f"{scheme} n={n}", scheme, tuple(scheme_paths(scheme, n, custom)), tuple(range(n)))
        for n in range(1, max_count + 1)
    )
    return Sweep(f"count-{scheme}", scenarios, tuple(builds) or all_builds())


def order_sweep(paths: Sequence[str], builds: Sequence[str] = (), scheme: str = "custom") -> Sweep:
    """Every order of ``paths`` (7 paths: 5,040 runs per build)."""
    paths = list(paths)
    scenarios = tuple(
        Scenario(" ".join(map(str, perm)), scheme, tuple(paths[i] for i in perm), perm)
        for perm in itertools.permutations(range(len(paths)))
    )
    return Sweep(f"orders-{len(paths)}", scenarios, tuple(builds) or all_builds())


def scheme_sweep(count: int = 5, builds: Sequence[str] = (), custom: Sequence[str] = ()) -> Sweep:
    names = [*SCHEMES, *(["custom"] if custom else [])]
    scenarios = tuple(
        Scenario(name, name, tuple(scheme_paths(name, count, custom)), tuple(range(count))) for name in names
    )
    return Sweep(f"schemes-{count}", scenarios, tuple(builds) or all_builds())


def report_sweep(builds: Sequence[str] = ()) -> Sweep:
    """The report's case and every scheme at five preopens, through every build."""
    scenarios = (Scenario("report /a../e", "equal", REPORT_CASE, tuple(range(5))),
                 *scheme_sweep(5).scenarios[1:])
    return Sweep("builds", scenarios, tuple(builds) or all_builds())


NAMED_SWEEPS: dict[str, Callable[[Sequence[str]], Sweep]] = {
    "counts": lambda builds: count_sweep("equal", 10, builds),
    "schemes": lambda builds: scheme_sweep(5, builds),
    "orders": lambda builds: order_sweep(SCHEMES["realistic"](7), builds, "realistic"),
    "builds": lambda builds: report_sweep(builds),
}


def named_sweep(name: str, builds: Sequence[str] = ()) -> Sweep:
    if name not in NAMED_SWEEPS:
        raise LabError(f"unknown sweep {name!r}: choose one of {', '.join(NAMED_SWEEPS)}")
    return NAMED_SWEEPS[name](builds)


def ceiling(counts: Sequence[int] = (124, 125, 126), builds: Sequence[str] = (),
            runner: Runner | None = None) -> pd.DataFrame:
    """How many preopens each build takes: outcome counts per (build, number of preopens)."""
    runner = runner or default_runner()
    rows = []
    for build in builds or all_builds():
        for count in counts:
            result = runner.run([f"/d{i}" for i in range(count)], adapter=build)
            rows.append({"build": result.adapter, "preopens": count,
                         **{o: result.count(o) for o in OUTCOMES},
                         "what happened": result.trap_summary or sentence(result)})
    return pd.DataFrame(rows)


def save(frame: pd.DataFrame, name: str, directory: Path | None = None) -> Path:
    """Write a sweep's rows as CSV under ``reports/data/`` (or ``directory``), atomically."""
    directory = directory or PROJECT_ROOT / "reports" / "data"
    path = directory / f"{name}.csv"
    write_atomically(path, frame.to_csv(index=False).encode())
    return path


# -- saying what happened ---------------------------------------------------------------


def _quoted(path: str | None) -> str:
    return f"`{shown(path)}`"


def _fd_span(fds: list[int]) -> str:
    return f"fd {fds[0]}" if len(fds) == 1 else f"fds {fds[0]}..{fds[-1]}"


def sentence(result: RunResult) -> str:
    """One sentence on what happened in a run and why, for the explorer and the reports."""
    preopens = result.preopens
    if result.timed_out:
        return ("The guest ran out of its time budget (wasmtime fuel) and was stopped; "
                "nothing it had not reported by then counts as reached.")
    if result.trap is not None or any(p.outcome == "trap" for p in preopens):
        return f"The guest trapped before it could use its preopens: {result.trap_summary or 'see the trap'}."
    parts = []
    wrong = [p for p in preopens if p.name_seen is not None and p.name_seen != p.path]
    groups: list[list] = []
    for p in wrong:
        if groups and groups[-1][-1].expected_fd + 1 == p.expected_fd and groups[-1][-1].name_seen == p.name_seen:
            groups[-1].append(p)
        else:
            groups.append([p])
    for group in groups:
        name = group[0].name_seen
        whose = " (the last name)" if name == preopens[-1].path else ""
        verb = "reports" if len(group) == 1 else "report"
        parts.append(f"{_fd_span([p.expected_fd for p in group])} {verb} {_quoted(name)}{whose}")
    unseen = [p for p in preopens if p.name_seen is None]
    if unseen:
        parts.append(f"enumeration stops at fd {unseen[0].expected_fd}, so the guest never sees "
                     f"{len(unseen)} preopen(s)")
    stuck = [p for p in preopens if p.outcome == "missing" and p.routed_fd == p.expected_fd]
    if stuck:
        errnos = ", ".join(sorted({errno_name(p.errno) for p in stuck}))
        parts.append(f"{len(stuck)} open(s) reach the right fd and still fail ({errnos})")
    for p in preopens:
        if p.outcome == "misrouted":
            target = preopens[p.routed_to].path if p.routed_to is not None and p.routed_to < len(preopens) else "?"
            reads = f" and reads {p.marker!r}" if p.marker else ""
            parts.append(f"{_quoted(p.path)} goes to fd {p.routed_fd} ({_quoted(target)}){reads}")
    ok = [p.path for p in preopens if p.outcome == "ok"]
    if len(ok) == len(preopens):
        reach = f"all {len(ok)} preopens are reachable"
    elif not ok:
        reach = "no preopen is reachable"
    else:
        listed = _quoted(ok[-1]) if len(ok) == 1 else ", ".join(map(_quoted, ok[:-1])) + " and " + _quoted(ok[-1])
        reach = f"only {listed} {'is' if len(ok) == 1 else 'are'} reachable"
    if not parts:
        return f"Every fd reports its own name; {reach}."
    text = "; ".join(parts) + f"; {reach}."
    return text if text.startswith("fd") else text[0].upper() + text[1:]
