"""Figures for sweeps, runs and allocator traces (matplotlib).

One colour per outcome everywhere (``palette``: Okabe and Ito's colour-blind-safe
colours), in figures and in the widgets' HTML alike. Every figure carries a title and
axis labels that make sense in an exported report, without the code beside it.

Functions return a closed figure: a notebook shows it once, as the cell's result, and
nothing piles up in pyplot across a long session.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ..model.results import OUTCOMES, RunResult
from ..model.wasi import FIRST_FD
from .palette import EMPTY, OUTCOME_COLORS, OUTCOME_HATCHES, ink

POSITION_STYLE = {
    "first": ("#0072B2", "o", "-"),
    "middle": ("#E69F00", "s", "--"),
    "last": ("#000000", "^", ":"),
}


def outcome_legend(ax, outcomes: Sequence[str] = OUTCOMES, **kwargs) -> None:
    """A legend of the outcomes given (pass only those the figure shows), colour and hatch."""
    handles = [Patch(facecolor=OUTCOME_COLORS[o], hatch=OUTCOME_HATCHES[o], edgecolor="white", label=o)
               for o in outcomes]
    ax.legend(handles=handles, title="outcome", **{"loc": "upper left", "bbox_to_anchor": (1.01, 1), **kwargs})


def _results_frame(results: Sequence[RunResult], labels: Sequence[str]) -> pd.DataFrame:
    labels = list(labels) or [f"run {i + 1} · {r.adapter}" for i, r in enumerate(results)]
    if len(set(labels)) != len(labels):
        raise ValueError("survival_grid needs a different label for each run")
    rows = []
    for label, result in zip(labels, results):
        for p in result.preopens:
            rows.append({"scenario": label, "build": "", "fd": p.expected_fd,
                         "path": p.path, "name_seen": p.name_seen or "", "outcome": p.outcome})
    return pd.DataFrame(rows)


CELL_LABEL_MAX = 22
"""Characters of a path a grid cell shows; a longer one keeps its start and its end."""


def _cell_label(path: str) -> str:
    if len(path) <= CELL_LABEL_MAX:
        return path
    head = CELL_LABEL_MAX // 2 - 1
    return path[:head] + "…" + path[-(CELL_LABEL_MAX - head - 1):]


def survival_grid(data: pd.DataFrame | Sequence[RunResult], title: str | None = None,
                  annotate: bool | None = None, labels: Sequence[str] = (), ax=None, widen: float = 1.0) -> Figure:
    """One row per run, one column per fd slot, coloured by outcome.

    ``data`` is a sweep's DataFrame or a list of runs; runs are labelled by ``labels``
    (default: their adapter). ``widen`` widens the columns, for a slide that raises the
    figure's fonts by as much (``deck.figure``): each cell's label then still fits its cell."""
    frame = data if isinstance(data, pd.DataFrame) else _results_frame(data, labels)
    runs = list(dict.fromkeys(zip(frame["build"], frame["scenario"])))
    fds = list(range(FIRST_FD, int(frame["fd"].max()) + 1))
    codes = np.full((len(runs), len(fds)), len(OUTCOMES))
    cell_text: dict[tuple[int, int], str] = {}
    index = {run: i for i, run in enumerate(runs)}
    for row in frame.itertuples():
        r, c = index[(row.build, row.scenario)], row.fd - FIRST_FD
        codes[r, c] = OUTCOMES.index(row.outcome)
        cell_text[(r, c)] = row.path
    cmap = ListedColormap([OUTCOME_COLORS[o] for o in OUTCOMES] + [EMPTY])
    annotate = annotate if annotate is not None else len(runs) * len(fds) <= 120
    widest = max((len(_cell_label(t)) for t in cell_text.values()), default=0) if annotate else 0
    column = max(0.8, 0.085 * widest + 0.15) * widen  # inches: the widest label at 8 points, and a margin
    fig, ax = figure_axes(ax, (max(5.0, column * len(fds) + 3), max(1.6, 0.32 * len(runs) + 1.2)))
    ax.imshow(codes, cmap=cmap, vmin=0, vmax=len(OUTCOMES), aspect="auto", interpolation="nearest")
    for (r, c), code in np.ndenumerate(codes):  # a hatch per outcome: colour alone fails in print
        if code < len(OUTCOMES) and OUTCOME_HATCHES[OUTCOMES[code]]:
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch=OUTCOME_HATCHES[OUTCOMES[code]],
                                   edgecolor="white", linewidth=0))
    ax.set_xticks(range(len(fds)), [str(fd) for fd in fds])
    several_builds = len({b for b, _ in runs}) > 1
    ax.set_yticks(range(len(runs)), [f"{b} · {s}" if several_builds and b else s for b, s in runs])
    ax.set_xlabel(f"fd slot ({FIRST_FD} is the first preopen)")
    ax.set_ylabel("run")
    ax.set_xticks(np.arange(-0.5, len(fds)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(runs)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    if annotate:
        for (r, c), text in cell_text.items():
            face = OUTCOME_COLORS[OUTCOMES[codes[r, c]]]  # the label sits on plain colour, above the hatch
            ax.text(c, r, _cell_label(text), ha="center", va="center",
                    fontsize=8, color=ink(face), bbox={"facecolor": face, "edgecolor": "none", "pad": 1.5})
    ax.set_title(title or "Which fd slots survive")
    outcome_legend(ax, [o for i, o in enumerate(OUTCOMES) if (codes == i).any()])
    describe(fig, describe_slots([(f"{b} · {s}" if several_builds and b else s,
                                   [(fds[c], OUTCOMES[codes[r, c]]) for c in range(len(fds)) if codes[r, c] < len(OUTCOMES)])
                                  for r, (b, s) in enumerate(runs)]))
    fig.tight_layout()
    return fig


def survival_by_position(frame: pd.DataFrame, title: str | None = None) -> Figure:
    """Share of preopens reachable (ok) by position, across counts; one panel per build."""
    builds = frame["build"].unique().tolist()  # in order of appearance
    cols = min(4, len(builds))
    rows = -(-len(builds) // cols)
    fig = new_figure((3.2 * cols + 1.5, 2.6 * rows + 0.8))
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    for ax, build in zip(axes.flat, builds):
        part = frame[frame["build"] == build]
        for cls, (color, marker, style) in POSITION_STYLE.items():
            sub = part[part["position_class"].isin([cls, "only"] if cls == "first" else [cls])]
            if sub.empty:
                continue
            share = sub.groupby("count")["outcome"].apply(lambda s: (s == "ok").mean())
            ax.plot(share.index, share.values, color=color, marker=marker, linestyle=style, label=cls)
        ax.set_title(build, fontsize=10)
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(builds):]:
        ax.set_visible(False)
    for col in range(cols):
        lowest = [ax for ax in axes[:, col] if ax.get_visible()][-1]
        lowest.set_xlabel("number of preopens")
        lowest.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel("share reachable (ok)")
    axes.flat[0].legend(title="position", fontsize=8)
    fig.suptitle(title or "Which positions survive, by number of preopens")
    fig.tight_layout()
    return fig


LOSS_CMAP = LinearSegmentedColormap.from_list("loss", ["#FFFFFF", OUTCOME_COLORS["missing"]])


MATRIX_COLUMNS = 24
"""A build matrix shows at most this many scenarios one by one; more are summarised by fd."""


def build_matrix(frame: pd.DataFrame, title: str | None = None) -> Figure:
    """Adapter builds (release order) by scenario, coloured by the share of preopens
    lost or misrouted. With more than ``MATRIX_COLUMNS`` scenarios (thousands of orders,
    say) the columns are fd slots instead, each the share over every scenario."""
    builds = frame["build"].unique().tolist()  # in order of appearance, without a Python loop over the rows
    scenarios = frame["scenario"].unique().tolist()
    by = "scenario" if len(scenarios) <= MATRIX_COLUMNS else "fd"
    columns = scenarios if by == "scenario" else sorted(frame["fd"].unique())
    lost = frame.assign(bad=frame["outcome"] != "ok").pivot_table(
        index="build", columns=by, values="bad", aggfunc="mean").reindex(index=builds, columns=columns)
    labels = columns if by == "scenario" else [f"fd {fd}" for fd in columns]
    fig = new_figure((1.3 * len(labels) + 3.5, 0.42 * len(builds) + 1.8))
    ax = fig.subplots()
    image = ax.imshow(lost.values, cmap=LOSS_CMAP, vmin=0, vmax=1, aspect="auto")
    for r in range(len(builds)):
        for c in range(len(labels)):
            value = lost.values[r, c]
            ax.text(c, r, f"{value:.0%}", ha="center", va="center", fontsize=8,
                    color=ink(to_hex(LOSS_CMAP(value))))
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(builds)), builds)
    ax.set_xlabel("scenario (preopen list)" if by == "scenario"
                  else f"fd slot, over all {frame['scenario'].nunique():,} scenarios")
    ax.set_ylabel("adapter build (release order)")
    fig.colorbar(image, ax=ax, label="share of preopens lost or misrouted", format="{x:.0%}")
    ax.set_title(title or ("Which builds lose preopens, per scenario" if by == "scenario"
                           else "Which builds lose preopens, per fd slot"))
    fig.tight_layout()
    return fig


def reachable_counts(frame: pd.DataFrame, title: str | None = None) -> Figure:
    """How many orders (rows of ``practices.order_search``) keep how many preopens."""
    counts = frame["reachable"].value_counts().sort_index()
    total = int(frame["reachable"].iloc[0] + frame["lost"].iloc[0])
    fig, ax = figure_axes(None, (5.5, 3.2))
    ax.bar([str(k) for k in counts.index], counts.values, color=OUTCOME_COLORS["ok"])
    for x, value in enumerate(counts.values):
        ax.text(x, value, str(value), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, max(counts.values) * 1.18)  # room for the count above the tallest bar
    ax.set_xlabel(f"preopens reachable (of {total})")
    ax.set_ylabel("number of orders")
    ax.set_title(title or f"Every order of {total} directories: how many stay reachable")
    describe(fig, "; ".join(f"{n} of {int(counts.sum())} orders keep {k} of {total} preopens reachable"
                            for k, n in counts.items()) + ".")
    fig.tight_layout()
    return fig


BEHAVIOR_STYLE = {
    "missing-increment": (OUTCOME_COLORS["missing"], "o", "--"),
    "fixed": (OUTCOME_COLORS["ok"], "s", "-"),
    "early": ("#0072B2", "^", ":"),
}


def name_budget(frame: pd.DataFrame, title: str | None = None) -> Figure:
    """``sweeps.name_budget``: the most name bytes each build takes, by number of names;
    builds that measured the same share one line."""
    fig, ax = figure_axes(None, (7.5, 4.2))
    curves: dict[tuple, list[str]] = {}
    for build, part in frame.groupby("build", sort=False):
        key = (part["behavior"].iloc[0], tuple(part["names"]), tuple(part["total name bytes"]))
        curves.setdefault(key, []).append(build)
    seen: dict[str, int] = {}
    for (behavior, names, totals), builds in curves.items():
        color, marker, style = BEHAVIOR_STYLE[behavior]
        nth = seen[behavior] = seen.get(behavior, -1) + 1  # a second curve of one behaviour: its own marks
        marker, size = (marker, 6) if nth == 0 else ("DvP*"[(nth - 1) % 4], 8 - nth)
        who = builds[0] if len(builds) == 1 else f"{builds[0]} .. {builds[-1]} ({len(builds)} builds)"
        ax.plot(names, totals, color=color, marker=marker, markersize=size, linestyle=style,
                fillstyle="full" if nth == 0 else "none", label=f"{behavior}: {who}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of preopens (names of equal length)")
    ax.set_ylabel("most name bytes in total that still run")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, title="adapter behaviour: builds")
    ax.set_title(title or "The adapter's scratch area: how many name bytes each build takes")
    fig.tight_layout()
    return fig


def figure_axes(ax, size: tuple[float, float]):
    """``ax`` and its figure, or, without one, a new figure of ``size`` inches with one axes."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(size)
    return fig, fig.subplots()


