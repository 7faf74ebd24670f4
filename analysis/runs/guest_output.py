"""Reading what a guest printed: each guest protocol's output into a ``RunResult``.

Three protocols (``guests.Guest.protocol``):

- ``opener`` (C on wasi-libc): JSON lines, one ``prestat`` record per fd it asked
  about, then one ``route`` record per argument: the fd and prefix wasi-libc's own
  lookup chose for ``<path>/MARKER``, and what opening it gave.
- ``probe`` (WAT, no libc): the ``prestat`` records only; routes come from
  wasi-libc's rule (``model.libc_route``) applied to the names it was told.
- ``walker`` (WAT, no libc): one ``walk`` record per fd from 3 to 133, past any error: the
  prestat answer, then what opening ``MARKER`` through that fd itself gave. Preopen ``i``'s
  route is its own fd, ``3 + i``: the walker routes by position, never by the names.
- ``text`` (Rust std): one report per argument, ``ok PATH: CONTENT`` or
  ``error PATH: MESSAGE``, std's own words.
- ``direct`` (a component, no adapter): the host's ``get-directories`` list, which the
  runner writes as ``prestat`` records (fd 3 onwards, in the host's order); routes by
  the rule, as for the probe. No fd is asked past the list, so no EBADF ends it.

Byte strings travel as hex in the JSON, so any name survives. A line that does not
parse (cut short by a trap, or printed by your own guest) is skipped, never fatal.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace

from ..artifacts.guests import Guest
from ..model.chain import libc_route, route_table, told_names
from ..model.markers import classify, marker_target
from ..model.results import FdEntry, PreopenResult, RunResult, unreported
from ..model.wasi import FIRST_FD, decode, encode, warnings_for


@dataclass(frozen=True)
class Execution:
    """What one instantiation left behind, before anyone reads meaning into it."""

    stdout: bytes
    stderr: bytes
    exit_code: int | None
    trap: str | None


@dataclass(frozen=True)
class Reported:
    """What a guest said about one preopen's ``<path>/MARKER``."""

    routed_fd: int | None
    """The fd the open went to; -1 for none; None when the guest cannot tell (rust-open)."""
    prefix: str | None
    routed_by: str | None
    """``"guest"`` (wasi-libc's own lookup), ``"wasi-libc rule"`` (the probe), ``"fd itself"``
    (the walker, which opens through the preopen's own fd) or None."""
    marker: str | None
    errno: int | None
    detail: str = ""


