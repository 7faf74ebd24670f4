"""Ctrl-C and SIGTERM while ``python -m analysis`` is still loading.

Python turns Ctrl-C into ``KeyboardInterrupt`` wherever the main thread happens to be,
and during imports that can be inside importlib's own callbacks, where the exception
is printed and dropped (the command then runs on), or at the top of ``runpy`` (a
traceback). So while the command line loads, the two signals are only noted
(``hold``); ``main`` takes them back first thing (``release``) and answers a noted one
in its usual single line.
"""
from __future__ import annotations

import signal

_noted: list[int] = []
_held = False


def hold() -> None:
    """From now on, note Ctrl-C and SIGTERM instead of acting on them."""
    global _held
    _held = True
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, _note)


def release() -> int | None:
    """Python's own handling back; the signal noted meanwhile, if one was."""
    global _held
    if _held:
        _held = False
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return _noted[0] if _noted else None


def _note(signum: int, frame: object) -> None:
    _noted.append(signum)
