"""Notebook 8's tables: the WASIp1 hosts, the lists they run, and what the matrix found."""
from __future__ import annotations

import pandas as pd

from ..experiments.verdicts import REPORT_CASE
from ..model.wasi import FIRST_FD
from ..reach.host_checks import ATTEMPTS, ESCAPE_NAMES, ESCAPES, OUTSIDE, REFERENCE, told
from ..reach.host_matrix import LISTS, Matrix
from ..runs.wasip1_hosts import P1_HOSTS


def hosts_frame() -> pd.DataFrame:
    """The hosts: where each comes from and how its API takes the list."""
    return pd.DataFrame([{"host": h.name, "package": h.package, "takes the preopens as": h.takes,
                          "source": h.source} for h in P1_HOSTS.values()])


def lists_frame(lists: dict[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """The lists every host runs, each shortened for the eye."""
    def cut(name: str) -> str:
        size = len(name.encode("utf-8", "surrogateescape"))
        return (repr(name) if not name else name) if size <= 16 else f"{name[:8]}…({size:,} bytes)"

    def listed(paths: tuple[str, ...]) -> str:
        if len(paths) <= 6:
            return " ".join(cut(p) for p in paths)
        return f"{cut(paths[0])} {cut(paths[1])} … {cut(paths[-1])} ({len(paths)} names)"

    return pd.DataFrame([{"list": name, "preopens": len(paths), "names": listed(paths)}
                         for name, paths in (lists or LISTS).items()])


def differences_frame(matrix: Matrix) -> pd.DataFrame:
    """Every cell that is not ``same``: its verdict, the lists, the reduced reproduction and why."""
    rows = []
    for c in matrix.cells:
        if c.verdict == "same":
            continue
        e = c.example
        command = ""
        if e is not None and e.reduced:
            shown_paths = " ".join(repr(p) if not p or " " in p else p for p in e.reduced)
            command = f"run --native --host {c.host} {shown_paths}"
        elif c.check == "non-directory fd":
            command = "(the stdio guest) fd_prestat_get on fds 0, 1, 2"
        elif c.check == "confinement":
            command = f"hosts --host {c.host} (the confine guest; --json for each attempt)"
        rows.append({"host": c.host, "check": c.check, "verdict": c.verdict, "lists": ", ".join(c.lists),
                     "reproduce (python -m analysis ...)": command,
                     REFERENCE: e.reference if e else "", "this host": e.seen if e else "",
                     "why": c.known.why if c.known else "", "source": c.known.source if c.known else ""})
    return pd.DataFrame(rows)


def numbering_frame(matrix: Matrix) -> pd.DataFrame:
    """Per host (wasmtime-py first), on the report's case: which fd serves each directory given,
    read from the fd each ``<path>/MARKER`` was read through, and the fds told a preopen name
    that served none of them (the host's own)."""
    rows = []
    for host in (REFERENCE, *matrix.hosts):
        fds = matrix.numbering.get(host)
        if fds is None:
            continue
        served = {path: fd for fd, _, paths in fds for path in paths}
        first = next((f for f in fds if f[0] == FIRST_FD), None)
        own = [f"fd {fd} (told {name!r})" for fd, name, paths in fds if not paths]
        up = min(served.values(), default=FIRST_FD) - FIRST_FD
        rows.append({"host": host, "fd 3 is told": repr(first[1]) if first else "(not a preopen)",
                     "fd 3 serves": ", ".join(first[2]) if first and first[2] else "none of the directories given",
                     "each directory given, at": ", ".join(f"{p} fd {served[p]}" if p in served else f"{p} (not read)"
                                                           for p in REPORT_CASE),
                     "fds of the host's own": ", ".join(own) + (f": the directories given begin {up} fd(s) up"
                                                                if own and up else "") or "none"})
    return pd.DataFrame(rows, columns=["host", "fd 3 is told", "fd 3 serves", "each directory given, at",
                                       "fds of the host's own"])


def limits_frame(matrix: Matrix) -> pd.DataFrame:
    """Per host, what its API could not express of the lists (and so what the lab said in those runs)."""
    rows = [{"host": h, "what its API cannot express": x} for h in matrix.hosts for x in matrix.limits.get(h, ())]
    return pd.DataFrame(rows, columns=["host", "what its API cannot express"])


def cost_frame(matrix: Matrix) -> pd.DataFrame:
    """Per host, the median seconds of one run, process start included."""
    return pd.DataFrame([{"host": h, "median s per run": round(matrix.cost[h], 3)} for h in matrix.hosts])


CONFINE_COLUMNS = {"inside": "the control: `confine-inside`", "dotdot": "`../escaped-dotdot`",
                   "absolute": "`<run root>/escaped-absolute`", "symlink": "`link/escaped-symlink`, link -> .."}
"""The confine guest's attempts as the confinement table heads them (``host_checks.ATTEMPTS``)."""


def confinement_frame(matrix: Matrix) -> pd.DataFrame:
    """Per host (wasmtime-py first): does it keep a guest inside its preopen? Where each of
    the confine guest's files landed, as the kernel saw it, and what the guest was told."""
    rows = []
    for host in (REFERENCE, *matrix.hosts):
        found = matrix.confinement.get(host)
        if found is None:
            continue
        if found.problem:
            answer = f"cannot tell: {found.problem}"
        elif found.escaped:
            answer = "no: " + ", ".join(ESCAPE_NAMES[e] for e in found.escaped)
        elif found.attempt("inside").landed == "in the preopen":
            answer = "yes"
        elif found.attempt("inside").errno == 0:
            answer = "yes: nothing it writes reaches the disk (its files live in memory)"
        else:
            answer = "not shown: it created no file at all, not even inside its preopen"
        row = {"host": host, "keeps the guest in": answer,
               "verdict": "reference" if host == REFERENCE else matrix.cell(host, "confinement").verdict}
        for name in ATTEMPTS:
            attempt = found.attempt(name)
            if attempt is None:
                row[CONFINE_COLUMNS[name]] = "not run"
                continue
            said = f"told {told(attempt.errno)}"
            if attempt.symlink_errno is not None:
                said = f"link told {told(attempt.symlink_errno)}, open {said}"
            mark = "✗ " if name in ESCAPES and attempt.landed == OUTSIDE else ""
            row[CONFINE_COLUMNS[name]] = f"{mark}{attempt.landed} ({said})"
        rows.append(row)
    return pd.DataFrame(rows, columns=["host", "keeps the guest in", "verdict", *CONFINE_COLUMNS.values()])
