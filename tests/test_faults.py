"""Hard inputs and faults, each with a real failure: clear errors, traps captured, nothing lost."""
from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.artifacts import adapters, compose, guests
from analysis.artifacts.npm import npm, read_members
from analysis.cli.main import main as cli_main
from analysis.model import chain
from analysis.model.errors import LabError
from analysis.runs.hostdirs import scratch_base
from analysis.runs.runner import Runner
from analysis.show.widgets import Explorer, Stepper

from conftest import AFFECTED, FIXED, REPORT_CASE, wait_until, wat_guest
from conftest import cli as lab


@pytest.fixture
def looping_guest(tmp_path) -> guests.Guest:
    return guests.hostile("looper", tmp_path)


# -- odd but legal inputs run for real ---------------------------------------------------


def test_hundreds_of_preopens_run_natively_and_trap_in_the_adapter(runner):
    paths = [f"/dir{i}" for i in range(300)]
    assert runner.run(paths).all_ok
    trapped = runner.run(paths, adapter=FIXED)
    assert set(trapped.outcomes) == {"trap"}
    assert any("at most 125" in w for w in trapped.warnings)


def test_names_of_tens_of_kilobytes(runner):
    name = "/" + "n" * 65_000
    assert runner.run([name, "/b"]).all_ok  # natively fine
    result = runner.run([name, "/b"], adapter=FIXED)  # the adapter's scratch space is smaller
    assert set(result.outcomes) == {"trap"} and result.trap_summary


def test_non_ascii_names(runner):
    paths = ["/données", "/日本", "/ü/ß"]
    assert runner.run(paths).all_ok and runner.run(paths, adapter=FIXED).all_ok


def test_suspicious_names_get_warnings_and_still_run(runner):
    result = runner.run(["/a", "/a", "/x/../y", ""], adapter=FIXED)
    assert len(result.preopens) == 4 and result.trap is None
    text = " ".join(result.warnings)
    assert "'/a' is given 2 times" in text and "'..' component" in text and "empty name" in text
    assert chain.predict(result.paths, "fixed", adapter=result.adapter, adapter_sha256=result.adapter_sha256) == result


# -- refused: only what the host cannot take -----------------------------------------------


def test_a_nul_byte_is_refused(runner):
    with pytest.raises(LabError, match="NUL byte"):
        runner.run(["/a\0b"])


