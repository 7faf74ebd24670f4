import gc
import os
import sys

from .cli.main import main, say  # Ctrl-C or SIGTERM while it loads is noted, and answered by main (cli.startup)

if __name__ == "__main__":  # worker processes import this module again; they must not run the CLI
    status = main()
    try:  # what is still buffered: a full disk behind stdout fails here; the answer reached nobody, so 2
        sys.stdout.flush()
    except OSError as exc:
        say(f"error: cannot write the output ({exc.strerror or exc})")
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 2
    # Python's exit ends with a collection over every object still alive: about 0.2 s
    # after a command that drew a figure. Frozen, they are passed over; the exit hooks
    # that remove the lab's folders still run.
    gc.freeze()
    # CPython 3.11 marks a KeyboardInterrupt raised inside code it runs from a string
    # (dataclasses and namedtuple build their methods that way, so any import can be
    # there) as unhandled, even once ``main`` has caught it; ``python -m`` then ends by
    # killing itself with SIGINT instead of exiting 130. Evaluating a string clears the
    # mark: measured, 2 of 30 Ctrl-Cs to a sweep died by SIGINT without this line.
    eval("None")  # noqa: S307 - a constant string, for the side effect above
    raise SystemExit(status)
