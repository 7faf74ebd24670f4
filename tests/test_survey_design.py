"""The survey's design column (page 7): beside the verdict of every adapter found in a published
release's ``.wasm`` files, the design its allocator's code carries (``scan``'s ``Finding.design``),
whether the two agree, and the row saying so where they do not. Real releases, real runs."""
from __future__ import annotations

import json

import pytest

from analysis.artifacts import adapters, compose, guests, seal
from analysis.artifacts.cache import sha256_bytes
from analysis.artifacts.npm import pack_members
from analysis.reach import allocator, scan, survey
from analysis.runs import contained
from analysis.show import views

from conftest import AFFECTED, FIXED

RELEASE = AFFECTED.removeprefix("jco-")
"""jco 1.8.1, as the survey's seal tests: its ``lib/`` adapters are a catalogued build (affected),
its ``obj/`` modules carry adapters built apart, with jco's own tools."""
DESIGN, AGREEMENT = "its allocator's code reads", "code and run"


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory) -> tuple[list[survey.Row], list[dict]]:
    """The release's rows, made by this code in a cache of its own (none read from an older survey),
    and what the sealed entry they were kept in holds. The fork server that runs each scan is
    started first: it keeps the environment it started with, so started under the cache of
    this test it would hand that cache to every later scan of this worker's tests."""
    contained.forkserver(preload=scan.__name__)
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREOPEN_LAB_CACHE", str(folder))
        rows = survey._release(survey.JCO, RELEASE)
        entries = list((folder / "survey").rglob("*.json"))
        assert len(entries) == 1 and seal.seal_holds(entries[0], entries[0].read_bytes())
        assert survey._release(survey.JCO, RELEASE) == rows  # read back through the seal, as made
        return rows, json.loads(entries[0].read_bytes())


def test_every_adapter_surveyed_carries_the_design_its_file_reads_and_it_agrees_with_the_run(surveyed):
    rows, _ = surveyed
    found = [r for r in rows if r.adapters]
    assert found and {r.answer for r in found} == {"affected"}
    files = pack_members(survey.JCO, RELEASE, ".wasm", f"{survey.JCO}@{RELEASE}")
    for row in found:
        data = files[f"package/{row.file}"]
        assert sha256_bytes(data) == row.sha256
        designs = row.design.split(", ")
        assert len(designs) == row.adapters and set(designs) <= set(allocator.DESIGNS), row.file
        assert designs == [r.design for r in allocator.read_bytes(data, row.file)], row.file  # the file's own code
        if "unknown" in designs:  # never a guess: nothing to compare, and why
            assert row.design_agrees is None and row.design_evidence, row.file
        else:
            assert row.design_agrees is True, row.file
            assert {allocator.IMPLIES[d] for d in designs} == {row.answer}, row.file
    build = adapters.resolve(AFFECTED)  # the catalogued build's own adapters are always read, never unknown
    catalogued = [r for r in found if r.sha256 in (build.sha256, build.reactor_sha256)]
    assert len(catalogued) == 2
    assert all((r.design, r.design_agrees) == ("missing-increment", True) for r in catalogued)


def test_the_rows_are_kept_under_the_seal_with_their_design(surveyed):
    rows, kept = surveyed
    assert [(k["file"], k["design"], k["design_agrees"]) for k in kept] == \
        [(r.file, r.design, r.design_agrees) for r in rows]


def test_page_7s_table_has_the_design_beside_the_answer(surveyed):
    rows, _ = surveyed
    table = views.survey_frame([r for r in rows if r.adapters])
    columns = list(table.columns)
    at = columns.index("scan's answer")
    assert columns[at + 1:at + 3] == [DESIGN, AGREEMENT]  # beside the run's answer
    for row in (r for r in rows if r.adapters):
        covering = [t for t in table.to_dict("records")
                    if t["files"] in (row.file, f"{row.file.rpartition('/')[0]}/*.wasm") and t[DESIGN] == row.design
                    and t["scan's answer"].endswith(row.answer)]
        assert len(covering) == 1, row.file
        said = covering[0][AGREEMENT]
        if row.design_agrees:
            assert said == "agree", said
        else:
            assert said.startswith("the code says nothing either way") and row.design_evidence in said, said
    page = views.frame_html(table)
    assert ">its allocator&#39;s code reads</th>" in page and ">code and run</th>" in page
    assert "missing-increment" in page


def test_where_the_design_and_the_run_disagree_the_survey_row_says_so():
    """A fixed build's adapter edited to write its state back with the counter zeroed: its allocator
    still reads ``counts``, its run is affected. Surveyed as a published file would be."""
    from test_scan import _forgets_the_count

    edited = _forgets_the_count(adapters.fetch(adapters.resolve(FIXED)).read_bytes())
    data = compose.compose_with(guests.get("opener").wasm(), edited, "an edited adapter")
    row = survey._row("lab-test", "0.0.0", "app.wasm", data)
    assert (row.answer, row.design, row.design_agrees) == ("affected", "counts", False)
    said = views.survey_frame([row]).to_dict("records")[0]
    assert said[DESIGN] == "counts"
    assert said[AGREEMENT].startswith("disagree") and "the run decides" in said[AGREEMENT]
