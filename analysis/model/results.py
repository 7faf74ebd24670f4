"""What one run found, as frozen dataclasses with a JSON form.

Names are ``str`` decoded from the guest's bytes with ``surrogateescape``, so any
byte sequence survives exactly (``name.encode("utf-8", "surrogateescape")``) and
JSON round-trips it. The model produces the same classes, so a prediction and a
real run compare with ``==``. Plain data: words about results live in ``describe``,
their HTML form in ``views``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .errors import last_line
from .wasi import FIRST_FD

Outcome = Literal["ok", "missing", "misrouted", "trap", "timeout"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "missing", "misrouted", "trap", "timeout")
NATIVE = "native"
"""The adapter id of a run with no adapter: the host's own WASIp1."""
OUT_OF_FUEL = "all fuel consumed"
"""How wasmtime words a trap for a guest that used up its fuel."""
OUT_OF_TIME = "wasm trap: interrupt"
"""How wasmtime words a trap for a guest stopped at its wall-clock deadline (an epoch)."""
STOPPED = "stopped by the lab"
"""How a run begins its trap when its process was killed at the deadline (a guest of your
own asleep in a host call, where no epoch reaches it)."""
OUTPUT_LIMIT_HIT = "output limit"
"""How a run begins its trap when the guest wrote as much as a run may keep: what it
printed afterwards was lost, so its silence about later preopens proves nothing."""


def unreported(trap: str | None) -> Outcome:
    """The outcome of a preopen the guest never reported on: it trapped, it ran out of
    fuel or its time (a ``timeout``), or it simply said nothing (``missing``)."""
    if trap is None:
        return "missing"
    return "timeout" if any(mark in trap for mark in (OUT_OF_FUEL, OUT_OF_TIME, STOPPED)) else "trap"


@dataclass(frozen=True)
class FdEntry:
    """One answer to ``fd_prestat_get`` (and ``fd_prestat_dir_name``) as the guest got it."""

    fd: int
    errno: int
    name_len: int | None = None
    name_errno: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class PreopenResult:
    """What became of one preopen the host configured."""

    index: int
    path: str
    """The guest path the host gave this preopen."""
    expected_fd: int
    """3 + index: where the host put it."""
    name_seen: str | None
    """The name the guest read for ``expected_fd``; None if enumeration stopped earlier."""
    routed_fd: int | None
    """The fd wasi-libc chose for ``<path>/MARKER`` (the walker's: the preopen's own); -1 for none;
    None if not known."""
    routed_prefix: str | None
    """wasi-libc's stored prefix for ``routed_fd`` (it strips leading ``/`` and ``./``)."""
    routed_by: str | None
    """``"guest"`` when the guest reported the route, ``"wasi-libc rule"`` when it was
    computed from the names the guest saw (the probe has no libc), ``"fd itself"`` when the
    guest opened through the preopen's own fd (the walker), None if unknown."""
    marker: str | None
    """The content of the MARKER file the guest read, if it read one."""
    errno: int | None
    """The errno of the failed open, if it failed."""
    outcome: Outcome
    detail: str = field(default="", compare=False)
    """Std's own words for the rust-open guest; the trap message for ``trap``.
    Not compared: a prediction cannot know a trap's backtrace."""

    @property
    def routed_to(self) -> int | None:
        """The index of the preopen that owns ``routed_fd``, if any does."""
        if self.routed_fd is None or self.routed_fd < 0:
            return None
        return self.routed_fd - FIRST_FD


@dataclass(frozen=True)
class RunResult:
    guest: str
    adapter: str
    """``native`` or the adapter build id."""
    adapter_sha256: str | None
    paths: tuple[str, ...]
    preopens: tuple[PreopenResult, ...]
    fds: tuple[FdEntry, ...]
    """The prestat answers the guest printed, in fd order."""
    lines: tuple[str, ...] = field(compare=False)
    """The guest's stdout, line by line, exactly as printed (not compared: the
    model predicts what the lines mean, not their spelling)."""
    stderr: str = field(default="", compare=False)
    exit_code: int | None = 0
    trap: str | None = field(default=None, compare=False)
    """wasmtime's trap message; the per-preopen ``trap``/``timeout`` outcomes carry the fact."""
    warnings: tuple[str, ...] = field(default=())
    host: str = field(default="wasmtime-py", compare=False)
    """Who ran it (``hosts.HOSTS``); not compared: the question is whether hosts differ."""
    limits: tuple[str, ...] = field(default=(), compare=False)
    """What the host's API could not express of this list (a WASIp1 host keyed by name
    holds a name once), in words: said, never dropped silently."""

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return tuple(p.outcome for p in self.preopens)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for p in self.preopens if p.outcome == outcome)

    @property
    def all_ok(self) -> bool:
        return all(p.outcome == "ok" for p in self.preopens)

    @property
    def timed_out(self) -> bool:
        return any(p.outcome == "timeout" for p in self.preopens)

    @property
    def trap_cause(self) -> str | None:
        """wasmtime's cause of the trap, in one line (the last line of its message)."""
        if self.trap is None:
            return None
        return last_line(self.trap)

    @property
    def trap_summary(self) -> str | None:
        """The trap in one line: wasmtime's cause, and what the guest said on stderr."""
        if self.trap_cause is None:
            return None
        said = self.stderr.strip().splitlines()
        return f"{self.trap_cause} (guest stderr: {said[0]})" if said else self.trap_cause

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        return cls(
            **{
                **data,
                "paths": tuple(data["paths"]),
                "preopens": tuple(PreopenResult(**p) for p in data["preopens"]),
                "fds": tuple(FdEntry(**f) for f in data["fds"]),
                "lines": tuple(data["lines"]),
                "warnings": tuple(data.get("warnings", ())),
                "limits": tuple(data.get("limits", ())),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        return cls.from_dict(json.loads(text))
