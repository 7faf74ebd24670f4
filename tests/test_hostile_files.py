"""Files made to fight the lab, given to scan, repair, the scanner widget and run --guest:
each ends within its bound with one line or one finding and the documented status, and
nothing it did outlives it. The files are real (``guests/hostile/adapters``,
``analysis.bench.hostile``); no test asserts how long anything took."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.artifacts import adapters, compose, guests
from analysis.artifacts.cache import TMP_PREFIX
from analysis.bench import hostile
from analysis.artifacts.inside import leb128
from analysis.reach import repair, scan

from conftest import AFFECTED, children_of, running, wait_until
from conftest import cli as lab


def _resident_bytes() -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) * 1024


def test_every_hostile_adapter_is_cannot_tell_and_the_files_after_it_are_scanned(tmp_path):
    files = hostile.adapters(tmp_path)
    affected = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED))
    names = [str(p) for name, p in files.items() if name != "nested-10000"]
    done = lab("scan", "--timeout", "3", *names, str(files["nested-10000"]))
    assert done.returncode == 2, done.stdout + done.stderr  # cannot tell, or a file not read: never 1
    assert "Traceback" not in done.stderr
    for name in names:
        assert f"{name}: cannot tell" in done.stdout, done.stdout
    assert "limit of 3 s" in done.stdout  # the looping and the slow-to-compile adapters, stopped
    assert done.stderr.strip().splitlines() == [f"error: {files['nested-10000']}: it nests components more "
                                                f"than 100 deep, more than the scanner reads"]
    done = lab("scan", "--timeout", "3", *names, str(affected))  # the last file is still judged
    assert done.returncode == 1 and f"{affected}: affected" in done.stdout, done.stdout


def test_the_scanner_widget_keeps_an_adapters_memory_out_of_the_kernel(tmp_path):
    """A gigabyte the adapter touched lives and dies in the scan's own process."""
    from analysis.show.widgets import Scanner

    data = hostile.adapters(tmp_path)["three-memories"].read_bytes()
    before = _resident_bytes()
    for _ in range(3):
        shown = Scanner.report("three-memories.wasm", data).value
        assert "cannot tell" in shown
    assert _resident_bytes() - before < 256 << 20


def test_ctrl_c_reaches_a_guest_while_it_compiles(tmp_path):
    slow = hostile.slow_guest(tmp_path, locals_=12000)  # minutes of compiling on a small machine
    run = subprocess.Popen([sys.executable, "-m", "analysis", "run", "--guest", str(slow), "/a"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: children_of(run.pid), "the child that compiles the guest")
    children = children_of(run.pid)
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=30)  # the compile alone would take longer
    assert run.returncode == 130 and stderr.strip() == "error: interrupted", stderr
    wait_until(lambda: not [c for c in children if running(c)], "the compiling child ended")


