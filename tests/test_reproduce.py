"""The bug, reproduced for real: wasmtime-py as host, published adapter builds, our guests."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from analysis.model.results import RunResult

from conftest import AFFECTED, BEFORE_BUG, FIXED, REPORT_CASE


@pytest.mark.parametrize("adapter", ["native", BEFORE_BUG, FIXED])
def test_report_case_all_reachable_without_the_bug(runner, adapter):
    result = runner.run(REPORT_CASE, adapter=adapter)
    assert result.outcomes == ("ok",) * 5
    assert [p.name_seen for p in result.preopens] == list(REPORT_CASE)
    assert [p.routed_fd for p in result.preopens] == [3, 4, 5, 6, 7]
    assert [p.marker for p in result.preopens] == [f"preopen-{i}" for i in range(5)]


def test_report_case_only_first_and_last_survive_in_an_affected_build(runner):
    result = runner.run(REPORT_CASE, adapter=AFFECTED)
    assert result.outcomes == ("ok", "missing", "missing", "missing", "ok")
    # fds 4..7 all read back as the last name; wasi-libc's newest-first tie-break
    # sends /e to fd 7, which really is /e, and finds nothing for /b /c /d.
    assert [p.name_seen for p in result.preopens] == ["/a", "/e", "/e", "/e", "/e"]
    assert [p.routed_fd for p in result.preopens] == [3, -1, -1, -1, 7]
    assert [p.errno for p in result.preopens][1:4] == [44, 44, 44]  # ENOENT


def test_probe_sees_the_raw_answers(runner):
    result = runner.run(REPORT_CASE, guest="probe", adapter=AFFECTED)
    assert [(f.fd, f.errno, f.name_len, f.name) for f in result.fds] == [
        (3, 0, 2, "/a"), (4, 0, 2, "/e"), (5, 0, 2, "/e"), (6, 0, 2, "/e"), (7, 0, 2, "/e"),
        (8, 8, None, None),  # EBADF ends the walk
    ]
    assert result.outcomes == ("ok", "missing", "missing", "missing", "ok")
    assert {p.routed_by for p in result.preopens} == {"wasi-libc rule"}


@pytest.mark.parametrize("guest", ["opener", "probe"])
def test_fabricated_names(runner, guest):
    """/a /bbbb /c /dd: later names are written over earlier ones at one address."""
    affected = runner.run(["/a", "/bbbb", "/c", "/dd"], guest=guest, adapter=AFFECTED)
    assert [p.name_seen for p in affected.preopens] == ["/a", "/ddbb", "/d", "/dd"]
    fixed = runner.run(["/a", "/bbbb", "/c", "/dd"], guest=guest, adapter=FIXED)
    assert [p.name_seen for p in fixed.preopens] == ["/a", "/bbbb", "/c", "/dd"]


def test_silent_misrouting_reads_a_file_from_another_directory(runner):
    paths = ["/", "/tmp", "/home"]
    affected = runner.run(paths, adapter=AFFECTED)
    tmp = affected.preopens[1]
    assert tmp.name_seen == "/hom"
    assert (tmp.routed_fd, tmp.routed_prefix) == (3, "")
    assert tmp.marker == "preopen-0:tmp"  # tmp/MARKER inside the directory behind "/"
    assert tmp.errno is None  # and no error at all
    assert tmp.outcome == "misrouted"
    assert tmp.routed_to == 0

    fixed = runner.run(paths, adapter=FIXED)
    assert fixed.preopens[1].marker == "preopen-1"
    assert fixed.outcomes == ("ok", "ok", "ok")


def test_rust_std_prints_the_reports_message(runner):
    result = runner.run(REPORT_CASE, guest="rust-open", adapter=AFFECTED)
    assert result.lines[0] == "ok /a: preopen-0"
    assert result.lines[4] == "ok /e: preopen-4"
    for line, path in zip(result.lines[1:4], ["/b", "/c", "/d"]):
        assert line == (
            f"error {path}: failed to find a pre-opened file descriptor "
            f'through which "{path}/MARKER" could be opened'
        )
    assert result.outcomes == ("ok", "missing", "missing", "missing", "ok")


def test_rust_std_reads_everything_natively(runner):
    result = runner.run(REPORT_CASE, guest="rust-open")
    assert result.lines == tuple(f"ok {p}: preopen-{i}" for i, p in enumerate(REPORT_CASE))


@pytest.mark.parametrize("adapter", ["native", AFFECTED, FIXED])
def test_odd_names_are_experiments_not_errors(runner, adapter):
    paths = [".", "rel", "/", "/a", "/a", "/x/../y"]
    result = runner.run(paths, adapter=adapter)
    assert len(result.preopens) == len(paths)
    assert result.trap is None and result.exit_code == 0
    # In the affected build fd 4 reads 3 bytes of the last name written, "/x/../y".
    assert [p.name_seen for p in result.preopens][:3] == [".", "/x/" if adapter == AFFECTED else "rel", "/"]
    if adapter != AFFECTED:
        # Duplicates: wasi-libc's newest-first scan sends both to the later fd.
        assert [result.preopens[i].routed_fd for i in (3, 4)] == [7, 7]
        assert result.preopens[3].outcome == "misrouted"


def test_an_empty_name_is_ebadf_through_the_adapter_and_wasi_libcs_scan_stops_there(runner):
    """The adapter answers EBADF for the empty name's fd alone (the walker is told fd 5's name); the
    opener, on wasi-libc, stops at that EBADF and loses /b. Natively every fd answers."""
    paths = ["/a", "", "/b"]
    native = runner.run(paths)
    assert [f.fd for f in native.fds if f.errno == 0] == [3, 4, 5]
    assert native.outcomes == ("ok", "ok", "ok")
    for adapter in (AFFECTED, FIXED):
        result = runner.run(paths, adapter=adapter)
        assert [(f.fd, f.errno) for f in result.fds] == [(3, 0), (4, 8)]
        assert result.outcomes == ("ok", "missing", "missing")
        walked = runner.run(paths, guest="walker", adapter=adapter)
        assert [(f.fd, f.errno) for f in walked.fds][:4] == [(3, 0), (4, 8), (5, 0), (6, 8)]
        assert walked.outcomes == ("ok", "ok", "ok")


def test_more_preopens_than_the_adapter_holds_is_a_trap_result(runner):
    paths = [f"/d{i}" for i in range(126)]
    result = runner.run(paths, adapter=FIXED)
    assert set(result.outcomes) == {"trap"}
    assert "unreachable" in result.trap_summary
    assert runner.run(paths).all_ok  # natively the same list is fine


def test_temporary_roots_are_removed(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    runner.run(REPORT_CASE, adapter=AFFECTED)
    runner.run([f"/d{i}" for i in range(126)], adapter=FIXED)  # a trapping run too
    assert list(tmp_path.iterdir()) == []


def test_default_scratch_roots_are_removed_too(runner):
    from analysis.runs.hostdirs import scratch_base

    base = Path(scratch_base())
    before = set(base.glob("preopen-lab-*"))
    runner.run(REPORT_CASE, adapter=AFFECTED)
    runner.run([f"/d{i}" for i in range(126)], adapter=FIXED)
    assert set(base.glob("preopen-lab-*")) <= before


def test_result_json_round_trips_exact_bytes(runner):
    result = runner.run(["/a", "/caf\u00e9", "/\u00e9t\u00e9", "/b"], guest="probe", adapter=AFFECTED)
    again = RunResult.from_json(result.to_json())
    assert again == result
    # "/b" lands on top of "/\u00e9t\u00e9", leaving half of the first \u00e9 behind: an
    # invalid byte that must survive exactly, through the result and its JSON.
    from analysis.model.wasi import encode

    assert encode(again.preopens[1].name_seen) == b"/b\xa9t\xc3\xa9"
