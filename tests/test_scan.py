"""`scan`: every adapter inside a component judged by running its own code, checked against
the verdicts measured by running the report's case through each build."""
from __future__ import annotations

import json

import pytest
import wasmtime
from hypothesis import example, given, settings
from hypothesis import strategies as st

from analysis.artifacts import adapters, compose, guests, inside
from analysis.artifacts.inside import leb128
from analysis.experiments import verdicts
from analysis.model.errors import LabError
from analysis.reach import scan

from conftest import AFFECTED
from conftest import cli as lab


@pytest.fixture(scope="module")
def measured() -> dict[str, bool]:
    """Build id -> affected, from real runs of the report's case (not from this module)."""
    return {v.adapter: v.affected for v in verdicts.measure()[1:]}


def test_every_catalogued_build_is_judged_as_its_runs_say(measured):
    opener = guests.get("opener").wasm()
    for build in adapters.catalogue():
        found = scan.scan_file(compose.compose(opener, build))
        assert len(found.findings) == 1, build.id
        finding = found.findings[0]
        assert finding.role == "command" and finding.wasi_version
        assert build.id in finding.resembles and finding.shared >= scan.RESEMBLANCE  # its code, recognised
        assert finding.verdict == ("affected" if measured[build.id] else "not affected"), build.id
        if measured[build.id]:
            assert any(" told " in line for line in finding.evidence)  # the names it got wrong
        published = scan.scan_file(adapters.fetch(build)).findings[0]  # the adapter file itself
        assert published.verdict == finding.verdict and published.note and build.id in published.resembles


def test_the_cli_answers_with_its_exit_status(tmp_path):
    affected = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED))
    done = lab("scan", str(affected), "--json")
    assert done.returncode == 1, done.stderr
    answer = json.loads(done.stdout)
    assert answer["answer"] == "affected" and answer["findings"][0]["verdict"] == "affected"
    done = lab("scan", str(guests.get("opener").binary))
    assert done.returncode == 0 and "no adapter" in done.stdout


def test_an_adapter_taken_out_of_its_component_is_judged_alike(tmp_path):
    """As jco's transpiled ``*.coreN.wasm`` files: a bare core module that is an adapter."""
    component = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED)).read_bytes()
    adapter = next(m for m in inside.core_modules(component) if inside.is_adapter(m))
    path = tmp_path / "app.core2.wasm"
    path.write_bytes(adapter.data)
    found = scan.scan_file(path)
    assert found.kind == "module" and found.answer == "affected"


def test_a_program_that_never_asks_names_is_not_exposed(tmp_path):
    path = tmp_path / "hello.wasm"
    path.write_bytes(wasmtime.wat2wasm("""(module
      (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1) (func (export "_start")))"""))
    component = compose.compose(path.read_bytes(), adapters.resolve(AFFECTED))
    found = scan.scan_file(component)
    assert found.answer == "not exposed" and found.findings[0].verdict == "not exposed"
    assert lab("scan", str(component)).returncode == 0


@pytest.mark.parametrize("make, says", [
    (lambda p: p.write_bytes(b"hello"), "not a WebAssembly file"),
    (lambda p: p.write_bytes(b"\0asm\x0d\x00\x01\x00\x01\xff\xff\x03"), "cut short"),
    (lambda p: p.mkdir(), "not a regular file"),
])
def test_what_cannot_be_read_is_one_line_and_status_2(tmp_path, make, says):
    path = tmp_path / "bad.wasm"
    make(path)
    done = lab("scan", str(path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and says in done.stderr and "Traceback" not in done.stderr


def test_a_truncated_component_is_never_a_verdict(tmp_path):
    whole = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED)).read_bytes()
    for cut in (9, len(whole) // 3, len(whole) - 1):
        path = tmp_path / f"cut{cut}.wasm"
        path.write_bytes(whole[:cut])
        done = lab("scan", str(path))
        assert done.returncode == 2 and "truncated" in done.stderr, (cut, done.stdout, done.stderr)


# -- repair ------------------------------------------------------------------------------


def test_repair_makes_an_affected_component_reach_all_five(tmp_path):
    from analysis.reach import repair
    from analysis.runs.runner import Runner

    from conftest import REPORT_CASE

    broken = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED))
    out = tmp_path / "fixed.wasm"
    done = lab("repair", str(broken), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "imports WASI" in done.stdout and "exit status 0" in done.stdout
    fixed_with = repair.first_fixed()
    assert f"adapter: {fixed_with.id}," in done.stdout
    assert scan.scan_file(out).answer == "not affected"
    # the bytes written are the opener composed with that build, and that runs all five
    assert out.read_bytes() == compose.compose(guests.get("opener").wasm(), fixed_with).read_bytes()
    assert Runner().run(REPORT_CASE, adapter=fixed_with).all_ok
    assert lab("scan", str(out)).returncode == 0


def test_repair_refuses_what_it_cannot_mend_in_one_line(tmp_path):
    fine = compose.compose(guests.get("opener").wasm(), adapters.resolve(verdicts.pick_builds()[1]))  # measured
    for source, says in ((fine, "nothing to repair"), (guests.get("opener").binary, "nothing to repair")):
        done = lab("repair", str(source), "-o", str(tmp_path / "out.wasm"))
        assert done.returncode == 2 and says in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "out.wasm").exists()
    broken = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED))
    done = lab("repair", str(broken), "-o", str(tmp_path))
    assert done.returncode == 2 and "is a folder" in done.stderr


