"""Guests and places that fight back, each with the real fault: a guest asleep in a host
call, real signals to a real process, output without end, a real full tmpfs, kill -9
and its litter, and the messages a user reads."""
from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from analysis.artifacts import guests, npm
from analysis.artifacts.cache import cache_dir
from analysis.model.errors import LabError
from analysis.model.results import OUTPUT_LIMIT_HIT, STOPPED
from analysis.runs import hostdirs
from analysis.runs.contained import GRACE
from analysis.runs.runner import Runner

from conftest import FIXED, REPORT_CASE, ROOT, children_of, running, wait_until, wat_guest
from conftest import cli as lab


def _left_by(pid: int) -> list[Path]:
    """Run folders a process with this id left in either scratch place."""
    places = {hostdirs.scratch_base(), tempfile.gettempdir()}
    return [p for place in places for p in Path(place).glob(f"{hostdirs.RUN_PREFIX}{pid}-*")]


def _asleep(pid: int) -> bool:
    """The process's guest is running in its child: the child's own runner has made its
    folder inside the call's folder (the child exists, has started and compiled)."""
    return any(list(p.glob(f"{hostdirs.RUN_PREFIX}*-kept-*")) for p in _left_by(pid) if "-kept-" not in p.name)


# -- time --------------------------------------------------------------------------------


def test_a_guest_asleep_in_a_host_call_is_stopped_and_the_process_lives_on(tmp_path):
    """poll_oneoff on an hour's clock: no epoch reaches the guest there, the kill does."""
    runner = Runner(deadline=1.0)
    before = _left_by(os.getpid())  # this process's kept trees
    result = runner.run(["/a", "/b"], guest=str(guests.hostile("sleeper", tmp_path).binary), adapter=FIXED)
    assert result.outcomes == ("timeout", "timeout") and result.trap.startswith(STOPPED)
    assert f"after {1.0 + GRACE:g} s" in result.trap  # the deadline plus grace, not the hour
    assert runner.run(REPORT_CASE, adapter=FIXED).all_ok
    assert set(_left_by(os.getpid())) <= set(before) | {runner._kept.root}


@pytest.mark.parametrize("sent, status, words", [(signal.SIGINT, 130, "interrupted"),
                                                  (signal.SIGTERM, 143, "terminated")])
