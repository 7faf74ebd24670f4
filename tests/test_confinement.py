"""Does each WASIp1 host keep a guest inside its preopens? The matrix's confinement check on
every host, each answer held to what that run's folder held just before the lab removed it,
and nothing written outside the run folders."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis.reach import host_matrix
from analysis.reach.host_checks import ATTEMPTS, ESCAPE_NAMES, ESCAPES, OUTSIDE, REFERENCE
from analysis.runs import host_process, hostdirs
from analysis.runs.wasip1_hosts import P1_HOSTS

ESCAPED = {
    # Measured (Linux, the hosts' processes under Landlock): the escapes whose file the disk showed
    # outside the preopen. @tybys/wasm-util's `..` is not among them: it sends that file to the top
    # folder of the run's path, where Landlock refuses it (EACCES).
    REFERENCE: (), "wasmtime-cli": (), "node-wasi": (), "browser-wasi-shim": (), "wasmer-wasi": (), "runno": (),
    "pywasm": (),
    "wasm-util": ("absolute", "symlink"),
    "wasi-js": ("dotdot", "absolute", "symlink"),
    "wamr": ("symlink",),
}
IN_MEMORY = ("browser-wasi-shim", "wasmer-wasi", "runno")
"""Hosts that copy the preopen into memory: nothing the guest writes reaches the disk."""
CONTENT = b"escaped\n"
"""What the confine guest writes to each file it opens."""


def _tree(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``, links not followed: relative path -> ("dir",), ("link", target)
    or ("file", bytes)."""
    found: dict[str, tuple] = {}
    for here, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(here, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = ("dir",)
            else:
                found[rel] = ("file", path.read_bytes())
    return found


def _strays(places: list[Path]) -> set[Path]:
    """The files a confine guest names (``ATTEMPTS``, ``link``), wherever they are in ``places``."""
    names = {*ATTEMPTS.values(), "link"}
    return {place / name for place in places for name in names if os.path.lexists(place / name)}


@pytest.fixture(scope="module")
def measured(runner, tmp_path_factory):
    """The matrix, every host, on one short list; run folders in a folder of this test's own,
    each one's files kept as they were just before the lab removed it."""
    base = tmp_path_factory.mktemp("confinement")
    top = Path("/", base.parts[1])  # where @tybys/wasm-util's `..` lands
    places = [base, base.parent, top, Path.cwd(), Path.cwd().parent]
    before = _strays(places)
    folders: dict[Path, dict[str, tuple]] = {}
    remove = hostdirs.remove_tree

    def look_then_remove(root: Path) -> None:
        folders[Path(root)] = _tree(Path(root))
        remove(root)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hostdirs, "scratch_base", lambda: str(base))
        patch.setattr(hostdirs, "remove_tree", look_then_remove)
        matrix = host_matrix.measure(None, {"one": ("/a",)}, runner)
    return matrix, folders, base, before, places


def _answer(measured, host):
    matrix = measured[0]
    found = matrix.confinement[host]
    if found.problem and found.problem.startswith("not run") and not host_process.confined():
        pytest.skip(f"{host}: {found.problem}")
    assert found.problem is None, found.problem
    return found


@pytest.mark.parametrize("host", [REFERENCE, *P1_HOSTS])
def test_each_hosts_answer_is_what_its_run_folder_held(measured, host):
    found = _answer(measured, host)
    folders = measured[1]
    root = Path(found.attempt("absolute").path).parent  # the guest's absolute target: <run root>/escaped-absolute
    assert root in folders, f"no run folder {root} was removed"
    held = folders[root]
    for attempt in found.attempts:
        outside, inside = held.get(ATTEMPTS[attempt.attempt]), held.get(f"p0/{ATTEMPTS[attempt.attempt]}")
        assert (attempt.landed == OUTSIDE) == (outside is not None), (attempt, outside)
        assert (attempt.landed == "in the preopen") == (inside is not None), (attempt, inside)
        if outside or inside:  # a file the guest made holds what it wrote, and it was told so
            assert (outside or inside) == ("file", CONTENT) and attempt.errno == 0 and attempt.written == len(CONTENT)
    assert found.escaped == ESCAPED[host]
    if host != REFERENCE:
        verdict = measured[0].cell(host, "confinement").verdict
        assert verdict == ("host bug" if found.escaped else "same"), verdict


@pytest.mark.parametrize("host", IN_MEMORY)
def test_an_in_memory_host_writes_nothing_to_the_disk_whatever_it_tells(measured, host):
    found = _answer(measured, host)
    control = found.attempt("inside")
    assert control.errno == 0 and control.landed == "not on disk"
    assert all(a.landed == "not on disk" for a in found.attempts)


def test_nothing_is_written_outside_the_run_folders(measured):
    matrix, folders, base, before, places = measured
    assert folders and all(root.parent == base for root in folders)
    assert not list(base.iterdir()), "a run left something beside its folder"
    assert _strays(places) == before
    assert {a for h in matrix.confinement for a in matrix.confinement[h].escaped} <= set(ESCAPES)


def test_a_refusal_left_no_file(measured):
    """Where a host told the guest an escape failed, the disk agrees (a success is another matter:
    see the in-memory hosts)."""
    for host, found in measured[0].confinement.items():
        for attempt in found.attempts:
            if attempt.errno not in (0, None):
                assert attempt.landed == "not on disk", (host, attempt)


def test_the_table_and_the_sentence_say_what_the_disk_showed(measured):
    from analysis.findings import other_hosts
    from analysis.show import host_tables

    matrix = measured[0]
    table = host_tables.confinement_frame(matrix).set_index("host")
    assert list(table.index) == [REFERENCE, *P1_HOSTS]
    ran = [h for h in ESCAPED if not matrix.confinement[h].problem]  # without Landlock, the escapers do not run
    for host in ran:
        answer, escaped = table.loc[host, "keeps the guest in"], ESCAPED[host]
        shown = "no: " + ", ".join(ESCAPE_NAMES[e] for e in escaped)
        assert answer == shown if escaped else answer.startswith("yes"), (host, answer)
    said = other_hosts.confinement_claims(matrix)
    assert said and all(c.holds for c in said)
    out = [h for h in P1_HOSTS if ESCAPED[h] and h in ran]
    assert f"created files outside it on {len(out)} of the {len(P1_HOSTS)} hosts" in said[0].statement
    assert all(h in said[0].statement for h in out)


def test_without_landlock_a_host_that_lets_guests_out_is_not_run(runner, monkeypatch, tmp_path):
    """On a kernel without Landlock the confine guest runs as a guest of your own: a host that
    lets guests out refuses it, and the check says "not run", never that the host kept it in."""
    from analysis.reach.host_checks import confinement

    monkeypatch.setattr(host_process, "confined", lambda: False)
    monkeypatch.setattr(hostdirs, "scratch_base", lambda: str(tmp_path))
    found = confinement("wasi-js", runner)
    assert found.problem and found.problem.startswith("not run") and found.escaped == ()
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("host", list(P1_HOSTS))
def test_what_the_lab_declares_of_a_host_is_what_it_measures(measured, host):
    """``P1Host.keeps_in`` (which decides, without Landlock, whether a guest of yours runs there)
    is held to this check's measurement."""
    assert P1_HOSTS[host].keeps_in == (not _answer(measured, host).escaped)
