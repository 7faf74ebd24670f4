"""Every catalogued build's allocator design, read from its bytes, beside what its runs say.

The design is read three ways per build: the command adapter as published, its reactor
twin, and a copy with every custom section stripped (``wasm-tools strip --all``: no
symbol names, as some toolchains ship), so that the reading is seen to rest on the
instructions alone. Each is set beside the build's measured verdict (``verdicts``).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..artifacts import adapters
from ..experiments.verdicts import Verdict
from ..model.errors import LabError
from . import allocator, printed


@dataclass(frozen=True)
class DesignRow:
    """One adapter file of a catalogued build, read."""

    build: str
    file: str
    """``command``, ``reactor`` or ``stripped`` (the command adapter, custom sections removed)."""
    design: str
    offset: int | None
    """Where the allocator's body starts in the file."""
    verdict: str
    """The build's measured verdict (``affected`` / ``not affected``)."""

    @property
    def agrees(self) -> bool | None:
        return allocator.agrees(self.design, self.verdict)


def design_rows(found: list[Verdict]) -> list[DesignRow]:
    """Every catalogued build of ``found`` (``verdicts.measure()``) read as command, reactor and stripped."""
    measured = {v.adapter: v.label for v in found}
    rows = []
    with tempfile.TemporaryDirectory(prefix="preopen-lab-strip-") as folder:
        for build in adapters.catalogue():
            if build.id not in measured:
                continue
            verdict = measured[build.id]
            command = adapters.fetch(build)
            stripped = Path(folder) / f"{build.id}.stripped.wasm"
            printed.run_tool(["strip", "--all", str(command), "-o", str(stripped)], f"strip {build.id}")
            for file, data in (("command", command.read_bytes()),
                               ("reactor", adapters.fetch(build.reactor()).read_bytes()),
                               ("stripped", stripped.read_bytes())):
                reading = allocator.read_module(data, build.id)
                rows.append(DesignRow(build.id, file, reading.design, reading.offset, verdict))
    return rows


def smallest_pair(found: list[Verdict]) -> tuple[allocator.Reading, allocator.Reading]:
    """The newest build measured affected and the oldest measured fixed (not affected, and
    counting), read: the two closest in time, so their allocators differ least."""
    by_id = {v.adapter: v for v in found}
    builds = [b for b in adapters.catalogue() if b.id in by_id]
    affected = [b for b in builds if by_id[b.id].affected]
    if not affected:
        raise LabError("no catalogued build was measured affected: there is no pair to compare")
    counting = (allocator.read_target(b.id)[0] for b in builds if not by_id[b.id].affected)
    fixed = next((r for r in counting if r.design == "counts"), None)
    if fixed is None:
        raise LabError("no build measured not affected carries the counting design: there is no fixed build to compare")
    return allocator.read_target(affected[-1].id)[0], fixed
