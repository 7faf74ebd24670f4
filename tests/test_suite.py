"""The preopen conformance suite: the self-checking guest, the export in wasi-testsuite's form,
and a runner written here from that spec alone, on the real Wasmtime CLI."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import pytest

from analysis.artifacts import guests
from analysis.experiments import verdicts
from analysis.reach import suite, suite_export
from analysis.runs.wasip1_hosts import wasmtime_cli


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("suite") / "suite"
    done = subprocess.run([sys.executable, "-m", "analysis", "export-tests", str(out), "--host", "wasmtime-cli"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def found():
    return verdicts.measure()[1:]


def _by_spec(test_json, cli: str) -> tuple[int, str]:
    """One test as wasi-testsuite's runner runs one, plus the ``preopens`` field: each dir
    (relative to the JSON's folder) preopened under its guest name, in order; the program's
    exit status and stdout."""
    spec = json.loads(test_json.read_text())
    dirs = [f"--dir={(test_json.parent / p['dir']).resolve()}::{p['guest']}" for p in spec["preopens"]]
    done = subprocess.run([cli, "run", *dirs, str(test_json.with_suffix(".wasm")), *spec["args"]],
                          capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout


def test_the_conformance_guest_rebuilds_to_its_committed_bytes(tmp_path):
    built = guests.build("conformance", tmp_path / "conformance.wasm")
    assert built.read_bytes() == guests.CONFORMANCE.binary.read_bytes()


def test_a_runner_written_from_the_spec_sees_what_the_expectations_say(exported, found):
    """Every WASIp1 test passes natively; every affected build's components fail at least the
    report's case; a build measured not affected fails only the empty-name and the many-preopens
    families; and the tests the Wasmtime CLI failed under this runner are the expectations'."""
    cli = wasmtime_cli()
    seen = {}
    for test_json in sorted(exported.glob("wasip1/*.json")) + sorted(exported.glob("components/*/*.json")):
        group = "wasip1" if test_json.parent.name == "wasip1" else test_json.parent.name
        code, out = _by_spec(test_json, cli)
        seen[f"{group}/{test_json.stem}"] = code == 0 and out == ""
    affected = {v.adapter for v in found if v.affected}
    assert len(seen) == len(suite.CASES) * (1 + len(found))
    assert all(passed for test, passed in seen.items() if test.startswith("wasip1/"))
    for build in affected:
        assert not seen[f"{build}/report-case"], build
    family = {c.name: c.family for c in suite.CASES}
    for v in found:
        if not v.affected:
            failed = {t.split("/")[1] for t, passed in seen.items() if t.startswith(f"{v.adapter}/") and not passed}
            assert {family[t] for t in failed} <= {"empty name", "many"}, (v.adapter, failed)
    listed = tomllib.loads((exported / "expectations" / "wasmtime-cli" / "linux.toml").read_text())["fails"]
    assert {entry["test"] for entry in listed} == {t for t, passed in seen.items() if not passed}
    judged = {entry["test"]: entry["judgement"] for entry in listed}
    assert all(judged[f"{b}/report-case"] == suite_export.BUG for b in affected)


def test_the_smallest_catching_lists_are_three_names(found):
    """Every list of one to three names from the pool, in every order, natively and through
    every build: none of one or two names catches the bug; some of three do."""
    caught = suite.catching_lists([v.adapter for v in found if v.affected],
                                  [v.adapter for v in found if not v.affected])
    assert caught.smallest == 3 and caught.by_size[1] == caught.by_size[2] == 0 and caught.lists
    assert ("/a", "/b", "/ab") in caught.lists


def test_conformance_runs_a_suite_and_refuses_what_is_not_one(exported, tmp_path):
    done = subprocess.run([sys.executable, "-m", "analysis", "conformance", str(exported), "--only", "jco-1.8.1"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "FAIL jco-1.8.1/report-case: name fd 4" in done.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run([sys.executable, "-m", "analysis", "conformance", str(empty)], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "holds no tests" in done.stderr
    planted = tmp_path / "planted" / "wasip1"
    planted.mkdir(parents=True)
    (planted / "x.json").write_text(json.dumps({"args": [], "preopens": [{"dir": "../../..", "guest": "/"}]}))
    done = subprocess.run([sys.executable, "-m", "analysis", "conformance", str(planted.parent)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "not a folder inside the suite" in done.stderr
    done = subprocess.run([sys.executable, "-m", "analysis", "export-tests", str(exported), "--host", "wasmtime-cli"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "not an empty folder" in done.stderr


@pytest.mark.parametrize("change, said", [
    ({"args": "/a/b/c"}, "not as the spec says"),
    ({"exit_code": False}, "not as the spec says"),
    ({"exit_code": 1e300}, "not as the spec says"),
    ({"stdout": 5}, "not as the spec says"),
    ({"preopens": [{"dir": "minimal-three.dirs/0", "guest": 7}]}, "not as the spec says"),
    ({"preopens": [{"dir": "minimal-three.dirs/0", "guest": f"/{i}"} for i in range(300)]}, "not as the spec says"),
    ({"args": ["x" * 70_000]}, "take more than"),
])
def test_a_tampered_test_is_one_clear_error_before_anything_runs(exported, tmp_path, change, said):
    """Hostile suites (from an attacker's review): wrong types, a float exit code, hundreds of
    preopens of one folder, huge arguments: exit 2, one line, no traceback, nothing run."""
    import shutil

    copy = tmp_path / "suite"
    shutil.copytree(exported / "wasip1", copy / "wasip1")
    spec = copy / "wasip1" / "minimal-three.json"
    spec.write_text(json.dumps({**json.loads(spec.read_text()), **change}))
    done = subprocess.run([sys.executable, "-m", "analysis", "conformance", str(copy)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and said in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert "PASS" not in done.stdout and "FAIL" not in done.stdout


def test_names_that_would_forge_output_and_foreign_guests_on_open_hosts_are_refused(exported, tmp_path):
    import shutil

    copy = tmp_path / "suite"
    shutil.copytree(exported / "wasip1", copy / "wasip1")
    (copy / "wasip1" / "minimal-three.json").rename(copy / "wasip1" / "x\nPASS wasip1\x1b[2J.json")
    done = subprocess.run([sys.executable, "-m", "analysis", "conformance", str(copy)], capture_output=True, text=True)
    assert done.returncode == 2 and "\\n" in done.stderr and "\x1b" not in done.stderr
    shutil.rmtree(copy)
    shutil.copytree(exported / "wasip1", copy / "wasip1")
    program = copy / "wasip1" / "report-case.wasm"
    data = program.read_bytes()
    program.unlink()
    program.write_bytes(data + b"\0custom")  # not the lab's guest any more: a trailing byte changes the file
    done = subprocess.run([sys.executable, "-m", "analysis", "conformance", str(copy), "--host", "wasi-js"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "not measured to keep a guest inside its preopens" in done.stderr


def test_ctrl_c_ends_a_conformance_run_at_once(exported, tmp_path):
    """A real SIGINT while a test's program sleeps in a host call: status 130, one line, the
    test under way not waited for (no PASS or FAIL for it), its run folder removed."""
    import os
    import shutil
    import signal

    import wasmtime

    from analysis.artifacts.guests import HOSTILE_DIR
    from conftest import wait_until

    copy = tmp_path / "suite" / "wasip1"
    shutil.copytree(exported / "wasip1", copy)
    for spec in copy.glob("*.json"):
        if spec.stem != "report-case":
            spec.unlink()
    (copy / "report-case.wasm").unlink()
    (copy / "report-case.wasm").write_bytes(wasmtime.wat2wasm((HOSTILE_DIR / "sleeper.wat").read_text()))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    run = subprocess.Popen([sys.executable, "-m", "analysis", "conformance", str(copy.parent)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env={**os.environ, "TMPDIR": str(scratch)})
    wait_until(lambda: list(scratch.glob("preopen-lab-*")), lambda: f"the test running (exit {run.poll()})")
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=120)
    assert run.returncode == 130 and stderr.strip().splitlines() == ["error: interrupted"], stderr
    assert "PASS" not in stdout and "FAIL" not in stdout
    assert list(scratch.glob("preopen-lab-*")) == []
