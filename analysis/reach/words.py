"""The words for what ``scan`` and ``survey`` found, as terminal lines.

The same helpers as every other word of the lab (``model.describe``), so a scanned file
reads in a terminal as its table reads in a notebook.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..model.describe import shown, text_table
from .allocator import IMPLIES
from .host_checks import CHECKS, REFERENCE
from .host_matrix import Matrix
from .scan import FileScan
from .survey import Row as SurveyRow
from .toolchains import CITED, Toolchain


def describe_scan(found: FileScan) -> list[str]:
    """A scanned file in a few terminal lines: the answer first, then each adapter and why."""
    if found.problem:
        return [f"{shown(found.path, 200)}: {found.answer} ({found.kind})", f"  {shown(found.problem, 400)}"]
    adapters = f"{len(found.findings)} preview1 adapter(s)" if found.findings else "no preview1 adapter"
    lines = [f"{shown(found.path, 200)}: {found.answer} ({found.kind}, {found.modules} core module(s), {adapters})"]
    if not found.findings:
        lines.append("  the bug lives in the adapter; a program without one cannot meet it")
    for finding in found.findings:
        lines.append(f"  {finding.where}: {finding.verdict}, {finding.role} adapter, imports WASI "
                     f"{finding.wasi_version or 'of no known version'}")
        if finding.note:
            lines.append(f"    {finding.note}")
        if finding.resembles:
            lines.append(f"    its code is that of {' or '.join(finding.resembles)} "
                         f"({finding.shared:.0%} of its functions as published)")
        lines += [f"    {shown(line, 200)}" for line in finding.evidence[:4]]
        if len(finding.evidence) > 4:
            lines.append(f"    and {len(finding.evidence) - 4} more")
        if finding.design:
            said = describe_design(finding.design, finding.design_agrees, finding.verdict, finding.design_evidence)
            lines.append(f"    {shown(said, 400)}")
    if found.answer == "affected":
        lines.append(f"  what to do: `python -m analysis repair {shown(found.path, 200)} -o fixed.wasm` re-adapts it "
                     "with the oldest build measured not affected after the affected ones, or rebuild it with a "
                     f"toolchain at or past its first fixed release (`python -m analysis survey`){_lts_said()}")
    return lines


def _lts_said() -> str:
    kept = still_affected(CITED)
    return f"; {kept} stays affected" if kept else ""


def still_affected(chart: Sequence[Toolchain]) -> str:
    """What stays affected though newer releases carry the fix: the long-term-support patches
    the fix never reached, each as ``product: the row's own words`` (``toolchains.CITED``), or ""
    when the chart names none."""
    return "; ".join(f"{t.product.split(' (')[0]}: {part}" for t in chart for part in _lts(t))


def lts_caveat(toolchain: Toolchain) -> str:
    """What a toolchain's first fixed release leaves affected, to follow "or newer": its row's
    long-term-support clause in parentheses, "... stays affected", or "" for a row with none."""
    kept = _lts(toolchain)
    return f" ({'; '.join(kept)} stays affected)" if kept else ""


def _lts(toolchain: Toolchain) -> list[str]:
    """The clauses of a row's affected releases that name a long-term-support line."""
    return [part for part in toolchain.affected.split(", and ") if "LTS" in part]


def describe_design(design: str, agrees: bool | None, verdict: str, evidence: str = "") -> str:
    """The allocator's design read from the code, beside the run's verdict, in one line."""
    implied = IMPLIES.get(design)
    said = f"its allocator's code reads {design}"
    if implied is None:
        return f"{said} ({evidence or 'no known design'}): its code says nothing either way; the run decides"
    if agrees is None:
        return f"{said} (which means {implied})"
    if agrees:
        return f"{said}, which means {implied}: the code agrees with the run"
    return f"{said}, which means {implied}, but the run found it {verdict}: they disagree, and the run decides"


def describe_survey(rows: Sequence[SurveyRow], chart: Sequence[Toolchain]) -> list[str]:
    """The survey's files that carry an adapter, then the toolchain map, for a terminal."""
    table = [("package", "version", "file", "answer", "adapters", "its code is that of")]
    table += [(r.package, r.version, r.file, r.answer, str(r.adapters), r.resembles) for r in rows if r.adapters]
    quiet = sum(1 for r in rows if not r.adapters)
    lines = [*text_table(table), "", f"{len(rows)} .wasm files in {len({(r.package, r.version) for r in rows})} "
             f"releases; {quiet} without a preview1 adapter are not listed", "", "which toolchains shipped the bug:"]
    rows_of_chart = [("product", "affected", "first fixed", "basis", "source")]
    rows_of_chart += [(t.product, t.affected, t.first_fixed, t.basis, t.source) for t in chart]
    return lines + text_table(rows_of_chart)


def describe_matrix(matrix: Matrix) -> list[str]:
    """The matrix as a table (host x check), then each difference with its reproduction and judgement."""
    rows = [["host", *CHECKS, "s/run"]]
    for host in matrix.hosts:
        rows.append([host, *(matrix.cell(host, c).verdict for c in CHECKS), f"{matrix.cost[host]:.3f}"])
    out = [f"each host against {REFERENCE} (wasmtime's own WASIp1): {matrix.runs:,} runs, made {matrix.measured_at}",
           "",
           *text_table(rows, max_width=22), ""]
    for cell in matrix.cells:
        if cell.verdict == "same":
            continue
        out.append(f"{cell.host} · {cell.check}: {cell.verdict} (lists: {', '.join(cell.lists)})")
        if cell.example is not None and cell.example.reduced:
            e = cell.example
            out.append(f"  reproduce: python -m analysis run --native --host {cell.host} --json "
                       f"{' '.join(repr(p) if not p or ' ' in p else p for p in e.reduced)}")
            out.append(f"  {REFERENCE}: {shown(e.reference, 200)}")
            out.append(f"  {cell.host}: {shown(e.seen, 200)}")
        elif cell.example is not None:
            out.append(f"  {REFERENCE}: {e.reference if (e := cell.example) else ''}; {cell.host}: {cell.example.seen}")
        if cell.known is not None:
            out.append(f"  why: {cell.known.why}" + (f" ({cell.known.source})" if cell.known.source else ""))
    return out
