"""What notebooks show: results as HTML, and tables of answers, routes and verdicts.

``register`` teaches IPython to draw a ``RunResult`` as ``result_html``, so a run as
a cell's last line shows its table; the data classes themselves stay plain data and
import nothing from here.
"""
from __future__ import annotations

import html
import sys
from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure

from ..artifacts.adapters import catalogue
from ..experiments.modelcheck import FIELDS, ModelCheck
from ..experiments.scenarios import SCHEME_MEANINGS, SCHEMES
from ..experiments.verdicts import REPORT_CASE, Verdict
from ..findings.checks import Findings
from ..model.chain import libc_route
from ..model.describe import TABLE_HEADINGS, adapter_label, prose, sentence, shown, span, table_row
from ..model.results import RunResult
from ..model.wasi import decode, encode
from ..reach.scan import FileScan
from ..reach.survey import Row as SurveyRow
from ..reach.toolchains import Toolchain
from ..reach.words import describe_scan
from .links import linked
from .palette import EMPTY, OUTCOME_COLORS, OUTCOME_GLYPHS, chip, ink, marked
from .plots import LabFigure, png_base64


def register() -> None:
    """Draw results and findings as HTML in the running IPython, if there is one."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        formatters = shell.display_formatter.formatters["text/html"]
        formatters.for_type(RunResult, result_html)
        formatters.for_type(pd.DataFrame, frame_html)
        formatters.for_type(Findings, findings_html)
        shell.display_formatter.formatters["image/png"].for_type(LabFigure, figure_png)


def frame_html(frame: pd.DataFrame) -> str:
    """A table as a page shows it: no index column, no cut cells, blanks for missing values;
    headings and cells escaped (a heading or a cell may hold a path someone typed)."""
    left = [("text-align", "left")]
    words = [c for c in frame.columns if c in ("outcome", "model_outcome", "verdict")]  # with their glyphs
    return (frame.style.hide(axis="index").format_index(escape="html", axis=1).format(_cell_text)
            .format(lambda v: prose(marked(str(v))), subset=words)
            .set_properties(**dict(left)).set_table_styles([{"selector": "th", "props": left}]).to_html())


def _cell_text(value: object) -> str:
    """One table cell's words: text as ``prose`` (escaped, `x` as code), a float to 3 places."""
    if isinstance(value, str):
        return prose(value)
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else html.escape(str(value))


def figure_png(fig: Figure) -> tuple[bytes, dict[str, str]]:
    """A figure as PNG, with its title as the image's alternative text (``alt`` in the
    output's metadata; ``publish`` puts it on the exported page's ``<img>``)."""
    from IPython.core.pylabtools import print_figure

    return print_figure(fig, "png", bbox_inches="tight"), {"alt": figure_title(fig)}


def figure_img(fig: Figure) -> Html:
    """A figure as an ``<img>`` carrying its alternative text: for a widget's output, which
    a saved page draws from the widget's state, where ``publish`` cannot add the text."""
    return Html(f'<img alt="{html.escape(figure_title(fig))}" src="data:image/png;base64,{png_base64(fig)}">')


def figure_title(fig: Figure) -> str:
    """What a figure shows, in words: its title, or its panels' titles, then what its plot
    function said it shows (``plots.describe``: which fds survive, which are lost, the counts)."""
    titles = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    titles += [ax.get_title() or ax.get_title(loc="left") for ax in fig.axes]
    said = [" ".join(t.split()) for t in titles if t]  # one line, whatever line breaks the figure has
    shows = getattr(fig, "described", "")
    title = "Figure: " + "; ".join(dict.fromkeys(said)) if said else "Figure without a title"
    return f"{title}. {shows}" if shows else title


class Html(str):
    """A string that notebooks render as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def _cell(text: str, outcome: str | None, fd: int | None = None) -> str:
    """A table cell in the outcome's colour, led by its glyph (colour alone fails in print)."""
    color = OUTCOME_COLORS.get(outcome or "", EMPTY)
    glyph = OUTCOME_GLYPHS.get(outcome or "", "")
    marks = f' data-outcome="{html.escape(outcome)}"' if outcome else ""
    marks += f' data-fd="{fd}"' if fd is not None else ""
    return (f'<td class="outcome"{marks} style="background:{color};color:{ink(color)};padding:3px 8px;'
            f'border:2px solid white;text-align:center">{glyph + " " if glyph else ""}{html.escape(text)}</td>')


