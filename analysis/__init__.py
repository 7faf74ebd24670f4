"""preopen lab: the WASIp1-to-WASIp2 adapter preopen bug (wasmtime#10058), measured.

The few names a notebook needs first; the modules hold the rest, from the facts up:
``errors``, ``_cache`` (where files go), ``wasi`` (first fd, errnos, limits),
``results`` (what a run found), ``scratch`` (the adapter's scratch area in bytes),
``hostdirs``, ``model``, ``npm``, ``adapters``, ``guests``, ``compose``, ``inside`` (the
modules in a component), ``adapter_host`` and ``scan`` (am I affected?), ``survey`` and
``toolchains`` (published packages, scanned), ``describe`` (words about results),
``guest_output``, ``hosts`` (the Wasmtime CLI and node), ``cpus``, ``contained`` (a
child process the lab can always stop), ``compiled`` (compiled code kept between
processes), ``runner`` (one real run), ``verdicts``, ``repair``, ``profiles`` (each
build, measured for the model), ``pool`` (runs on every CPU), ``scenarios``,
``modelcheck``, ``sweeps``, ``practices``, ``checks`` and ``claims`` (every general
statement, checked), ``palette``, ``plots``, ``diagrams`` (the mechanism, drawn),
``views`` (notebook HTML), ``widgets``, ``slides`` (the deck), ``publish`` (the
reports), ``live_lab`` (JupyterLab driven in a browser), ``bench`` and ``cli``.
"""
import sys

from .model import explain, predict
from .runner import run
from .verdicts import REPORT_CASE

if "IPython" in sys.modules:  # in a notebook: a RunResult shows as its HTML table
    from . import views

    views.register()

__all__ = ["REPORT_CASE", "explain", "predict", "run"]
