"""The root cause where it lives: views of the published adapters' own instructions, their
designs, the increment put in and taken out, and the real allocator's calls.

Everything shown comes out of a binary or a run: instructions are escaped, and a line the
two builds do not share is marked with a sign as well as a colour (``+`` only in the
fixed build, ``−`` only in the affected one), so it reads in print and to a screen reader.
"""
from __future__ import annotations

import difflib
import html
from collections.abc import Sequence

import pandas as pd

from ..model.describe import shown
from ..model.wasi import decode
from ..reach.alloc_trace import Beside
from ..reach.allocator import Reading
from ..reach.allocator_diff import masked
from ..reach.printed import readable
from ..reach.designs import DesignRow
from ..reach.intervention import Row
from .views import Html

_STYLE = """<style>
.allocator-pair { display: flex; flex-wrap: wrap; gap: 1.5em; }
.allocator-pair > div { flex: 1 1 28em; min-width: 0; overflow-x: auto; }
.allocator-pair table { border-collapse: collapse; font-family: monospace; font-size: 0.92em;
  table-layout: auto !important; width: auto !important; }
.allocator-pair td, .allocator-pair th { padding: 0 0.6em 0 0 !important; white-space: nowrap; vertical-align: top;
  text-align: left !important; border: none !important; }
.allocator-pair tr.only td { background: #fff3c4; color: #1a1a1a; font-weight: bold; }
.allocator-pair td.note { font-family: sans-serif; white-space: normal; min-width: 14em; max-width: 24em; }
.allocator-pair.compact { flex-wrap: nowrap; font-size: 0.78em; }
.allocator-pair.compact > div { flex: 1 1 0; }
@media (prefers-color-scheme: dark) { .allocator-pair tr.only td { background: #4a3b00; color: #fff; } }
</style>"""


def instructions_html(left: Reading, right: Reading, around: int | None = None, notes: bool = True) -> Html:
    """``left`` and ``right`` (an affected and a fixed build, say) side by side: the instructions
    that decide which name gets real space, with their offsets in the file and what each does,
    the lines only one of them has marked (constants masked when comparing, as ``allocator --diff``).
    ``around``: show only the lines within that many of a marked one (a slide); ``notes``: the
    column saying what each instruction does."""
    a = [masked(s.text) for s in left.steps]
    b = [masked(s.text) for s in right.steps]
    only_left, only_right = set(), set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            only_left.update(range(i1, i2))
            only_right.update(range(j1, j2))
    kind = "allocator-pair compact" if around is not None else "allocator-pair"
    return Html(_STYLE + f'<div class="{kind}">' + _column(left, only_left, "−", around, notes)
                + _column(right, only_right, "+", around, notes) + "</div>")


def _column(reading: Reading, only: set[int], sign: str, around: int | None, notes: bool) -> str:
    e = html.escape
    shown = range(len(reading.steps)) if around is None or not only else range(
        max(0, min(only) - around), min(len(reading.steps), max(only) + around + 1))
    rows = "".join(
        f'<tr{" class=only" if i in only else ""}><td>{sign if i in only else "&nbsp;"}</td>'
        f'<td>0x{reading.steps[i].offset:x}</td><td>{e(readable(reading.steps[i].text))}</td>'
        + (f'<td class="note">{e(reading.steps[i].note)}</td>' if notes else "") + "</tr>"
        for i in shown)
    head = (f"<p><b>{e(reading.input)}</b>: {e(reading.design)}" + (
        f". <code>cabi_import_realloc</code> is function {reading.function}, its code at "
        f"0x{reading.offset or 0:x} in the file.</p>" if around is None else "</p>"))
    return (f"<div>{head}<table aria-label=\"{e(reading.input)}'s instructions\">"
            f"<tr><th scope=col title='in one build only'>±</th><th scope=col>offset</th><th scope=col>instruction</th>"
            + ("<th scope=col>what it does here</th>" if notes else "") + f"</tr>{rows}</table></div>")


def designs_frame(rows: Sequence[DesignRow]) -> pd.DataFrame:
    """Every build's allocator design, per file, beside the build's measured verdict."""
    table = {}
    for r in rows:
        table.setdefault(r.build, {"verdict (runs)": r.verdict})[r.file] = r.design
    frame = pd.DataFrame.from_dict(table, orient="index")[["command", "reactor", "stripped", "verdict (runs)"]]
    frame["design and runs agree"] = ["yes" if all(r.agrees for r in rows if r.build == b) else "no"
                                      for b in frame.index]
    return frame.rename_axis("build").reset_index()


def intervention_frame(rows: Sequence[Row]) -> pd.DataFrame:
    """The intervention's table: each build, the edit, the design and what the runs showed before and after."""

    def outcomes(o) -> str:
        return " ".join(o.report)

    def told(o) -> str:
        return " ".join(n if n is not None else "-" for n in o.names)

    records = []
    for r in rows:
        after = r.after
        records.append({
            "build": r.build, "edit": r.what,
            "design before": r.before.design, "design after": after.design if after else "",
            "/a../e before": outcomes(r.before), "/a../e after": outcomes(after) if after else "",
            "told for /a /bbbb /c /dd before": told(r.before), "after": told(after) if after else "",
            "scan after": after.scan if after else r.before.scan})
    return pd.DataFrame.from_records(records)


def trace_frame(both: Beside) -> pd.DataFrame:
    """One ``fd_prestat_dir_name`` call through a real build: each allocation it was asked for,
    the address it gave, where the name went, and where the model puts it."""
    listing = both.real.listing
    if not both.comparable or listing is None:
        return pd.DataFrame({"what the build did": [both.why_not]})
    records = [{"allocation": "the list", "size": listing.list.size, "align": listing.list.align,
                "address": f"0x{listing.list.address:06x}", "offset (real)": "", "offset (model)": ""}]
    for step in both.steps:
        a = listing.names[step.index]
        records.append({"allocation": f"name {step.index}: {shown(decode(both.model.names[step.index]), 40)}",
                        "size": a.size, "align": a.align, "address": f"0x{a.address:06x}",
                        "offset (real)": step.real_offset, "offset (model)": step.model_offset})
    return pd.DataFrame.from_records(records)
