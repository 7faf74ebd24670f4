"""`repair` writes a command only when its check run reads all five MARKERs: each of the
report's five opens must read its own, not merely exit cleanly."""
from __future__ import annotations

import wasmtime

from analysis.artifacts import adapters, compose, guests
from analysis.reach import repair, scan

from conftest import AFFECTED, REPORT_CASE
from conftest import cli as lab


def test_a_repaired_opener_reads_each_of_the_five_markers(tmp_path):
    broken = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED))
    done = repair.repair(broken, tmp_path / "fixed.wasm")
    assert done.run is not None and done.run.paths == REPORT_CASE == repair.CHECK_PATHS
    assert done.run.outcomes == ("ok",) * 5 and done.run.exit_code == 0 and done.reads is done.run
    assert [p.marker for p in done.run.preopens] == [f"preopen-{i}" for i in range(5)]


LIAR = """(module
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "{\\"kind\\":\\"route\\",\\"fd\\":-1,\\"open_errno\\":44}\\n")
  (func (export "_start") (local $i i32)
    (drop (call $get (i32.const 3) (i32.const 16)))
    (drop (call $name (i32.const 4) (i32.const 256) (i32.const 2)))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 41))
    (loop $five
      (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $five (i32.lt_u (local.get $i) (i32.const 5))))))"""
"""A command that asks for names (so its adapter is exposed) and says, in the opener's words, that
each of its five opens found no preopen: it exits 0 and reads nothing."""


def test_a_command_that_exits_0_but_says_it_read_no_marker_is_refused_and_nothing_written(tmp_path):
    broken = compose.compose(wasmtime.wat2wasm(LIAR), adapters.resolve(AFFECTED))
    assert scan.scan_file(broken).answer == "affected"
    out = tmp_path / "fixed.wasm"
    done = lab("repair", str(broken), "-o", str(out))
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "read its own MARKER through 0 of the 5 preopens" in done.stderr and "exit status 0" in done.stderr
    assert "nothing was written" in done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_command_that_does_not_say_what_it_read_is_checked_with_the_labs_opener(tmp_path):
    """The probe opens no file: its repaired adapter's five reads are shown by the opener through it."""
    broken = compose.compose(guests.get("probe").wasm(), adapters.resolve(AFFECTED))
    done = repair.repair(broken, tmp_path / "fixed.wasm")
    assert done.run is not None and done.run.trap is None and done.run.guest != "opener"
    assert done.reads is not None and done.reads.guest == "opener" and done.reads.adapter == done.build
    assert [p.marker for p in done.reads.preopens] == [f"preopen-{i}" for i in range(5)]