def _lab_code_runs(pid: int) -> bool:
    """The process is in the lab's own code: it catches SIGTERM (``cli.startup``), which a
    Python that is still starting does not. Before that, Python's own start-up decides."""
    try:
        caught = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("SigCgt"))
    except (OSError, StopIteration):
        return False
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def test_ctrl_c_at_any_moment_of_start_up_is_one_line(tmp_path):
    guest = guests.hostile("sleeper", tmp_path).binary
    for delay in random.Random(0).sample([i / 20 for i in range(20)], 15):  # 0 to 0.95 s into the lab's code
        run = subprocess.Popen([sys.executable, "-m", "analysis", "run", "--guest", str(guest), "/a"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        wait_until(lambda: _lab_code_runs(run.pid) or run.poll() is not None, "the lab's code starting")
        try:
            run.communicate(timeout=delay)
        except subprocess.TimeoutExpired:
            pass
        children = children_of(run.pid)
        os.killpg(run.pid, signal.SIGINT)  # as Ctrl-C does: to the whole group, fork server included
        _, stderr = run.communicate(timeout=60)
        assert run.returncode == 130 and stderr.strip() == "error: interrupted", (delay, run.returncode, stderr)
        wait_until(lambda: not [c for c in children if running(c)], f"no child left ({delay} s)")


def test_repair_writes_only_regular_files(tmp_path):
    broken = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for out, says in ((fifo, "is not a regular file"), (tmp_path, "is a folder")):
        done = lab("repair", str(broken), "-o", str(out))
        assert done.returncode == 2 and done.stdout == "", done.stderr
        assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert fifo.is_fifo()


def test_repair_removes_what_a_killed_repair_left(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)  # a process id that has just ended
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    half = tmp_path / f"{TMP_PREFIX}{dead}-1-fixed.wasm"
    half.write_bytes(b"half a component")
    folder = scratch / f"{repair.SCRATCH_PREFIX}{dead}-abcd"
    folder.mkdir()
    broken = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED))
    done = lab("repair", str(broken), "-o", str(tmp_path / "fixed.wasm"), env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    assert not half.exists() and not folder.exists()
    assert scan.scan_file(tmp_path / "fixed.wasm").answer == "not affected"


def test_ctrl_c_during_report_publishes_no_unfinished_page(tmp_path):
    out = tmp_path / "reports"
    run = subprocess.Popen([sys.executable, "-m", "analysis", "report", "--only", "04_root_cause", "--out", str(out)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_until(lambda: any("ipykernel" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")
                           for c in children_of(run.pid) if Path(f"/proc/{c}/cmdline").exists()),
               "the notebook's kernel started")
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130 and stderr.strip().splitlines()[-1] == "error: interrupted", stderr
    assert not list(out.glob("*.html")) and not list(out.glob("executed/*"))


def test_names_with_terminal_controls_are_escaped_everywhere_they_are_printed(tmp_path):
    hostile_name = tmp_path / "a\x1b[31mred\nline.wasm"
    hostile_name.write_bytes(guests.get("opener").wasm())
    ran = lab("run", "--guest", str(hostile_name), "/a")
    scanned = lab("scan", str(hostile_name), str(tmp_path / "missing\x1b[2J.wasm"))
    broken = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED))
    repaired = lab("repair", str(broken), "-o", str(tmp_path / "fixed\x1b[31m.wasm"))
    for done in (ran, scanned, repaired):
        assert "\x1b" not in done.stdout + done.stderr and "\\x1b" in done.stdout + done.stderr, done
    assert ran.returncode == 0 and scanned.returncode == 2 and repaired.returncode == 0


def test_repair_onto_a_full_disk_is_one_line_and_leaves_nothing(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("a small file system of its own needs mount (root)")
    try:
        (full / "filler").write_bytes(b"\0" * (64 << 10))  # full to the last block
        broken = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED))
        done = lab("repair", str(broken), "-o", str(full / "fixed.wasm"))
        assert done.returncode == 2 and done.stdout == "", done.stderr
        assert done.stderr.strip() == f"error: cannot write {full / 'fixed.wasm'} (No space left on device): nothing " \
                                      "was written"
        assert [p.name for p in full.iterdir()] == ["filler"]
    finally:
        subprocess.run(["umount", str(full)], check=True)


def test_a_scan_stopped_at_its_limit_reads_nothing_more_in_the_lab(tmp_path):
    """Three million empty imports: slow to read, so the child is stopped; the lab then
    says what it knows from the header alone, not what reading the file would cost it."""
    count = 3_000_000
    types = b"\x01\x04\x01\x60\x00\x00"  # a type section with one function type, () -> ()
    entries = leb128(count) + b"\x00\x00\x00\x00" * count  # each: empty module and name, a function of type 0
    path = tmp_path / "imports.wasm"
    path.write_bytes(b"\0asm\x01\0\0\0" + types + b"\x02" + leb128(len(entries)) + entries)
    done = lab("scan", "--timeout", "0.5", "--json", str(path))
    found = json.loads(done.stdout)
    assert done.returncode == 2 and found["answer"] == "cannot tell" and found["modules"] is None
    assert "limit of 0.5 s" in found["problem"]


def test_a_full_disk_behind_stdout_is_status_2_never_1(tmp_path):
    affected = compose.compose(guests.get("opener").wasm(), adapters.resolve(AFFECTED))
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "analysis", "scan", str(affected)], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.strip() == "error: cannot write the output (No space left on device)"


def test_a_fifo_planted_as_compiled_code_is_passed_over(tmp_path):
    from analysis.artifacts import compiled

    wasm = guests.get("opener").wasm()
    lab("run", "/a")  # compiled and kept
    kept = compiled._kept(wasm, "module")
    kept.unlink()
    os.mkfifo(kept)  # reading it would wait for ever
    done = lab("run", "/a", "/b")
    assert done.returncode == 0 and "2 ok" in done.stdout, done.stderr
    assert kept.is_file()  # compiled again, and kept in its place


def test_a_stopped_scan_leaves_no_tool_running(tmp_path):
    """A published adapter file is embedded with wasm-tools inside the scan's child; stopped
    at once, the child's whole process group goes, wasm-tools included."""
    published = adapters.fetch(adapters.resolve(AFFECTED))
    before = set(_orphaned_tools())
    for _ in range(3):
        done = lab("scan", "--timeout", "0.05", str(published))
        assert done.returncode in (1, 2), done.stderr
    wait_until(lambda: not set(_orphaned_tools()) - before, lambda: f"wasm-tools left running: {_orphaned_tools()}")


def _orphaned_tools() -> list[int]:
    """wasm-tools processes whose parent has gone (adopted by PID 1)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if command and command[0].endswith(b"wasm-tools") and parent == 1:
            found.append(int(proc.name))
    return found