def survival_row_html(result: RunResult) -> str:
    """The run as one row of fd slots, like a row of the survival grid."""
    cells = "".join(_cell(f"fd {p.expected_fd} · {shown(p.path)}", p.outcome, p.expected_fd)
                    for p in result.preopens)
    return f'<table style="border-collapse:collapse"><tr>{cells}</tr></table>'


def result_table_html(result: RunResult) -> str:
    head = "".join(f'<th style="padding:2px 8px;text-align:left">{html.escape(h)}</th>' for h in TABLE_HEADINGS)
    rows = []
    for p in result.preopens:
        cells = "".join(f'<td style="padding:2px 8px">{html.escape(v)}</td>' for v in table_row(p)[:-1])
        rows.append(f"<tr>{cells}{_cell(p.outcome, p.outcome)}</tr>")
    return (f'<table style="border-collapse:collapse;font-family:monospace"><tr>{head}</tr>'
            f'{"".join(rows)}</table>')


def result_html(result: RunResult, title: str | None = None) -> str:
    """One run: its title, the row of fd slots, the sentence, warnings and the table. Every
    word from the run (the guest's file name, paths, names, traps) is escaped: any of them
    may be someone else's text."""
    label = title or adapter_label(result.adapter)
    warnings = "".join(f'<p style="color:#8a5a00">warning: {prose(w)}</p>' for w in result.warnings)
    return (f"<div><p><b>{html.escape(label)}</b> · guest {html.escape(result.guest)}</p>{survival_row_html(result)}"
            f"<p>{prose(sentence(result))}</p>{warnings}{result_table_html(result)}</div>")


def side_by_side(results: Sequence[RunResult], titles: Sequence[str] = ()) -> Html:
    """Several runs next to each other, for comparing builds on one preopen list."""
    titles = list(titles) or [None] * len(results)
    cells = "".join(f'<div style="flex:1 1 400px;min-width:400px;overflow-x:auto">{result_html(r, t)}</div>'
                    for r, t in zip(results, titles))
    return Html(f'<div style="display:flex;gap:24px;flex-wrap:wrap">{cells}</div>')


def lines_html(result: RunResult) -> Html:
    """The guest's own output, verbatim."""
    return Html(f"<pre>{html.escape(chr(10).join(result.lines))}</pre>")


def fd_frame(result: RunResult) -> pd.DataFrame:
    """The raw fd_prestat answers the guest got, one row per fd (none for a guest that
    reported none, say one that trapped first)."""
    return pd.DataFrame([
        {"fd": e.fd, "errno": e.errno, "name_len": e.name_len, "name": shown(e.name) if e.name is not None else "",
         "name bytes": "" if e.name is None else encode(e.name).hex(" ")}
        for e in result.fds
    ], columns=["fd", "errno", "name_len", "name", "name bytes"]).astype({"name_len": "Int64"})  # none where it failed


def routing_frame(table: Sequence[tuple[int, str]], queries: Sequence[str]) -> pd.DataFrame:
    """wasi-libc's rule (from the model) applied to ``queries`` for a table of (fd, name)."""
    encoded = [(fd, encode(name)) for fd, name in table]
    rows = []
    for query in queries:
        route = libc_route(encoded, encode(query))
        rows.append({"path": query, "fd": route.fd if route else "none",
                     "matched prefix": repr(decode(route.prefix)) if route else "",
                     "opened relative to it": decode(route.relative) if route else "(ENOENT)"})
    return pd.DataFrame(rows)


def verdicts_frame(found: Sequence[Verdict]) -> pd.DataFrame:
    """``verdicts.measure()`` as a table."""
    return pd.DataFrame([
        {"adapter": v.adapter, "jco releases": span(v.releases), "verdict": marked(v.label),
         f"outcomes ({' '.join(REPORT_CASE)})": " · ".join(marked(o) for o in v.result.outcomes), "evidence": "; ".join(v.evidence)}
        for v in found
    ])


