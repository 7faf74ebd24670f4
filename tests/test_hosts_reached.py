"""On a WASIp1 host, an open is judged by the directory it reached (the MARKER it read), not
by 3 + its index; the order check reads which fd served which directory; the directory-read
check; all from real runs."""
from __future__ import annotations

from dataclasses import asdict

from analysis.reach import host_matrix
from analysis.reach.host_checks import REFERENCE, differs, observe, order
from analysis.show import host_tables

from conftest import REPORT_CASE, cli


def test_wasmer_wasi_reads_each_own_marker_one_fd_up_and_that_is_ok(runner):
    result = runner.run(("/a", "/b", "/c"), host="wasmer-wasi")
    assert [(e.fd, e.name) for e in result.fds if e.errno == 0] == [(3, "/"), (4, "a"), (5, "b"), (6, "c")]
    assert [(p.routed_fd, p.marker) for p in result.preopens] == [(4, "preopen-0"), (5, "preopen-1"), (6, "preopen-2")]
    assert result.outcomes == ("ok", "ok", "ok")
    done = cli("run", "--native", "--host", "wasmer-wasi", "/a", "/b", "/c")
    assert done.returncode == 0 and "3 ok" in done.stdout and "misrouted" not in done.stdout, done.stdout


def test_a_read_of_another_preopens_file_stays_misrouted(runner):
    for host in ("node-wasi", "runno", "pywasm"):  # each keys preopens by name: /a keeps the last directory
        result = runner.run(("/a", "/b", "/a"), host=host)
        assert [p.marker for p in result.preopens] == ["preopen-2", "preopen-1", "preopen-2"], host
        assert result.outcomes == ("misrouted", "ok", "ok"), host
    # /a's open of /a/MARKER reaches the first preopen's directory: misrouted, as under wasmtime
    here, there = runner.run(host_matrix.DIRECTORY), runner.run(host_matrix.DIRECTORY, host="wasmer-wasi")
    assert here.outcomes == there.outcomes == ("ok", "misrouted")
    assert (here.preopens[1].routed_fd, there.preopens[1].routed_fd) == (3, 4)  # wasmer-wasi: one fd up
    dotted = runner.run((".", "/a"), host="runno")  # its one root serves both: only the read tells
    assert dotted.outcomes == ("missing", "ok") and dotted.preopens[0].errno == 76


def test_the_order_check_reads_which_fd_served_which_directory(runner):
    given = ("a", "10", "2")
    mine, reference = observe("wasmer-wasi", "", given, runner, False), observe(REFERENCE, "", given, runner, False)
    assert order(reference) == ((3, 0, "a"), (4, 0, "10"), (5, 0, "2"))
    assert order(mine) == ((4, 0, "2"), (5, 0, "10"), (6, 0, "a"))  # integer-like first, after its own fd 3
    assert differs("order", mine, reference)
    plain = ("/b", "/a")
    assert not differs("order", observe("wasmer-wasi", "", plain, runner, False), observe(REFERENCE, "", plain, runner,
                                                                                          False))


def test_the_matrix_says_what_it_measured_of_order_directories_and_numbering(runner):
    lists = {"the report's case": REPORT_CASE, "integer-like": ("a", "10", "2"), "plain": ("/b", "/a")}
    matrix = host_matrix.measure(["wasmer-wasi", "wamr"], lists, runner)
    cell = matrix.cell("wasmer-wasi", "order")
    assert cell.verdict == "API limit" and cell.lists == ("integer-like",) and cell.example.reduced == ("10", "2")
    limit = "wasmer-wasi takes a JavaScript object, which lists integer-like keys (10, 2) first, in numeric order"
    assert limit in matrix.limits["wasmer-wasi"] and cell.known.why == limit  # the row and the limits agree
    assert matrix.cell("wamr", "order").verdict == "same"
    assert matrix.directory[REFERENCE] == "opened; fd_read: EBADF (8)"
    assert matrix.directory["wamr"] == "opened; fd_read: EINVAL (28)"
    assert matrix.directory["wasmer-wasi"] == "opened; fd_read: EISDIR (31)"
    wamr = matrix.cell("wamr", "directory read")
    assert wamr.verdict == "allowed by the spec" and wamr.example.seen == matrix.directory["wamr"]
    assert wamr.example.reduced == host_matrix.DIRECTORY and "EINVAL (28)" in wamr.known.why
    assert matrix.numbering["wasmer-wasi"][0] == (3, "/", ())  # an fd of its own, serving none of the five
    assert [fd for fd, _, paths in matrix.numbering["wasmer-wasi"] if paths] == [4, 5, 6, 7, 8]
    table = host_tables.numbering_frame(matrix).set_index("host")
    assert table.loc["wasmer-wasi", "fds of the host's own"] == "fd 3 (told '/'): the directories given begin 1 fd(s) up"
    assert table.loc["wamr", "fd 3 serves"] == "/a" and table.loc[REFERENCE, "fds of the host's own"] == "none"
    again = host_matrix.Matrix.from_dict(asdict(matrix))
    assert again == matrix
