"""The one exception the lab raises for problems a user can fix, and how it words them."""
from __future__ import annotations


class LabError(Exception):
    """A problem with the user's input or environment, said in one line.

    The message names what went wrong and what to do about it; the CLI prints
    it as it is and exits with status 2, notebooks show it without a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


def first_line(error: BaseException | str, default: str = "no output") -> str:
    """The first non-empty line of a tool's error output or an exception's message:
    the part a one-line error can carry."""
    text = str(error).strip()
    return text.splitlines()[0].strip() if text else default


def last_line(error: BaseException | str, default: str = "no detail") -> str:
    """The last non-empty line of a message: where wasmtime puts a trap's cause, after
    its backtrace (``wasm trap: wasm `unreachable` instruction executed``)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else default
