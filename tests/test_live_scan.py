"""Page 7's scanner (``publish.live_scan``): the lab's scan run in chromium from file://, compared
with ``scan --json`` file by file; hostile adapters end as cannot tell while the page answers;
nothing from a file is put on the page as HTML."""
from __future__ import annotations

import base64
import json

import pytest
import wasmtime

from analysis.artifacts import adapters, guests, inside
from analysis.artifacts.compose import compose
from analysis.publish import chromium, live, live_scan

TURNS = 10
"""How many times, at least, the page's main thread must run a task of its own while scans are busy
in their workers: counted, not timed (a busy machine slows both alike)."""
AFFECTED = "jco-1.8.1"

_ADAPTER = """(module
  (import "wasi:cli/environment@0.2.0" "get-arguments" (func $args (param i32)))
  {imports}
  (memory (export "memory") 1)
  {body}
  (func (export "fd_prestat_dir_name") (param i32 i32 i32) (result i32) (i32.const 0)))"""
"""A core module the scanner takes for an adapter (it imports wasi:* and exports preview1's
prestat calls and cabi_import_realloc), with the hostile part filled in."""

HOSTILE = {
    "loops when asked": """(func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "fd_prestat_get") (param i32 i32) (result i32) (loop (br 0)) (i32.const 0))""",
    "loops in its allocator while a served import runs": """
      (import "wasi:filesystem/preopens@0.2.0" "get-directories" (func $dirs (param i32)))
      |(func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (loop (br 0)) (i32.const 0))
      (func (export "fd_prestat_get") (param i32 i32) (result i32) (call $dirs (i32.const 64)) (i32.const 0))""",
    "recurses": """(func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func $deep (export "fd_prestat_get") (param i32 i32) (result i32)
        (drop (call $deep (local.get 0) (local.get 1))) (i32.const 0))""",
    "grows its memory without end": """(func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "fd_prestat_get") (param i32 i32) (result i32)
        (loop (br_if 0 (i32.ne (memory.grow (i32.const 256)) (i32.const -1)))) (unreachable))""",
    "loops in its start function": """(func $forever (loop (br 0))) (start $forever)
      (func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "fd_prestat_get") (param i32 i32) (result i32) (i32.const 8))""",
}


def hostile(text: str) -> bytes:
    """``text``: the module's own fields, after its imports (if any) and a ``|``."""
    imports, _, body = text.rpartition("|")
    return wasmtime.wat2wasm(_ADAPTER.format(imports=imports, body=body))


def compile_bomb() -> bytes:
    """An adapter with 4,000 functions of 2,000 nested blocks each beside its prestat calls,
    whose fd_prestat_get loops: however long the browser takes to compile it, the deadline holds."""
    nested = "(block " * 2000 + ")" * 2000
    bodies = "\n".join(f"(func $f{i} {nested})" for i in range(4000))
    return hostile(bodies + HOSTILE["loops when asked"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    if chromium.chromium() is None:
        pytest.skip("no chromium: `make browser` installs it")
    folder = tmp_path_factory.mktemp("report") / "assets" / live.ASSETS
    live_scan.write_assets(folder)
    return folder


@pytest.fixture(scope="module")
def chrome(folder):
    with chromium.browser() as chrome:
        yield chrome


@pytest.fixture(scope="module")
def page(chrome, folder):
    return live_scan.open_page(chrome, folder)


def test_the_page_answers_as_scan_json_on_every_file_of_the_corpus(page):
    agreement = live_scan.check(page)
    assert agreement.differ == () and agreement.equal == agreement.files


def two_adapters(first: bytes, second: bytes) -> bytes:
    """A component whose only sections are two core modules, as the scanner walks them."""
    section = lambda data: b"\x01" + inside.leb128(len(data)) + data  # noqa: E731
    return inside.MAGIC + inside.COMPONENT_VERSION + section(first) + section(second)


def affected_adapter() -> bytes:
    command = compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED)).read_bytes()
    return next(m.data for m in inside.core_modules(command) if inside.is_adapter(m))


def test_hostile_adapters_end_as_cannot_tell_while_the_page_answers(page):
    files = {name: hostile(body) for name, body in HOSTILE.items()} | {"a compile bomb": compile_bomb()}
    said = page.evaluate("""async files => {
      let settled = false, turns = 0;
      const scans = Promise.all(files.map(([name, b64]) => preopenLab.scan(
          Uint8Array.from(atob(b64), c => c.charCodeAt(0))).then(r => [name, r]))).finally(() => { settled = true; });
      while (!settled) {
        await new Promise(done => setTimeout(done, 10));
        turns += 1;
      }
      return { scans: await scans, turns };
    }""", [[name, base64.b64encode(data).decode()] for name, data in files.items()])
    answers = {name: r["answer"] for name, r in said["scans"]}
    assert answers == {name: "cannot tell" for name in files}, json.dumps(said["scans"], indent=1)[:3000]
    assert said["turns"] >= TURNS