def builds_frame(found: Sequence[Verdict], ids: Sequence[str]) -> pd.DataFrame:
    """The builds a page uses, with the jco releases each id stands for and its measured verdict."""
    by_id = {v.adapter: v for v in found}
    return pd.DataFrame([{"build": i, "stands for jco releases": span(by_id[i].releases),
                          "verdict, measured in this run": marked(by_id[i].label)} for i in ids])


def schemes_frame(count: int = 5) -> pd.DataFrame:
    """The naming schemes the sweeps and the explorer use: what each is, and its first ``count`` names."""
    return pd.DataFrame([{"scheme": name, "what it is": SCHEME_MEANINGS[name],
                          f"its {count} names": " ".join(SCHEMES[name](count))} for name in SCHEMES])


def ceiling_frame(ceiling: pd.DataFrame) -> pd.DataFrame:
    """``sweeps.ceiling`` summarised, one number per cell: how many preopens were reachable,
    per run of consecutive builds (in the order measured) that gave the same answers, and
    number of preopens; a run that trapped at start-up says so. ``ceiling_detail`` says what
    happened in each cell."""
    counts = sorted(ceiling["preopens"].unique())
    return pd.DataFrame([(span(builds), *(_reachable(r) for r in rows)) for builds, rows in _ceiling_runs(ceiling)],
                        columns=["builds", *(f"{n} preopens" for n in counts)])


def ceiling_detail(ceiling: pd.DataFrame) -> pd.DataFrame:
    """What happened in each cell of ``ceiling_frame`` where not every preopen was reachable."""
    rows = [(span(builds), r["preopens"], _ceiling_cell(r)) for builds, part in _ceiling_runs(ceiling) for r in part
            if r["trap"] or r["ok"] != r["preopens"]]
    return pd.DataFrame(rows, columns=["builds", "preopens", "what happened"])


def _ceiling_runs(ceiling: pd.DataFrame) -> list[tuple[list[str], list[dict]]]:
    """Consecutive builds that gave the same answer at every number of preopens, with the rows of the first."""
    runs: list[tuple[list[str], list[dict]]] = []
    for build, part in ceiling.groupby("build", sort=False):
        rows = part.sort_values("preopens").to_dict("records")
        if runs and [_ceiling_cell(r) for r in runs[-1][1]] == [_ceiling_cell(r) for r in rows]:
            runs[-1][0].append(build)
        else:
            runs.append(([build], rows))
    return runs


def _reachable(row: dict) -> str:
    return marked("trap") if row["trap"] else str(row["ok"])


def _ceiling_cell(row: dict) -> str:
    if row["trap"]:
        return f"{marked('trap')} at start-up: {row['trap cause']}"  # where in the adapter: ``what happened``
    if row["ok"] == row["preopens"]:
        return f"{marked('ok')}: all {row['preopens']} reachable"
    return f"{row['ok']} reachable, {row['files read']} files read: {row['what happened']}"


def catalogue_frame() -> pd.DataFrame:
    """The adapter catalogue: builds, the jco releases that ship them, and their source."""
    return pd.DataFrame([{"adapter": b.id, "jco releases": span(b.releases), "sha256 (first 16 hex digits)": b.short_sha,
                          "source (per jco's history)": b.source} for b in catalogue()])


def findings_html(findings: Findings) -> str:
    """A notebook's claims as a list: each with the lists it speaks about, what it was checked
    on and what the hunter tried; a refuted one marked as such, with its counterexample."""
    items = []
    for claim in findings.claims:
        mark, color = ("✓", OUTCOME_COLORS["ok"]) if claim.holds else ("✗ does not hold:", OUTCOME_COLORS["missing"])
        example = f"; {prose(claim.example)}" if claim.example else ""
        hunt = f"; {prose(claim.hunt_note)}" if claim.hunt_note else ""
        domain = (f'<br><span style="color:#555">For: {prose(claim.domain.words)}.</span>'
                  if claim.domain.words else "")
        if claim.trial is not None:
            domain += f'<br><span style="color:#555">Guests: {prose(claim.trial.guest_words)}.</span>'
        items.append(f'<li><b style="{chip(color)}">{mark}</b> {prose(claim.statement)}{domain} '
                     f'<span style="color:#555">({prose(claim.evidence)}{hunt}{example})</span></li>')
    return f'<ul style="line-height:1.5">{"".join(items)}</ul>'


