"""Diagrams of the mechanism: the adapter's scratch area during one call, the real build's
allocator calls beside it (an HTML table), and the path a preopen's name travels from the
host to the guest.

Drawn from the model's trace (``model.explain``), from a real build's traced allocator
(``reach.alloc_trace``) or from a real run, never by hand; the outcome colours and the figure
plumbing come from ``plots``.
"""
from __future__ import annotations

import html

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..model.chain import DirNameTrace
from ..model.describe import quoted, shown
from ..model.results import RunResult
from ..reach.alloc_trace import Beside, hex_address
from .palette import EMPTY, OUTCOME_COLORS, ink, on_white
from .plots import describe, figure_axes, new_figure

NAME_COLORS = ["#0072B2", "#E69F00", "#F0E442", "#7FB8D8", "#B07A00", "#999999", "#F5DD9A", "#3A5F8A"]
"""Per-name colours in the scratch diagram (cycled), kept apart from the outcome colours."""


def scratch_diagram(trace: DirNameTrace, upto: int | None = None, show_copy: bool | None = None,
                    ax=None) -> Figure:
    """The adapter's scratch area during one ``fd_prestat_dir_name`` call, one row per
    name written, each byte coloured by the name that wrote it last.

    ``upto`` limits the rows to the first names (the stepper's position); the last row,
    what the adapter copies to the guest, shows once every name is written, or as
    ``show_copy`` says."""
    steps = trace.steps[: upto if upto is not None else len(trace.steps)]
    width = max([len(s.scratch) for s in trace.steps] + [trace.length, 1])
    fig, ax = figure_axes(ax, (max(5.0, 0.42 * width + 3.2), 0.55 * (len(steps) + 1) + 1.4))
    owner = [-1] * width
    for row, step in enumerate(steps):
        for k in range(len(step.name)):
            owner[step.offset + k] = step.index
        for col in range(width):
            known = col < len(step.scratch) and owner[col] >= 0
            face = NAME_COLORS[owner[col] % len(NAME_COLORS)] if known else EMPTY
            ax.add_patch(Rectangle((col, row), 1, 1, facecolor=face, edgecolor="white", linewidth=1.5,
                                   alpha=1.0 if known else 0.6))
            if known:
                ax.text(col + 0.5, row + 0.5, _char(step.scratch[col]), ha="center", va="center",
                        fontsize=9, color=ink(face))
        if step.name:
            ax.add_patch(Rectangle((step.offset, row), len(step.name), 1, fill=False,
                                   edgecolor="black", linewidth=1.2, linestyle="-" if step.kept else "--"))
    labels = [f"name {s.index + 1} {quoted(s.name)}: counter {s.counter}, {'kept' if s.kept else 'throw-away'}"
              for s in steps]
    if show_copy if show_copy is not None else len(steps) == len(trace.steps):
        row = len(steps)
        for k in range(trace.length):
            ax.add_patch(Rectangle((trace.source_offset + k, row), 1, 1, facecolor="white", edgecolor="black"))
            ax.text(trace.source_offset + k + 0.5, row + 0.5, _char(trace.returned[k]), ha="center",
                    va="center", fontsize=9)
        verdict = "right" if trace.right else "wrong"
        labels.append(f"copied to the guest: {quoted(trace.returned)} ({verdict})")
        describe(fig, f"Each of the {len(steps)} names is written at offset "
                 + ", ".join(str(s.offset) for s in steps) + f"; the guest is copied {quoted(trace.returned)} "
                 f"where it wanted {quoted(trace.names[trace.nth])}, {verdict}.")
    if not labels:
        labels = ["nothing written yet"]
    ax.set_xlim(0, width)
    ax.set_ylim(len(labels), 0)
    ax.set_yticks([i + 0.5 for i in range(len(labels))], labels, fontsize=8)
    ax.set_xticks([i + 0.5 for i in range(width)], [str(i) for i in range(width)], fontsize=7)
    ax.set_xlabel("byte offset in the adapter's scratch area")
    so_far = f"\n(names written so far: {len(steps)} of {len(trace.steps)})" if len(steps) < len(trace.steps) else ""
    ax.set_title(f"fd_prestat_dir_name(fd={trace.fd}), {trace.behavior}: the adapter wants name "
                 f"{trace.nth + 1} of {len(trace.names)}, {quoted(trace.names[trace.nth])}{so_far}", fontsize=10)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


