"""Grids of verdicts, a cell per (row, check), coloured, hatched and marked as the outcomes are
everywhere: the adapters inside published releases, each WASIp1 host against wasmtime, and the
exported suite on every host."""
from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from .palette import EMPTY, OUTCOME_COLORS, OUTCOME_HATCHES, VERDICT_COLORS, VERDICT_GLYPHS, VERDICT_HATCHES, ink
from .plots import describe, new_figure


ANSWER_COLORS = {"affected": OUTCOME_COLORS["missing"], "not affected": OUTCOME_COLORS["ok"],
                 "not exposed": OUTCOME_COLORS["timeout"], "cannot tell": OUTCOME_COLORS["trap"]}
"""``scan``'s answers in the outcome colours: affected as a lost preopen, not affected as ``ok``."""
ANSWER_HATCHES = {"affected": OUTCOME_HATCHES["missing"], "not affected": OUTCOME_HATCHES["ok"],
                  "not exposed": OUTCOME_HATCHES["timeout"], "cannot tell": OUTCOME_HATCHES["trap"]}


def survey_grid(rows: Sequence, title: str | None = None) -> Figure:
    """One row per surveyed file that carries an adapter (by package and file), one column
    per release, coloured by ``scan``'s answer; grey where that release has no such file."""
    lines = sorted({(r.package, r.file) for r in rows if r.adapters}, key=lambda k: (k[0], k[1]))
    releases = {}
    for r in rows:
        if r.adapters:
            releases.setdefault(r.package, [])
            if r.version not in releases[r.package]:
                releases[r.package].append(r.version)
    packages = list(releases)
    fig = new_figure((11, 1.2 + 0.45 * len(lines)))
    axes = fig.subplots(len(packages), 1, squeeze=False,
                        gridspec_kw={"height_ratios": [sum(1 for line in lines if line[0] == p) for p in packages]})
    answers = {(r.package, r.file, r.version): r.answer for r in rows}
    for ax, package in zip(axes[:, 0], packages):
        mine = [f for p, f in lines if p == package]
        for y, file in enumerate(mine):
            for x, version in enumerate(releases[package]):
                answer = answers.get((package, file, version))
                ax.add_patch(Rectangle((x, y), 0.95, 0.9, facecolor=ANSWER_COLORS.get(answer or "", EMPTY),
                                       hatch=ANSWER_HATCHES.get(answer or "", ""), edgecolor="white", linewidth=0))
        ax.set_xlim(0, len(releases[package]))
        ax.set_ylim(len(mine), 0)
        ax.set_yticks([y + 0.45 for y in range(len(mine))], [f.rsplit("/", 1)[-1] for f in mine], fontsize=8)
        ax.set_xticks([x + 0.475 for x in range(len(releases[package]))], releases[package], rotation=60, fontsize=8)
        ax.set_title(package, fontsize=10, loc="left")
        for side in ax.spines.values():
            side.set_visible(False)
    present = [a for a in ANSWER_COLORS if a in {r.answer for r in rows if r.adapters}]
    handles = [Patch(facecolor=ANSWER_COLORS[a], hatch=ANSWER_HATCHES[a], edgecolor="white", label=a)
               for a in present]
    if any(answers.get((p, f, v)) not in ANSWER_COLORS for p, f in lines for v in releases[p]):
        handles.append(Patch(facecolor=EMPTY, edgecolor="#999999", label="no such file with\nan adapter in it"))
    fig.legend(handles=handles, loc="upper right", title="scan's answer", fontsize=8)
    describe(fig, _answers_in_words(packages, lines, releases, answers, present))
    fig.suptitle(title or "The preview1 adapters inside published releases, each run by scan", x=0.02, ha="left")
    fig.supxlabel("release (oldest first)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.86, 0.95))
    return fig


def suite_grid(measured, affected: set[str], title: str | None = None) -> Figure:
    """The exported suite: one row per host running the WASIp1 modules and per build's
    components on the Wasmtime CLI, one column per test, each cell passed (ok) or failed
    (missing), coloured, hatched and marked as the outcomes are everywhere."""
    from ..reach.suite import CASES

    tests = [c.name for c in CASES]
    rows = [(f"{host} · WASIp1", [(t, p) for g, t, p, _ in measured.results[host] if g == "wasip1"])
            for host in measured.results if any(g == "wasip1" for g, *_ in measured.results[host])]
    builds = dict.fromkeys(g for g, *_ in measured.results["wasmtime-cli"] if g != "wasip1")
    rows += [(f"{b} ({'affected' if b in affected else 'not affected'}) · component",
              [(t, p) for g, t, p, _ in measured.results["wasmtime-cli"] if g == b]) for b in builds]
    fig = new_figure((0.55 * len(tests) + 4.5, 0.3 * len(rows) + 1.8))
    ax = fig.subplots()
    passed_cells = failed_cells = 0
    for y, (_, cells) in enumerate(rows):
        for t, passed in cells:
            outcome = "ok" if passed else "missing"
            passed_cells += passed
            failed_cells += not passed
            ax.add_patch(Rectangle((tests.index(t), y), 0.95, 0.9, facecolor=OUTCOME_COLORS[outcome],
                                   hatch=OUTCOME_HATCHES[outcome], edgecolor="white", linewidth=0))
    ax.set_xlim(0, len(tests))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([x + 0.475 for x in range(len(tests))], tests, rotation=60, ha="right", fontsize=8)
    ax.set_yticks([y + 0.45 for y in range(len(rows))], [label for label, _ in rows], fontsize=8)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.legend(handles=[Patch(facecolor=OUTCOME_COLORS[o], hatch=OUTCOME_HATCHES[o], edgecolor="white", label=word)
                       for o, word in (("ok", "passed"), ("missing", "failed"))],
              loc="center left", bbox_to_anchor=(1.01, 0.5), title="test", fontsize=8, frameon=False)
    ax.set_title(title or "The exported suite: each host's WASIp1 run, and each build's components on the "
                 "Wasmtime CLI", fontsize=10, loc="left")
    describe(fig, f"{passed_cells} tests passed and {failed_cells} failed in all. "
             + "; ".join(f"{label}: failed {', '.join(t for t, p in cells if not p) or 'none'}" for label, cells in rows)
             + ".")
    fig.tight_layout()
    return fig


def _answers_in_words(packages, lines, releases, answers, present) -> str:
    """The survey grid in words: per package, the releases that got each answer."""
    from ..model.describe import span

    said = []
    for package in packages:
        files = [f for p, f in lines if p == package]
        parts = []
        for answer in present:
            hit = [v for v in releases[package] if any(answers.get((package, f, v)) == answer for f in files)]
            if hit:
                parts.append(f"{answer}: {span(hit)}")
        said.append(f"{package}: {'; '.join(parts) or 'no adapter found'}")
    return ". ".join(said) + "."


def host_matrix(matrix, title: str | None = None) -> Figure:
    """Hosts (rows) by checks (columns), each cell coloured, hatched and marked by its verdict."""
    from ..reach.host_checks import CHECKS
    from ..reach.host_judgements import VERDICTS

    fig = new_figure((10.5, 1.4 + 0.5 * len(matrix.hosts)))
    ax = fig.add_subplot()
    for y, host in enumerate(matrix.hosts):
        for x, check in enumerate(CHECKS):
            verdict = matrix.cell(host, check).verdict
            ax.add_patch(Rectangle((x, y), 0.96, 0.9, facecolor=VERDICT_COLORS[verdict],
                                   hatch=VERDICT_HATCHES[verdict], edgecolor="white", linewidth=0))
            ax.text(x + 0.48, y + 0.45, VERDICT_GLYPHS[verdict], ha="center", va="center", fontsize=14,
                    color=ink(VERDICT_COLORS[verdict]), fontweight="bold",
                    bbox={"facecolor": VERDICT_COLORS[verdict], "edgecolor": "none", "pad": 1.5})
    ax.set_xlim(0, len(CHECKS))
    ax.set_ylim(len(matrix.hosts), 0)
    ax.set_xticks([x + 0.48 for x in range(len(CHECKS))], CHECKS, fontsize=10, rotation=30, ha="left")
    ax.xaxis.tick_top()
    ax.set_yticks([y + 0.45 for y in range(len(matrix.hosts))], matrix.hosts, fontsize=10)
    ax.set_xlabel(f"check, each against wasmtime's own WASIp1 on the same lists ({matrix.runs:,} runs, made "
                  f"{matrix.measured_at})", fontsize=10)
    ax.set_ylabel("WASIp1 host", fontsize=10)
    for side in ax.spines.values():
        side.set_visible(False)
    present = [v for v in VERDICTS if any(c.verdict == v for c in matrix.cells)]
    describe(fig, "; ".join(f"{host}: " + ", ".join(
        f"{sum(matrix.cell(host, c).verdict == v for c in CHECKS)} {v}" for v in present
        if any(matrix.cell(host, c).verdict == v for c in CHECKS)) for host in matrix.hosts)
        + f" (of {len(CHECKS)} checks each).")
    handles = [Patch(facecolor=VERDICT_COLORS[v], hatch=VERDICT_HATCHES[v], edgecolor="white",
                     label=f"{VERDICT_GLYPHS[v]} {v}") for v in present]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.03, 0.5), title="verdict", fontsize=9,
              frameon=False)  # beside the grid, never over it, whatever size the fonts are drawn at
    # the axes' own title: matplotlib sets it above the slanted check names, whatever size a slide draws them
    ax.set_title(title or "Is my host affected? Each WASIp1 host against wasmtime, check by check", loc="left",
                 fontsize=12)
    fig.tight_layout(rect=(0, 0, 0.8, 1))
    return fig