def test_ctrl_c_and_sigterm_end_a_sleeping_run_at_once(tmp_path, sent, status, words):
    guest = guests.hostile("sleeper", tmp_path).binary
    run = subprocess.Popen([sys.executable, "-m", "analysis", "run", "--guest", str(guest), "/a", "/b"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: _asleep(run.pid), "the run's guest asleep in its child process")
    run.send_signal(sent)
    stdout, stderr = run.communicate(timeout=60)
    assert "timeout" not in stdout  # the signal ended it, not the deadline it was heading for
    assert run.returncode == status and stderr.strip() == f"error: {words}", stderr
    assert _left_by(run.pid) == []


def test_kill_9_leaves_no_guest_running_and_the_next_start_removes_its_folder(tmp_path):
    guest = guests.hostile("sleeper", tmp_path).binary
    scratch = tmp_path / "scratch"  # a scratch place of its own: no other test's process tidies it
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    run = subprocess.Popen([sys.executable, "-m", "analysis", "run", "--guest", str(guest), "/a"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    left = lambda: list(scratch.glob(f"{hostdirs.RUN_PREFIX}{run.pid}-*"))  # noqa: E731
    wait_until(lambda: any(list(p.glob(f"{hostdirs.RUN_PREFIX}*-kept-*")) for p in left() if "-kept-" not in p.name),
           "the guest asleep in its child process")
    children = children_of(run.pid)
    run.kill()
    run.wait()
    time.sleep(1)
    assert not [pid for pid in children if running(pid)], "a guest outlived the lab"
    assert left(), "kill -9 runs no cleanup: the folder is still there"
    assert lab("run", "/a", env=env).returncode == 0
    assert left() == []


# -- memory and disk --------------------------------------------------------------------


def test_a_guest_printing_64_mib_is_cut_at_the_output_limit(tmp_path, runner):
    result = runner.run(["/a", "/b"], guest=guests.hostile("flooder", tmp_path))
    assert result.trap.startswith(OUTPUT_LIMIT_HIT) and "16,777,216 bytes" in result.trap
    assert result.outcomes == ("trap", "trap")  # its silence after the cut proves nothing
    done = lab("run", "--guest", str(tmp_path / "flooder.wasm"), "/a")
    assert done.returncode == 0 and "trap: output limit" in done.stdout, done.stdout


@contextmanager
def _full_tmpfs(where: Path, spare: int = 0):
    """A real 2 MiB tmpfs with every byte but ``spare`` taken; skipped only where mounting
    is not allowed."""
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"this machine may not mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        with open(where / "filler", "wb") as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        filler_size = (where / "filler").stat().st_size
        os.truncate(where / "filler", max(0, filler_size - spare))
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def test_a_nearly_full_scratch_disk_is_an_error_not_missing_preopens(tmp_path):
    """64 KiB free: room to make the run's folders, none to trust that its output fit."""
    with _full_tmpfs(tmp_path / "full", spare=64 << 10) as full:
        done = lab("run", "--adapter", FIXED, *REPORT_CASE, env={**os.environ, "TMPDIR": str(full)})
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.startswith("error: the folder holding this run's output") and "is full" in done.stderr
    assert "shorten the names" not in done.stderr and "Traceback" not in done.stderr


def test_a_full_dev_shm_is_passed_over(tmp_path, monkeypatch):
    monkeypatch.delenv("TMPDIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", None)
    with _full_tmpfs(tmp_path / "shm") as full:
        monkeypatch.setattr(hostdirs, "MEMORY_BACKED", str(full))
        assert hostdirs.scratch_base() == tempfile.gettempdir()
        assert Runner().run(REPORT_CASE, adapter=FIXED).all_ok
    monkeypatch.setattr(hostdirs, "MEMORY_BACKED", str(tmp_path))
    assert hostdirs.scratch_base() == str(tmp_path)


# -- messages ----------------------------------------------------------------------------


def test_an_unreachable_registry_is_named_as_such(monkeypatch):
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")
    monkeypatch.setenv("npm_config_fetch_retries", "0")
    with pytest.raises(LabError, match="the package registry cannot be reached"):
        npm.pack_members("left-pad", "1.3.0", ["package/index.js"], "a test package")


def test_a_guest_importing_what_no_host_provides_is_refused_by_name(tmp_path):
    path = wat_guest(tmp_path, "foreign", """(module (import "env" "helper" (func))
        (memory (export "memory") 1) (func (export "_start")))""")
    done = lab("run", "--guest", str(path), "/a")
    assert done.returncode == 2 and "imports env::helper, which a WASIp1 host does not provide" in done.stderr
    path = wat_guest(tmp_path, "amnesiac", """(module
        (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start")))""")
    done = lab("run", "--guest", str(path), "/a")
    assert done.returncode == 2 and "exports no memory named `memory`" in done.stderr


def test_wasm_tools_gives_its_whole_reason(tmp_path):
    path = wat_guest(tmp_path, "unknown-call", """(module (import "wasi_snapshot_preview1" "no_such_call" (func))
        (memory (export "memory") 1) (func (export "_start")))""")
    done = lab("run", "--guest", str(path), "--adapter", FIXED, "/a")
    assert done.returncode == 2 and "adapter module did not export `no_such_call`" in done.stderr, done.stderr


def test_waiting_for_another_process_is_said(tmp_path):
    """Hold the components folder's lock, as a second kernel composing would."""
    path = wat_guest(tmp_path, "fresh", '(module (memory (export "memory") 1) (func (export "_start")))')
    cache = tmp_path / "cache"
    shutil.copytree(cache_dir() / "adapters", cache / "adapters")  # fetched already; composed never
    folder = cache / "components"
    folder.mkdir()
    with open(folder / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        run = subprocess.Popen([sys.executable, "-m", "analysis", "run", "--guest", str(path), "--adapter", FIXED,
                                "/a"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, "PREOPEN_LAB_CACHE": str(cache)})
        time.sleep(4)
        fcntl.flock(held, fcntl.LOCK_UN)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 0 and stderr == f"waiting for another process using {folder} ...\n", stderr


def test_cache_litter_of_killed_processes_is_removed_at_the_next_start(tmp_path):
    """A dead process's half-written file and compose folder, named as the lab names them."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cache = tmp_path / "cache"
    (cache / "components" / f".tmp-{dead.pid}-1-compose").mkdir(parents=True)
    (cache / "adapters").mkdir()
    (cache / "adapters" / f".tmp-{dead.pid}-1-x.wasm").write_bytes(b"half")
    (cache / "adapters" / f".tmp-{os.getpid()}-1-y.wasm").write_bytes(b"mine, still writing")
    done = lab("run", "--adapter", FIXED, "/a", env={**os.environ, "PREOPEN_LAB_CACHE": str(cache)})
    assert done.returncode == 0, done.stderr
    left = sorted(p.name for p in cache.rglob(".tmp-*"))
    assert left == [f".tmp-{os.getpid()}-1-y.wasm"]


def test_a_notebook_kernel_interrupts_a_sleeping_guest(tmp_path):
    """JupyterLab's interrupt button: a real SIGINT to a real kernel, mid-run."""
    from jupyter_client.manager import start_new_kernel

    guest = guests.hostile("sleeper", tmp_path).binary
    kernel, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
    try:
        pid = kernel.provisioner.process.pid
        code = f"from analysis.runs.runner import Runner\nRunner().run(['/a', '/b'], guest={str(guest)!r})"
        msg_id = client.execute(code)
        wait_until(lambda: _asleep(pid), "the kernel's guest asleep in its child process")
        kernel.interrupt_kernel()
        reply = client.get_shell_msg(timeout=30)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = client.get_shell_msg(timeout=30)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        status = client.execute_interactive("1 + 1", timeout=30)["content"]["status"]
        if status == "aborted":  # ipykernel aborts a request that arrives just after an error; ask again
            status = client.execute_interactive("1 + 1", timeout=30)["content"]["status"]
        assert status == "ok"  # it lives on
        assert _left_by(pid) == [] or all("-kept-" in p.name for p in _left_by(pid))
    finally:
        client.stop_channels()
        kernel.shutdown_kernel(now=True)


def test_sigterm_during_check_model_leaves_no_run_folder():
    """Before: a run root left 8 times out of 8. SIGTERM now unwinds like Ctrl-C."""
    check = subprocess.Popen([sys.executable, "-m", "analysis", "check-model", "--configs", "5000"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(5)  # runs under way
    check.send_signal(signal.SIGTERM)
    stdout, stderr = check.communicate(timeout=60)
    assert check.returncode == 143 and stderr.strip().splitlines()[-1] == "error: terminated", stderr
    assert _left_by(check.pid) == []


def test_a_release_whose_adapter_is_not_one_is_refused_before_caching():
    from analysis.artifacts import adapters

    assert adapters.unusable(adapters.fetch(adapters.resolve(FIXED)).read_bytes()) is None
    assert "exports no fd_prestat_get" in adapters.unusable(guests.get("opener").wasm())
    assert adapters.unusable(b"<html>rate limited</html>") == "not a WebAssembly binary"


def test_a_long_tmpdir_still_starts_contained_runs(tmp_path):
    """multiprocessing's fork server listens on a Unix socket under TMPDIR; a path past 107
    bytes cannot hold one, so the lab makes that socket's folder in a short place."""
    deep = tmp_path / ("x" * 90)
    deep.mkdir()
    guest = guests.hostile("looper", tmp_path).binary
    done = lab("run", "--guest", str(guest), "/a", env={**os.environ, "TMPDIR": str(deep)})
    assert done.returncode == 0 and "timeout" in done.stdout, done.stderr
    assert "Traceback" not in done.stderr and list(deep.iterdir()) == []
