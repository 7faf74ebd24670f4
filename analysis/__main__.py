import gc

from .cli.main import main  # Ctrl-C or SIGTERM while it loads is noted, and answered by main (cli.startup)

if __name__ == "__main__":  # worker processes import this module again; they must not run the CLI
    status = main()
    # Python's exit ends with a collection over every object still alive: about 0.2 s
    # after a command that drew a figure. Frozen, they are passed over; the exit hooks
    # that remove the lab's folders still run.
    gc.freeze()
    raise SystemExit(status)
