"""The root cause read from the code: which import-allocator design an adapter carries.

The host hands an adapter the preopens' names through the adapter's own allocator,
``cabi_import_realloc`` (the canonical ABI's ``realloc`` for imports). Every published build
exports it, and the import allocator proper is inlined into it, so the function the export
names holds the decision this bug is about: which name gets real space. It works on a copy
of the adapter state's import-allocation field: a tag at +0 (3: "getting a preopen's path"),
the counter of names seen at +4, ``nth`` (the preopen asked for) at +8, the bump allocator at
+12. Designs (upstream: wasmtime PR #8749 brought the counter, #10064 restored its increment):

- ``counts``: the counter is read, incremented and stored back, and the name whose old count
  equals ``nth`` gets real space; every other name is written into a copy of the bump
  allocator, which gives the space back (the design of #8749 as #10064 left it);
- ``missing-increment``: the same compare and copy, with no increment before it: the counter
  stays 0, so only ``nth == 0`` ever gets its own name (wasmtime#10058);
- ``early``: no counter and no tagged enum: the buffer the host fills is taken once, at
  start-up, and ``fd_prestat_dir_name`` never asks the host again (jco 1.0.0 to 1.2.4);
- ``unknown``: anything else. Each design is recognised by the exact instructions the
  published builds carry (constants, field offsets and order), and ``counts`` by its one +1
  stored at +4 in the whole function, ``missing-increment`` by none, so a different compiler's
  output, or a hand-edited allocator, is ``unknown``: never a guess, never ``counts`` without
  the increment being there. What it reads is one stretch of one function: an edit elsewhere
  (the state written back, the bump allocator) can still read ``counts`` and run affected,
  which is why ``scan`` runs the adapter and lets the run decide.

What it reads: the function the ``cabi_import_realloc`` export names (found through the
export, since symbol hashes change per build and jco 1.33 changed the mangling), printed by
``wasm-tools print``, bounded (``printed``). A reading is evidence beside a run (``scan``),
never instead of one; ``allocator_diff`` sets two side by side.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..artifacts import adapters
from ..artifacts.cache import read_regular, sha256_bytes
from ..artifacts.inside import core_modules, is_adapter, kind_of
from ..model.describe import shown
from ..model.errors import LabError
from .printed import Step, clean, locate, printed_function

DESIGNS = ("counts", "missing-increment", "early", "unknown")
IMPLIES = {"counts": "not affected", "missing-increment": "affected", "early": "not affected"}
"""What each recognised design means for the bug; ``unknown`` implies nothing."""

FILE_MAX_BYTES = 256 << 20
"""The largest file read (as ``scan``)."""

@dataclass(frozen=True)
class Reading:
    """One adapter's allocator, read."""

    input: str
    """What was asked about: a build id or a file."""
    where: str
    """Where the adapter sits in it: ``module 0``, ``component > module 1``."""
    design: str
    """``counts``, ``missing-increment``, ``early`` or ``unknown``."""
    why: str
    """In one line, what was found (for ``unknown``: what was missing)."""
    implies: str | None
    """``affected`` / ``not affected`` for a recognised design, else None."""
    sha256: str
    """The adapter module's."""
    function: int | None = None
    """The index of the function the export names."""
    name: str | None = None
    """Its name in the module's name section, if it has one."""
    offset: int | None = None
    """Where its body starts in the file (the input file, the component when it is one)."""
    size: int | None = None
    """Its body's size in bytes."""
    steps: tuple[Step, ...] = ()
    """The instructions that decide which name gets real space, with the counter and nth named."""


# -- reading a target: a build, a module file, a component ----------------------------


def read_target(target: str) -> list[Reading]:
    """Every adapter's allocator in ``target``: a build id (``jco-1.8.1``, ``jco-1.8.1-reactor``,
    any published release), or a file: an adapter core module, or a component (each adapter
    inside it). A file without an adapter gives an empty list."""
    label, data = load(target)
    return read_bytes(data, label)


def load(target: str) -> tuple[str, bytes]:
    """(label, bytes) of a build id or a file; one line if it is neither."""
    path = Path(target)
    if path.exists() or "/" in target or target.endswith(".wasm"):
        try:
            if not path.is_file():
                raise LabError(f"{shown(target, 200)} is not a regular file: give a .wasm file or a build id")
            return target, read_regular(path, FILE_MAX_BYTES)
        except OSError as exc:
            raise LabError(f"cannot read {shown(target, 200)}: {exc.strerror or exc}") from None
    if target.startswith("jco-"):
        build = adapters.resolve(target)
        return build.id, adapters.fetch(build).read_bytes()
    raise LabError(f"{shown(target, 200)} is neither a file nor an adapter build id: give a .wasm file or "
                   "an id from `python -m analysis adapters` (jco-X.Y.Z)")


