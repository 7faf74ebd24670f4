"""``python -m analysis`` as a user runs it: real runs, one-line errors."""
from __future__ import annotations

import json

import pytest

from conftest import AFFECTED, FIXED, REPORT_CASE, cli


def _outcome_column(stdout: str) -> list[str]:
    rows = [line.split() for line in stdout.splitlines() if line[:1].isdigit() and len(line.split()) >= 5]
    return [row[-1] for row in rows]


def test_run_reproduces_the_report():
    done = cli("run", "--adapter", AFFECTED, *REPORT_CASE)
    assert done.returncode == 0, done.stderr
    assert _outcome_column(done.stdout) == ["ok", "missing", "missing", "missing", "ok"]
    assert "2 ok, 3 missing" in done.stdout


@pytest.mark.parametrize("how", [["--adapter", FIXED], ["--native"]])
def test_run_without_the_bug_reaches_all_five(how):
    done = cli("run", *how, *REPORT_CASE)
    assert done.returncode == 0, done.stderr
    assert _outcome_column(done.stdout) == ["ok"] * 5


def test_run_json_is_the_result():
    done = cli("run", "--adapter", AFFECTED, "--json", *REPORT_CASE)
    data = json.loads(done.stdout)
    assert data["adapter"] == AFFECTED
    assert [p["outcome"] for p in data["preopens"]] == ["ok", "missing", "missing", "missing", "ok"]


def test_run_rust_open_shows_the_guests_own_lines():
    done = cli("run", "--adapter", AFFECTED, "--guest", "rust-open", *REPORT_CASE)
    assert 'failed to find a pre-opened file descriptor through which "/c/MARKER" could be opened' in done.stdout


def test_adapters_lists_the_catalogue():
    done = cli("adapters", "--json")
    rows = json.loads(done.stdout)
    assert {r["id"] for r in rows} >= {AFFECTED, FIXED}
    assert all(set(r) == {"id", "releases", "sha256", "source", "cached"} for r in rows)


def test_verdicts_are_measured_per_build():
    done = cli("verdicts", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["adapter"]: r for r in json.loads(done.stdout)}
    assert rows["native"]["verdict"] == "not affected"
    assert rows[AFFECTED]["verdict"] == "affected"
    assert rows[AFFECTED]["outcomes"] == ["ok", "missing", "missing", "missing", "ok"]
    assert rows[FIXED]["verdict"] == "not affected"
    for row in rows.values():
        assert (row["verdict"] == "affected") == any(o != "ok" for o in row["outcomes"])
        assert len(row["evidence"]) == sum(o != "ok" for o in row["outcomes"])


@pytest.mark.parametrize(
    "args, says",
    [
        (["run", "--adapter", "nonsense", "/a"], "unknown adapter 'nonsense'"),
        (["run", "--adapter", AFFECTED], "no preopen paths given"),
        (["run", "--guest", "nope", "/a"], "unknown guest 'nope'"),
        (["run", "--frobnicate", "/a"], "unrecognized arguments"),
        (["run", "--native", "--adapter", AFFECTED, "/a"], "not allowed with argument"),
        (["run", "/a\udcff"], "not valid UTF-8"),
        (["teleport"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_on_stderr(args, says):
    done = cli(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
