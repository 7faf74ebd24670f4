"""The real adapter builds' import allocator, traced, against the model's ``explain``: every
catalogued build, the report's case and the stitched list, every fd; the facts the page and
the command line state; ``explain --adapter`` as a user types it; bad input in one line."""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from analysis.artifacts import adapters
from analysis.experiments.profiles import profile_of
from analysis.model import chain
from analysis.model.describe import render_trace
from analysis.reach import alloc_trace

from conftest import AFFECTED, BEFORE_BUG, FIXED, REPORT_CASE, cli

STITCHED = ("/a", "/bbbb", "/c", "/dd")
NEWEST = "jco-1.33.0"


@pytest.fixture(scope="module")
def compared() -> dict[tuple[str, tuple[str, ...], int], alloc_trace.Beside]:
    """Every catalogued build × both lists × every fd, each beside the model of the build's measured behaviour."""
    found = {}
    for build in adapters.catalogue():
        behavior = profile_of(build.id).behavior
        for paths in (REPORT_CASE, STITCHED):
            for real in alloc_trace.traces(build.id, paths):
                found[build.id, paths, real.fd] = alloc_trace.beside(real, chain.explain(paths, real.fd, behavior))
    return found


def test_every_build_and_fd_agrees_with_the_model_or_lists_the_names_once(compared):
    """The counting builds put every name where the model says and tell its name; the early builds
    make no allocation during the call: they listed the names once, side by side, at start-up."""
    assert len(compared) == 12 * (len(REPORT_CASE) + len(STITCHED)) == 108
    counting = {k: b for k, b in compared.items() if profile_of(k[0]).behavior != "early"}
    early = {k: b for k, b in compared.items() if profile_of(k[0]).behavior == "early"}
    assert len(counting) == 81 and len(early) == 27
    assert [k for k, b in counting.items() if not b.agrees] == []
    assert {k[0] for k in early} == {"jco-1.0.0", "jco-1.0.3", BEFORE_BUG}
    for (build, paths, fd), both in early.items():
        real = both.real
        assert not both.comparable and not real.listings and "at start-up" in both.why_not
        assert [real.startup.offset(i) for i in range(len(paths))] == [sum(len(p) for p in paths[:i])
                                                                     for i in range(len(paths))]
        assert real.told == paths[fd - 3].encode() and both.told_agrees


def test_the_affected_build_writes_every_name_at_one_address(compared):
    real = compared[AFFECTED, REPORT_CASE, 5].real
    listing = real.listing
    assert (listing.list.size, listing.list.align, listing.list.address) == (60, 4, 0x031830)
    assert [(a.size, a.align, a.address) for a in listing.names] == [(2, 1, 0x03186c)] * 5
    assert real.offsets == (0, 0, 0, 0, 0) and real.told == b"/e"
    assert alloc_trace.hex_address(listing.base) == "0x03186c"


def test_the_newest_build_keeps_the_wanted_name_and_writes_the_rest_after_it(compared):
    real = compared[NEWEST, REPORT_CASE, 5].real
    assert real.listing.list.address == 0x031830
    assert real.offsets == (0, 0, 0, 2, 2) and real.told == b"/c"
    assert [a.address for a in real.listing.names] == [0x03186c] * 3 + [0x03186e] * 2


def test_set_against_the_wrong_behaviour_the_comparison_differs():
    """The check can fail: the affected build against the fixed model stitches /ddbb where the model keeps /bbbb."""
    both = alloc_trace.beside(alloc_trace.trace(AFFECTED, STITCHED, 4), chain.explain(STITCHED, 4, "fixed"))
    assert both.comparable and not both.agrees and both.verdict == "differ"
    assert [s.agrees for s in both.steps] == [True, True, False, False] and both.real.told == b"/ddbb"


