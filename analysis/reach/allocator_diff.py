"""Two allocators side by side: the smallest instruction-level difference between their
functions, constants masked (assert line numbers and addresses change in every build), as
a unified diff (``allocator --diff``)."""
from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from ..model.describe import shown
from ..model.errors import LabError
from .allocator import Reading, adapter_modules, load, read_module
from .printed import EXPORT
from .printed import Function, locate, printed_function


_CONST = re.compile(r"^([if](?:32|64)\.const) (\S+)$")
_KEPT_CONSTANTS = 64
"""Integer constants from -64 to 64 are kept in a diff (field offsets, sizes, the increment's 1);
larger ones are masked: assert line numbers, addresses, magic numbers, the bytes of messages."""


def masked(text: str) -> str:
    """An instruction as a diff compares it: what a rebuild renumbers or renames masked."""
    head = text.partition(" ")[0]
    if head in ("call", "return_call", "ref.func", "global.get", "global.set", "call_indirect",
                "return_call_indirect"):
        return f"{head} _"
    match = _CONST.match(text)
    if match:
        kind, value = match.groups()
        try:
            small = kind.startswith("i") and abs(int(value, 0)) <= _KEPT_CONSTANTS
        except ValueError:
            small = False
        return text if small else f"{kind} _"
    return text


def function_of(data: bytes, base: int = 0) -> Function:
    """The allocator of one adapter module, printed; one line if it has none to print."""
    located = locate(data)
    if isinstance(located, str):
        raise LabError(located)
    return printed_function(data, located, base)


def diff(first: str, second: str, context: int = 3) -> tuple[list[Reading], list[str]]:
    """The two targets' readings, and the unified diff of their allocators' instructions with
    constants masked (``masked``); each target must hold exactly one adapter."""
    readings, functions = [], []
    for target in (first, second):
        label, data = load(target)
        found = adapter_modules(data, label)
        if len(found) != 1:
            raise LabError(f"{shown(label, 200)} holds {len(found)} preview1 adapters: --diff compares two "
                           "files or builds of one adapter each")
        module, where, base = found[0]
        readings.append(read_module(module, label, where, base))
        functions.append(function_of(module, base))
    names = [f"{r.input} ({r.where}): {EXPORT}, func {f.index} at {f.offset:#x}, {r.design}"
             for r, f in zip(readings, functions)]
    return readings, unified([masked(s.text) for s in functions[0].instructions],
                             [masked(s.text) for s in functions[1].instructions], names[0], names[1], context)


DIFF_MAX_EDITS = 1000
"""Past this many instructions added and removed, a diff is difflib's (good, not always the
smallest) rather than Myers's shortest edit script."""


def unified(a: Sequence[str], b: Sequence[str], first: str, second: str, context: int = 3) -> list[str]:
    """A unified diff of ``a`` and ``b`` built on the shortest edit script (Myers), so that it
    shows the fewest instructions added and removed; unlike difflib's, which may take a frequent
    line (``local.get 4``, ``block``) out and back in elsewhere."""
    matcher = _Script(a, b)
    lines = []
    for group in matcher.get_grouped_opcodes(context):
        if not lines:
            lines += [f"--- {first}", f"+++ {second}"]
        (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
        lines.append(f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [" " + line for line in a[i1:i2]]
                continue
            lines += ["-" + line for line in a[i1:i2]]
            lines += ["+" + line for line in b[j1:j2]]
    return lines


def _range(start: int, stop: int) -> str:
    length = stop - start
    first = start + 1 if length else start
    return str(first) if length == 1 else f"{first},{length}"


class _Script(difflib.SequenceMatcher):
    """difflib's hunks, over Myers's shortest edit script when it is short enough to find."""

    def __init__(self, a: Sequence[str], b: Sequence[str]) -> None:
        super().__init__(None, a, b, autojunk=False)
        script = _myers(list(a), list(b))
        self._opcodes = _opcodes(script) if script is not None else super().get_opcodes()

    def get_opcodes(self):
        return self._opcodes


def _myers(a: list[str], b: list[str]) -> list[tuple[str, int, int]] | None:
    """The shortest edit script from ``a`` to ``b`` as ('=', i, j) / ('-', i, j) / ('+', i, j)
    steps in order; None past ``DIFF_MAX_EDITS`` edits."""
    n, m = len(a), len(b)
    v, trace = {1: 0}, []
    for d in range(min(n + m, DIFF_MAX_EDITS) + 1):
        trace.append(dict(v))
        for k in range(-d, d + 1, 2):
            x = v[k + 1] if k == -d or (k != d and v[k - 1] < v[k + 1]) else v[k - 1] + 1
            y = x - k
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            v[k] = x
            if x >= n and y >= m:
                return _backtrack(trace, n, m)
    return None


def _backtrack(trace: list[dict[int, int]], x: int, y: int) -> list[tuple[str, int, int]]:
    steps = []
    for d in range(len(trace) - 1, -1, -1):
        v, k = trace[d], x - y
        before = k + 1 if k == -d or (k != d and v[k - 1] < v[k + 1]) else k - 1
        px = v[before]
        py = px - before
        while x > px and y > py:
            x, y = x - 1, y - 1
            steps.append(("=", x, y))
        if d > 0:
            steps.append(("+", px, py) if x == px else ("-", px, py))
        x, y = px, py
    return steps[::-1]


def _opcodes(steps: list[tuple[str, int, int]]) -> list[tuple[str, int, int, int, int]]:
    """Steps as difflib's opcodes: runs of equal lines, and the changes between them."""
    ops: list[list] = []
    i = j = 0
    for kind, _, _ in steps:
        tag = "equal" if kind == "=" else "replace"
        if not ops or ops[-1][0] != tag:
            ops.append([tag, i, i, j, j])
        if kind in "=-":
            i += 1
        if kind in "=+":
            j += 1
        ops[-1][2], ops[-1][4] = i, j
    return [(("delete" if j1 == j2 else "insert" if i1 == i2 else tag), i1, i2, j1, j2)
            for tag, i1, i2, j1, j2 in ops]
