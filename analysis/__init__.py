"""preopen lab: the WASIp1-to-WASIp2 adapter preopen bug (wasmtime#10058), measured.

The package is ten wings, each a folder whose ``__init__`` says what it holds; imports
run one way, from the top of this list down to the ground:

``cli``          the command line (``python -m analysis``)
``bench``        the benchmark and the live-JupyterLab driver (for ``bench`` and the tests)
``publish``      the reports: notebooks executed, pages, the deck, offline assets
``show``         what a notebook shows: colours, figures, diagrams, HTML views, widgets
``findings``     every general statement the pages make, checked against this build's runs
``reach``        other people's files: what a component carries, scan, survey, repair
``experiments``  verdicts, sweeps, the model against real runs, what a host can do
``runs``         one real run, in-process or contained, on every CPU, under other hosts
``artifacts``    adapter builds from npm, the guests, composition, compiled code, the cache
``model``        the ground: the one ``LabError``, WASI's facts, what a run found, the model

A notebook needs only the names below: ``run``, ``predict``, ``explain``,
``REPORT_CASE``, and the modules it shows from (``from analysis import plots, views``).
"""
import sys

if sys.argv[:1] == ["-m"]:  # `python -m analysis` is starting: signals wait for its main (cli.startup)
    from .cli import startup

    startup.hold()

import importlib  # noqa: E402 - after the hold: Ctrl-C while these load is noted too
from typing import Any  # noqa: E402

_NAMES = {
    "run": "runs.runner", "predict": "model.chain", "explain": "model.chain", "REPORT_CASE": "experiments.verdicts",
}
"""The functions and constants a notebook needs first, and the module each comes from."""
_MODULES = {
    "hosts": "runs",
    "verdicts": "experiments", "sweeps": "experiments", "modelcheck": "experiments", "practices": "experiments",
    "scan": "reach", "survey": "reach", "toolchains": "reach", "host_matrix": "reach", "suite": "reach", "suite_export": "reach",
    "allocator": "reach", "designs": "reach", "intervention": "reach", "alloc_trace": "reach",
    "claims": "findings", "advice": "findings", "root_cause": "findings", "other_hosts": "findings", "no_test": "findings",
    "plots": "show", "diagrams": "show", "views": "show", "widgets": "show", "host_tables": "show", "binary": "show",
    "suite_tables": "show", "grids": "show",
}
"""The modules a notebook imports by their short name, and the wing each lives in."""


def __getattr__(name: str) -> Any:
    """``from analysis import run, plots``: loaded when first asked for, so that
    ``import analysis`` (and the start of every command) costs next to nothing."""
    if name in _NAMES:
        return getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    if name in _MODULES:
        return importlib.import_module(f".{_MODULES[name]}.{name}", __name__)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


if "IPython" in sys.modules:  # in a notebook: a RunResult shows as its HTML table
    from .show import views

    views.register()

__all__ = [*_NAMES, *_MODULES]
