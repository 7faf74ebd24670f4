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
    raise SystemExit(status)