def read_bytes(data: bytes, label: str) -> list[Reading]:
    """Every adapter's allocator in ``data`` (a component or a core module)."""
    return [read_module(module, label, where, base) for module, where, base in adapter_modules(data, label)]


def adapter_modules(data: bytes, label: str) -> list[tuple[bytes, str, int]]:
    """(bytes, where, offset in ``data``) of every preview1 adapter in ``data``, as ``scan`` finds them."""
    try:
        kind_of(data)
        modules = core_modules(data)
    except LabError as exc:
        raise LabError(f"{shown(label, 200)}: {exc}") from None
    found, cursor = [], 0
    for module in modules:
        base = data.find(module.data, cursor)  # a module's bytes sit in its component as they are
        cursor = base + 1 if base >= 0 else cursor
        if is_adapter(module):
            found.append((module.data, module.where, max(base, 0)))
    return found


def read_module(data: bytes, label: str = "module", where: str = "module 0", base: int = 0) -> Reading:
    """The design of one adapter core module's allocator; ``base``: where the module starts in
    its file, so that offsets are the file's. A module wasm-tools cannot print is a LabError."""
    sha = sha256_bytes(data)
    located = locate(data)
    if isinstance(located, str):
        return Reading(label, where, "unknown", located, None, sha)
    function = printed_function(data, located, base)
    design, why, steps = classify(function.instructions)
    return Reading(label, where, design, why, IMPLIES.get(design), sha, function.index, function.name,
                   function.offset, function.size, steps)


def agrees(design: str, verdict: str) -> bool | None:
    """Whether a design and a run's verdict say the same; None when there is nothing to compare."""
    implied = IMPLIES.get(design)
    if implied is None or verdict not in ("affected", "not affected"):
        return None
    return implied == verdict


# -- the designs, as instructions ----------------------------------------------------------

# A pattern is a list of (instruction, note). ``{X}`` matches one operand, the same one each
# time it appears in a pattern; ``{_}`` matches any. Everything else is matched exactly.
_CLONE = [
    ("local.get {F}", "no: the name goes into a copy of the bump allocator"),
    ("local.get {F}", ""),
    ("i64.load offset=12 align=4", "the bump allocator (+12: position and end)"),
    ("i64.store offset=24 align=4", "copied: space taken from the copy is given back"),
    ("local.get {F}", ""),
    ("i32.const 24", ""),
    ("i32.add", ""),
    ("i32.const 1", "align 1: a name"),
    ("local.get {L}", "the name's length"),
    ("call {_}", "allocate from the copy: this name is written where the next one will be"),
]
COUNTS = [
    ("end", "from here: a name (align 1) the host is handing over"),
    ("local.get {F}", "the import allocator's state, copied to the stack"),
    ("local.get {F}", ""),
    ("i32.load offset=4", "counter (+4): names seen so far"),
    ("local.tee {T}", "cur = counter"),
    ("i32.const 1", ""),
    ("i32.add", ""),
    ("i32.store offset=4", "counter = cur + 1: the increment"),
    ("block", ""),
    ("local.get {T}", "cur"),
    ("local.get {F}", ""),
    ("i32.load offset=8", "nth (+8): the preopen asked for"),
    ("i32.eq", "cur == nth?"),
    ("br_if 0", "yes: real space for this name (after the block)"),
    *_CLONE,
]
MISSING = [
    ("end", "from here: a name (align 1) the host is handing over"),
    ("block", ""),
    ("local.get {F}", "the import allocator's state, copied to the stack"),
    ("i32.load offset=8", "nth (+8): the preopen asked for"),
    ("local.get {F}", ""),
    ("i32.load offset=4", "counter (+4): never incremented, so always 0"),
    ("i32.eq", "nth == counter?"),
    ("br_if 0", "yes: real space for this name (after the block)"),
    *_CLONE,
]
EARLY = [
    ("local.get {S}", "the adapter's state"),
    ("i32.load offset=4", "the buffer the host fills at start-up (+4)"),
    ("local.tee {B}", ""),
    ("i32.eqz", "none left?"),
    ("br_if {_}", ""),
    ("local.get {A}", "align"),
    ("local.get {B}", ""),
    ("i32.add", ""),
    ("i32.const -1", ""),
    ("i32.add", ""),
    ("i32.const 0", ""),
    ("local.get {A}", ""),
    ("i32.sub", ""),
    ("i32.and", "the buffer's start, aligned: the names go there, once"),
]
EARLY_TAKEN = [
    ("local.get {S}", ""),
    ("i32.const 0", ""),
    ("i32.store offset=4", "the buffer is taken: no second call gets it"),
]
BUMP = [("i32.const 1", ""), ("i32.add", ""), ("i32.store offset=4", "")]
"""A +1 stored at +4, anywhere in the function: ``counts`` has exactly its own, ``missing-increment`` none."""
WHY = {"counts": "the counter (+4) is incremented before it is compared with nth (+8)",
       "missing-increment": "nth (+8) is compared with the counter (+4), which nothing increments",
       "early": "no counter and no tag: the names' buffer is taken once, at start-up"}
