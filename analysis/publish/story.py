"""The deck's story, slide by slide, made from this build's runs and claims (``deck``).

An opening question, how it should work, the symptom, the live explorer, why, who is affected
and what to do, in 16 main slides for 20 minutes (``PARTS``), then backup slides for questions.
Each sentence is a claim of the build (``deck.Claims``) or a number this build measured;
the figures are redrawn here for a slide's size; the live explorer runs in the deck too.
"""
from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Mapping, Sequence

import nbformat

from ..experiments import practices, sweeps, verdicts
from ..experiments.verdicts import REPORT_CASE
from ..findings.advice import EMPTY_NAME_STOP
from ..findings.claims import FIRST_MISROUTED, INTACT, LAST_MISROUTED
from ..model.chain import explain, libc_route
from ..model.describe import prose, span, step_sentence
from ..model.results import RunResult
from ..model.wasi import ERRNO_NAMES, encode
from ..reach import designs, scan
from ..reach.toolchains import Toolchain
from ..reach.words import describe_scan, lts_caveat
from ..runs import hosts
from ..runs.runner import default_runner
from ..show import binary, diagrams, grids, plots
from ..show.palette import OUTCOME_COLORS, OUTCOME_GLYPHS, chip
from .deck import Claims, Slide, figure

QUESTION = ("A WASIp1 program made a WASIp2 component with the preview1 adapter is given five directories. "
            "Which can it reach, why, and what do you do about it?")


def _code(text: str) -> str:
    return f"<code>{html.escape(text)}</code>"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A small table; cells are HTML already."""
    return ("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows) + "</table>")


def _outcome(outcome: str) -> str:
    return (f'<span class="outcome" data-outcome="{outcome}" style="{chip(OUTCOME_COLORS[outcome])}">{OUTCOME_GLYPHS[outcome]} {outcome}</span>')


def _run_table(result: RunResult) -> str:
    rows = []
    for p in result.preopens:
        routed = "no preopen" if p.routed_fd is not None and p.routed_fd < 0 else (
            f"fd {p.routed_fd}" if p.routed_fd is not None else "-")
        read = p.marker if p.marker is not None else ERRNO_NAMES.get(p.errno, "-") if p.errno else "-"
        rows.append([str(p.expected_fd), _code(p.path), _code(p.name_seen or "-"), routed, html.escape(read),
                     _outcome(p.outcome)])
    return _table(["fd", "preopen", "told", "routed to", "read", "outcome"], rows)


def _short(text: str) -> str:
    """A toolchain's words cut to their first clause, for a slide's table."""
    return re.split(r" \(|: ", text, maxsplit=1)[0]


PARTS = {
    "The question": 1.0,
    "How it should work": 2.0,
    "The symptom": 4.0,
    "Try it": 3.0,
    "Why": 5.0,
    "Who is affected": 2.5,
    "What to do": 2.5,
}
"""The talk's parts, in order, and the minutes each gets: 20 in all, questions after."""


