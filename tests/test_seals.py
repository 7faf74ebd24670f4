"""What the pages are built from comes out of the cache only under this user's seal.

Whoever can write a shared cache can plant an entry with any hash beside it, but cannot
compute the seal: each entry below is planted as an attacker would (edited, its sha256
recomputed, a seal under a guessed key) and the lab is shown to make it again from real
runs rather than use it. Also: the cleaner of abandoned folders touches only this user's.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
from pathlib import Path

import pytest

from analysis.artifacts import adapters, cache, seal
from analysis.reach import host_matrix, survey

HOST = "pywasm"
LISTS = {"one preopen": ("/a",)}
"""The smallest real matrix: one host, one list (about a second). pywasm answers stdio's
fds with an errno wasmtime does not (a host bug); on ``/a`` it tells what wasmtime tells."""


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PREOPEN_LAB_CACHE", str(folder))
    return folder


def without_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on no usable key: the config folder cannot be made (a file stands where it
    would go). ``seal.key`` is worked out again after the test (``_key_as_it_was``)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    seal.key.cache_clear()
    assert seal.key() is None


@pytest.fixture(autouse=True)
def _key_as_it_was(monkeypatch):
    yield
    monkeypatch.undo()
    seal.key.cache_clear()


@pytest.fixture
def no_key(tmp_path, monkeypatch):
    without_key(tmp_path, monkeypatch)


def plant(path: Path, data: bytes) -> None:
    """An entry as someone without the key would write it: the bytes, their sha256 beside
    them, and a seal under a guessed key."""
    path.write_bytes(data)
    path.with_name(path.name + ".sha256").write_text(hashlib.sha256(data).hexdigest())
    path.with_name(path.name + seal.SEAL_SUFFIX).write_text(hmac.new(b"a guess", data, "sha256").hexdigest())


def only_entry(folder: Path, suffix: str) -> Path:
    found = [p for p in folder.rglob(f"*{suffix}") if not p.name.startswith(".")]
    assert len(found) == 1, found
    return found[0]


# -- the host matrix (page 8) ------------------------------------------------------------


def _as_host_bugs(entry: bytes) -> bytes:
    """The matrix with every cell turned into a host bug, as page 8 would then state."""
    data = json.loads(entry)
    for cell in data["cells"]:
        cell["verdict"] = "host bug"
    return json.dumps(data, ensure_ascii=False).encode()


def test_an_edited_host_matrix_is_measured_again_never_shown(fresh_cache, runner, said):
    honest = host_matrix.measured(runner, [HOST], LISTS)
    assert honest.cell(HOST, "non-directory fd").verdict == "host bug" and honest.cell(HOST, "names").verdict == "same"
    entry = only_entry(fresh_cache / "host-matrix", ".json")
    assert seal.seal_holds(entry, entry.read_bytes())
    assert host_matrix.measured(runner, [HOST], LISTS) == honest  # kept: read back, not measured

    planted = _as_host_bugs(entry.read_bytes())
    plant(entry, planted)
    again = host_matrix.measured(runner, [HOST], LISTS)
    assert again.cell(HOST, "names").verdict == "same"  # measured afresh, not the planted host bug
    assert [c.verdict for c in again.cells] == [c.verdict for c in honest.cells]
    assert entry.read_bytes() != planted and seal.seal_holds(entry, entry.read_bytes())
    assert [line for line in said if "fails its seal" in line] == [
        f"the host matrix in the cache ({entry.name}) fails its seal: made again, not used"]


def test_a_sealed_matrix_moved_to_another_key_fails_its_seal(fresh_cache, runner):
    """The seal covers the entry's name: a real matrix of other lists, sealed by the lab,
    copied under this key with its seal, is not taken for this one."""
    other = host_matrix.measured(runner, [HOST], {"two preopens": ("/a", "/b")})
    source = only_entry(fresh_cache / "host-matrix", ".json")
    mine = host_matrix.measured(runner, [HOST], LISTS)
    target = next(p for p in (fresh_cache / "host-matrix").glob("*.json") if p != source)
    target.write_bytes(source.read_bytes())
    target.with_name(target.name + seal.SEAL_SUFFIX).write_bytes(
        source.with_name(source.name + seal.SEAL_SUFFIX).read_bytes())
    again = host_matrix.measured(runner, [HOST], LISTS)
    assert again.differ == mine.differ != other.differ


def test_without_a_key_no_matrix_is_kept_or_read(fresh_cache, runner, tmp_path, monkeypatch):
    """A matrix the lab sealed, then edited, then the key gone: nothing can be checked, so
    nothing is read (the entry is measured afresh) and nothing is kept (the entry goes)."""
    honest = host_matrix.measured(runner, [HOST], LISTS)
    entry = only_entry(fresh_cache / "host-matrix", ".json")
    plant(entry, _as_host_bugs(entry.read_bytes()))
    without_key(tmp_path, monkeypatch)
    again = host_matrix.measured(runner, [HOST], LISTS)
    assert [c.verdict for c in again.cells] == [c.verdict for c in honest.cells]
    assert not entry.exists() and not entry.with_name(entry.name + seal.SEAL_SUFFIX).exists()
    host_matrix.measured(runner, [HOST], LISTS)
    assert not list((fresh_cache / "host-matrix").glob("*.json"))


# -- the survey of published packages (page 7, the toolchain map) ------------------------


def test_an_edited_survey_entry_is_surveyed_again_never_shown(fresh_cache, said):
    honest = survey._release(survey.JCO, "1.8.1")
    assert "affected" in [r.answer for r in honest]
    entry = only_entry(fresh_cache / "survey", ".json")
    assert seal.seal_holds(entry, entry.read_bytes())

    rows = json.loads(entry.read_bytes())
    for row in rows:  # the bug hidden: every file "not affected"
        row["answer"], row["evidence"] = "not affected", "every name told right"
    planted = json.dumps(rows, indent=1).encode()
    plant(entry, planted)
    again = survey._release(survey.JCO, "1.8.1")
    assert [(r.file, r.sha256, r.answer) for r in again] == [(r.file, r.sha256, r.answer) for r in honest]
    assert entry.read_bytes() != planted and seal.seal_holds(entry, entry.read_bytes())
    assert any("the survey of @bytecodealliance/jco 1.8.1" in line and "fails its seal" in line for line in said)


@pytest.mark.usefixtures("no_key")
def test_without_a_key_no_survey_is_kept(fresh_cache):
    rows = survey._release(survey.JCO, "1.8.1")
    assert rows and not list((fresh_cache / "survey").rglob("*.json"))


# -- which build an unlisted release is --------------------------------------------------


def test_a_planted_release_record_cannot_map_a_release_to_another_build(fresh_cache, said):
    """jco 1.10.2 ships jco-1.10.0's adapter (fixed); a record naming jco-1.8.1's bytes
    (affected) is not believed: the release is fetched and known by its own bytes."""
    affected = adapters.resolve("jco-1.8.1")
    record = fresh_cache / "adapters" / "releases" / "1.10.2.sha256"
    record.parent.mkdir(parents=True)
    plant(record, f"{affected.sha256}\n".encode())
    build = adapters.fetch_release("1.10.2")
    assert build.id == "jco-1.10.0" and build.sha256 != affected.sha256
    assert record.read_text().strip() == build.sha256 and seal.seal_holds(record, record.read_bytes())
    assert adapters.fetch_release("1.10.2") == build  # now from the sealed record
    assert any("the checksum of jco 1.10.2" in line and "fails its seal" in line for line in said)


@pytest.mark.usefixtures("no_key")
def test_without_a_key_no_release_record_is_kept(fresh_cache):
    assert adapters.fetch_release("1.10.2").id == "jco-1.10.0"
    assert not (fresh_cache / "adapters" / "releases" / "1.10.2.sha256").exists()


# -- clear_abandoned: this user's entries of dead processes only ---------------------------


def _dead_pid() -> int:
    """The id of a process of this user's that has ended (and been reaped)."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_an_abandoned_folder_of_this_user_is_removed(tmp_path):
    folder = tmp_path / f"preopen-lab-{_dead_pid()}-abcd"
    (folder / "inner").mkdir(parents=True)
    alive = tmp_path / f"preopen-lab-{os.getpid()}-efgh"
    alive.mkdir()
    assert cache.clear_abandoned(tmp_path, "preopen-lab-") == [folder]
    assert not folder.exists() and alive.exists()


