"""What one run may use (memory, disk, files) and how much it is using now.

A guest of your own, and every host's process, is watched while it runs (``host_process``,
``contained``): the kernel caps each file it writes (RLIMIT_FSIZE), but not a run's total,
and a host's memory has no cap the lab can set for all hosts alike. So the lab looks every
``POLL`` seconds and ends the run past a bound; what it saw is said in the run's trap.
"""
from __future__ import annotations

import os

HOST_MEMORY = 1536 << 20
"""Bytes a host's processes may hold resident in all, the guest's memory and the host's
own (V8, Python, wamr) together; past it they are killed."""
GUEST_MEMORY = 1 << 30
"""Bytes one linear memory may grow to, where the host has a knob for it: as under wasmtime-py."""
DISK_LIMIT = 64 << 20
"""Bytes a run may put under its root in all (its preopens, its files, the host's output)."""
ENTRIES_LIMIT = 20_000
"""Files and folders a run may have under its root (the lab's largest list makes about 500)."""
MEMORY_LIMIT_HIT = "memory limit"
"""How a run begins its trap when its host's processes held more than ``HOST_MEMORY``."""
DISK_LIMIT_HIT = "disk limit"
"""How a run begins its trap when it put more than ``DISK_LIMIT`` bytes or ``ENTRIES_LIMIT``
entries under its root."""
POLL = 0.02
"""Seconds between two looks at a running host's memory and disk."""


def over(who: str, pid: int | None, root: str) -> str | None:
    """The bound a run is past, worded for its trap, or None: ``pid`` and what it started
    against ``memory`` (None: not watched, RLIMIT_AS holds it), ``root`` against the disk bounds."""
    if pid is not None:
        held = resident(pid)
        if held > HOST_MEMORY:
            return (f"{MEMORY_LIMIT_HIT}: {who}'s processes held {held:,} bytes, more than the {HOST_MEMORY:,} "
                    "a run may; the lab ended them")
    used, entries = usage(root)
    if used > DISK_LIMIT or entries > ENTRIES_LIMIT:
        return (f"{DISK_LIMIT_HIT}: the run put {used:,} bytes in {entries:,} files under its root, more than "
                f"the {DISK_LIMIT:,} bytes or {ENTRIES_LIMIT:,} files a run may; the lab ended it")
    return None


def resident(pid: int) -> int:
    """Bytes resident in ``pid`` and every process below it (0 once gone)."""
    total, pending, page = 0, [pid], os.sysconf("SC_PAGE_SIZE")
    while pending:
        here = pending.pop()
        try:
            with open(f"/proc/{here}/statm") as statm:
                total += int(statm.read().split()[1]) * page
            for task in os.listdir(f"/proc/{here}/task"):
                with open(f"/proc/{here}/task/{task}/children") as children:
                    pending.extend(int(c) for c in children.read().split())
        except (OSError, ValueError, IndexError):
            continue  # ended meanwhile
    return total


def usage(root: str) -> tuple[int, int]:
    """Bytes of storage (blocks really used: a sparse file counts what it holds) and
    entries under ``root``, without following links."""
    used, entries, pending = 0, 0, [root]
    while pending:
        try:
            with os.scandir(pending.pop()) as found:
                for entry in found:
                    entries += 1
                    try:
                        used += entry.stat(follow_symlinks=False).st_blocks * 512
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                    except OSError:
                        continue
        except OSError:
            continue
        if entries > ENTRIES_LIMIT:
            break
    return used, entries
