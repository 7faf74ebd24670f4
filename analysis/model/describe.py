"""Every word the lab says about a result: table cells, sentences, evidence, traces.

Terminal, HTML and notebooks all take their words from here, so a run reads the
same wherever it is shown. Nothing here runs anything; it describes what it is given.
"""
from __future__ import annotations

import html
import re
from collections.abc import Sequence

from .chain import DirNameTrace
from .results import NATIVE, OUTCOMES, PreopenResult, RunResult
from .wasi import decode, encode, errno_name

NATIVE_LABEL = "native (no adapter)"

# -- names and bytes ------------------------------------------------------------------


def shown(text: str | None, limit: int = 64) -> str:
    """A name as a terminal can print it: invalid bytes as ``\\xNN``, controls escaped,
    and a name longer than ``limit`` characters cut, with its size said."""
    if text is None:
        return "-"
    printable = encode(text).decode("utf-8", "backslashreplace")
    if printable == "":
        return '""'
    printable = "".join(c if c.isprintable() else repr(c)[1:-1] for c in printable)
    if len(printable) > limit:
        return f"{printable[: limit - 16]}…({len(encode(text)):,} bytes)"
    return printable


_CODE = re.compile(r"`([^`]+)`")


def prose(text: str) -> str:
    """Words written for a terminal, for a page: escaped, and `x` as code, not backticks."""
    return _CODE.sub(r"<code>\1</code>", html.escape(text))


def quoted(data: bytes) -> str:
    """Raw bytes (an allocator's scratch area, say) quoted for display, invalid bytes as ``\\xNN``."""
    return repr(data.decode("utf-8", "backslashreplace"))


def span(releases: Sequence[str]) -> str:
    """A list of releases, short: ``1.10.0 .. 1.32.1 (52)``."""
    if not releases:
        return "-"
    return ", ".join(releases) if len(releases) <= 3 else f"{releases[0]} .. {releases[-1]} ({len(releases)})"


def adapter_label(adapter: str) -> str:
    """How a result's ``adapter`` reads in titles: a build id, or native."""
    return NATIVE_LABEL if adapter == NATIVE else adapter


def _fd_span(fds: list[int]) -> str:
    return f"fd {fds[0]}" if len(fds) == 1 else f"fds {fds[0]}..{fds[-1]}"


def _code(path: str | None) -> str:
    return f"`{shown(path)}`"


# -- tables ------------------------------------------------------------------------------

TABLE_HEADINGS = ("fd", "preopen", "name seen", "routed to", "read", "outcome")


def table_row(p: PreopenResult, limit: int = 64) -> tuple[str, ...]:
    """One preopen as the cells of the result tables (terminal and HTML alike)."""
    if p.routed_fd is None:
        routed = "-"
    elif p.routed_fd < 0:
        routed = "no preopen"
    elif p.routed_by == "fd itself":  # the walker: no prefix, the fd is the route
        routed = f"fd {p.routed_fd} (itself)"
    else:
        routed = f"fd {p.routed_fd} ({shown(p.routed_prefix, limit)})"
    read = shown(p.marker, limit) if p.marker is not None else (errno_name(p.errno) if p.errno else "-")
    return (str(p.expected_fd), shown(p.path, limit), shown(p.name_seen, limit), routed, read, p.outcome)