@pytest.mark.parametrize("content, says", [
    (b"not wasm at all", "is not a WebAssembly module or component"),
    (b"\0asm\x0d\0\x01\0", "is a component, not a core module"),
    (b"\0asm\x01\0\0\0\x05", "is not a valid WebAssembly module"),
])
def test_a_bad_wasm_guest_file_is_one_line(tmp_path, content, says):
    path = tmp_path / "guest.wasm"
    path.write_bytes(content)
    done = subprocess.run([sys.executable, "-m", "analysis", "run", "--guest", str(path), "/a"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_widget_values_out_of_range_are_refused():
    with pytest.raises(LabError, match="count 50 is out of range"):
        Explorer(count=50)
    with pytest.raises(LabError, match="unknown adapter build"):
        Explorer(build="jco-0.0.0")
    with pytest.raises(LabError, match="fd 9 is not a preopen here"):
        Stepper(REPORT_CASE, fd=9)


def test_a_hand_typed_order_naming_unknown_entries_is_shown_not_raised(runner):
    explorer = Explorer(runner)
    explorer.order.value = "by hand"
    explorer.by_hand.value = "0 1 2 3 9"
    assert explorer.result is None and "must name each of the positions 0..4" in explorer.view.value
    explorer.by_hand.value = "4 3 2 1 0"
    assert explorer.result.paths == tuple(reversed(REPORT_CASE))


# -- faults ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_tarball(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tarball")
    subprocess.run([npm(), "pack", "--silent", "--pack-destination", str(folder), "@bytecodealliance/jco@1.8.1"],
                   check=True, capture_output=True, cwd=folder)
    return next(folder.glob("*.tgz"))


def test_a_truncated_or_altered_tarball_is_one_clear_error(real_tarball, tmp_path):
    member = adapters.ADAPTER_MEMBER
    assert read_members(real_tarball, [member], "jco 1.8.1")[member][:4] == b"\0asm"
    data = real_tarball.read_bytes()
    truncated = tmp_path / "truncated.tgz"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(LabError, match="is damaged"):
        read_members(truncated, [member], "jco 1.8.1")
    altered = tmp_path / "altered.tgz"
    altered.write_bytes(data[:4000] + bytes(b ^ 0xFF for b in data[4000:4400]) + data[4400:])
    with pytest.raises(LabError, match="is damaged"):
        read_members(altered, [member], "jco 1.8.1")


def test_missing_wasm_tools_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PREOPEN_LAB_CACHE", str(tmp_path / "cache"))
    build = adapters.resolve(AFFECTED)
    adapters.fetch(build)  # the adapter is there; the composing tool is not
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr(sys, "executable", str(empty / "python"))  # nothing beside this Python
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(LabError, match="the wasm-tools CLI was not found"):
        compose.compose(guests.get("opener").wasm(), build)
    assert not list((tmp_path / "cache").rglob("components/*.wasm"))


def test_a_corrupted_cached_component_heals(tmp_path, monkeypatch):
    monkeypatch.setenv("PREOPEN_LAB_CACHE", str(tmp_path / "cache"))
    core = guests.get("opener").wasm()
    build = adapters.resolve(AFFECTED)
    path = compose.compose(core, build)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 3])  # a truncated component, as a crash might leave
    result = Runner().run(REPORT_CASE, adapter=AFFECTED)
    assert result.outcomes == ("ok", "missing", "missing", "missing", "ok")
    assert path.read_bytes() == good


