"""The increment, edited into or out of an adapter's allocator: the intervention on the root cause.

``allocator`` reads which design an adapter's ``cabi_import_realloc`` carries; this module
changes it, so that runs can say whether that one difference is the cause:

- ``add``: in a ``missing-increment`` allocator, read the counter (+4), keep it in a fresh
  local ``cur``, store ``cur + 1`` back, and compare ``cur`` with ``nth`` (+8): the
  instructions the fixed builds carry there (wasmtime PR #10064);
- ``remove``: in a ``counts`` allocator, the reverse: compare ``nth`` with the counter as
  stored, with no increment, as the affected builds do;
- ``set_step``: in a ``counts`` allocator, the increment's one-byte constant (``i32.const 1``,
  ``41 01``) set to another value, in the bytes themselves: one byte changed;
- ``rewrite``: any edit of the allocator's printed lines, printed (``wasm-tools print``) and
  parsed back (``wasm-tools parse``), for variants of one's own (the tests' hand-made ones).

Printing and parsing back does not give the same bytes (wasm-tools re-encodes padded LEB128
numbers), but the same printed module; the intervention runs that round trip unedited
beside each edit, as its control. Every edit is checked by reading the result again.
"""
from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..artifacts.cache import read_regular
from ..model.errors import LabError
from . import allocator_diff, printed
from .allocator import COUNTS, MISSING, matches, read_module
from .printed import locate, run_tool

REWRITE_MAX_BYTES = 4 << 20
"""The largest module rewritten through its text (the published adapters are under 200 KB)."""
TEXT_MAX_BYTES = 128 << 20

Edit = Callable[[list[str]], list[str]]
"""Takes the allocator's printed lines (its header, its locals, one instruction a line) and gives the new ones."""


def add(data: bytes) -> bytes:
    """The increment added to a ``missing-increment`` allocator; the result reads ``counts``."""
    def edit(lines: list[str]) -> list[str]:
        at, bound, where = _one(lines, MISSING, "missing-increment")
        counter = _fresh_local(lines)
        f = bound["F"]
        indent = _indent(lines[where[at + 1]])
        new = [f"local.get {f}", f"local.get {f}", "i32.load offset=4", f"local.tee {counter}", "i32.const 1",
               "i32.add", "i32.store offset=4", "block",
               f"local.get {counter}", f"local.get {f}", "i32.load offset=8", "i32.eq", "br_if 0"]
        return _replace(lines, where[at + 1], where[at + 7], [indent + line for line in new], local=True)

    return _checked(rewrite(data, edit), "counts", "adding the increment")


def remove(data: bytes) -> bytes:
    """The increment removed from a ``counts`` allocator; the result reads ``missing-increment``."""
    def edit(lines: list[str]) -> list[str]:
        at, bound, where = _one(lines, COUNTS, "counts")
        f = bound["F"]
        indent = _indent(lines[where[at + 8]])
        new = ["block", f"local.get {f}", "i32.load offset=8", f"local.get {f}", "i32.load offset=4", "i32.eq",
               "br_if 0"]
        return _replace(lines, where[at + 1], where[at + 13], [indent + line for line in new])

    return _checked(rewrite(data, edit), "missing-increment", "removing the increment")


def set_step(data: bytes, value: int) -> tuple[bytes, int]:
    """A ``counts`` allocator with its increment's constant set to ``value`` (0 to 63: one byte
    as it is encoded), in the bytes themselves; and the offset of the byte changed."""
    if not 0 <= value <= 63:
        raise LabError("the increment's constant can be set to 0 to 63 in its one byte")
    function = allocator_diff.function_of(data)
    texts = [s.text for s in function.instructions]
    found = matches(texts, COUNTS)
    if len(found) != 1:
        raise LabError("this allocator does not count as the fixed builds do: there is no increment to change")
    constant = function.instructions[found[0][0] + 5]  # COUNTS: local.get, local.get, load, tee, then `i32.const 1`
    at = constant.offset + 1
    if constant.text != "i32.const 1" or data[constant.offset:at + 1] != b"\x41\x01":
        raise LabError("the increment's constant is not encoded as one byte (41 01) here")
    return data[:at] + bytes([value]) + data[at + 1:], at


def rewrite(data: bytes, edit: Edit) -> bytes:
    """``data`` with its allocator's printed lines replaced by ``edit``'s, parsed back."""
    if len(data) > REWRITE_MAX_BYTES:
        raise LabError(f"the module is {len(data):,} bytes, more than the {REWRITE_MAX_BYTES:,} rewritten")
    located = locate(data)
    if isinstance(located, str):
        raise LabError(located)
    with tempfile.TemporaryDirectory(prefix="preopen-lab-edit-") as folder:
        module, text, out = Path(folder) / "in.wasm", Path(folder) / "module.wat", Path(folder) / "out.wasm"
        module.write_bytes(data)
        run_tool(["print", str(module), "-o", str(text)], "print the adapter")
        lines = read_regular(text, TEXT_MAX_BYTES).decode("utf-8").split("\n")
        start, end = _function_lines(lines, located.defined)
        lines[start:end] = edit(lines[start:end])
        text.write_text("\n".join(lines))
        run_tool(["parse", str(text), "-o", str(out)], "parse the edited adapter back")
        return out.read_bytes()


def instructions(lines: list[str]) -> list[tuple[int, str]]:
    """(line, instruction) of each instruction among the allocator's printed lines."""
    found = []
    for index, line in enumerate(lines):
        text = printed.clean(line)
        if text and not text.startswith(("(local", "(func")):
            found.append((index, text))
    return found


# -- helpers --------------------------------------------------------------------------------


def _function_lines(lines: list[str], defined: int) -> tuple[int, int]:
    """The header line of the module's ``defined``-th function and the line that closes it."""
    seen = -1
    for index, line in enumerate(lines):
        if line.startswith("  (func "):
            seen += 1
            if seen == defined:
                end = next((i for i in range(index + 1, len(lines)) if lines[i] == "  )"), None)
                if end is None:
                    break
                return index, end
    raise LabError("the printed module does not hold the allocator where its bytes say: the module is odd")


def _one(lines: list[str], pattern, design: str) -> tuple[int, dict[str, str], list[int]]:
    found = instructions(lines)
    hits = matches([t for _, t in found], pattern)
    if len(hits) != 1:
        raise LabError(f"this allocator is not the {design} design the published builds carry: nothing to edit")
    at, bound = hits[0]
    return at, bound, [index for index, _ in found]


def _fresh_local(lines: list[str]) -> int:
    """The index an i32 local added after the existing ones gets: parameters, then locals."""
    header = lines[0] if lines and lines[0].lstrip().startswith("(func") else ""
    declared = " ".join(line for line in lines if line.strip().startswith("(local"))
    return _count(header, "param") + _count(declared, "local")


def _count(text: str, kind: str) -> int:
    total = 0
    for group in re.findall(rf"\({kind} ([^()]*)\)", text):
        tokens = group.split()
        total += 1 if tokens and tokens[0].startswith("$") else len(tokens)
    return total


def _replace(lines: list[str], first: int, last: int, new: list[str], local: bool = False) -> list[str]:
    out = lines[:first] + new + lines[last + 1:]
    if local:
        declared = [i for i, line in enumerate(out) if line.strip().startswith("(local")]
        at = declared[-1] + 1 if declared else 1  # after the header
        out.insert(at, _indent(out[at]) + "(local i32)")
    return out


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]


def _checked(data: bytes, design: str, what: str) -> bytes:
    found = read_module(data).design
    if found != design:
        raise LabError(f"{what} gave an allocator that reads {found}, not {design}: the edit did not take")
    return data
