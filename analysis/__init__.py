"""preopen lab: the WASIp1-to-WASIp2 adapter preopen bug (wasmtime#10058), measured.

The few names a notebook needs first; the modules hold the rest, from the facts up:
``wasi`` (first fd, errnos, limits), ``results`` (what a run found), ``hostdirs``,
``model``, ``describe`` (words about results), ``adapters``, ``guests``, ``compose``,
``runner`` and ``guest_output`` (one real run), ``verdicts``, ``scenarios``,
``modelcheck``, ``sweeps``, ``practices``, ``plots``, ``views`` (notebook HTML),
``widgets``, ``publish`` (the reports), ``cli`` and ``bench``.
"""
from . import views
from .model import explain, predict
from .runner import run
from .verdicts import REPORT_CASE

views.register()  # in a notebook, a RunResult shows as its HTML table

__all__ = ["REPORT_CASE", "explain", "predict", "run"]