def test_reactor_adapters_are_catalogued_and_judged_like_their_command_twins(tmp_path):
    """Each build's reactor adapter, inside a library component, against the command adapter
    of the same release: two measurements that must agree."""
    library = guests.reactor_module()
    for build in adapters.catalogue():
        reactor = build.reactor()
        assert adapters.fetch(reactor).is_file()  # pinned, fetched, checksum-checked
        found = scan.scan_file(compose.compose(library, reactor)).findings[0]
        twin = scan.scan_file(compose.compose(guests.get("opener").wasm(), build)).findings[0]
        assert found.role == "reactor" and twin.role == "command"
        assert reactor.id in found.resembles
        assert found.verdict == twin.verdict, build.id


def test_repair_re_adapts_a_library_with_the_fixed_reactor(tmp_path):
    from analysis.reach import repair

    broken = compose.compose(guests.reactor_module(), adapters.resolve(AFFECTED).reactor())
    out = tmp_path / "fixed-library.wasm"
    done = lab("repair", str(broken), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert f"adapter: {repair.first_fixed().id}-reactor" in done.stdout and "run with" not in done.stdout
    after = scan.scan_file(out)
    assert after.answer == "not affected" and after.findings[0].role == "reactor"


LIBRARY_WORLD = """package lab:demo;

world counter {
  export count-preopens: func() -> u32;
}
"""
LIBRARY = """(module
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "count-preopens") (result i32) (local $fd i32)
    (local.set $fd (i32.const 3))
    (block $done (loop $next
      (br_if $done (call $get (local.get $fd) (i32.const 0)))
      (local.set $fd (i32.add (local.get $fd) (i32.const 1)))
      (br $next)))
    (i32.sub (local.get $fd) (i32.const 3)))
  (func (export "_initialize")))"""


def test_repair_keeps_the_world_of_a_component_that_brings_its_own(tmp_path):
    """As ComponentizeJS builds them: the program inside keeps no world, so a plain
    re-adaptation would silently drop `count-preopens`; the lab embeds the world again."""
    from analysis.artifacts.compose import run_tool
    from analysis.reach import repair

    (tmp_path / "world.wit").write_text(LIBRARY_WORLD)
    (tmp_path / "library.wasm").write_bytes(wasmtime.wat2wasm(LIBRARY))
    run_tool(["component", "embed", str(tmp_path / "world.wit"), str(tmp_path / "library.wasm"),
              "-o", str(tmp_path / "embedded.wasm")], "embed the test world")
    broken = compose.compose((tmp_path / "embedded.wasm").read_bytes(), adapters.resolve(AFFECTED).reactor())
    assert repair.exports(run_tool(["component", "wit", str(broken)], "read")) == {"count-preopens"}
    out = tmp_path / "fixed.wasm"
    done = lab("repair", str(broken), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert repair.exports(run_tool(["component", "wit", str(out)], "read")) == {"count-preopens"}
    assert scan.scan_file(out).answer == "not affected"


def test_an_adapter_the_scanner_cannot_serve_is_cannot_tell_never_a_verdict(tmp_path):
    """A module shaped like an adapter whose fd_prestat_get asks for random bytes first."""
    path = tmp_path / "odd.core2.wasm"
    path.write_bytes(wasmtime.wat2wasm("""(module
      (import "wasi:random/random@0.2.2" "get-random-bytes" (func $random (param i64 i32)))
      (memory (export "memory") 1)
      (func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "fd_prestat_get") (param i32 i32) (result i32)
        (call $random (i64.const 8) (i32.const 0)) (i32.const 0))
      (func (export "fd_prestat_dir_name") (param i32 i32 i32) (result i32) (i32.const 0)))"""))
    found = scan.scan_file(path)
    assert found.answer == "cannot tell"
    assert "wasi:random/random@0.2.2#get-random-bytes" in found.findings[0].evidence[0]
    done = lab("scan", str(path))
    assert done.returncode == 2 and "cannot tell" in done.stdout


@settings(max_examples=150)
@example(flips=[(33033, 0)], cut=None)  # found by this test: an allocator answer outside memory
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 7)), min_size=1, max_size=4),
       cut=st.one_of(st.none(), st.integers(8, 10**9)))