def story(executed: Mapping[str, nbformat.NotebookNode], found: Sequence[verdicts.Verdict], headline: str,
          checked: tuple[str, str], explorer: str, matrix, toolchains: Sequence[Toolchain], stamp: str) -> list[Slide]:
    """Every slide of the deck, the main ones first and "What to do" last among them, then the
    backup slides; ``executed``: notebook stem -> executed notebook, ``checked``: the live
    explorer's agreement (``live_check.Agreement``: short, sentence), ``explorer``: its HTML for
    the deck."""
    claims = Claims(executed)
    runner = default_runner()
    affected, fixed = verdicts.pick_builds(list(found))
    targets = practices.upgrade_targets(found)
    p1, p2, p3, p4, p5, p6, p7, p8, *_ = (f"{n}.html" for n in sorted(executed))
    s, backup = [], []

    def said(page: str, starts: str) -> tuple[str, str]:
        return claims.sentence(page.removesuffix(".html"), starts), claims.notes(page.removesuffix(".html"), starts)

    # -- the question
    s.append(Slide("Five directories in: which can the program reach?", html.escape(QUESTION),
                   "<p>Wasmtime issue 10058: a WASIp1 program, the preview1 adapter, several preopened directories.</p>",
                   f"Upstream: wasmtime issue 10058, fixed by pull request 10064 and released in Wasmtime 29.0.1. "
                   f"Every slide is from the build of {stamp}; the WASIp1 hosts' matrix and the live page's check "
                   f"are kept from their last runs while their inputs stay the same, and say when those were. "
                   f"The answer, measured: {headline}",
                   show="Ask the room to guess before the next slides answer.", part="The question"))

    # -- how it should work
    native = runner.run(("/a", "/b", "/c"), guest="probe")
    say, notes = said(p1, "Natively, the preopens are fds 3, 4")
    rows = [[str(e.fd), _code(e.name) if e.errno == 0 else ERRNO_NAMES.get(e.errno, str(e.errno))] for e in native.fds]
    s.append(Slide("A WASIp1 program finds its directories as fds 3, 4, 5", say,
                   _table(["fd", "fd_prestat_dir_name answers"], rows), notes, p1,
                   show="Read the table top down: each fd answers its own name, then one that is not a preopen.",
                   part="How it should work"))
    table = [(3, b"/"), (4, b"/tmp"), (5, b"/tmp/cache")]
    say, notes = said(p1, "wasi-libc routes each path by the names")
    rows = []
    for path in ("/tmp/cache/x", "/tmp/y", "/etc/z"):
        route = libc_route(table, encode(path))
        rows.append([_code(path), f"fd {route.fd} ({_code('/' + route.prefix.decode())})" if route else "no preopen"])
    s.append(Slide("wasi-libc sends a path to the longest matching name",
                   say, "<p>Told fd 3 = <code>/</code>, fd 4 = <code>/tmp</code>, fd 5 = <code>/tmp/cache</code>:</p>"
                   + _table(["open", "goes to"], rows), notes, p1,
                   show="The names the program is told decide where every open goes: keep that in mind."))

    # -- the symptom
    runs = [runner.run(REPORT_CASE), runner.run(REPORT_CASE, adapter=affected), runner.run(REPORT_CASE, adapter=fixed)]
    say, notes = said(p2, "Through every affected build the report's case")
    s.append(Slide("The report's case: natively, through an affected build, through one not affected",
                   f"{say} Shown: native, {affected}, {fixed}.",
                   figure(lambda widen: plots.survival_grid(runs, labels=["native", affected, fixed],
                                              title="/a /b /c /d /e: which preopens are reachable", widen=widen), (1180, 300)),
                   notes, p2, show="Point at the middle row, the affected build, then at the row under it.",
                   part="The symptom"))
    say, notes = said(p2, "The guest is told a wrong name for each of the three middle fds")
    s.append(Slide(f"Through {affected} the middle fds are told the last name", say, _run_table(runs[1]), notes, p2,
                   show="Point at the column of names told, then at the outcome column."))
    say, notes = said(p3, "With distinct names of equal length")
    sweep = sweeps.count_sweep("equal", 8, [affected]).run(progress=False)
    s.append(Slide("From 1 to 8 directories, only the ends survive", say,
                   figure(lambda widen: plots.survival_grid(sweep, title=f"Equal-length names, 1 to 8 directories, {affected}",
                                                         widen=widen)),
                   notes, p3, show="Run a finger down the first and the last column of each row."))
    say, notes = said(p5, "It can send a path into another preopen's directory")
    s.append(Slide("Nested names: a path reads the wrong directory, with no error", say,
                   _run_table(runner.run(("/", "/tmp", "/home"), adapter=affected)),
                   notes + " If /tmp was meant as the program's scratch space, its opens land under / instead (the runs "
                   "here read; they do not write).", p5,
                   show="Point at the row for /tmp: where it was routed, and what it read."))

    # -- try it, right after the symptom
    s.append(Slide("Try it: the real builds, in this browser", html.escape(checked[0]), explorer,
                   checked[1], p3,
                   show="Tab to the scheme menu (its arrow keys change it; the slide stays). Choose custom names, type "
                   "/tmp, /abc, /tmp2 and press Enter: fd 3 is misrouted. Then the nested scheme with 5 directories; "
                   "then a build not affected in the build menu.", part="Try it"))

    # -- why
    trace = explain(REPORT_CASE, 5)
    s.append(Slide("Root cause: a counter that never moves", prose(step_sentence(trace, len(trace.steps) + 1)),
                   figure(diagrams.scratch_diagram(trace), (1180, 380)),
                   "For each fd_prestat_dir_name call the adapter asks the host for the whole list again and means to "
                   "give real space only to name nth (the one the fd wants), counting the names it throws away; the "
                   "count never moves, so every name lands at offset 0 and the last one written wins. "
                   + " ".join(step_sentence(trace, i) for i in (0, 3)), p4,
                   show="Each row is one name written into the same scratch bytes; the last row is what the "
                   "program is told.", part="Why"))
    mended = explain(REPORT_CASE, 5, "fixed")
    s.append(Slide("The fix: the missing increment", prose(step_sentence(mended, 3)),
                   figure(diagrams.scratch_diagram(mended), (1180, 360))
                   + '<p class="note">Upstream: <a href="https://github.com/bytecodealliance/wasmtime/pull/10064">'
                   "wasmtime#10064</a>, released in Wasmtime 29.0.1.</p>",
                   "Pull request 10064 adds the increment, backported as 10067 and released in Wasmtime 29.0.1. "
                   + step_sentence(mended, len(mended.steps) + 1), p4,
                   show="Compare with the slide before: the names now land in their own bytes."))
    say, notes = said(p4, "Adding the increment cures every affected build")
    pair = designs.smallest_pair(list(found))
    s.append(Slide("In the binary: the increment itself", say,
                   binary.instructions_html(*pair, around=1, notes=False),
                   f"{pair[0].input}'s cabi_import_realloc against {pair[1].input}'s, read with wasm-tools print and "
                   "found through the export: the marked lines of the fixed build load the counter at +4, keep it, "
                   "add 1 and store it back before comparing it with nth at +8; the affected build compares with no "
                   "store. " + notes, p4, show="Point at the marked lines: load, add 1, store."))
    said_model = claims.said("04_root_cause", "The model predicts the outcomes of the opener's")
    agreed = re.search(r"\(([\d,]+) of ([\d,]+) ([^;)]*)", said_model.rest)
    say, notes = said(p4, "The model predicts the outcomes of the opener's")
    s.append(Slide("The proof: the model predicts real runs", say,
                   (f'<p class="big">{agreed.group(1)} of {agreed.group(2)}</p><p>outcomes of the guests\' paths: the model '
                    f'and the runs {html.escape(agreed.group(3))}</p>'
                    if agreed else ""), notes + " " + claims.notes("04_root_cause", "The model predicts the fd answers"),
                   p4, show="The count is of real runs through the published builds, not of the model alone."))

    # -- which builds, which toolchains
    say, notes = said(p5, "The affected builds are one unbroken run")
    builds = list(found)[1:]
    half = (len(builds) + 1) // 2
    cells = [[_code(v.adapter), html.escape(span(v.releases)), _outcome("missing" if v.affected else "ok")]
             for v in builds]
    columns = "".join(_table(["build", "jco releases", "report's case"], cells[i:i + half]) for i in (0, half))
    s.append(Slide("Which published builds are affected, measured", say, f'<div class="columns">{columns}</div>',
                   notes + " " + "; ".join(f"{v.adapter}: {v.label}" for v in builds), p5,
                   show="Read the first affected and the first not affected build aloud.", part="Who is affected"))
    inside = [t for t in toolchains if t.inside]
    measured = [_short(t.product) for t in inside if t.basis == "measured"]
    cited = [_short(t.product) for t in inside if t.basis == "cited"]
    s.append(Slide("Which toolchains put an affected adapter in your component",
                   html.escape(f"Measured here: {', '.join(measured)}; cited from upstream: {', '.join(cited)}."),
                   _table(["toolchain", "affected", "first fixed"],
                          [[html.escape(_short(t.product)), html.escape(_short(t.affected)),
                            html.escape(_short(t.first_fixed))] for t in inside]),
                   " ".join(f"{t.product}: affected {t.affected}; first fixed {t.first_fixed} ({t.basis}: {t.source})."
                            for t in toolchains), p7, show="Ask who builds components with one of these."))

    # -- am I affected, and what to do
    say, notes = said(p7, "scan, running each published adapter file's own code")
    lines = describe_scan(scan.demo(affected))
    s.append(Slide("Am I affected? scan runs the adapter inside your component", say,
                   f"<pre><code>$ python -m analysis scan opener+{html.escape(affected)}.wasm\n"
                   f"{html.escape(chr(10).join(lines[:5]))}{chr(10) + '…' if len(lines) > 5 else ''}</code></pre>",
                   notes + " Exit status 1: an adapter inside is affected; 0: none is; 2: it could not read or tell.", p7,
                   show="Page 7 runs the same check in the browser: drop the file on it.", part="What to do"))
    fixes = ", ".join(f"{_short(t.product)} {_short(t.first_fixed)}{lts_caveat(t)}" for t in inside
                      if t.first_fixed != "-")
    parent = claims.sentence("06_practices", "One parent preopen reaches every child")
    parent = parent[0].lower() + parent[1:] if parent.startswith("One") else parent
    long_name = claims.sentence("06_practices", "A single preopen whose name is 60,001 bytes long")
    s.append(Slide("What to do", "Check on page 7 or with scan, then repair or upgrade; until then, one parent preopen.",
                   "<ul>"
                   '<li>Check: open <a href="../07_am_i_affected.html#scan-your-own-file">page 7</a> and drop your file on it; or '
                   f"{_code('python -m analysis scan app.wasm')} (exit 1: affected)</li>"
                   f"<li>Repair: {_code('python -m analysis repair app.wasm -o fixed.wasm')}</li>"
                   f"<li>Upgrade: {html.escape(fixes)} or newer; no empty preopen name</li>"
                   f"<li>Meanwhile, {parent}</li></ul>",
                   f"First fixed releases: {fixes}. " + " ".join(html.unescape(x) for x in (parent, long_name))
                   + " " + claims.notes("06_practices", EMPTY_NAME_STOP), p6,
                   show="Leave this slide up for the questions."))

    # -- backup, for questions
    say, notes = said(p2, "The bug follows the adapter, not the host")
    hosted = [runner.run(REPORT_CASE, adapter=b, host=h) for b in (affected, fixed) for h in hosts.WASIP2_HOSTS]
    backup.append(Slide("The bug follows the adapter, not the host", say,
                        figure(lambda widen: plots.survival_grid(hosted, labels=[f"{r.adapter} on {r.host}" for r in hosted],
                                                   title="The report's case on three WASIp2 hosts", widen=widen), (1180, 440)),
                        notes + f" Hosts: {', '.join(hosts.WASIP2_HOSTS)}; builds: {affected} (affected), "
                        f"{fixed} (not affected).", p2, show="is it my runtime?"))
    say, notes = said(p8, "On every WASIp1 host tried")
    backup.append(Slide("Plain WASIp1 hosts: not this bug, other differences", say,
                        figure(grids.host_matrix(matrix, title="Each WASIp1 host against wasmtime, check by check"),
                               (1180, 450)),
                        notes + " " + claims.notes("08_other_hosts", f"{_host_bugs(matrix)} differences are host bugs"),
                        p8, show="I run WASIp1 without an adapter: am I affected?"))
    say, notes = said(p3, "Through an affected build, fd 3 is told its own name")
    say += " " + html.escape(claims.domain("03_explorer", "Through an affected build, fd 3 is told its own name"))
    lists = [runner.run(paths, adapter=affected) for paths in (FIRST_MISROUTED, LAST_MISROUTED, INTACT)]
    backup.append(Slide("Names right at the ends; reaching them is another matter", say,
                        figure(lambda widen: plots.survival_grid(lists, labels=[" ".join(r.paths) for r in lists],
                                                   title=f"Three lists through {affected}", widen=widen), (1180, 300)),
                        " ".join(claims.notes("03_explorer", starts) for starts in (
                            "The first preopen can be misrouted", "The last preopen can be misrouted",
                            "Some lists of three or more survive intact")), p3,
                        show="are the first and the last always safe?"))
    say, notes = said(p5, "The bug fabricates names that no one configured")
    stitched = explain(("/a", "/bbbb", "/c", "/dd"), 4)
    backup.append(Slide("Names of different lengths: a name stitched from two", say,
                        figure(diagrams.scratch_diagram(stitched), (1180, 380)),
                        notes + " " + step_sentence(stitched, len(stitched.steps) + 1), p4,
                        show="can it invent a name?"))
    say, notes = said(p6, "No order of the 5 directories")
    orders = practices.order_search(["/data", "/cache", "/tmp", "/home/user", "/srv"], affected)
    backup.append(Slide("No order of the directories saves them", say,
                        figure(plots.reachable_counts(orders, title=f"All 120 orders of /data /cache /tmp /home/user "
                                                                  f"/srv, {affected}"), (1180, 380)),
                        notes + " " + claims.notes("06_practices", "Every order keeps the first"), p6,
                        show="can the host reorder the list?"))
    say, notes = said(p6, EMPTY_NAME_STOP)
    empty = [runner.run(("/a", "", "/b"))] + [runner.run(("/a", "", "/b"), adapter=t) for t in targets]
    backup.append(Slide("Upgrade, and give no preopen an empty name", say,
                        figure(lambda widen: plots.survival_grid(empty, labels=["native", *targets], title='/a "" /b: which preopens '
                                                   "are reachable", widen=widen), (1180, 330)),
                        notes + " " + claims.notes("06_practices", "Every upgrade target (jco"), p6,
                        show="is upgrading enough?"))
    say, notes = said(p7, "repair with jco-1.9.1")
    backup.append(Slide("Repair: re-adapt the program with a build not affected", say,
                        "<pre><code>$ python -m analysis repair app.wasm -o fixed.wasm</code></pre>",
                        notes + " repair re-adapts a plain component only (one core module with one adapter) and "
                        "scans what it wrote before keeping it.", p7, show="I cannot rebuild: what then?"))
    return s + [dataclasses.replace(b, backup=True) for b in backup]


def _host_bugs(matrix) -> int:
    """How many of the matrix's cells are host bugs: the count page 8's claim opens with."""
    return sum(c.verdict == "host bug" for c in matrix.cells)