def test_one_trace_for_an_fd_is_the_same_as_the_walk_over_every_fd():
    walk = alloc_trace.traces(FIXED, REPORT_CASE)
    assert alloc_trace.trace(FIXED, REPORT_CASE, 6) == walk[3]
    assert [t.fd for t in walk] == [3, 4, 5, 6, 7]


def test_an_empty_name_is_asked_for_too_and_its_fd_refused():
    """As wasmtime lowers it, the empty name gets an allocation of 0 bytes; the fd answers EBADF, as the model's table."""
    real = alloc_trace.trace(AFFECTED, ("/a", "", "/c"), 4)
    assert real.errno == 8 and real.told is None
    assert [(a.size, a.index) for a in real.startup.allocations] == [(36, None), (2, 0), (0, 1), (2, 2)]
    assert "errno 8" in alloc_trace.beside(real, chain.explain(("/a", "", "/c"), 4)).why_not


def test_names_past_the_scratch_area_are_a_trap_with_the_adapters_own_words():
    real = alloc_trace.trace(AFFECTED, ("/" + "x" * 70_000,), 3)
    assert real.told is None and "unreachable" in real.trap and "allocation size is too large" in real.trap


def test_the_claims_on_page_4_hold_with_their_counts():
    from analysis.findings.root_cause import TRACED_LISTS, allocator_claims

    agree, early = allocator_claims()
    fds = sum(len(p) for p in TRACED_LISTS)
    assert agree.holds and f"checked on {9 * fds:,} traces" in agree.evidence
    assert early.holds and f"checked on {3 * fds:,} traces" in early.evidence
    assert "early builds" in agree.domain.words and agree.domain.contains(REPORT_CASE, AFFECTED, "probe")
    assert agree.trial is not None and AFFECTED in agree.trial.builds and BEFORE_BUG not in agree.trial.builds


def test_explain_with_an_adapter_shows_the_real_columns_beside_the_model():
    done = cli("explain", "--fd", "5", "--adapter", AFFECTED, *REPORT_CASE)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "asked" in lines[3] and "returned" in lines[3] and "name went to" in lines[3] and "agree" in lines[3]
    assert "returned 0x031830" in done.stdout and "0x03186c" in done.stdout
    assert sum("2 B, align 1  0x03186c  +0" in line and line.rstrip().endswith("yes") for line in lines) == 5
    assert f"model and {AFFECTED} agree" in done.stdout
    done = cli("explain", "--fd", "5", "--adapter", NEWEST, *REPORT_CASE)
    assert "behaviour fixed" in done.stdout and "0x03186e  +2" in done.stdout and f"{NEWEST} told '/c'" in done.stdout
    done = cli("explain", "--fd", "4", "--adapter", AFFECTED, "--behavior", "fixed", *STITCHED)
    assert f"model and {AFFECTED} DIFFER" in done.stdout and done.returncode == 0
    done = cli("explain", "--fd", "5", "--adapter", BEFORE_BUG, *REPORT_CASE)
    assert "offsets not compared" in done.stdout and "offsets 0, 2, 4, 6, 8" in done.stdout


def test_explain_with_an_adapter_as_json():
    done = cli("explain", "--fd", "5", "--adapter", NEWEST, "--json", *REPORT_CASE)
    said = json.loads(done.stdout)
    assert said["agrees"] and said["comparable"] and said["measured_behavior"] == "fixed"
    assert [s["real_offset"] for s in said["steps"]] == [0, 0, 0, 2, 2]
    assert said["real"]["listings"][0]["allocations"][0] == {"size": 60, "align": 4, "address": 0x031830, "index": None}
    assert said["model"] == json.loads(json.dumps(__import__("dataclasses").asdict(chain.explain(REPORT_CASE, 5, "fixed")),
                                                  default=lambda b: b.hex()))