def test_an_entry_of_another_user_is_left_whatever_its_name(tmp_path):
    """In a shared folder (``/dev/shm``) anyone can name a folder ``preopen-lab-<pid>-``; only
    its owner's processes say whether it is abandoned."""
    if os.getuid() != 0:
        pytest.skip("making an entry owned by another user needs root (chown)")
    other = 65534 if os.getuid() != 65534 else 65533  # nobody
    dead = _dead_pid()
    folder = tmp_path / f"preopen-lab-{dead}-theirs"
    (folder / "inner").mkdir(parents=True)
    file = tmp_path / f"preopen-lab-{dead}-file"
    file.write_text("theirs")
    link = tmp_path / f"preopen-lab-{dead}-link"
    link.symlink_to(tmp_path / "elsewhere")
    for entry in (folder, file, link):
        os.chown(entry, other, other, follow_symlinks=False)
    mine = tmp_path / f"preopen-lab-{dead}-mine"
    mine.mkdir()
    assert cache.clear_abandoned(tmp_path, "preopen-lab-") == [mine]
    assert folder.is_dir() and (folder / "inner").is_dir() and file.read_text() == "theirs" and link.is_symlink()


def test_planted_code_shapes_never_name_the_build_a_scan_resembles(said, monkeypatch, tmp_path):
    """Which catalogued build a scanned adapter's code is said to be (page 7, the survey)
    comes from shapes kept beside each adapter: a list planted there is computed again.
    In a cache of its own (the adapter copied in), so no other test process remakes it meanwhile."""
    from analysis.reach import scan

    build = adapters.resolve("jco-1.8.1")
    published = adapters.fetch(build).read_bytes()
    monkeypatch.setenv("PREOPEN_LAB_CACHE", str(tmp_path / "cache"))
    build.cache_path().parent.mkdir(parents=True)
    build.cache_path().write_bytes(published)
    kept = build.cache_path().with_name(build.cache_path().name + ".shapes")
    scan._catalogue_shapes.cache_clear()
    try:
        honest = scan._catalogue_shapes("command")[build.id]
        kept.write_text(json.dumps(["planted"]))
        kept.with_name(kept.name + ".sha256").write_text(hashlib.sha256(kept.read_bytes()).hexdigest())
        scan._catalogue_shapes.cache_clear()
        assert scan._catalogue_shapes("command")[build.id] == honest
        assert any("fails its seal" in line for line in said)
        assert seal.seal_holds(kept, kept.read_bytes())
    finally:
        scan._catalogue_shapes.cache_clear()
