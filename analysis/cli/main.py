"""``python -m analysis``: the lab from a terminal.

Problems a user can fix come out as one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..artifacts.cache import LOG
from ..model.describe import shown
from ..model.errors import LabError, first_line
from ..runs.cpus import pin_to_cpu
from . import builds, claims, experiments, reach, reports, rootcause, runs, startup


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage problem in one line, without the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    """Every command, each group's added by its own module."""
    parser = _Parser(prog="python -m analysis", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for group in (builds, runs, experiments, claims, reach, rootcause, reports):
        group.register(commands)
    return parser


class _Terminated(BaseException):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that every cleanup on the way out runs."""


def _terminate(signum: int, frame: object) -> NoReturn:
    raise _Terminated


def _say_on_stderr() -> None:
    """What the lab logs along the way (``artifacts.cache.LOG``), one plain line each on stderr."""
    if not LOG.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        LOG.addHandler(handler)
        LOG.setLevel(logging.INFO)
        LOG.propagate = False


def say(line: str) -> None:
    """One line on stderr, if stderr can still take it (it may be a full disk too)."""
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    noted = startup.release()
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        if noted is not None:  # Ctrl-C or SIGTERM while the command line was loading
            raise KeyboardInterrupt if noted == signal.SIGINT else _Terminated
        args = parser().parse_args(argv)  # a usage problem exits here with status 2, in one line
        _say_on_stderr()
        pin_to_cpu()  # this process runs guests one at a time: keep them, and wasmtime's threads, on one CPU
        return args.func(args)
    except LabError as exc:
        say(f"error: {shown(str(exc), 100_000)}")  # escaped: it may name a file
        return 2
    except KeyboardInterrupt:
        say("error: interrupted")
        return 130
    except _Terminated:
        say("error: terminated")
        return 143
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a write failed: the answer's own (a full disk behind stdout), or a file's
        where = shown(str(exc.filename), 400) if exc.filename else "the output"
        say(f"error: cannot write {where} ({exc.strerror or exc})")
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug of the lab's: one line, never a traceback
        say(f"error: the lab failed ({type(exc).__name__}: {shown(first_line(exc, 'no detail'), 400)}); "
            "please report it with the command you ran")
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