def test_two_processes_fetch_and_compose_the_same_build_at_once(tmp_path):
    env = {**os.environ, "PREOPEN_LAB_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "analysis", "run", "--adapter", AFFECTED, "--json", *REPORT_CASE]
    both = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for process in both:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    cache = tmp_path / "cache"
    assert len(list((cache / "adapters").glob("*.wasm"))) == 1
    assert len(list((cache / "components").glob("*.wasm"))) == 1
    assert not [p for p in cache.rglob(".tmp-*")]


def test_a_looping_guest_is_a_timeout_and_the_process_lives_on(looping_guest, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    runner = Runner(fuel=50_000_000)
    for adapter in ("native", AFFECTED):
        result = runner.run(["/a", "/b"], guest=looping_guest, adapter=adapter)
        assert result.outcomes == ("timeout", "timeout")
        assert "fuel" in result.trap
    assert runner.run(REPORT_CASE).all_ok  # the same runner carries on
    del runner  # its kept read-only trees go with it
    gc.collect()
    assert [p for p in scratch.iterdir() if not p.name.startswith("pymp-")] == []  # multiprocessing's own


# -- fuzzing -----------------------------------------------------------------------------------

argv_parts = st.one_of(
    st.sampled_from(["--adapter", "--native", "--guest", "--json", AFFECTED, "opener", "probe", "nope", "--", "-x"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12),
    st.sampled_from(["/a", "/", ".", "", "..", "/a/../b", "/ü", "/a\udcff"]),
)


@settings(max_examples=150)
@given(st.lists(argv_parts, max_size=6))
def test_cli_argument_fuzz(argv):
    roots = Path(scratch_base())  # where run roots really go
    mine = f"preopen-lab-{os.getpid()}-*"  # this process's: other processes may run beside the tests
    before = set(roots.glob(mine))
    workdir = tempfile.mkdtemp(prefix="fuzz-cwd-")
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        code = cli_main(["run", *argv])
    except SystemExit as exit:  # argparse's own exits: --help or a usage error
        code = exit.code
    finally:
        os.chdir(cwd)
    assert code in (0, 2)
    assert os.listdir(workdir) == []  # nothing written where the user stood
    os.rmdir(workdir)
    assert set(roots.glob(mine)) <= before


@given(st.lists(st.binary(max_size=24), min_size=1, max_size=10), st.sampled_from(chain.BEHAVIORS),
       st.sampled_from(["opener", "probe"]))
def test_model_takes_any_bytes(names, behavior, guest):
    paths = [name.decode("utf-8", "surrogateescape") for name in names]
    result = chain.predict(paths, behavior, guest=guest)
    assert [p.path for p in result.preopens] == paths
    assert set(result.outcomes) <= {"ok", "missing", "misrouted"}
    assert result.fds[-1].errno == 8  # every walk ends in EBADF
    if behavior in ("native", "early"):  # names arrive byte for byte
        assert [e.name.encode("utf-8", "surrogateescape") for e in result.fds[:-1]] == names


def test_a_long_nested_path_gets_no_decoy_and_still_runs(runner):
    deep = "/" + "/".join("d" * 200 for _ in range(25))  # 5 KB: longer than a decoy may be
    result = runner.run(["/", deep])
    assert result.all_ok
    assert chain.predict(result.paths, "native", adapter="native") == result


def test_your_own_guest_may_print_anything(tmp_path, runner):
    wat = """(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 64) "{\\"kind\\":\\"route\\"}\\n{\\"kind\\":\\"prestat\\",\\"fd\\":\\"x\\"}\\nnot json\\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const 49))
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))))"""
    path = tmp_path / "chatty.wasm"
    path.write_bytes(wasmtime.wat2wasm(wat))
    result = runner.run(["/a", "/b"], guest=guests.from_file(path))
    assert result.outcomes == ("missing", "missing") and len(result.lines) == 3


def test_shared_parent_refuses_children_that_are_not_plain_names():
    from analysis.experiments import practices

    for bad in (["a", "/tmp/escape"], ["a", "a"], ["", "b"], ["..", "b"]):
        with pytest.raises(LabError, match="not a plain directory name|must have different names"):
            practices.shared_parent(bad, "native")


def _sweep_on_two_workers(tmp_path: Path) -> tuple[subprocess.Popen, Path, list[int]]:
    """A real ``sweep orders`` on two worker processes, in a scratch place of its own (seen by
    no other process), once both workers and the parent are running guests; with the
    workers' pids (the command forks them: they are its children)."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    sweep = subprocess.Popen([sys.executable, "-m", "analysis", "sweep", "orders", "--workers", "2",
                              "--out", str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={**os.environ, "TMPDIR": str(scratch)})
    wait_until(lambda: len(list(scratch.glob("preopen-lab-*-kept-*"))) >= 3,
               lambda: f"both workers running (exit {sweep.poll()}; in {scratch}: {sorted(p.name for p in scratch.iterdir())})")
    workers = [int(pid) for pid in Path(f"/proc/{sweep.pid}/task/{sweep.pid}/children").read_text().split()]
    return sweep, scratch, workers


def test_ctrl_c_ends_a_sweep_on_workers_cleanly(tmp_path):
    """A real SIGINT to a real sweep running on worker processes: one line, status 130,
    no data written, no run directories left behind."""
    sweep, scratch, _ = _sweep_on_two_workers(tmp_path)
    sweep.send_signal(signal.SIGINT)
    stdout, stderr = sweep.communicate(timeout=120)
    assert sweep.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "error: interrupted" and "Traceback" not in stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.csv"))
    assert list(scratch.glob("preopen-lab-*")) == []


def test_ctrl_c_inside_code_python_built_from_a_string_still_exits_130(tmp_path):
    """CPython 3.11 marks a KeyboardInterrupt raised inside code run from a string (where
    dataclasses and namedtuple build their methods) as unhandled even after ``main`` caught
    it, and ``python -m`` then kills itself with SIGINT (status -2; a sweep got there 2
    times in 30). The lab's real ``__main__``, with a command whose Ctrl-C lands there."""
    (tmp_path / "interrupted_in_eval.py").write_text(
        "import argparse, runpy\n"
        "from analysis.cli import main\n"
        "def command(args):\n"
        "    eval('(_ for _ in ()).throw(KeyboardInterrupt)')\n"
        "class Parser:\n"
        "    def parse_args(self, argv):\n"
        "        return argparse.Namespace(func=command)\n"
        "main.parser = Parser\n"
        "runpy.run_module('analysis', run_name='__main__')\n")
    ended = subprocess.run([sys.executable, "-m", "interrupted_in_eval"], capture_output=True, text=True,
                           cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(Path.cwd())}, timeout=120)
    assert (ended.returncode, ended.stderr) == (130, "error: interrupted\n")


def test_a_worker_killed_mid_sweep_ends_it_with_one_line_and_no_data(tmp_path):
    """A real SIGKILL to one of a real sweep's workers: status 2, one line that says what
    happened and what to do, no traceback, no CSV."""
    sweep, _, workers = _sweep_on_two_workers(tmp_path)
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    stdout, stderr = sweep.communicate(timeout=120)
    assert sweep.returncode == 2, stderr
    assert stderr.strip().splitlines()[-1].startswith("error: a worker process died during the sweep; nothing was saved")
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.csv"))


def test_a_fork_that_fails_part_way_ends_the_command_with_one_line(tmp_path):
    """As root no process limit makes fork() fail, so the second fork is made to fail the
    way fork() does (EAGAIN); the first worker, already forked, must not keep the command
    waiting for ever at its exit."""
    script = tmp_path / "failing_fork.py"
    script.write_text(
        "import sys\n"
        "from concurrent.futures import process\n"
        "from analysis.cli.main import main\n"
        "spawn, calls = process.ProcessPoolExecutor._spawn_process, []\n"
        "def failing(self):\n"
        "    calls.append(1)\n"
        "    if len(calls) == 2:\n"
        "        raise BlockingIOError(11, 'Resource temporarily unavailable')\n"
        "    return spawn(self)\n"
        "process.ProcessPoolExecutor._spawn_process = failing\n"
        "sys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, str(script), "sweep", "orders", "--builds", AFFECTED,
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == ("error: cannot start 2 worker processes (Resource temporarily "
                                                    "unavailable): run with fewer, or with --workers 1")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.csv"))


def test_workers_end_when_the_sweep_is_killed_outright(tmp_path):
    """SIGKILL to the command: its workers go too, and the pipes it shared with them close."""
    sweep, _, workers = _sweep_on_two_workers(tmp_path)
    assert len(workers) == 2
    sweep.kill()
    sweep.communicate(timeout=60)  # EOF on both pipes: no worker holds them any more
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), "the workers gone")


def test_a_finished_sweep_on_workers_leaves_no_folders(tmp_path):
    """Workers end with os._exit, which runs no weakref finalizers: their kept folders
    must go by the pool's own exit hook, not wait for the next lab process."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = lab("sweep", "schemes", "--builds", AFFECTED, "--workers", "2", "--out", str(tmp_path / "out"),
               env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    assert list(scratch.glob("preopen-lab-*")) == []


def test_a_guest_rebuilt_at_the_same_path_runs_its_new_bytes(tmp_path, runner):
    path = tmp_path / "mine.wasm"
    path.write_bytes(wasmtime.wat2wasm('(module (memory (export "memory") 1) (func (export "_start")))'))
    quiet = runner.run(["/a"], guest=guests.from_file(path))
    path.write_bytes(wasmtime.wat2wasm('(module (memory (export "memory") 1) (func (export "_start") unreachable))'))
    rebuilt = runner.run(["/a"], guest=guests.from_file(path))
    assert (quiet.outcomes, rebuilt.outcomes) == (("missing",), ("trap",))
    assert runner.run(["/a"], guest=guests.from_file(path)).outcomes == ("trap",)


def test_a_flipped_bit_in_a_cached_component_is_caught_before_it_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("PREOPEN_LAB_CACHE", str(tmp_path / "cache"))
    core, build = guests.get("opener").wasm(), adapters.resolve(FIXED)
    path = compose.compose(core, build)
    good = path.read_bytes()
    for offset in (len(good) // 7, len(good) // 2, len(good) - 40):
        flipped = bytearray(good)
        flipped[offset] ^= 0x10
        path.write_bytes(bytes(flipped))
        assert compose.compose(core, build).read_bytes() == good
        assert Runner().run(REPORT_CASE, adapter=FIXED).all_ok


# -- hostile guests and places (issue 14's first items) ------------------------------------


PRINTS = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 8)
  (data (i32.const 64) "{text}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const {size}))
    (drop (call $w (i32.const {fd}) (i32.const 0) (i32.const 1) (i32.const 16))) {end}))"""


def test_your_guests_json_may_overflow_or_nest_without_end(tmp_path, runner):
    overflow = '{\\"kind\\":\\"prestat\\",\\"fd\\":1e999,\\"errno\\":0}\\n{\\"kind\\":\\"route\\",\\"fd\\":1e999}\\n'
    nested = "[" * 200_000 + "\\n"
    for text, size in ((overflow, 58), (nested, 200_001)):
        path = wat_guest(tmp_path, "json", PRINTS.format(text=text, size=size, fd=1, end=""))
        result = runner.run(["/a", "/b"], guest=guests.from_file(path))
        assert result.outcomes == ("missing", "missing") and result.fds == ()


@pytest.mark.parametrize("make, says", [
    (lambda p: os.mkfifo(p), "is not a regular file"),
    (lambda p: p.symlink_to("/dev/zero"), "is not a regular file"),
    (lambda p: p.write_bytes(wasmtime.wat2wasm("(module)")), "has no _start function"),
    (lambda p: p.write_bytes(wasmtime.wat2wasm('(module (global (export "_start") i32 (i32.const 0)))')),
     "has no _start function"),
])
def test_a_guest_that_is_not_a_program_is_refused_at_once(tmp_path, make, says):
    path = tmp_path / "odd.wasm"
    make(path)
    done = lab("run", "--guest", str(path), "/a")
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1


DEEP = """(module
  (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "d")
  (func (export "_start") (local $fd i32) (local $n i32)
    (local.set $fd (i32.const 3))
    (loop $deeper
      (drop (call $mkdir (local.get $fd) (i32.const 16) (i32.const 1)))
      (drop (call $open (local.get $fd) (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 2)
                        (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 32)))
      (local.set $fd (i32.load (i32.const 32)))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $deeper (i32.lt_u (local.get $n) (i32.const 3000))))))"""


def test_a_guest_that_nests_3000_directories_is_cleaned_up(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    runner = Runner()
    result = runner.run(["/a"], guest=guests.from_file(wat_guest(tmp_path, "deep", DEEP)))
    assert result.trap is None
    del runner
    gc.collect()
    assert list(scratch.iterdir()) == []


def test_control_characters_and_bad_bytes_in_a_trapping_guests_stderr_are_escaped(tmp_path):
    text = "\\1b[31mred\\00\\ff\\n"
    path = wat_guest(tmp_path, "loud", PRINTS.format(text=text, size=9, fd=2, end="unreachable"))
    done = subprocess.run([sys.executable, "-m", "analysis", "run", "--guest", str(path), "/a"], capture_output=True,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout and b"\\x1b" in done.stdout and b"trap:" in done.stdout


@pytest.mark.parametrize("where", ["a file", "inside a file"])
def test_an_unusable_out_folder_is_refused_before_any_run(tmp_path, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    out = blocker if where == "a file" else blocker / "sub"
    done = lab("sweep", "orders", "--out", str(out))
    assert done.returncode == 2 and "cannot be used as an output folder" in done.stderr
    assert "runs in" not in done.stdout and not any(tmp_path.rglob("*.csv"))  # refused before any run


@pytest.mark.parametrize("where", ["a file", "/proc/no-cache-here"])
def test_an_unusable_cache_is_one_line(tmp_path, where):
    cache = tmp_path / "file" if where == "a file" else Path(where)
    if where == "a file":
        cache.write_text("")
    done = lab("run", "--adapter", AFFECTED, "/a", env={**os.environ, "PREOPEN_LAB_CACHE": str(cache)})
    assert done.returncode == 2 and "cannot be used" in done.stderr and "Traceback" not in done.stderr


def test_a_directory_chain_deeper_than_a_path_can_name_is_removed(tmp_path):
    from analysis.artifacts.cache import remove_tree

    root = tmp_path / "root"
    root.mkdir()
    here = os.open(root, os.O_RDONLY)
    for _ in range(3000):  # about 6 KB of path: more than PATH_MAX, deeper than Python's stack
        os.mkdir("d", dir_fd=here)
        deeper = os.open("d", os.O_RDONLY, dir_fd=here)
        os.close(here)
        here = deeper
    os.close(here)
    remove_tree(root)
    assert not root.exists()


@pytest.mark.parametrize("name", ["memory-grower", "table-grower"])
def test_a_guest_asking_for_gigabytes_is_refused_and_the_run_goes_on(tmp_path, runner, name):
    """4 GiB of memory, filled as it grows; a table of 10^9 elements (8 GB)."""
    result = runner.run(["/a"], guest=guests.hostile(name, tmp_path))
    assert result.exit_code == 1 and result.trap is None  # the guest saw -1 and said so


def test_a_64_bit_memory_is_refused_in_one_line(tmp_path):
    path = wat_guest(tmp_path, "wide", '(module (memory i64 1) (func (export "_start")))')
    done = lab("run", "--guest", str(path), "/a")
    assert done.returncode == 2 and "not a valid WebAssembly module" in done.stderr


def test_a_guest_looping_on_host_calls_is_stopped_by_the_clock(tmp_path):
    """sched_yield costs a guest almost no fuel; the wall-clock deadline stops it anyway."""
    runner = Runner(fuel=10**15, deadline=1.0)
    result = runner.run(["/a"], guest=guests.hostile("yielder", tmp_path))
    assert result.outcomes == ("timeout",) and "interrupt" in result.trap  # the clock's epoch, not fuel
    assert runner.run(REPORT_CASE).all_ok


def test_damaged_compiled_code_is_compiled_again_never_loaded():
    from analysis.artifacts import compiled, guests

    wasm = guests.get("opener").wasm()
    Runner().run(REPORT_CASE)  # compiled and kept
    kept = compiled._kept(wasm, "module")
    good = kept.read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF  # a flipped bit in the machine code
    kept.write_bytes(bytes(damaged))
    assert Runner().run(REPORT_CASE).all_ok  # the HMAC beside it no longer matches: compiled afresh
    from analysis.artifacts import seal

    assert seal.seal_holds(kept, kept.read_bytes())


def test_planted_compiled_code_with_its_hash_beside_it_is_never_loaded():
    """Whoever can write the cache can write a file and any hash of it; not this user's key."""
    import hashlib
    import hmac

    from analysis.artifacts import compiled, guests

    opener, probe = guests.get("opener").wasm(), guests.get("probe").wasm()
    honest = Runner().run(REPORT_CASE)  # both compiled and kept
    Runner().run(REPORT_CASE, guest="probe")
    kept, planted = compiled._kept(opener, "module"), compiled._kept(probe, "module").read_bytes()
    kept.write_bytes(planted)  # the probe's machine code where the opener's should be
    kept.with_name(kept.name + ".sha256").write_text(hashlib.sha256(planted).hexdigest())
    kept.with_name(kept.name + ".hmac").write_text(hmac.new(b"a guess", planted, "sha256").hexdigest())
    assert Runner().run(REPORT_CASE) == honest  # the opener ran, compiled afresh
    assert kept.read_bytes() != planted