def text_table(rows: Sequence[Sequence[str]], max_width: int | None = None) -> list[str]:
    """Rows of cells as aligned terminal lines; columns pad to at most ``max_width``."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    if max_width is not None:
        widths = [min(max_width, w) for w in widths]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


# -- what happened in a run ---------------------------------------------------------------


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


def sentence(result: RunResult) -> str:
    """One sentence on what happened in a run and why, for the explorer and the reports."""
    preopens = result.preopens
    if result.timed_out:
        return ("The guest ran out of its budget (wasmtime fuel, or wall-clock time) and was stopped; "
                "nothing it had not reported by then counts as reached.")
    if result.trap is not None or any(p.outcome == "trap" for p in preopens):
        return f"The guest trapped before it could use its preopens: {result.trap_summary or 'see the trap'}."
    parts = []
    wrong = [p for p in preopens if p.name_seen is not None and p.name_seen != p.path]
    groups: list[list[PreopenResult]] = []
    for p in wrong:
        if groups and groups[-1][-1].expected_fd + 1 == p.expected_fd and groups[-1][-1].name_seen == p.name_seen:
            groups[-1].append(p)
        else:
            groups.append([p])
    for group in groups:
        name = group[0].name_seen
        whose = " (the last name)" if name == preopens[-1].path else ""
        verb = "reports" if len(group) == 1 else "report"
        parts.append(f"{_fd_span([p.expected_fd for p in group])} {verb} {_code(name)}{whose}")
    unseen = [p for p in preopens if p.name_seen is None]
    if unseen:
        parts.append(f"fd {unseen[0].expected_fd} answers no name, and a guest that stops at the first error (as "
                     f"wasi-libc's scan does) never sees {len(unseen)} preopen(s)")
    stuck = [p for p in preopens if p.outcome == "missing" and p.routed_fd == p.expected_fd]
    if stuck:
        errnos = ", ".join(sorted({errno_name(p.errno) for p in stuck}))
        parts.append(f"{len(stuck)} open(s) reach the right fd and still fail ({errnos})")
    for p in preopens:
        if p.outcome == "misrouted":
            target = preopens[p.routed_to].path if p.routed_to is not None and p.routed_to < len(preopens) else "?"
            reads = f" and reads {p.marker!r}" if p.marker else ""
            parts.append(f"{_code(p.path)} goes to fd {p.routed_fd} ({_code(target)}){reads}")
    ok = [p.path for p in preopens if p.outcome == "ok"]
    if len(ok) == len(preopens):
        reach = f"all {len(ok)} preopens are reachable"
    elif not ok:
        reach = "no preopen is reachable"
    else:
        listed = _code(ok[-1]) if len(ok) == 1 else ", ".join(map(_code, ok[:-1])) + " and " + _code(ok[-1])
        reach = f"only {listed} {'is' if len(ok) == 1 else 'are'} reachable"
    if not parts:
        return f"Every fd reports its own name; {reach}."
    text = "; ".join(parts) + f"; {reach}."
    return text if text.startswith("fd") else text[0].upper() + text[1:]


def differences(predicted: RunResult, measured: RunResult) -> list[str]:
    """Where a prediction and a real run of the same configuration part, line by line."""
    lines = []
    if predicted.fds != measured.fds:
        lines.append(f"  fds predicted {predicted.fds}")
        lines.append(f"  fds measured  {measured.fds}")
    for p, m in zip(predicted.preopens, measured.preopens):
        if p != m:
            lines.append(f"  predicted {p}")
            lines.append(f"  measured  {m}")
    if predicted.exit_code != measured.exit_code:
        lines.append(f"  exit code predicted {predicted.exit_code}, measured {measured.exit_code}")
    return lines


def headline(affected: Sequence[str], unaffected: Sequence[str]) -> str:
    """The index's one-sentence summary of this build's verdicts."""
    builds = len(affected) + len(unaffected)
    return (f"Measured in this build: {len(affected)} of {builds} published adapter builds lose "
            f"preopens in the report's five-directory case ({', '.join(affected) or 'none'}); "
            f"native runs and the other {len(unaffected)} builds reach all five.")


# -- the adapter's allocator, step by step -----------------------------------------------


def render_trace(trace: DirNameTrace) -> str:
    """One ``fd_prestat_dir_name`` call's trace as text for a terminal."""
    n = len(trace.names)
    head = (
        f"fd_prestat_dir_name(fd={trace.fd}) with {n} preopen(s), behaviour {trace.behavior}: "
        f"the adapter wants name {trace.nth + 1} of {n}, {quoted(trace.names[trace.nth])} (nth = {trace.nth})"
    )
    if not trace.steps:
        return f"{head}\nthe host answers directly: {quoted(trace.returned)}"
    rows = [("step", "name", "counter", "space", "offset", "scratch afterwards")]
    for step in trace.steps:
        rows.append((
            str(step.index + 1), quoted(step.name), str(step.counter),
            "kept" if step.kept else "throw-away", str(step.offset), quoted(step.scratch),
        ))
    verdict = "right" if trace.right else "WRONG"
    copied = (f"the adapter copies {trace.length} byte{'' if trace.length == 1 else 's'} from offset {trace.source_offset}: "
              f"{quoted(trace.returned)} ({verdict})")
    return "\n".join([head, *text_table(rows), copied])


