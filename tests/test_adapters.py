"""Adapter builds: pinned, fetched with npm for real, verified, cached atomically."""
from __future__ import annotations

import json

import pytest

from analysis.artifacts import adapters
from analysis.artifacts.adapters import AdapterBuild
from analysis.model.errors import LabError


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PREOPEN_LAB_CACHE", str(cache))
    return cache


def test_catalogue_has_one_entry_per_distinct_build(catalogue):
    assert len(catalogue) >= 12
    assert len({b.sha256 for b in catalogue}) == len(catalogue)
    releases = [r for b in catalogue for r in b.releases]
    assert len(releases) == len(set(releases))
    for build in catalogue:
        assert build.id == f"jco-{build.releases[0]}"
        assert len(build.sha256) == 64 and build.source


def test_every_catalogued_build_verifies(catalogue):
    for build in catalogue:
        path = adapters.fetch(build)
        assert adapters.sha256_file(path) == build.sha256
        assert path.read_bytes()[:4] == b"\0asm"


def test_a_release_resolves_to_the_build_that_ships_its_bytes():
    assert adapters.resolve("jco-1.10.2").id == "jco-1.10.0"
    assert adapters.resolve("jco-1.8.1").id == "jco-1.8.1"


def test_an_unlisted_release_is_recognised_by_its_checksum(empty_cache):
    """Fetched on demand, without the lock file's release list: the bytes decide."""
    build = adapters.fetch_release("1.10.2")
    assert build.id == "jco-1.10.0" and build.catalogued
    assert build.is_cached()
    assert (empty_cache / "adapters" / "releases" / "1.10.2.sha256").read_text().strip() == build.sha256


@pytest.mark.usefixtures("empty_cache")
def test_a_release_outside_the_lock_file_is_fetched_and_known_by_its_bytes(tmp_path, monkeypatch):
    """With a lock file that does not list jco 1.10.x at all, jco-1.10.2 is still served."""
    lock = json.loads(adapters.LOCK_FILE.read_text())
    lock["builds"] = [b for b in lock["builds"] if b["id"] != "jco-1.10.0"]
    trimmed = tmp_path / "adapters.lock.json"
    trimmed.write_text(json.dumps(lock))
    monkeypatch.setattr(adapters, "LOCK_FILE", trimmed)
    adapters.catalogue.cache_clear()
    try:
        build = adapters.resolve("jco-1.10.2")
        assert (build.id, build.catalogued) == ("jco-1.10.2", False)
        assert build.is_cached() and adapters.sha256_file(build.cache_path()) == build.sha256
        assert adapters.resolve("jco-1.10.2") == build  # the second time from the cache
    finally:
        adapters.catalogue.cache_clear()


def test_checksum_mismatch_is_refused_and_nothing_is_cached(empty_cache):
    wrong = AdapterBuild("jco-1.8.1", ("1.8.1",), "0" * 64, "a deliberately wrong pin")
    with pytest.raises(LabError, match="checksum mismatch for adapter jco-1.8.1"):
        adapters.fetch(wrong)
    assert not wrong.cache_path().exists()
    leftovers = [p for p in empty_cache.rglob("*") if p.is_file() and p.name != ".lock"]
    assert leftovers == []  # lock files hold no data; nothing half-written stays


@pytest.mark.usefixtures("empty_cache")
def test_a_damaged_cache_entry_is_fetched_again(catalogue):
    build = catalogue[0]
    path = adapters.fetch(build)
    path.write_bytes(path.read_bytes()[:1000])  # a truncated file
    assert not build.is_cached()
    assert adapters.sha256_file(adapters.fetch(build)) == build.sha256


@pytest.mark.usefixtures("empty_cache")
def test_missing_npm_is_one_clear_error(tmp_path, monkeypatch):
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", str(bare))
    with pytest.raises(LabError, match="npm was not found on PATH"):
        adapters.fetch(adapters.catalogue()[0])


def test_unpublished_release_is_one_clear_error(empty_cache):
    with pytest.raises(LabError, match=r"could not fetch adapter jco-9\.9\.9"):
        adapters.resolve("jco-9.9.9")
    assert not any(p.is_file() for p in empty_cache.rglob("*"))


@pytest.mark.parametrize("bad", ["1.8.1", "jco", "jco-latest", "wasmtime-29"])
def test_malformed_ids_are_refused_without_fetching(bad):
    with pytest.raises(LabError, match="unknown adapter"):
        adapters.resolve(bad)

