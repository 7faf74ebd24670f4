"""Hostile guests on every host the lab offers, run as a user runs them (``run --host``):
nothing written outside the run's root, no host file overwritten, every run ended under its
bounds with an outcome and exit status the host gave, never one the guest wrote."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.artifacts import guests, seal
from analysis.runs import host_process, landlock, wasip1_hosts
from analysis.runs.bounds import DISK_LIMIT_HIT, HOST_MEMORY, MEMORY_LIMIT_HIT
from analysis.runs.hostdirs import make_host_dirs
from analysis.runs.wasip1_hosts import P1_HOSTS

from conftest import FIXED
from conftest import cli as lab

GUESTS_OF_YOURS = [h for h in P1_HOSTS if h != "wamr"]
"""The WASIp1 hosts that run a guest of your own (wamr cannot say how one ended)."""
COMPONENT_HOSTS = ("wasmtime-cli", "node")
IN_MEMORY = ("browser-wasi-shim", "wasmer-wasi", "runno")
"""Hosts whose files live in the host process's memory: a guest's writes never reach a disk."""

needs_landlock = pytest.mark.skipif(not host_process.confined(), reason="this kernel has no Landlock")


def _hostile(name: str, folder: Path) -> str:
    return str(guests.hostile(name, folder).binary)


def _run(folder: Path, guest: str, host: str, *paths: str, adapter: str | None = None) -> tuple[dict, str]:
    where = ["--adapter", adapter] if adapter else ["--native"]
    done = lab("run", *where, "--host", host, "--guest", guest, *paths, "--json")
    assert "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def _targets(tmp_path: Path, host: str) -> tuple[Path, Path, Path]:
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    script = wasip1_hosts.wasip1_home() / "wasip1.mjs"
    return outside / f"abs-{host}", outside / f"rel-{host}", script


# -- paths ---------------------------------------------------------------------------------


@needs_landlock
@pytest.mark.parametrize("host, adapter", [*((h, None) for h in GUESTS_OF_YOURS),
                                           *((h, FIXED) for h in COMPONENT_HOSTS)])
def test_a_guest_that_escapes_writes_nothing_outside_its_run_root(tmp_path, host, adapter):
    """By an absolute path, by climbing with .., by a symlink it made, and at the host's own
    script in the cache: wasi-js and wasm-util follow all of these by themselves."""
    absolute, relative, script = _targets(tmp_path, host)
    before = script.read_bytes()
    climb = "../" * 40 + str(relative).lstrip("/")
    _run(tmp_path, _hostile("escaper", tmp_path), host, "/a", str(absolute), climb, str(script), adapter=adapter)
    assert not absolute.exists() and not relative.exists()
    assert not any((tmp_path / "outside").iterdir())
    assert script.read_bytes() == before and seal.tree_holds(script.parent)


def test_without_landlock_a_guest_of_yours_runs_only_on_a_host_that_keeps_it_in(tmp_path, monkeypatch):
    """The kernel's answer taken away (as on a kernel without Landlock): a host measured to
    let guests out refuses a guest of your own in one line; the lab's own guests still run."""
    monkeypatch.setattr(landlock, "abi", lambda: 0)
    paths = ("/a", "/b")
    module = guests.hostile("escaper", tmp_path).wasm()

    def populate(root: Path) -> list[tuple[str, str]]:
        return list(zip(make_host_dirs(root, paths), paths))

    for host in ("wasi-js", "wasm-util"):
        assert not P1_HOSTS[host].keeps_in
        with pytest.raises(Exception, match="lets a guest out of its preopens and this kernel has no Landlock"):
            wasip1_hosts.execute(host, module, ["escaper", *paths], populate, 10)
        own = wasip1_hosts.execute(host, guests.get("opener").wasm(), ["opener", *paths], populate, 10, own=True)
        assert own.exit_code == 0
    kept_in = wasip1_hosts.execute("node-wasi", module, ["escaper", *paths], populate, 10)
    assert kept_in.exit_code == 0 and kept_in.trap is None


def test_wamr_refuses_a_guest_of_yours_in_one_line(tmp_path):
    done = lab("run", "--native", "--host", "wamr", "--guest", _hostile("exit256", tmp_path), "/a")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "8 bits" in done.stderr


# -- how it ended ----------------------------------------------------------------------------


@pytest.mark.parametrize("host", GUESTS_OF_YOURS)
def test_an_exit_code_past_255_is_never_wrapped(tmp_path, host):
    result, _ = _run(tmp_path, _hostile("exit256", tmp_path), host, "/a")
    if host == "wasmtime-cli":  # the CLI refuses codes outside WASI's range, and says 1 may be that
        assert result["exit_code"] == 1 and any("126 or more" in said for said in result["limits"])
    else:
        assert result["exit_code"] == 256 and result["trap"] is None


