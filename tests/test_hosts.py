"""The same components under the Wasmtime CLI and node: the bug follows the adapter, not the host."""
from __future__ import annotations

import pytest

from analysis.model.errors import LabError

from conftest import AFFECTED, FIXED, REPORT_CASE, cli


@pytest.mark.parametrize("host", ["wasmtime-cli", "node"])
def test_other_hosts_reproduce_the_report_case(runner, host):
    affected = runner.run(REPORT_CASE, adapter=AFFECTED, host=host)
    assert affected.outcomes == ("ok", "missing", "missing", "missing", "ok") and affected.host == host
    assert [e.name for e in affected.fds[1:4]] == ["/e"] * 3  # the same wrong names as in-process
    assert runner.run(REPORT_CASE, adapter=FIXED, host=host).all_ok


@pytest.mark.parametrize("host", ["wasmtime-cli", "node"])
def test_other_hosts_give_the_same_result_as_this_process(runner, host):
    paths = ["/", "/tmp", "/home", "/données", "/tmp/x"]
    for guest in ("opener", "probe", "rust-open", "walker", "keeper"):
        here = runner.run(paths, guest=guest, adapter=AFFECTED)
        there = runner.run(paths, guest=guest, adapter=AFFECTED, host=host)
        assert there == here and there.lines == here.lines, (guest, host)


def test_node_resolves_dot_dot_by_name_where_wasmtime_walks_the_directories(runner):
    """A host difference that has nothing to do with the adapter: the names and routes agree,
    but opening ``a/../MARKER`` where no ``a`` exists fails under wasmtime (ENOENT) and reads
    the file under node's preview2-shim, which drops ``a/..`` before it looks."""
    paths = ["/", "/tmp", "/home", "/a/..", "/données"]  # through an affected build, /a/.. is sent to /
    here = runner.run(paths, adapter=AFFECTED)
    there = runner.run(paths, adapter=AFFECTED, host="node")
    assert here.fds == there.fds
    assert [p.routed_fd for p in here.preopens] == [p.routed_fd for p in there.preopens]
    assert (here.preopens[3].routed_fd, here.preopens[3].errno, here.preopens[3].marker) == (3, 44, None)
    assert (there.preopens[3].errno, there.preopens[3].marker) == (None, "preopen-0")


def test_the_wasmtime_cli_runs_core_modules_natively(runner):
    assert runner.run(REPORT_CASE, host="wasmtime-cli") == runner.run(REPORT_CASE)


def test_the_direct_guest_shows_the_hosts_own_five_names():
    done = cli("run", "--guest", "direct", *REPORT_CASE)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line[:1].isdigit() and len(line.split()) >= 5]
    assert [row[2] for row in rows] == list(REPORT_CASE) and "5 ok" in done.stdout


@pytest.mark.parametrize("args, says", [
    (["run", "--host", "node", "/a"], "node runs components only"),
    (["run", "--guest", "direct", "--adapter", AFFECTED, "/a"], "it takes no adapter"),
    (["run", "--guest", "direct", "--host", "node", "/a"], "runs in this process only"),
    (["run", "--host", "deno", "/a"], "invalid choice"),
])
def test_host_mistakes_are_one_line(args, says):
    done = cli(*args)
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_an_unknown_host_is_refused_in_python(runner):
    with pytest.raises(LabError, match="unknown host 'deno'"):
        runner.run(REPORT_CASE, host="deno")