def agreement_frame(check: ModelCheck) -> pd.DataFrame:
    """A model check, field by field: what was compared, and how much of it agreed."""
    return pd.DataFrame([{"field": name, "what was compared": FIELDS[name], "agree": agree, "compared": compared}
                         for name, (agree, compared) in check.fields.items()])


def scan_html(found: FileScan) -> Html:
    """What ``scan`` says of one file, as in the terminal."""
    text = prose(chr(10).join(describe_scan(found)))
    return Html(f'<pre style="white-space:pre-wrap;font-family:monospace;font-size:0.85rem">{text}</pre>')


def survey_frame(rows: Sequence[SurveyRow]) -> pd.DataFrame:
    """The surveyed files that carry a preview1 adapter, summarised: one row per package,
    kind of file and run of consecutive releases with the same answer and the same design read
    from its allocator's code (``survey --json`` keeps one row per file). Beside the run's answer,
    the design and whether the two agree: where they disagree, the row says so, and that the
    run decides."""
    runs: list[dict] = []
    for r in rows:
        if not r.adapters:
            continue
        family = _file_family(r.file)
        said = (r.answer, r.design, r.design_agrees)
        last = next((run for run in reversed(runs) if (run["package"], run["files"]) == (r.package, family)), None)
        if last is None or last["said"] != said:
            last = {"package": r.package, "files": family, "said": said, "releases": [], "code": [],
                    "shared": 0.0, "why": []}
            runs.append(last)
        if r.version not in last["releases"]:
            last["releases"].append(r.version)
        if r.resembles and r.resembles not in last["code"]:
            last["code"].append(r.resembles)
        if r.design_evidence and r.design_evidence not in last["why"]:
            last["why"].append(r.design_evidence)
        last["shared"] = max(last["shared"], r.shared)
    return pd.DataFrame(
        [(run["package"].removeprefix("@bytecodealliance/"), run["files"], span(run["releases"]),
          marked(run["said"][0]), run["said"][1], _design_and_run(*run["said"], run["why"]),
          span(run["code"]) if run["code"] else f"none ({run['shared']:.0%} at most)")
         for run in runs],
        columns=["package", "files", "releases scanned", "scan's answer", "its allocator's code reads",
                 "code and run", "its adapter's code is that of"],
    )


def _design_and_run(answer: str, design: str, agrees: bool | None, why: Sequence[str]) -> str:
    """Whether the design read from the code says what the run found, in a few words."""
    if agrees is True:
        return "agree" if "unknown" not in design.split(", ") else "agree, where a design is known"
    if agrees is False:
        return f"disagree: the code reads {design}, the run found it {answer}; the run decides"
    if "unknown" in design.split(", "):
        return f"the code says nothing either way ({'; '.join(why) or 'no published design'}); the run decides"
    return f"nothing to compare: the run's answer is {answer}"


def _file_family(file: str) -> str:
    """A published adapter file by its own name; any other file by its folder (``obj/*.wasm``)."""
    folder, _, name = file.rpartition("/")
    if any(f".{role}." in name for role in ("command", "reactor")):
        return file
    return f"{folder}/*.wasm" if folder else "*.wasm"


def toolchain_frame(chart: Sequence[Toolchain]):
    """Which toolchains shipped the bug, each row's source a link; what ships inside your
    component apart from a tool's own internals."""
    frame = pd.DataFrame([(t.product, t.what, t.affected, t.first_fixed, t.basis, t.source) for t in chart],
                         columns=["product", "what it is", "affected", "first fixed", "basis", "source"])
    left = [("text-align", "left")]
    return (frame.style.hide(axis="index").format_index(escape="html", axis=1).format(prose)
            .format(linked, subset=["source"])
            .set_properties(**dict(left)).set_table_styles([{"selector": "th", "props": left}]))
