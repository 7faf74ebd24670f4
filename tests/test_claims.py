"""Every general statement the notebooks make is a claim checked against real runs."""
from __future__ import annotations

import pytest

from analysis.experiments import modelcheck, practices, sweeps, verdicts
from analysis.findings import advice, checks, claims, root_cause
from analysis.findings.checks import Findings
from analysis.show.views import findings_html

from conftest import AFFECTED, REPORT_CASE


@pytest.fixture(scope="module")
def found(runner):
    return verdicts.measure(runner=runner)


def assert_all_hold(findings: Findings) -> None:
    refuted = [f"{c.statement} ({c.example})" for c in findings.claims if not c.holds]
    assert findings.claims and not refuted, refuted


def test_the_preopen_model(runner):
    assert_all_hold(claims.preopen_model_findings(runner))


def test_the_reproduction(found, runner):
    assert_all_hold(claims.reproduction_findings(found, runner))


def test_which_slots_survive(found, runner):
    assert_all_hold(claims.survival_findings(found, runner))


def test_the_root_cause(found, runner):
    affected, fixed = verdicts.pick_builds(found)
    assert_all_hold(root_cause.root_cause_findings(modelcheck.check_model(60, 4, affected, fixed, runner=runner)))


def test_reach(found, runner):
    budget = sweeps.name_budget(counts=(1, 3, 10), runner=runner)
    assert_all_hold(claims.reach_findings(found, sweeps.ceiling(runner=runner), budget, runner))


def test_am_i_affected(found):
    from analysis.reach import survey

    assert_all_hold(advice.am_i_affected_findings(survey.survey(), found))


def test_practices(found, runner):
    affected, _ = verdicts.pick_builds(found)
    five = ["/data", "/cache", "/tmp", "/home/user", "/srv"]
    assert_all_hold(advice.practices_findings(found, five, practices.order_search(five, affected, runner), affected,
                                              runner))


def test_a_refuted_claim_shows_as_refuted_with_its_counterexample(runner):
    """The rule "the first and the last are always reachable", stated for every list, fails on a real run."""
    runs = [runner.run(paths, adapter=AFFECTED) for paths in (REPORT_CASE, claims.LAST_MISROUTED)]
    claim = checks.every("The first preopen is always reachable, and so is the last.",
                         ((checks.label(r), r.outcomes[0] == r.outcomes[-1] == "ok") for r in runs), "runs")
    assert not claim.holds
    assert claim.example == f"counterexample: {checks.label(runs[1])}" and "misrouted" in claim.example
    page = findings_html(Findings("refuted", (claim,)))
    assert "does not hold" in page and "/home/user" in page


def test_a_claim_about_nothing_does_not_hold():
    assert not checks.every("Every run of nothing is fine.", [], "runs").holds
    assert not checks.some("Some run of nothing is fine.", [], "runs").holds


def test_the_survey_table_summarises_every_file_it_scanned():
    from analysis.reach import survey
    from analysis.show import views

    rows = [r for r in survey.survey() if r.adapters]
    table = views.survey_frame(rows)
    assert len(table) < len(rows)  # runs of releases, not one row per file
    for r in rows:  # each file's answer is on exactly one row that covers its release
        covering = [t for t in table.itertuples(index=False)
                    if t.package == r.package.removeprefix("@bytecodealliance/")
                    and t[1] in (r.file, f"{r.file.rpartition('/')[0]}/*.wasm")
                    and t[3].endswith(r.answer) and r.version in _releases(t[2], rows, r.package)]
        assert len(covering) == 1, (r.package, r.version, r.file)


def test_the_survey_grid_legend_names_every_colour_it_draws():
    """Grey cells (a release without that file) are in the legend too, beside the answers."""
    from analysis.reach import survey
    from analysis.show import grids

    rows = survey.survey()
    fig = grids.survey_grid(rows)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    answers = {r.answer for r in rows if r.adapters}
    drawn = {(r.package, r.file) for r in rows if r.adapters}
    releases = {p: {r.version for r in rows if r.adapters and r.package == p} for p, _ in drawn}
    found = {(r.package, r.file, r.version) for r in rows if r.adapters}
    gaps = any((p, f, v) not in found for p, f in drawn for v in releases[p])
    assert set(legend) == answers | ({"no such file with\nan adapter in it"} if gaps else set())


def _releases(spanned: str, rows, package: str) -> list[str]:
    """The versions a ``span`` text stands for, read back against the surveyed versions."""
    versions = list(dict.fromkeys(r.version for r in rows if r.package == package))
    if " .. " in spanned:
        first, last = spanned.split(" (")[0].split(" .. ")
        return versions[versions.index(first):versions.index(last) + 1]
    return spanned.split(", ")