class LabFigure(Figure):
    """A figure of the lab's: a class of its own, so that ``views`` can show it with its
    title and what it shows as alternative text, whatever the kernel's inline backend
    registers for figures."""

    described: str = ""
    """What the figure shows, in words, for a reader who cannot see it (``describe``)."""


def describe(fig: Figure, text: str) -> None:
    """Keep ``text``, what ``fig`` shows in words, for its alternative text (``views.figure_title``)."""
    fig.described = " ".join(part for part in (getattr(fig, "described", ""), text) if part)


def describe_slots(rows: Sequence[tuple[str, Sequence[tuple[int, str]]]]) -> str:
    """Runs' fd slots in words: ``native: fds 3–7 ok (5 of 5 reachable); jco-1.8.1: fd 3 ok, fds
    4–6 missing, fd 7 ok (2 of 5 reachable).``; past 16 runs, the outcomes counted."""
    if len(rows) > 16:
        counts: dict[str, int] = {}
        for _, cells in rows:
            for _, outcome in cells:
                counts[outcome] = counts.get(outcome, 0) + 1
        return (f"{len(rows)} runs, {sum(counts.values())} preopens: "
                + ", ".join(f"{n} {o}" for o, n in counts.items()) + ".")
    said = []
    for label, cells in rows:
        groups: list[tuple[int, int, str]] = []
        for fd, outcome in cells:
            if groups and groups[-1][2] == outcome and groups[-1][1] == fd - 1:
                groups[-1] = (groups[-1][0], fd, outcome)
            else:
                groups.append((fd, fd, outcome))
        words = ", ".join(f"fd {a} {o}" if a == b else f"fds {a}–{b} {o}" for a, b, o in groups)
        reachable = sum(o == "ok" for _, o in cells)
        said.append(f"{label}: {words} ({reachable} of {len(cells)} reachable)")
    return "; ".join(said) + "."


def new_figure(size: tuple[float, float]) -> Figure:
    """A figure that a notebook shows once, as the cell's result.

    Made through pyplot, so that a kernel's inline backend is set up to show figures,
    then closed at once, so that pyplot neither shows it a second time nor keeps it.
    """
    fig = plt.figure(figsize=size, FigureClass=LabFigure)
    plt.close(fig)
    return fig


def save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def png_base64(fig: Figure) -> str:
    """The figure as a base64 PNG, for an ``<img src="data:...">`` in a page."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()