def test_explain_without_an_adapter_is_unchanged():
    done = cli("explain", "--fd", "4", "/", "/tmp", "/home")
    assert done.stdout == render_trace(chain.explain(("/", "/tmp", "/home"), 4, "missing-increment")) + "\n"
    done = cli("explain", "--fd", "5", "--behavior", "fixed", *REPORT_CASE)
    assert done.stdout == render_trace(chain.explain(REPORT_CASE, 5, "fixed")) + "\n"


@pytest.mark.parametrize(("args", "words"), [
    (("--fd", "9", "--adapter", AFFECTED, "/a"), "is not a preopen here"),
    (("--fd", "3", "--adapter", "jco-nope", "/a"), "unknown adapter"),
    (("--fd", "3", "--adapter", f"{AFFECTED}-reactor", "/a"), "reactor adapter"),
    (("--fd", "3", "--adapter", AFFECTED, "--behavior", "native", "/a"), "no allocator"),
    (("--fd", "3", "--adapter", AFFECTED), "no preopen paths"),
    (("--fd", "x", "--adapter", AFFECTED, "/a"), "invalid int value"),
])
def test_bad_input_is_one_line_and_status_2(args, words):
    done = cli("explain", *args)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and words in done.stderr


@pytest.mark.parametrize(("path", "words"), [("/a\0b", "NUL byte"), ("/a\udcff", "not valid UTF-8")])
def test_a_path_no_host_can_take_is_one_line_and_status_2(path, words, capsys):
    """A NUL byte cannot be passed on a command line: the command's own entry point, in this process."""
    from analysis.cli.main import main

    assert main(["explain", "--fd", "3", "--adapter", AFFECTED, path]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and words in err


def test_a_build_known_only_by_its_checksum_is_not_run_in_process(monkeypatch):
    from analysis.model.errors import LabError

    stranger = adapters.AdapterBuild("jco-9.9.9", ("9.9.9",), "0" * 64, "test", catalogued=False)
    monkeypatch.setattr(adapters, "resolve", lambda build_id: stranger)
    with pytest.raises(LabError, match="not a catalogued build"):
        alloc_trace.trace("jco-9.9.9", REPORT_CASE, 5)


def test_the_recorded_stepper_shows_the_real_allocator_beside_each_step():
    from analysis.publish import offline

    cases = (offline.STEPPER_CASES[0], offline.STEPPER_CASES[-1])
    page = offline.stepper_html(cases, AFFECTED, NEWEST)
    assert page.count('class="stepper-real" data-verdict="agree"') == 2 * (len(REPORT_CASE) + 2)
    assert f"beside {AFFECTED} run for real" in page and f"beside {NEWEST} run for real" in page
    assert "<td>+2</td><td>+2</td>" in page and "class=differ" not in page
    assert offline.stepper_html(cases).count("stepper-real") == 0  # no builds given: the model alone


def test_the_real_allocator_in_a_page_is_escaped():
    from analysis.publish import offline

    paths = ("/<script>window.pwned=1</script>", "/<img src=x onerror=alert(1)>", "/b")
    case = offline.StepperCase("the user's <b>list</b>", paths, 4, real="affected")
    page = offline.stepper_html((case,), AFFECTED, NEWEST)
    assert "stepper-real" in page
    for opening in ("<script>window.pwned", "<img src=x", "<b>list"):
        assert opening not in page


def test_the_stepper_widget_shows_a_picked_build_beside_the_model():
    from analysis.show.widgets import Stepper

    with contextlib.redirect_stdout(io.StringIO()):  # outside a kernel the figure prints
        stepper = Stepper(REPORT_CASE, "missing-increment", fd=5, at=0, build=AFFECTED)
        assert stepper.beside.agrees and "0x031830" in stepper.real.value
        stepper.behavior.value = "fixed"
        stepper.step.value = stepper.step.max
        assert stepper.beside.verdict == "differ" and "class=differ" in stepper.real.value
        stepper.build.value = None
        assert stepper.real.value == "" and stepper.beside is None
    assert Stepper(REPORT_CASE).real.value == ""  # no build: the model alone, as before