def test_damaged_components_are_an_answer_or_one_line_never_a_traceback(flips, cut):
    whole = bytearray(compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED)).read_bytes())
    for at, bit in flips:
        whole[at % len(whole)] ^= 1 << bit
    data = bytes(whole[: (cut % len(whole)) if cut else None])
    try:
        found = scan.scan_bytes(data, "damaged.wasm")
    except LabError:
        return
    assert found.answer in ("affected", "not affected", "not exposed", "cannot tell", "no adapter")


def test_an_adapter_in_a_nested_component_is_found_and_repair_refuses_it(tmp_path):
    """A component whose only section is another component (section id 4), as bundlers nest them."""
    inner = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED)).read_bytes()
    outer = tmp_path / "nested.wasm"
    outer.write_bytes(inside.MAGIC + inside.COMPONENT_VERSION + b"\x04" + leb128(len(inner)) + inner)
    found = scan.scan_file(outer)
    assert found.answer == "affected" and found.findings[0].where == "component > component 0 > module 1"
    done = lab("repair", str(outer), "-o", str(tmp_path / "out.wasm"))
    assert done.returncode == 2 and "nests components" in done.stderr and not (tmp_path / "out.wasm").exists()


# -- the allocator's design, beside the run ------------------------------------------------------


def test_every_adapter_found_has_its_design_read_beside_the_run(measured):
    from analysis.reach.words import describe_scan

    opener = guests.get("opener").wasm()
    for build in adapters.catalogue():
        found = scan.scan_file(compose.compose(opener, build))
        finding = found.findings[0]
        expected = {"missing-increment"} if measured[build.id] else {"early", "counts"}
        assert finding.design in expected, build.id
        assert finding.design_agrees is True and finding.design_evidence, build.id
        assert json.loads(found.to_json())["findings"][0]["design"] == finding.design
        assert any("the code agrees with the run" in line for line in describe_scan(found))
    done = lab("scan", str(compose.compose(opener, adapters.resolve(AFFECTED))))
    assert "its allocator's code reads missing-increment" in done.stdout


def _forgets_the_count(data: bytes) -> bytes:
    """A counting allocator, exactly as published where it decides, that writes its state back
    with the counter zeroed (``i64.load`` of tag and counter made ``i64.load32_u``): it reads
    ``counts``, and runs as if the increment were missing."""
    from analysis.reach import allocator, increment

    pattern = [("local.tee {S}", ""), ("local.get {F}", ""), ("i64.load", ""), ("i64.store align=4", "")]

    def edit(lines):
        found = increment.instructions(lines)
        (at, _), = allocator.matches([t for _, t in found], pattern)
        line = found[at + 2][0]
        return lines[:line] + [lines[line].replace("i64.load", "i64.load32_u")] + lines[line + 1:]
    return increment.rewrite(data, edit)


def test_when_the_design_and_the_run_disagree_the_scan_says_so_and_the_run_decides(tmp_path):
    from analysis.reach.words import describe_scan

    from conftest import FIXED

    edited = _forgets_the_count(adapters.fetch(adapters.resolve(FIXED)).read_bytes())
    path = tmp_path / "app.wasm"
    path.write_bytes(compose.compose_with(guests.get("opener").wasm(), edited, "an edited adapter"))
    found = scan.scan_file(path)
    finding = found.findings[0]
    assert (finding.design, finding.verdict, finding.design_agrees) == ("counts", "affected", False)
    assert found.answer == "affected"
    assert any("they disagree, and the run decides" in line for line in describe_scan(found))
    done = lab("scan", str(path), "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["findings"][0]["design_agrees"] is False