def lines_of(stdout: bytes) -> tuple[str, ...]:
    """The guest's stdout, line by line, exactly as printed."""
    text = decode(stdout)
    if not text:
        return ()
    return tuple(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"))


def prestat_entries(records: list[dict]) -> tuple[FdEntry, ...]:
    """The ``prestat`` records of the opener or the probe (the walker's ``walk`` records), in
    the order printed."""
    entries = (_fd_entry(r) for r in records if r.get("kind") in ("prestat", "walk"))
    return tuple(e for e in entries if e)


def opener_routes(records: list[dict]) -> list[Reported]:
    """The opener's ``route`` records, one per argument, in the order printed."""
    routes = (_route(r) for r in records if r.get("kind") == "route")
    return [r for r in routes if r]


def walker_opens(records: list[dict]) -> dict[int, Reported]:
    """The walker's opens, by fd: each ``MARKER`` opened through the fd itself."""
    opens = {}
    for record in records:
        if record.get("kind") != "walk":
            continue
        try:
            fd = int(record["fd"])
            errno = int(record.get("open_errno") or record.get("read_errno") or 0) or None
        except (KeyError, TypeError, ValueError, OverflowError):
            continue
        opens[fd] = Reported(fd, None, "fd itself", _hex(record, "content_hex"), errno)
    return opens


def json_records(lines: tuple[str, ...]) -> list[dict]:
    """The lines that are JSON objects, parsed; the others (cut short by a trap, or your own
    guest's) are left out."""
    try:  # the common case, every line an object: one parse instead of one per line
        records = json.loads(f"[{','.join(lines)}]")
    except (ValueError, RecursionError):
        records = None
    if isinstance(records, list) and all(isinstance(r, dict) for r in records):
        return records
    return [r for r in map(_record, lines) if r is not None]


def interpret(guest: Guest, paths: tuple[str, ...], done: Execution, adapter: str,
              adapter_sha256: str | None, host: str = "wasmtime-py") -> RunResult:
    """A run's output as a result: per preopen, the name it was told, where its open went,
    what it read and the outcome."""
    lines = lines_of(done.stdout)
    records = json_records(lines) if guest.protocol != "text" else []
    fds, routes = prestat_entries(records), opener_routes(records)
    walked = walker_opens(records) if guest.protocol == "walker" else {}
    said = text_reports(decode(done.stdout), paths) if guest.protocol == "text" else []
    names = told_names(fds)
    table = route_table(fds)
    cause = f"the guest reported nothing for this preopen (exit code {done.exit_code})"

    preopens = []
    for index, path in enumerate(paths):
        expected = FIRST_FD + index
        seen = names.get(expected)
        if guest.protocol == "opener":
            found = routes[index] if index < len(routes) else None
        elif guest.protocol == "walker":
            found = walked.get(expected)
        elif guest.protocol in ("probe", "direct"):
            found = _by_rule(table, path) if fds and done.trap is None else None
        else:
            found = said[index]
        if found is None:
            preopens.append(PreopenResult(index, path, expected, seen, None, None, None, None, None,
                                          unreported(done.trap), cause))
            continue
        outcome = classify(index, found.routed_fd, found.marker, guest.protocol)
        preopens.append(PreopenResult(index, path, expected, seen, found.routed_fd, found.prefix, found.routed_by,
                                      found.marker, found.errno, outcome, found.detail))

    result = RunResult(
        guest=guest.name,
        adapter=adapter,
        adapter_sha256=adapter_sha256,
        paths=paths,
        preopens=tuple(preopens),
        fds=fds,
        lines=lines,
        stderr=decode(done.stderr),
        exit_code=done.exit_code,
        trap=done.trap,
        warnings=warnings_for(paths),
        host=host,
    )
    if done.trap is None:
        return result
    summary = result.trap_summary or ""
    return replace(result, preopens=tuple(
        replace(p, detail=summary) if p.outcome in ("trap", "timeout") else p for p in result.preopens))


def _record(line: str) -> dict | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None  # a line cut short by a trap, or your own guest's: anything at all
    return record if isinstance(record, dict) else None


def _hex(record: dict, key: str) -> str | None:
    value = record.get(key)
    return None if value is None else decode(bytes.fromhex(value))


def _fd_entry(record: dict) -> FdEntry | None:
    try:
        return FdEntry(
            fd=int(record["fd"]),
            errno=int(record["errno"]),
            name_len=record.get("name_len"),
            name_errno=record.get("name_errno"),
            name=_hex(record, "name_hex"),
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def _route(record: dict) -> Reported | None:
    try:
        open_errno = record.get("open_errno") or record.get("read_errno") or None
        return Reported(int(record["fd"]), _hex(record, "prefix_hex"), "guest", _hex(record, "content_hex"),
                        open_errno)
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def _by_rule(table: list[tuple[int, bytes]], path: str) -> Reported:
    route = libc_route(table, encode(marker_target(path)))
    if route is None:
        return Reported(-1, None, "wasi-libc rule", None, None)
    return Reported(route.fd, decode(route.prefix), "wasi-libc rule", None, None)


def text_reports(text: str, paths: tuple[str, ...]) -> list[Reported | None]:
    """rust-open's lines, one report per path in order: ``ok PATH: CONTENT`` or ``error PATH: MESSAGE``.
    Read from the start of each line's known head, so a path holding a newline stays one report
    (a reader's counterexample: ``/a<newline>b /c`` was read as two wrong lines)."""
    found: list[Reported | None] = []
    at = 0
    for path in paths:
        if at >= len(text):
            found.append(None)
            continue
        for word in ("ok", "error"):
            head = f"{word} {path}: "
            if text.startswith(head, at):
                end = _line_end(text, at + len(head))
                body = text[at + len(head):end]
                found.append(Reported(None, None, None, body, None) if word == "ok"
                             else Reported(None, None, None, None, None, body))
                break
        else:
            end = _line_end(text, at)
            found.append(Reported(None, None, None, None, None, f"unexpected guest line: {text[at:end]}"))
        at = end + 1
    return found


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end
