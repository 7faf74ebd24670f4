"""The root cause in the published binaries: each adapter's allocator design read from its code
(``allocator``), checked against what real runs of the same builds measure; hand-edited allocators
never read ``counts`` unless they really count; the intervention's table; the command line."""
from __future__ import annotations

import json
import subprocess

import pytest
import wasmtime

from analysis.artifacts import adapters, compose, guests, inside
from analysis.experiments import verdicts
from analysis.findings.intervention import intervention_findings
from analysis.model.errors import LabError
from analysis.model.wasi import FIRST_FD
from analysis.reach import allocator, allocator_diff, increment, intervention, printed, scan

from conftest import AFFECTED, FIXED
from conftest import cli as lab


@pytest.fixture(scope="module")
def measured(runner) -> dict[str, str]:
    """Build id -> the design its runs imply: affected (the report's case) is missing-increment;
    not affected and able to report an empty name is early (no counter), else counts. Measured
    with real runs, as ``experiments.profiles`` tells the behaviours apart, never read from code."""
    designs = {}
    for found in verdicts.measure(runner=runner)[1:]:
        if found.affected:
            designs[found.adapter] = "missing-increment"
            continue
        probe = runner.run(["/a", "", "/b"], guest="probe", adapter=found.adapter)
        empty_told = any(e.fd == FIRST_FD + 1 and e.errno == 0 for e in probe.fds)
        designs[found.adapter] = "early" if empty_told else "counts"
    return designs


def _stripped(path, tmp_path) -> bytes:
    out = tmp_path / f"{path.stem}.stripped.wasm"
    subprocess.run([compose.wasm_tools(), "strip", "--all", str(path), "-o", str(out)], check=True)
    return out.read_bytes()


def test_every_build_its_reactor_twin_and_stripped_copies_read_the_design_their_runs_imply(measured, tmp_path):
    assert set(measured.values()) == {"early", "missing-increment", "counts"}
    for build in adapters.catalogue():
        for variant in (build, build.reactor()):
            path = adapters.fetch(variant)
            reading = allocator.read_module(path.read_bytes(), variant.id)
            assert reading.design == measured[build.id], variant.id
            assert reading.implies == ("affected" if measured[build.id] == "missing-increment" else "not affected")
            assert reading.name == "cabi_import_realloc" and reading.offset and reading.steps
            bare = allocator.read_module(_stripped(path, tmp_path), f"{variant.id} stripped")
            assert bare.design == reading.design and bare.name is None, variant.id
            assert (bare.function, len(bare.steps)) == (reading.function, len(reading.steps))
        if measured[build.id] != "early":  # the counter and nth are named where they are read
            notes = " ".join(s.note for s in allocator.read_target(build.id)[0].steps)
            assert "counter (+4)" in notes and "nth (+8)" in notes


def test_inside_a_component_every_adapter_is_read_where_it_sits(measured):
    opener = guests.get("opener").wasm()
    for build in adapters.catalogue():
        data = compose.compose(opener, build).read_bytes()
        (reading,) = allocator.read_bytes(data, "app.wasm")
        adapter = next(m for m in inside.core_modules(data) if inside.is_adapter(m))
        assert reading.where == adapter.where == "component > module 1"
        assert reading.design == measured[build.id], build.id
        at = data.find(adapter.data)
        assert at < reading.offset < at + len(adapter.data)  # the offset is the component file's
        opcodes = {"end": 0x0B, "local.get": 0x20, "i32.load": 0x28, "i32.const": 0x41}
        for step in reading.steps:  # each offset is where that instruction's opcode sits in the file
            assert data[step.offset] == opcodes.get(step.text.split()[0], data[step.offset]), step


def test_the_one_byte_edit_is_the_byte_the_notes_name():
    data = adapters.fetch(adapters.resolve("jco-1.33.0")).read_bytes()
    edited, at = increment.set_step(data, 0)
    assert at == 0x2998 and data[at - 1:at + 1] == b"\x41\x01" and edited[at - 1:at + 1] == b"\x41\x00"
    assert sum(a != b for a, b in zip(data, edited)) == 1 and len(edited) == len(data)
    assert allocator.read_module(edited).design == "unknown"


