"""The WASIp1 hosts beyond wasmtime, run for real: what each tells a program, what its API
cannot express, the bounds every host process runs under, and the conformance matrix."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from analysis.model.errors import LabError
from analysis.model.results import STOPPED, RunResult
from analysis.reach import host_matrix
from analysis.runs import host_process, hosts
from analysis.runs.host_process import HostCommand
from analysis.runs.wasip1_hosts import P1_HOSTS, object_order

from conftest import cli

ABC = ("/a", "/b", "/c")
TOLD = {
    # Measured: each host's names for fds 3, 4, ... with /a /b /c, in fd order.
    "wasmtime-cli": ["/a", "/b", "/c"], "node-wasi": ["/a", "/b", "/c"], "wasm-util": ["/a", "/b", "/c"],
    "browser-wasi-shim": ["/a", "/b", "/c"], "wasi-js": ["/a", "/b", "/c"], "wamr": ["/a", "/b", "/c"],
    "pywasm": ["/a", "/b", "/c"],
    "wasmer-wasi": ["/", "a", "b", "c"],  # a virtual root first, each name without its leading /
    "runno": ["/"],  # one preopen, whatever the list
}


@pytest.mark.parametrize("host", list(P1_HOSTS))
def test_each_host_runs_the_opener_and_tells_what_it_tells(runner, host):
    result = runner.run(ABC, host=host)
    assert result.host == host and result.trap is None and result.exit_code == 0
    assert [e.name for e in result.fds if e.errno == 0] == TOLD[host]
    assert [p.marker for p in result.preopens] == ["preopen-0", "preopen-1", "preopen-2"]  # by name, still right


def test_an_object_keyed_host_says_what_it_could_not_be_given(runner):
    result = runner.run(("data", "10", "2", "data"), host="node-wasi")
    assert [e.name for e in result.fds if e.errno == 0] == ["2", "10", "data"]  # measured: three fds, 2 first
    assert any("holds a name once" in x and "'data'" in x for x in result.limits)
    assert any("integer-like keys (10, 2) first" in x for x in result.limits)
    again = RunResult.from_json(result.to_json())
    assert again.limits == result.limits and again.host == "node-wasi"
    assert object_order(["data", "10", "2"]) == ["2", "10", "data"]


def test_a_list_taking_host_is_given_duplicates_as_they_are(runner):
    result = runner.run(("/a", "/b", "/a"), host="browser-wasi-shim")
    assert [e.name for e in result.fds if e.errno == 0] == ["/a", "/b", "/a"] and result.limits == ()


def test_the_cli_runs_a_wasip1_host_and_refuses_a_component_on_one():
    done = cli("run", "--native", "--host", "pywasm", "--json", "/b", "/a")
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert said["host"] == "pywasm" and [e["name"] for e in said["fds"] if e["errno"] == 0] == ["/a", "/b"]
    refused = cli("run", "--adapter", "jco-1.8.1", "--host", "wasm-util", "/a")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "WASIp1 host" in refused.stderr and "Traceback" not in refused.stderr


def test_a_host_process_that_hangs_is_stopped_with_everything_it_started(tmp_path):
    start = time.monotonic()
    done = host_process.run("node-wasi", HostCommand(["sh", "-c", "sleep 60 & sleep 60 & wait"], reports=True),
                            str(tmp_path), 1.0, own=True, keeps_in=True)
    assert time.monotonic() - start < 20  # generous: a busy machine
    assert done.trap is not None and done.trap.startswith(STOPPED) and done.exit_code is None
    left = subprocess.run(["pgrep", "-f", "sleep 60"], capture_output=True, text=True)
    mine = [pid for pid in left.stdout.split() if _parent_is_gone_or_not_ours(pid)]
    assert not mine


def _parent_is_gone_or_not_ours(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").strip() == b"sleep 60"
    except OSError:
        return False


def test_a_host_that_crashes_is_an_outcome_not_an_error(tmp_path):
    """A driver that ends without saying how the guest ended is a trap, whatever it printed."""
    crash = HostCommand(["sh", "-c", "echo 'wasm trap: boom' >&2; exit 70"], reports=True)
    done = host_process.run("node-wasi", crash, str(tmp_path), 10.0, own=True, keeps_in=True)
    assert done.trap == "node-wasi ended (status 70) without saying how the guest ended"


def test_the_guest_end_comes_from_the_status_socket_whole(tmp_path):
    """The driver's word on its socket is the guest's end, all 32 bits of it, whatever the process status."""
    said = HostCommand(["bash", "-c", 'echo \'{"exit": 300}\' >&"$PREOPEN_LAB_STATUS_FD"; exit 0'], reports=True)
    done = host_process.run("node-wasi", said, str(tmp_path), 10.0, own=True, keeps_in=True)
    assert done.exit_code == 300 and done.trap is None


def test_the_matrix_judges_what_it_measures(runner):
    lists = {"duplicate": ("/a", "/b", "/a"), "integer-like": ("10", "2", "a"), "plain": ("/b", "/a")}
    matrix = host_matrix.measure(["browser-wasi-shim", "node-wasi", "pywasm"], lists, runner)
    assert matrix.cell("browser-wasi-shim", "names").verdict == "same"
    assert matrix.cell("browser-wasi-shim", "non-directory fd").verdict == "allowed by the spec"
    assert matrix.stdio["browser-wasi-shim"] == (58, 58, 58) and matrix.stdio["wasmtime-py"] == (8, 8, 8)
    node = matrix.cell("node-wasi", "names")
    assert node.verdict == "API limit" and node.example.reduced == ("/a", "/a")
    assert matrix.cell("node-wasi", "order").example.reduced == ("10", "2")
    order = matrix.cell("pywasm", "order")
    assert order.verdict == "allowed by the spec" and order.example.reduced == ("/b", "/a")
    assert matrix.cell("pywasm", "non-directory fd").verdict == "host bug"
    assert not [c for c in matrix.cells if c.verdict == "unexplained"]


def test_the_hosts_command_refuses_an_unknown_host_in_one_line():
    done = cli("hosts", "--host", "nope")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "unknown WASIp1 host" in done.stderr


def test_a_component_cannot_go_to_node_without_an_adapter_hint():
    with pytest.raises(LabError, match="node-wasi"):
        hosts.execute("node", b"\0asm", False, ["x"], lambda root: [], 1)


def test_runno_is_given_files_at_resolved_paths_and_keyed_hosts_no_wasmtime_warnings(runner):
    """From an independent review: runno looks paths up literally, so the lab names its files
    as a user would (``/x/MARKER``, not ``/./x/MARKER``); and a warning that quotes wasmtime's fd
    numbers is not given for a host that keys or sorts its preopens."""
    dotted = runner.run(("./x", "/a"), host="runno")
    assert [(p.marker, p.errno) for p in dotted.preopens] == [(None, 76), ("preopen-1", None)]
    assert runner.run(("/a", "/a"), host="node-wasi").warnings == ()
    assert runner.run(("/a", "/a"), host="wamr").warnings  # a list, numbered as given: wasmtime's words hold


def test_a_lab_process_with_no_descriptor_3_still_starts_its_hosts():
    """As a report's kernel may be: descriptors 3 and up closed, then a host run (it once
    failed there with EBADF, the status socket's number asked for in the child)."""
    code = ("import os\n"
            "for fd in range(3, 64):\n"
            "    try:\n        os.close(fd)\n    except OSError:\n        pass\n"
            "from analysis.runs.runner import Runner\n"
            "result = Runner().run(['/a', '/b'], host='node-wasi')\n"
            "print(result.exit_code, [p.outcome for p in result.preopens])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.stdout.split("\n")[0] == "0 ['ok', 'ok']", done.stderr