def test_nothing_from_a_file_is_put_on_the_page_as_html(chrome, folder, tmp_path):
    """A file whose name is markup, dropped on page 7's box: its name is shown as text."""
    page_html = folder.parent.parent / "page.html"
    page_html.write_text('<!DOCTYPE html><meta charset="utf-8">' + live_scan.scanner_html("assets", "checked"))
    name = tmp_path / '<img src=x onerror="globalThis.ran=1">.wasm'
    name.write_bytes(b"\0asm\x01\0\0\0")
    tab = chrome.new_page()
    tab.goto(page_html.as_uri())
    tab.wait_for_selector(".live-scan-ready", timeout=20_000)
    tab.set_input_files(".live-scan input[type=file]", str(name))
    tab.wait_for_function("document.querySelector('.live-scan-answer').dataset.answer", timeout=20_000)
    assert tab.evaluate("document.querySelectorAll('.live-scan-answer img').length") == 0
    assert tab.evaluate("globalThis.ran") is None
    assert name.name in tab.inner_text(".live-scan-answer")
    assert tab.evaluate("document.querySelector('.live-scan-answer').dataset.answer") == "no adapter"


@pytest.mark.parametrize("name", ["loops when asked", "loops in its allocator while a served import runs", "recurses",
                                  "loops in its start function", "beside an affected one"])
def test_a_looping_adapter_is_judged_as_the_lab_judges_it(page, name):
    """The lab's wasmtime stops a looping adapter by fuel and judges the rest of the file; the
    page stops it at ``ADAPTER_SECONDS``: the same answer and verdicts (a cannot tell's reason is
    each side's own), and an affected adapter beside a looping one still makes the file affected."""
    data = (two_adapters(hostile(HOSTILE["loops when asked"]), affected_adapter()) if name == "beside an affected one"
            else hostile(HOSTILE[name]))
    assert live_scan.page_view(live_scan.page_scan(page, data)) == live_scan.cli_view(data)
    if name == "beside an affected one":
        assert live_scan.cli_view(data)["answer"] == "affected"


def small_adapter(*, memory='(import "env" "memory" (memory 1))', imports="", preopens="wasi:filesystem/preopens@0.2.0",
                  realloc="(param i32 i32 i32 i32) (result i32)", result="i32", dir_name='"fd_prestat_dir_name"',
                  on_load="", fields="") -> bytes:
    """A core module that works as an adapter does (it fetches the names once, through its own
    allocator, and answers each fd), with one part changed at a time."""
    return wasmtime.wat2wasm(f"""(module
      (import "{preopens}" "get-directories" (func $dirs (param i32)))
      {imports}
      {memory}
      (global $bump (mut i32) (i32.const 1024)) (global $loaded (mut i32) (i32.const 0))
      (func (export "cabi_import_realloc") {realloc} (local $at i32)
        (local.set $at (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                                (i32.sub (i32.const 0) (local.get 2))))
        (global.set $bump (i32.add (local.get $at) (local.get 3))) (local.get $at))
      (func $load (if (global.get $loaded) (then (return))) (global.set $loaded (i32.const 1)) {on_load}
        (call $dirs (i32.const 16)))
      (func $entry (param $fd i32) (result i32)
        (i32.add (i32.load (i32.const 16)) (i32.mul (i32.sub (local.get $fd) (i32.const 3)) (i32.const 12))))
      (func $past (param $fd i32) (result i32) (i32.ge_u (i32.sub (local.get $fd) (i32.const 3)) (i32.load (i32.const 20))))
      (func (export "fd_prestat_get") (param $fd i32) (param $buf i32) (result {result})
        (call $load)
        (if (call $past (local.get $fd)) (then (return ({result}.const 8))))
        (i32.store (local.get $buf) (i32.const 0))
        (i32.store offset=4 (local.get $buf) (i32.load offset=8 (call $entry (local.get $fd)))) ({result}.const 0))
      (func (export {dir_name}) (param $fd i32) (param $path i32) (param $len i32) (result {result})
        (call $load)
        (if (call $past (local.get $fd)) (then (return ({result}.const 8))))
        (memory.copy (local.get $path) (i32.load offset=4 (call $entry (local.get $fd))) (local.get $len)) ({result}.const 0))
      {fields})""")


