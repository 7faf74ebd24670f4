"""Every page's claims at once, computed as the notebooks compute them, for ``python -m
analysis claims``: the same inputs (the builds measured, the model check, the sweeps, the
survey) and the same hunt."""
from __future__ import annotations

from ..experiments import modelcheck, practices, sweeps, verdicts
from ..reach import intervention, survey
from ..runs.runner import Runner, default_runner
from . import advice, claims, root_cause
from .checks import Findings
from .hunt import REPORT_HUNT

MODEL_CHECK_LISTS = 200
"""Random lists notebook 4's model check runs (``modelcheck.check_model``)."""
MODEL_CHECK_SEED = 4
FIVE = ("/data", "/cache", "/tmp", "/home/user", "/srv")
"""Notebook 6's five directories, whose 120 orders it searches."""


def gather(hunt: int = REPORT_HUNT, runner: Runner | None = None, with_survey: bool = True) -> list[Findings]:
    """Pages 1 to 7 (1 to 6 without ``with_survey``: page 7 speaks of files, not preopen lists)."""
    runner = runner or default_runner()
    found = verdicts.measure(runner=runner)
    affected, fixed = verdicts.pick_builds(found)
    check = modelcheck.check_model(MODEL_CHECK_LISTS, MODEL_CHECK_SEED, affected, fixed, runner=runner)
    orders = practices.order_search(list(FIVE), affected, runner=runner)
    pages = [
        claims.preopen_model_findings(runner, hunt),
        claims.reproduction_findings(found, runner),
        claims.survival_findings(found, runner, hunt),
        root_cause.root_cause_findings(check, runner, hunt, intervention.table(runner)),
        claims.reach_findings(found, sweeps.ceiling(runner=runner), sweeps.name_budget(runner=runner), runner, hunt),
        advice.practices_findings(found, list(FIVE), orders, affected, runner, hunt),
    ]
    if with_survey:
        pages.append(advice.am_i_affected_findings(survey.survey(), found))
    return pages