ALLOCATION_STYLE = """<style>
.stepper-real table { border-collapse: collapse; font-size: 0.85rem; margin: 0.3rem 0; }
.stepper-real th, .stepper-real td { border-bottom: 1px solid #ddd; padding: 0.15rem 0.5rem; text-align: left; }
.stepper-real tr.now td { background: #fff4d6; }
.stepper-real td.differ { color: #b00020; font-weight: bold; }
</style>"""
"""The allocation table's looks, once per page or widget."""


def allocation_html(both: Beside, step: int) -> str:
    """What the real build's ``cabi_import_realloc`` did up to the stepper's ``step`` (0: the list;
    1..n: the names; n+1: the copy), beside the model's offsets, as an HTML table; everything
    that came from a user (names) or a binary (its words) is escaped."""
    model, real = both.model, both.real
    n = len(model.steps)
    e = html.escape
    head = (f"<p><b>{e(real.build)}, run for real</b>: each call of its <code>cabi_import_realloc</code> while "
            f"<code>fd_prestat_dir_name({model.fd})</code> lists the names, beside the model's offsets "
            "(both counted from the end of the list).</p>")
    if not both.comparable:
        said = f"<p>Offsets not compared: {e(both.why_not)}.</p>"
        start = real.startup
        if real.trap is None and not real.errno and not real.listings and start is not None \
                and len(start.names) == len(model.names):
            offsets = ", ".join(str(start.offset(i)) for i in range(len(start.names)))
            said += (f"<p>Its one listing, at start-up ({e(start.during)}): the list at "
                     f"<code>{hex_address(start.list.address)}</code>, the names side by side at offsets "
                     f"{e(offsets)}; it told <code>{e(quoted(real.told or b''))}</code> "
                     f"({'as the model tells' if both.told_agrees else 'not what the model tells'}).</p>")
        return f'<div class="stepper-real" data-verdict="not comparable">{head}{said}</div>'
    listing = real.listing
    rows = [("<tr><th>allocation</th><th>asked</th><th>returned</th><th>name went to</th><th>the model</th>"
             "<th>agree</th></tr>"),
            (f'<tr{" class=now" if step == 0 else ""}><td>the list</td><td>{listing.list.size} B, align '
             f"{listing.list.align}</td><td><code>{hex_address(listing.list.address)}</code></td>"
             f"<td>names from <code>{hex_address(listing.base)}</code></td><td>-</td><td>-</td></tr>")]
    for s in both.steps[: min(step, n)]:
        got = s.allocation
        now = " class=now" if s.index + 1 == step else ""
        rows.append(f"<tr{now}><td>name {s.index + 1}, <code>{e(quoted(model.names[s.index]))}</code></td>"
                    f"<td>{got.size} B, align {got.align}</td><td><code>{hex_address(got.address)}</code></td>"
                    f"<td>+{s.real_offset}</td><td>+{s.model_offset}</td>"
                    f'<td{"" if s.agrees else " class=differ"}>{"yes" if s.agrees else "NO"}</td></tr>')
    if step > n:
        rows.append(f"<tr class=now><td>told to the guest</td><td colspan=3><code>{e(quoted(real.told or b''))}</code>"
                    f"</td><td><code>{e(quoted(model.returned))}</code></td>"
                    f'<td{"" if both.told_agrees else " class=differ"}>{"yes" if both.told_agrees else "NO"}</td></tr>')
    verdict = "agree" if both.agrees else "differ"
    return (f'<div class="stepper-real" data-verdict="{verdict}">{head}<table>{"".join(rows)}</table></div>')