def step_sentence(trace: DirNameTrace, step: int) -> str:
    """What step ``step`` (1-based; one past the last name is the copy) just did."""
    n = len(trace.steps)
    if step == 0:
        return (f"The guest asks for fd {trace.fd}'s name, so the adapter wants name {trace.nth + 1} of {n} "
                f"(nth = {trace.nth}) and asks the host for the whole list again.")
    if step > n:
        verdict = "the right name" if trace.right else "not the name it asked for"
        return (f"The adapter copies {trace.length} byte{'' if trace.length == 1 else 's'} from offset {trace.source_offset}: "
                f"{_code(decode(trace.returned))}, {verdict}.")
    s = trace.steps[step - 1]
    head = f"Name {s.index + 1} of {n}, {_code(decode(s.name))}"
    if s.kept:
        return (f"{head}, gets real space at offset {s.offset}: the counter says {s.counter}, which equals "
                f"nth = {trace.nth}, so the scratch position moves on to {s.offset + len(s.name)}.")
    if trace.behavior == "missing-increment":
        where = "the start of the scratch area" if s.index == 0 else "the same address as the name before it"
        return (f"{head}, is written at offset {s.offset}, {where}: the counter still says "
                f"{s.counter}, and nth is {trace.nth}, so it gets no space of its own.")
    return (f"{head}, is thrown away at offset {s.offset}: the counter says {s.counter}, not {trace.nth}, "
            f"so the position stays where it was.")


def describe_run(result: RunResult, predicted: bool = False) -> str:
    """The result as a table a person reads in a terminal."""
    if predicted:
        via = f"as the model predicts it, behaviour {result.adapter}"
    elif result.guest == "direct":
        via = "as a WASIp2 component of its own, asking the host's get-directories (no adapter)"
    elif result.adapter == NATIVE:
        via = "natively (no adapter)"
    else:
        via = f"through adapter {result.adapter} (sha256 {(result.adapter_sha256 or '')[:16]}…)"
    on = "" if result.host == "wasmtime-py" else f", on {result.host}"
    out = [f"guest {shown(result.guest, 200)} {via}{on}, {len(result.paths)} preopen(s)"]
    if result.guest == "rust-open":
        out += [f"  | {shown(line, 400)}" for line in result.lines]
    out += text_table([TABLE_HEADINGS, *(table_row(p, 40) for p in result.preopens)], max_width=40)
    counts = ", ".join(f"{result.count(o)} {o}" for o in OUTCOMES if result.count(o))
    out.append(counts)
    if result.guest in ("probe", "direct"):
        out.append(f"(the {result.guest} guest has no libc: routes are wasi-libc's rule applied to the names it saw)")
    out += [f"warning: {warning}" for warning in result.warnings]
    out += [f"limit: {limit}" for limit in result.limits]
    if result.timed_out:  # the trap says which bound: fuel, the deadline, or the lab's kill
        out.append(f"timeout: the guest was stopped ({shown(result.trap_summary, 400)})")
    elif result.trap:
        out.append(f"trap: {shown(result.trap_summary, 400)}")  # the guest's words, escaped for a terminal
    elif result.exit_code not in (0, None):
        out.append(f"the guest exited with status {result.exit_code}")
    return "\n".join(out)
