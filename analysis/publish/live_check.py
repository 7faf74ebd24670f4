"""The live explorer checked against the lab, in the build that ships it.

Every build the page runs, with each guest, on fixed lists (the report's case and the shapes
the pages discuss) and on lists the claims' hunter draws (empty, nested, duplicated, relative,
non-ASCII, names up to 60 KB, up to 130 preopens): run in chromium from ``file://`` with every
request outside the folder refused, and compared field by field with ``runs.runner`` of the
same configuration. Page 3 states the count. One difference is expected and named rather than
hidden: where an open's path is longer than Linux allows (PATH_MAX, 4,096 bytes a path, or NAME_MAX,
255 bytes a name), wasmtime answers ENAMETOOLONG (37) and preview2-shim's in-memory filesystem,
which has no such limits, ENOENT (44).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from ..artifacts import seal
from ..artifacts.cache import cache_dir
from ..model.results import RunResult
from ..model.wasi import ENAMETOOLONG, ENOENT
from ..runs.runner import Runner, default_runner
from . import chromium, live_scan
from .live import GUESTS, SCRIPTS_IN_ORDER

LISTS: tuple[tuple[str, ...], ...] = (
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
)
"""Run through every build with each guest."""
HUNTED = 200
"""Lists drawn by the hunter's generator (``findings.domains.preopen_lists``), each with a build
and a guest drawn beside it; seeded, so every build draws the same ones."""
FIELDS = ("path", "expected_fd", "name_seen", "routed_fd", "routed_prefix", "marker", "errno", "outcome")
"""What a browser run can know of a preopen: the fields of ``run --json`` that it shares."""

Config = tuple[str, str, tuple[str, ...]]
"""(build, guest, paths)."""
Verdict = Literal["equal", "path-max", "differ"]


@dataclass(frozen=True)
class Agreement:
    """How the page's runs compared with the lab's, configuration by configuration."""

    configurations: int
    equal: int
    path_max: int
    """Differ only in the errno of opens (wasmtime ENAMETOOLONG, 37, the page ENOENT, 44)."""
    differ: tuple[Config, ...]
    """Any other difference: a finding, listed in full."""
    builds: int
    drawn: int
    """Distinct configurations the hunter's generator drew (``HUNTED`` draws, a few repeat)."""
    browser: str
    when: str

    def sentence(self) -> str:
        """What page 3 says of it."""
        fixed = self.configurations - self.drawn
        said = (f"Checked on {self.when} with {self.browser} (kept while the page's scripts and the lab's code "
                f"stay the same): {self.equal} of {self.configurations} "
                f"configurations equal the lab's wasmtime runs field by field ({fixed}: {self.builds} builds × "
                f"the opener and the probe × {len(LISTS)} fixed lists; {self.drawn}: lists the claims' hunter "
                f"drew, each with a build and a guest)")
        if self.path_max:
            said += (f"; the other {self.path_max} differ only in opens where wasmtime answers ENAMETOOLONG (a path "
                     f"longer than Linux allows: 4,096 bytes in all or 255 bytes a name) and this page's in-memory "
                     f"filesystem, which has no such limits, ENOENT")
        if self.differ:
            said += f"; {len(self.differ)} differ otherwise, first {self.differ[0][0]} with the {self.differ[0][1]}"
        return said + "."

    def short(self) -> str:
        """The count alone, for a slide."""
        said = f"{self.equal} of {self.configurations} configurations run in chromium equal the lab's wasmtime runs"
        if self.path_max:
            said += f"; the other {self.path_max} differ only where a path is longer than Linux allows"
        if self.differ:
            said += f"; {len(self.differ)} differ otherwise"
        return said + "."

    @classmethod
    def from_dict(cls, data: dict) -> Agreement:
        return cls(**{**data, "differ": tuple((b, g, tuple(p)) for b, g, p in data["differ"])})


def lab_view(result: RunResult) -> dict:
    """What a browser run can know of a lab run, in the page's JSON shape."""
    return {"preopens": [{k: getattr(p, k) for k in FIELDS} for p in result.preopens],
            "fds": [{"fd": e.fd, "errno": e.errno, "name": e.name} for e in result.fds],
            "trapped": result.trap is not None}


def page_view(tab, config: Config) -> dict:
    """``preopenLab.run`` of ``config`` in an open page, in the same shape."""
    build, guest, paths = config
    return tab.evaluate("async a => { const r = await preopenLab.run(a);"
                        " return {preopens: r.preopens.map(p => Object.fromEntries("
                        f"{json.dumps(FIELDS)}.map(k => [k, p[k]]))), fds: r.fds, trapped: r.trap !== null}}; }}",
                        {"build": build, "guest": guest, "paths": list(paths)})