EDGES = {
    "as written": {},
    "a memory import with a maximum": {"memory": '(import "env" "memory" (memory 1 65536))'},
    "64-bit answers": {"result": "i64"},
    "an import named as a JavaScript object's own property": {
        "imports": '(import "wasi:cli/stdout@0.2.0" "toString" (func $odd (result i32)))', "on_load": "(drop (call $odd))"},
    "an allocator of five parameters": {"realloc": "(param i32 i32 i32 i32 i32) (result i32)"},
    "a byte-order mark before an export's name": {"dir_name": '"\\ef\\bb\\bffd_prestat_dir_name"'},
    "a version in other digits": {"preopens": "wasi:filesystem/preopens@\\d9\\a0.\\d9\\a2.\\d9\\a0"},
    "a table with an initializer": {"fields": "(table 10 2000000 funcref (ref.null func))"},
    "a shared memory of its own": {"memory": '(memory (export "memory") 1 65536 shared)'},
}
"""Shapes the attacker's review found judged differently by the page and the lab (each was)."""


@pytest.mark.parametrize("name", EDGES)
def test_odd_adapters_are_judged_as_the_lab_judges_them(page, name):
    data = small_adapter(**EDGES[name])
    assert live_scan.page_view(live_scan.page_scan(page, data)) == live_scan.cli_view(data)


def test_a_code_section_cut_short_is_the_same_error_on_both_sides(page):
    data = wasmtime.wat2wasm("""(module (import "wasi:cli/stdout@0.2.0" "get-stdout" (func (result i32)))
      (func (export "fd_write") (param i32 i32 i32 i32) (result i32) (i32.const 0)))""") + b"\x0a\x01\x01"
    said = live_scan.page_view(live_scan.page_scan(page, data))
    assert said == live_scan.cli_view(data) and said["answer"].startswith("error: ")


def test_megabytes_of_evidence_never_hold_up_the_page(chrome, folder):
    """15 adapters each telling 65,536-byte names of NULs: 4.7 MB of evidence each; the box shows
    each line cut, and the page answers meanwhile."""
    flood = wasmtime.wat2wasm("""(module
      (import "wasi:filesystem/preopens@0.2.0" "get-directories" (func (param i32)))
      (memory (export "memory") 2)
      (func (export "cabi_import_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
      (func (export "fd_prestat_get") (param i32 i32) (result i32)
        (if (i32.gt_u (local.get 0) (i32.const 7)) (then (return (i32.const 8))))
        (i32.store (local.get 1) (i32.const 0)) (i32.store offset=4 (local.get 1) (i32.const 65536)) (i32.const 0))
      (func (export "fd_prestat_dir_name") (param i32 i32 i32) (result i32) (i32.const 0)))""")
    data = inside.MAGIC + inside.COMPONENT_VERSION + b"".join(b"\x01" + inside.leb128(len(flood)) + flood for _ in range(15))
    page_html = folder.parent.parent / "flood.html"
    page_html.write_text('<!DOCTYPE html><meta charset="utf-8">' + live_scan.scanner_html("assets", "checked"))
    (folder.parent.parent / "flood.wasm").write_bytes(data)
    tab = chrome.new_page()
    tab.goto(page_html.as_uri())
    tab.wait_for_selector(".live-scan-ready", timeout=20_000)
    tab.evaluate("""() => { globalThis.turns = 0; globalThis.ticking = setInterval(() => { turns += 1; }, 10); }""")
    tab.set_input_files(".live-scan input[type=file]", str(folder.parent.parent / "flood.wasm"))
    tab.wait_for_function("document.querySelector('.live-scan-answer').dataset.answer", timeout=60_000)
    assert tab.evaluate("document.querySelector('.live-scan-answer').dataset.answer") == "affected"
    assert tab.evaluate("Math.max(...[...document.querySelectorAll('.live-scan-answer p')].map(p => p.textContent.length))") <= 400
    assert tab.evaluate("turns") >= TURNS


@pytest.mark.parametrize("initializer", ["(ref.null extern)", "(extern.convert_any (ref.i31 (i32.const 0)))"])
def test_a_large_table_after_an_initialized_one_is_capped_as_the_lab_caps_it(page, initializer):
    """The second attacker's GC initializer: the page stopped reading tables at it and ran a
    5,000,000-element table the lab refuses."""
    data = small_adapter(fields=f"(table 1 externref {initializer}) (table 5000000 funcref)")
    said = live_scan.page_view(live_scan.page_scan(page, data))
    assert said == live_scan.cli_view(data) and said["answer"] == "cannot tell"


def test_a_function_named_past_the_readers_line_length_keeps_the_count(page):
    """A function before the allocator whose printed line is longer than printed.LINE_MAX_BYTES:
    the lab counted functions one short and read no design; both sides now read the allocator."""
    data = small_adapter(memory=f'(import "env" "memory" (memory 1)) (func ${"n" * 1_500_000})')
    said = live_scan.page_view(live_scan.page_scan(page, data))
    assert said == live_scan.cli_view(data)
    assert "could not be read" not in said["findings"][0]["design"][1]