def test_the_diff_of_the_smallest_real_pair_is_the_increment():
    readings, lines = allocator_diff.diff(AFFECTED, "jco-1.9.1")
    assert [r.design for r in readings] == ["missing-increment", "counts"]
    changed = [line for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    added = [line[1:] for line in changed if line[0] == "+"]
    assert "i32.store offset=4" in added and "i32.const 1" in added and len(changed) <= 12, lines
    assert allocator_diff.diff(FIXED, "jco-1.10.0-reactor")[1] == []  # constants masked, same code


# -- hand-edited allocators: never counts unless they really count --------------------------------


def _insert_after_compare(lines, increment_lines):
    """The lines with ``increment_lines`` placed right after the compare's ``br_if 0``."""
    found = increment.instructions(lines)
    at, bound = allocator.matches([t for _, t in found], allocator.MISSING)[0]
    where = found[at + 7][0]  # MISSING: end, block, 4 loads and compare, then br_if 0
    return lines[:where + 1] + [line.format(F=bound["F"]) for line in increment_lines] + lines[where + 1:]


_BUMP = ["local.get {F}", "local.get {F}", "i32.load offset=4", "i32.const 1", "i32.add", "i32.store offset=4"]


def _moved_after_compare(data: bytes) -> bytes:
    """The increment moved after the compare, into the path of the names that do not match."""
    return increment.rewrite(data, lambda lines: _insert_after_compare(lines, _BUMP))


def _moved_into_the_match(data: bytes) -> bytes:
    """The increment added after the compare's block, where only the matching name passes."""
    def edit(lines):
        found = increment.instructions(lines)
        at, bound = allocator.matches([t for _, t in found], allocator.MISSING)[0]
        after = at + len(allocator.MISSING)  # the copy's `local.set` and `br`, then the block's `end`
        assert [t.split()[0] for _, t in found[after:after + 3]] == ["local.set", "br", "end"]
        end = found[after + 2][0]
        return lines[:end + 1] + [line.format(F=bound["F"]) for line in _BUMP] + lines[end + 1:]
    return increment.rewrite(data, edit)


def _nop_between(data: bytes) -> bytes:
    """A counting allocator with a nop between its increment's store and the compare."""
    def edit(lines):
        found = increment.instructions(lines)
        at, _ = allocator.matches([t for _, t in found], allocator.COUNTS)[0]
        store = found[at + 7][0]
        return lines[:store + 1] + ["nop"] + lines[store + 1:]
    return increment.rewrite(data, edit)


def _store_after_compare(data: bytes) -> bytes:
    """A counting allocator whose seven increment instructions are moved after the compare's br_if."""
    def edit(lines):
        found = increment.instructions(lines)
        at, _ = allocator.matches([t for _, t in found], allocator.COUNTS)[0]
        first, last, branch = found[at + 1][0], found[at + 7][0], found[at + 13][0]
        assert last - first == 6 and found[at + 13][1] == "br_if 0"
        return lines[:first] + lines[last + 1:branch + 1] + lines[first:last + 1] + lines[branch + 1:]
    return increment.rewrite(data, edit)


VARIANTS = {  # what: (build, edit, the design it must read)
    "its increment's 1 made 2": (FIXED, lambda d: increment.set_step(d, 2)[0], "unknown"),
    "its increment's 1 made 0": (FIXED, lambda d: increment.set_step(d, 0)[0], "unknown"),
    "a nop between the increment and the compare": (FIXED, _nop_between, "unknown"),
    "the increment's store moved after the compare": (FIXED, _store_after_compare, "unknown"),
    "an increment added after the compare, for names that do not match": (AFFECTED, _moved_after_compare, "unknown"),
    "an increment added after the compare's block, for the name that matches":
        (AFFECTED, _moved_into_the_match, "unknown"),
    "the increment removed": ("jco-1.33.0", increment.remove, "missing-increment"),
    "the increment added": ("jco-1.3.0", increment.add, "counts"),
}


@pytest.mark.parametrize("what", list(VARIANTS))
def test_a_hand_edited_allocator_is_never_counts_unless_it_counts_and_scan_follows_its_runs(what, runner):
    build, make, expected = VARIANTS[what]
    edited = make(adapters.fetch(adapters.resolve(build)).read_bytes())
    design = allocator.read_module(edited, what).design
    seen = intervention.observe(edited, f"{build}+edit", runner)
    runs = "affected" if seen.affected else "not affected"
    assert design == expected, (what, design)  # not the published builds' exact instructions: no guess
    assert design != "counts" or runs == "not affected", (what, design, seen)
    if design != "unknown":  # a known design says what the runs say
        assert allocator.IMPLIES[design] == runs, (what, design, seen)
    assert seen.scan == runs and seen.scan_design == design, (what, seen)


def test_an_allocator_of_no_known_shape_is_unknown_and_a_broken_one_is_one_line(tmp_path):
    odd = wasmtime.wat2wasm("""(module
      (import "wasi:cli/environment@0.2.0" "get-environment" (func (param i32)))
      (memory (export "memory") 1)
      (func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "fd_prestat_get") (param i32 i32) (result i32) (i32.const 8)))""")
    reading = allocator.read_module(odd)
    assert reading.design == "unknown" and reading.implies is None and "no counter" in reading.why
    huge = wasmtime.wat2wasm(f"""(module
      (import "wasi:cli/environment@0.2.0" "get-environment" (func (param i32)))
      (func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32)
        {"nop " * 70_000} (i32.const 0)))""")
    assert "more than" in allocator.read_module(huge).why and allocator.read_module(huge).design == "unknown"
    none = wasmtime.wat2wasm('(module (import "wasi:cli/environment@0.2.0" "x" (func)) (func (export "fd_write")))')
    assert allocator.read_module(none).why.startswith("it exports no cabi_import_realloc")
    broken = bytearray(adapters.fetch(adapters.resolve(AFFECTED)).read_bytes())
    located = printed.locate(bytes(broken))
    broken[located.offset + 10: located.offset + 14] = b"\xff\xff\xff\xff"  # no such opcodes
    path = tmp_path / "broken.core2.wasm"
    path.write_bytes(bytes(broken))
    with pytest.raises(LabError):
        allocator.read_module(bytes(broken))
    done = lab("allocator", str(path))
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    assert "wasm-tools could not print" in done.stderr and "Traceback" not in done.stderr
    found = scan.scan_file(path).findings[0]  # the scan still answers; its design says why it has none
    assert found.design == "unknown" and "could not be read" in found.design_evidence


# -- the intervention ---------------------------------------------------------------------------------


def test_the_intervention_cures_every_affected_build_and_breaks_every_fixed_one(measured):
    rows = intervention.table()
    by_build = {}
    for row in rows:
        by_build.setdefault(row.build, []).append(row)
    assert set(by_build) == set(measured)
    affected = {r.before.symptoms for r in rows if r.before.affected}
    assert len(affected) == 1  # every affected build shows the same symptoms
    (symptoms,) = affected
    assert symptoms[0] == ("ok", "missing", "missing", "missing", "ok") and "/ddbb" in symptoms[3]
    for build, design in measured.items():
        edits = {r.edit: r for r in by_build[build]}
        assert {r.before.design for r in by_build[build]} == {design}
        if design == "missing-increment":
            assert set(edits) == {"add", "none"}
            cured = edits["add"].after
            assert cured.design == "counts" and not cured.affected and cured.names == intervention.NAMES_CASE
            assert cured.scan == "not affected"
        elif design == "counts":
            assert set(edits) == {"remove", "zero", "none"}
            for edit in ("remove", "zero"):
                broken = edits[edit].after
                assert broken.symptoms == symptoms and broken.scan == "affected", (build, edit)
            assert edits["remove"].after.design == "missing-increment" and edits["zero"].after.design == "unknown"
            assert edits["zero"].changed.startswith("1 byte at ")
        else:
            assert set(edits) == {"-"}
        if "none" in edits:  # the control: the text round trip alone changes nothing
            control = edits["none"]
            assert control.after.symptoms == control.before.symptoms and control.after.design == design
    findings = intervention_findings(rows)
    assert findings.all_hold, [(c.statement, c.example) for c in findings.claims if not c.holds]
    cause = findings.claims[0]
    assert cause.domain.contains(intervention.NAMES_CASE, AFFECTED, "opener") and not cause.domain.contains(("/a",), AFFECTED, "opener")


def test_the_intervention_is_kept_sealed_and_measured_again_when_its_entry_is_planted(monkeypatch):
    from analysis.artifacts import seal
    from analysis.artifacts.cache import cache_dir

    rows = intervention.table()
    path = cache_dir() / "intervention" / f"{intervention._key()}.json"
    assert seal.seal_holds(path, path.read_bytes())
    original = path.read_bytes()
    planted = json.loads(original)
    planted[0]["before"]["design"] = "counts"
    measured_again = []
    monkeypatch.setattr(intervention, "measure", lambda **kw: measured_again.append(1) or rows)
    try:
        path.write_text(json.dumps(planted))  # any bytes, without the seal's key
        assert intervention.table() == rows and measured_again == [1]  # measured again, never read
    finally:
        seal.write_sealed(path, original)
    assert intervention.table() == rows and measured_again == [1]  # the lab's own entry is read


# -- the command line ------------------------------------------------------------------------------


def test_the_command_reads_a_build_a_component_and_diffs_two(tmp_path):
    done = lab("allocator", AFFECTED)
    assert done.returncode == 0, done.stderr
    assert "missing-increment" in done.stdout and "counter (+4)" in done.stdout and "nth (+8)" in done.stdout
    component = compose.compose(guests.get("opener").wasm(), adapters.resolve(FIXED))
    done = lab("allocator", str(component), "--json")
    assert done.returncode == 0, done.stderr
    (answer,) = json.loads(done.stdout)
    assert answer["design"] == "counts" and answer["where"] == "component > module 1" and answer["offset"] > 0
    done = lab("allocator", AFFECTED, "--diff", "jco-1.9.1")
    assert done.returncode == 0 and "+i32.store offset=4" in done.stdout and "@@" in done.stdout
    done = lab("allocator", str(guests.get("opener").binary), "--json")
    assert done.returncode == 0 and json.loads(done.stdout) == []


@pytest.mark.parametrize("args, says", [
    (["nonsense"], "neither a file nor an adapter build id"),
    (["/dev/zero"], "not a regular file"),
    (["jco-1.8.1", "--diff", "nonsense"], "neither a file nor an adapter build id"),
    (["BAD"], "not a WebAssembly file"),
])
def test_bad_input_is_one_line_and_status_2(args, says, tmp_path):
    if args == ["BAD"]:
        (tmp_path / "bad.wasm").write_bytes(b"hello")
        args = [str(tmp_path / "bad.wasm")]
    done = lab("allocator", *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr and "Traceback" not in done.stderr


def test_wasm_tools_is_bounded_in_time_and_a_long_custom_section_is_passed_over(monkeypatch, tmp_path):
    from analysis.artifacts.inside import leb128

    data = adapters.fetch(adapters.resolve(AFFECTED)).read_bytes()
    name = b"big"
    payload = bytes([len(name)]) + name + b"\x01" * (3 << 20)  # printed as one line of 3 MB, before the code
    padded = data[:8] + b"\x00" + leb128(len(payload)) + payload + data[8:]
    reading = allocator.read_module(padded)
    assert reading.design == "missing-increment" and reading.offset == allocator.read_module(data).offset + (
        len(padded) - len(data))
    stuck = tmp_path / "wasm-tools"
    stuck.write_text("#!/bin/sh\nexec sleep 60\n")  # a wasm-tools that never answers
    stuck.chmod(0o755)
    monkeypatch.setattr(printed, "_tool", lambda: str(stuck))
    monkeypatch.setattr(printed, "TOOL_SECONDS", 0.5)
    with pytest.raises(LabError, match="wasm-tools took more than 0.5 s"):
        allocator.read_module(data)