"""Why a recognised design is read as it is, in one line (the page's scanner says the same)."""
_SHOWN_AFTER = 12
"""Instructions shown after a matched pattern: the allocation that gives real space."""


def classify(instructions: Sequence[Step]) -> tuple[str, str, tuple[Step, ...]]:
    """(design, why, the deciding steps) of the allocator's instructions."""
    texts = [clean(s.text) for s in instructions]
    counts, missing = matches(texts, COUNTS), matches(texts, MISSING)
    dispatch = any(t.startswith("br_table") for t in texts)
    bumps = len(matches(texts, BUMP))
    if len(counts) == 1 and not missing and dispatch and bumps == 1:
        at, _ = counts[0]
        return ("counts", WHY["counts"],
                _shown(instructions, at, COUNTS))
    if len(missing) == 1 and not counts and dispatch and bumps == 0:
        at, _ = missing[0]
        return ("missing-increment", WHY["missing-increment"],
                _shown(instructions, at, MISSING))
    early, taken = matches(texts, EARLY), matches(texts, EARLY_TAKEN)
    if len(early) == 1 and not counts and not missing and not dispatch:
        at, bound = early[0]
        after = [i for i, b in taken if i > at and b["S"] == bound["S"]]
        if after:
            return ("early", WHY["early"],
                    _shown(instructions, at, EARLY, after=0) + _shown(instructions, after[0], EARLY_TAKEN, after=0))
    clones = matches(texts, _CLONE)
    if (len(counts) == 1 and bumps > 1) or (len(missing) == 1 and bumps):
        why = (f"its compare is the published builds', but {bumps} other +1 store(s) at +4 stand elsewhere in it: "
               "an edited allocator, or another compiler's" if missing else
               f"it counts as the fixed builds do, and {bumps - 1} more +1 store(s) at +4 stand elsewhere in it")
    elif len(clones) == 1:
        why = ("its compare-and-copy allocation is the published builds', but what comes before it is neither "
               "their increment nor nothing: an edited allocator, or another compiler's")
    elif clones:
        why = f"{len(clones)} compare-and-copy allocations, where the published builds have one"
    elif dispatch:
        why = "a tagged dispatch (br_table), but no compare-and-copy allocation as the published builds have it"
    else:
        why = "none of the published builds' allocator designs: no counter, no one-shot buffer"
    return "unknown", why, (_around(instructions, clones[0][0]) if len(clones) == 1 else ())


def matches(texts: Sequence[str], pattern: Sequence[tuple[str, str]]) -> list[tuple[int, dict[str, str]]]:
    """Every position where ``pattern`` matches, instruction by instruction, with its bindings."""
    first = pattern[0][0].split()
    found = []
    for at in range(len(texts) - len(pattern) + 1):
        head = texts[at].split()
        if head[:1] != first[:1]:
            continue
        bound = _match_at(texts, at, pattern)
        if bound is not None:
            found.append((at, bound))
    return found


def _match_at(texts: Sequence[str], at: int, pattern: Sequence[tuple[str, str]]) -> dict[str, str] | None:
    bound: dict[str, str] = {}
    for offset, (want, _) in enumerate(pattern):
        have, wanted = texts[at + offset].split(), want.split()
        if len(have) != len(wanted):
            return None
        for token, template in zip(have, wanted):
            if template.startswith("{") and template.endswith("}"):
                name = template[1:-1]
                if name != "_" and bound.setdefault(name, token) != token:
                    return None
            elif token != template:
                return None
    return bound


def _shown(instructions: Sequence[Step], at: int, pattern: Sequence[tuple[str, str]],
           after: int = _SHOWN_AFTER) -> tuple[Step, ...]:
    steps = [Step(s.offset, s.text, note) for s, (_, note) in zip(instructions[at:at + len(pattern)], pattern)]
    tail = instructions[at + len(pattern):at + len(pattern) + after]
    for index, step in enumerate(tail):  # up to the real allocation: its call and where it keeps the address
        note = "allocate for real: this name keeps its space" if step.text.startswith("call") else ""
        steps.append(Step(step.offset, step.text, note))
        if step.text.startswith("call"):
            if index + 1 < len(tail):
                steps.append(tail[index + 1])
            break
    return tuple(steps)


def _around(instructions: Sequence[Step], at: int) -> tuple[Step, ...]:
    """What precedes a compare-and-copy allocation the patterns did not recognise: from the
    block end before it, at most 24 instructions back."""
    start = at
    while start > max(0, at - 24) and instructions[start - 1].text.split()[:1] != ["end"]:
        start -= 1
    return tuple(instructions[max(0, start - 1):at + len(_CLONE)])
