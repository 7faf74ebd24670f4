"""The guests: built from the sources committed beside them, and behaving as committed."""
from __future__ import annotations

import dataclasses
import json

import pytest

from analysis.artifacts import guests
from analysis.model.errors import LabError

from conftest import AFFECTED, FIXED


def test_probe_is_compiled_from_its_wat_at_run_time():
    probe = guests.get("probe")
    assert probe.binary is None and probe.source.suffix == ".wat"
    assert probe.wasm()[:4] == b"\0asm"


@pytest.mark.parametrize("name", ["opener", "rust-open"])
def test_committed_binaries_sit_next_to_their_sources(name):
    guest = guests.get(name)
    assert guest.source.is_file() and guest.binary.is_file()
    assert guest.binary.parent == guest.source.parent
    assert guest.binary.read_bytes()[:4] == b"\0asm"


def test_unknown_guest_is_refused():
    with pytest.raises(LabError, match="unknown guest 'nope'"):
        guests.get("nope")


def test_opener_lines_are_json(runner):
    result = runner.run(["/a", "/b"], guest="opener")
    records = [json.loads(line) for line in result.lines]
    assert [r["kind"] for r in records] == ["prestat"] * 3 + ["route"] * 2


def test_the_keeper_is_the_opener_built_to_keep_its_files_open():
    keeper, opener = guests.get("keeper"), guests.get("opener")
    assert keeper.source == opener.source and keeper.binary.is_file() and keeper.wasm() != opener.wasm()


def test_the_walker_asks_past_an_empty_names_ebadf_and_opens_through_each_fd(runner):
    result = runner.run(["/a", "", "/b"], guest="walker", adapter=FIXED)
    records = [json.loads(line) for line in result.lines]
    assert [r["fd"] for r in records] == list(range(3, 134))
    assert [r["errno"] for r in records[:4]] == [0, 8, 0, 8]
    assert result.outcomes == ("ok", "ok", "ok")


def test_rust_opens_reports_are_read_whole_when_a_path_holds_a_newline(runner):
    for adapter in ("native", FIXED):
        assert runner.run(["/a\nb", "/c"], guest="rust-open", adapter=adapter).outcomes == ("ok", "ok")


def test_the_opener_has_fuel_for_the_largest_lists_a_claim_speaks_about(runner):
    """124 names of 3,000 bytes ran out of a fixed 2 × 10⁹ budget at the 83rd open (a reader's list)."""
    paths = [f"/{i:03d}" + "x" * 2_996 for i in range(124)]
    assert runner.run(paths, adapter=FIXED).outcomes == ("ok",) * 124


@pytest.mark.slow
@pytest.mark.parametrize("name", ["opener", "keeper"])
def test_rebuilt_c_guests_behave_like_the_committed_ones(runner, tmp_path, name):
    """Rebuild opener.c with zig (from PyPI) and run both builds on the same cases."""
    committed = guests.get(name)
    rebuilt = dataclasses.replace(committed, binary=guests.build(name, tmp_path / f"{name}.wasm"))
    cases = [("/a", "/b", "/c", "/d", "/e"), ("/", "/tmp", "/home"), ("/a", "/bbbb", "/c", "/dd")]
    for paths in cases:
        for adapter in ("native", AFFECTED, FIXED):
            mine = runner.run(paths, guest=rebuilt, adapter=adapter)
            theirs = runner.run(paths, guest=committed, adapter=adapter)
            assert mine == theirs, (paths, adapter)


@pytest.mark.parametrize("adapter", ["native", FIXED])
def test_probe_reports_a_name_of_tens_of_kilobytes(runner, adapter):
    """The probe takes pages of its own for big names: the adapter's state lives in the
    same memory, just past the probe's first page, and must not be written over."""
    name = "/" + "x" * 49_999
    result = runner.run([name], guest="probe", adapter=adapter)
    assert result.trap is None
    assert (result.fds[0].name_len, result.fds[0].name) == (50_000, name)