def pipeline(result: RunResult, title: str | None = None) -> Figure:
    """Where a preopen's name travels in an adapted run, drawn from ``result``: the host's
    list, the adapter and its import allocator, and the names the guest's wasi-libc was told.
    The allocator is marked as the place where the bytes go wrong when any name came back wrong."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if result.adapter == "native":
        raise ValueError("pipeline draws an adapted run: a native run has no adapter to draw")
    rows = result.preopens
    height = max(5.6, 0.32 * len(rows) + 3.2)
    fig = new_figure((12, height * 0.7))
    ax = fig.subplots()
    ax.set_xlim(0, 12)
    ax.set_ylim(0, height)
    ax.axis("off")
    top = height - 0.3
    wrong = [p for p in rows if p.name_seen != p.path]

    def box(x, w, heading, lines):
        ax.add_patch(FancyBboxPatch((x, 0.3), w, top - 0.3, boxstyle="round,pad=0.02", facecolor="white",
                                    edgecolor="#333333", linewidth=1.5))
        ax.text(x + w / 2, top - 0.2, heading, ha="center", va="top", fontsize=10, fontweight="bold")
        for i, (text, color) in enumerate(lines):
            ax.text(x + 0.15, top - 1.1 - 0.34 * i, text, ha="left", va="top", fontsize=9, color=color,
                    family="monospace")

    told = [(f"fd {p.expected_fd}  {shown(p.name_seen)}  (wrong)", on_white(OUTCOME_COLORS["missing"])) if p.name_seen != p.path
            else (f"fd {p.expected_fd}  {shown(p.name_seen)}", "#222222") for p in rows]  # words too, for print
    box(0.1, 3.0, "guest: wasi-libc's table\n(fd, the name it was told)", told)
    box(4.3, 3.4, "adapter (core module)", [
        ("fd_prestat_get(fd)", "#222222"), ("  -> a length kept at start-up", "#555555"),
        ("fd_prestat_dir_name(fd)", "#222222"), ("  -> get-directories again,", "#555555"),
        ("     keeps name number fd - 3", "#555555")])
    listed = [(f"fd {p.expected_fd}  {shown(p.path)}", "#222222") for p in rows]
    box(8.9, 3.0, "host: get-directories\n(wasi:filesystem/preopens)", listed)
    alloc_edge = OUTCOME_COLORS["missing"] if wrong else OUTCOME_COLORS["ok"]
    ax.add_patch(FancyBboxPatch((4.5, 0.5), 3.0, 1.3, boxstyle="round,pad=0.02",
                                facecolor="#FFF4EC" if wrong else "#EEF8F4", edgecolor=alloc_edge,
                                linewidth=2.5, hatch="///" if wrong else ""))
    ax.text(6.0, 1.5, "import allocator\n(cabi_import_realloc)", ha="center", va="center", fontsize=9,
            fontweight="bold", bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    verdict = (f"the bytes go wrong here:\n{len(wrong)} of {len(rows)} names told wrong" if wrong
               else f"every name told right\n({len(rows)} of {len(rows)})")
    ax.text(6.0, 0.85, verdict, ha="center", va="center", fontsize=8.5, color=on_white(alloc_edge), fontweight="bold",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})

    def arrow(start, end, text, color="#333333"):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color=color, linewidth=1.4))
        ax.text((start[0] + end[0]) / 2, start[1] - 0.12, text, ha="center", va="top", fontsize=8,
                color=on_white(color))

    arrow((3.15, top - 1.2), (4.25, top - 1.2), "fd_prestat_*\n(fd)")
    arrow((7.75, top - 2.0), (8.85, top - 2.0), "get-\ndirectories()")
    arrow((8.85, 1.5), (7.55, 1.5), "every name,\ninto the space\nit asks for")
    arrow((4.45, 1.5), (3.15, 1.5), "name fd - 3,\ncopied out", alloc_edge)
    ax.set_title(title or f"Where the names travel: {' '.join(p.path for p in rows)} through {result.adapter}",
                 fontsize=11)
    describe(fig, f"The host hands over {' '.join(shown(p.path) for p in rows)}; the guest is told "
             + ", ".join(f"fd {p.expected_fd} {shown(p.name_seen)}" for p in rows)
             + (f": {len(wrong)} of {len(rows)} names wrong, after the import allocator." if wrong
                else f": every name right ({len(rows)} of {len(rows)})."))
    fig.tight_layout()
    return fig


def _char(byte: int) -> str:
    return chr(byte) if 32 <= byte < 127 else f"{byte:02x}"
