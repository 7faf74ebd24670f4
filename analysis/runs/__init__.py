"""One real run: the host directories behind the preopens, a guest compiled and started in
a fresh store, its output read into a ``RunResult``; a guest of your own contained in a
child process; the Wasmtime CLI, node and the WASIp1 hosts as other hosts, each in a
process the kernel confines (``landlock``) and the lab bounds (``bounds``, ``host_process``);
many runs on every CPU.

Imports ``artifacts`` and ``model`` only; never an experiment, a page or a widget.
"""