def compare(there: dict, here: dict) -> Verdict:
    """``equal``; ``path-max`` where the only difference is ENOENT on the page for wasmtime's
    ENAMETOOLONG; else ``differ``."""
    if there == here:
        return "equal"
    unerred = [[{**p, "errno": None} for p in side["preopens"]] for side in (there, here)]
    pairs = {(a["errno"], b["errno"]) for a, b in zip(there["preopens"], here["preopens"]) if a != b}
    same_otherwise = unerred[0] == unerred[1] and there["fds"] == here["fds"] and there["trapped"] == here["trapped"]
    return "path-max" if same_otherwise and pairs == {(ENOENT, ENAMETOOLONG)} else "differ"


def configurations(builds: list[str], hunted: int = HUNTED) -> tuple[list[Config], list[Config]]:
    """The fixed lists through every build and guest, and the hunter's distinct draws.

    The draws are made in a fresh interpreter: Hypothesis's seeded generation still depends on
    what the process imported before (in one process 179 distinct draws, in the report's 168),
    and every build should try the same lists."""
    import subprocess
    import sys

    chosen = [(b, g, paths) for b in builds for g in GUESTS for paths in LISTS]
    script = ("import json, sys; from analysis.publish.live_check import draws; "
              "print(json.dumps(draws(json.loads(sys.argv[1]), int(sys.argv[2]))))")
    done = subprocess.run([sys.executable, "-c", script, json.dumps(builds), str(hunted)], capture_output=True,
                          text=True, timeout=600, check=True)
    drawn = [(b, g, tuple(paths)) for b, g, paths in json.loads(done.stdout)]
    return chosen, [c for c in dict.fromkeys(drawn) if c not in chosen]


def draws(builds: list[str], hunted: int) -> list[Config]:
    """``hunted`` configurations from the hunter's generator, seeded (``configurations`` calls it)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from ..findings import domains

    drawn: list[Config] = []

    @settings(max_examples=hunted, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(domains.preopen_lists(), st.sampled_from(builds), st.sampled_from(GUESTS))
    def draw(paths, build, guest):
        drawn.append((build, guest, tuple(paths)))

    draw()
    return drawn


def open_page(chrome, folder: Path):
    """A page holding the live scripts in ``folder`` (a report's ``assets/live``), opened from
    ``file://``; anything asked of the network is refused."""
    return chromium.open_scripts(chrome, folder, [name for name in SCRIPTS_IN_ORDER if name != "explorer.js"])


def check(tab, runner: Runner | None = None, hunted: int = HUNTED) -> Agreement:
    """Run every configuration in ``tab`` (``open_page``) and in the lab, and count."""
    runner = runner or default_runner()
    builds = tab.evaluate("preopenLab.builds()")
    fixed, drawn = configurations(builds, hunted)
    chosen = fixed + drawn
    verdicts = {"equal": 0, "path-max": 0}
    differ = []
    for config in chosen:
        build, guest, paths = config
        verdict = compare(page_view(tab, config), lab_view(runner.run(paths, guest=guest, adapter=build)))
        if verdict == "differ":
            differ.append(config)
        else:
            verdicts[verdict] += 1
    browser = " ".join(chromium.version().split()[:2])  # "Chromium 156.0.8078.114"
    return Agreement(len(chosen), verdicts["equal"], verdicts["path-max"], tuple(differ), len(builds), len(drawn),
                     browser, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))


def checked(folder: Path, runner: Runner | None = None) -> Agreement | None:
    """``check`` kept in the cache under a key of everything it depends on (the page's scripts,
    the lab's code that runs and reads, wasmtime, chromium), and under this user's seal: a kept
    check that fails it is run again, its count never stated; None without chromium."""
    if chromium.chromium() is None:
        return None
    path = check_path(folder)
    kept = seal.read_sealed(path, "the live explorer's check")
    if kept is not None:
        return Agreement.from_dict(json.loads(kept))
    with chromium.browser() as chrome:
        agreement = check(open_page(chrome, folder), runner)
    seal.write_sealed(path, json.dumps(asdict(agreement), ensure_ascii=False).encode())
    return agreement


def check_path(folder: Path) -> Path:
    """Where the cache keeps ``checked``'s answer for the live scripts in ``folder``."""
    return cache_dir() / "live-check" / f"{_inputs_key(folder)}.json"


def _inputs_key(folder: Path) -> str:
    from importlib import metadata

    here = Path(__file__).resolve()
    package = here.parents[1]
    digest = hashlib.sha256(json.dumps([chromium.version(), metadata.version("wasmtime"), LISTS, HUNTED,
                                        metadata.version("hypothesis")], ensure_ascii=False).encode())
    code = [here, package / "runs" / "runner.py", package / "runs" / "guest_output.py", package / "model" / "markers.py",
            package / "model" / "chain.py", package / "findings" / "domains.py",
            *sorted(f for f in folder.glob("*.js") if f.name not in live_scan.PAGE_SCRIPTS)]  # page 7's: not the explorer's
    for file in code:
        digest.update(file.read_bytes())
    return digest.hexdigest()[:32]
