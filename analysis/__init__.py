"""preopen lab: the WASIp1-to-WASIp2 adapter preopen bug (wasmtime#10058), measured.

The few names a notebook needs first; the modules hold the rest:
``adapters``, ``guests``, ``runner``, ``model``, ``experiments``, ``plots``,
``widgets``, ``practices``, ``report``.
"""
from .experiments import REPORT_CASE
from .model import explain, predict
from .runner import run

__all__ = ["REPORT_CASE", "explain", "predict", "run"]
