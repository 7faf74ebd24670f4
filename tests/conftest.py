"""Shared fixtures. Every test runs the real thing: wasmtime, published adapters, our guests."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import wasmtime
from hypothesis import HealthCheck, settings

from analysis.artifacts import adapters, cache
from analysis.runs.runner import Runner

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root, where pyproject.toml and the notebooks are."""
REPORT_CASE = ("/a", "/b", "/c", "/d", "/e")
# Which builds sit where, per the upstream wasmtime tags and jco's changelog: jco 1.1.1
# (March 2024) predates the counting allocator of wasmtime PR #8749; jco 1.8.1 ships
# Wasmtime 27's adapter, inside the affected range; jco 1.10.0 ships Wasmtime 30's,
# after the fix (#10064, released in 29.0.1).
BEFORE_BUG = "jco-1.1.1"
AFFECTED = "jco-1.8.1"
FIXED = "jco-1.10.0"


@pytest.fixture(scope="session")
def runner() -> Runner:
    return Runner()


@pytest.fixture(scope="session")
def catalogue() -> tuple[adapters.AdapterBuild, ...]:
    return adapters.catalogue()


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m analysis`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args], capture_output=True, text=True, env=env, timeout=600
    )


# Hypothesis: 300 real-run examples by default; HYPOTHESIS_PROFILE=slow for 3,000.
settings.register_profile("default", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("slow", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def said():
    """What the lab logs while the test runs (``cache.LOG``), whatever handlers it has."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler, level = Keep(), cache.LOG.level
    cache.LOG.addHandler(handler)
    cache.LOG.setLevel(logging.INFO)
    yield lines
    cache.LOG.removeHandler(handler)
    cache.LOG.setLevel(level)


@pytest.fixture(autouse=True)
def _cpus_as_they_were():
    """The command line pins its thread to one CPU, as the lab does; a test that calls it
    in this process would leave pytest pinned, and every later subprocess on that CPU."""
    before = os.sched_getaffinity(0)
    yield
    os.sched_setaffinity(0, before)


def wait_until(condition, what, limit: float = 120) -> None:
    """Wait for ``condition`` (a loaded machine may take a while); fail if it never comes.
    A guard against a hang, not a timing: no test asserts how long anything took."""
    give_up = time.monotonic() + limit
    while not condition():
        if time.monotonic() > give_up:
            pytest.fail(f"{what() if callable(what) else what}: not seen within {limit:g} s")
        time.sleep(0.1)


def wat_guest(folder: Path, name: str, wat: str) -> Path:
    """A guest of your own, written as WAT: compiled into ``folder/name.wasm``."""
    path = folder / f"{name}.wasm"
    path.write_bytes(wasmtime.wat2wasm(wat))
    return path


def children_of(pid: int) -> list[int]:
    """Every process under ``pid``, children and theirs, read from /proc."""
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = [int(k) for k in task.read_text().split()]
            except OSError:  # the task ended meanwhile
                continue
            found += kids
            frontier += kids
    return found


def running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