@pytest.mark.parametrize("host", GUESTS_OF_YOURS)
def test_a_trap_the_guest_words_itself_is_no_trap(tmp_path, host):
    result, _ = _run(tmp_path, _hostile("fake-trap", tmp_path), host, "/a")
    assert result["trap"] is None and result["exit_code"] == 1
    assert [p["outcome"] for p in result["preopens"]] == ["missing"]


# -- memory and disk ---------------------------------------------------------------------------


def _peak_child_rss(*args: str) -> tuple[dict, int]:
    """Run the lab in a fresh process and measure the largest resident set among everything
    it started (``RUSAGE_CHILDREN`` of a process that only waits for it)."""
    probe = ("import json, resource, subprocess, sys\n"
             "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "print(json.dumps({'rc': done.returncode, 'out': done.stdout, 'err': done.stderr,\n"
             "    'peak': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))\n")
    done = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "analysis", *args],
                          capture_output=True, text=True, timeout=600)
    said = json.loads(done.stdout)
    assert said["rc"] == 0 and "Traceback" not in said["err"], said["err"]
    return json.loads(said["out"]), said["peak"]


@pytest.mark.parametrize("host", GUESTS_OF_YOURS)
def test_a_guest_asking_for_4_gib_stays_under_the_memory_bound(tmp_path, host):
    """Grown 64 MiB at a time and touched: refused at the host's own knob (1 GiB), or ended
    by the lab's watch, never past ``HOST_MEMORY`` and a poll's worth of growth."""
    result, peak = _peak_child_rss("run", "--native", "--host", host, "--guest",
                                   _hostile("memory-grower", tmp_path), "/a", "--json")
    assert peak < HOST_MEMORY + (256 << 20)
    refused = result["exit_code"] == 1  # memory.grow answered -1: the guest says so by exiting 1
    ended = (result["trap"] or "").startswith(MEMORY_LIMIT_HIT)
    assert refused or ended, result["trap"]


@pytest.mark.parametrize("host", [h for h in GUESTS_OF_YOURS if h not in IN_MEMORY] + ["wasmtime-py"])
def test_a_guest_filling_its_preopen_is_ended_at_the_disk_bound(tmp_path, host):
    """120 files of 16 MiB, each under the per-file cap: the run's total is what stops it."""
    where = ["--native"] if host == "wasmtime-py" else ["--native", "--host", host]
    result, _ = _peak_child_rss("run", *where, "--guest", _hostile("disk-filler", tmp_path), "/a", "--json")
    if host == "wasm-util":  # measured: its path_open refuses O_CREAT|O_TRUNC with these rights; nothing written
        assert result["exit_code"] == 0
        return
    assert result["trap"].startswith(DISK_LIMIT_HIT), result["trap"]
    assert [p["outcome"] for p in result["preopens"]] == ["trap"]


@pytest.mark.parametrize("host", IN_MEMORY)
def test_an_in_memory_host_filling_up_ends_under_the_memory_bound(tmp_path, host):
    if host == "browser-wasi-shim":
        pytest.skip("browser-wasi-shim copies a file at each append: 40 s to reach the bound; "
                    "its memory bound is the 4 GiB test's")
    result, peak = _peak_child_rss("run", "--native", "--host", host, "--guest",
                                   _hostile("disk-filler", tmp_path), "/a", "--json")
    assert peak < HOST_MEMORY + (256 << 20)
    assert result["trap"] is not None  # the memory bound, or the host's own failure to hold it


@needs_landlock
def test_a_host_process_writes_only_its_root_and_never_reads_the_key(tmp_path):
    """The kernel's hold, without any host's own checks: a shell in a host's place."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    key = seal.key_path()
    assert seal.key() is not None
    script = (f"echo in > {root}/made; echo out > {outside}/made; cat {key} > {root}/stolen; "
              f"echo '{{\"exit\": 0}}' >&\"$PREOPEN_LAB_STATUS_FD\"")
    done = host_process.run("node-wasi", host_process.HostCommand(["bash", "-c", script], reports=True), str(root),
                            10.0, own=True, keeps_in=True)
    assert done.exit_code == 0
    assert (root / "made").read_text() == "in\n"
    assert not (outside / "made").exists()
    assert (root / "stolen").read_bytes() == b""  # the shell made the file; the key could not be read


@pytest.mark.parametrize("host", ["node-wasi", "wasmtime-cli"])
def test_a_guest_of_yours_asleep_on_a_host_gets_the_wasmtime_deadline(tmp_path, host):
    """An hour's sleep in poll_oneoff: ended at the deadline a guest of yours has under
    wasmtime-py (10 s and its grace), not the two minutes the lab's own guests may take."""
    result, _ = _run(tmp_path, _hostile("sleeper", tmp_path), host, "/a")
    assert result["trap"] == f"stopped by the lab after 12 s: {host} was still running"
    assert [p["outcome"] for p in result["preopens"]] == ["timeout"]
