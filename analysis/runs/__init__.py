"""One real run: the host directories behind the preopens, a guest compiled and started in
a fresh store, its output read into a ``RunResult``; a guest of your own contained in a
child process; the Wasmtime CLI and node as other hosts; many runs on every CPU.

Imports ``artifacts`` and ``model`` only; never an experiment, a page or a widget.
"""
