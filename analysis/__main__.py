import gc
import sys

try:  # Ctrl-C while the command line loads: the same one line as at any later moment
    from .cli.main import main
except KeyboardInterrupt:
    print("error: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

if __name__ == "__main__":  # worker processes import this module again; they must not run the CLI
    status = main()
    # Python's exit ends with a collection over every object still alive: about 0.2 s
    # after a command that drew a figure. Frozen, they are passed over; the exit hooks
    # that remove the lab's folders still run.
    gc.freeze()
    raise SystemExit(status)
