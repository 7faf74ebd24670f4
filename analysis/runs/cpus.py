"""Which CPUs the lab's processes run on, and keeping one process on one CPU.

wasmtime hands every file operation of a guest to a worker thread; on a small VM the
hand-off between CPUs costs more than the operation, so the command line, report kernels
and sweep workers each keep to one CPU.
"""
from __future__ import annotations

import os

PIN_VARIABLE = "PREOPEN_LAB_CPU"
"""Set to a CPU number (or ``current``) to keep the shared runner's threads on one CPU."""


def usable_cpus() -> list[int]:
    """The CPUs this process could use when it started, before any pinning."""
    return list(_USABLE_CPUS)


_USABLE_CPUS = tuple(sorted(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else (0,)


def pin_to_cpu(cpu: int | None = None) -> int | None:
    """Keep the calling thread, and the threads it starts from now on, on one CPU.

    wasmtime hands every file operation of a guest to a worker thread; on a small VM the
    hand-off between CPUs costs more than the operation (one run of the report's case
    here: 1.05 ms unpinned, 0.54 ms pinned). Call it before the first run, so that those
    worker threads start pinned. ``cpu`` defaults to the one the thread is on now.
    Returns the CPU, or None where the system cannot or may not pin to it."""
    try:
        if cpu is None:
            with open("/proc/thread-self/stat") as stat:
                cpu = int(stat.read().rsplit(")", 1)[1].split()[36])
        os.sched_setaffinity(0, {cpu})  # refused (OSError) for a CPU this process may not use
        return cpu
    except (AttributeError, OSError, ValueError, IndexError):
        return None


__all__ = ["PIN_VARIABLE", "pin_to_cpu", "usable_cpus"]
