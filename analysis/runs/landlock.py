"""Kernel confinement for a host's process: it reads the system, and writes only its run root.

Some WASIp1 hosts let a guest out of its preopens (measured: wasi-js by ``..``, an
absolute path and a symlink the guest made; @tybys/wasm-util by an absolute path and a
symlink; wamr by a symlink), so a host's own checks are not a bound the lab can rely on. Landlock is: an unprivileged process can restrict itself, before it
execs the host, to a list of folders with the rights allowed under each, and the
restriction holds for everything it starts. What a confined host may do:

- read and execute under the system's folders, its Python, node and the host's own
  installed files (``readable``), never the user's home (where the seals' key lives);
- read and write under the run's root (the preopens, its output files), nothing else;
- no TCP (ABI 4), and no signal or abstract socket reaching a process outside (ABI 6).

The ruleset is built in the lab's process (``Ruleset``); the child only switches it on
(two syscalls between fork and exec). Where the kernel has no Landlock (``abi`` is 0),
nothing is confined and the caller decides what may still run (``hosts``).
"""
from __future__ import annotations

import ctypes
import os
import struct
import sys
from collections.abc import Iterable
from functools import cache

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
"""The Landlock syscalls' numbers: the same on every architecture (the generic table)."""
_VERSION = 1 << 0
"""``landlock_create_ruleset`` flag: answer the ABI version instead of making a ruleset."""
_PATH_BENEATH = 1
_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_V1 = (1 << 13) - 1
"""Every file-system right of ABI 1: execute, write, read, read a folder, remove, make
each kind of file (char, dir, regular, socket, FIFO, block, symlink)."""
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
READ = EXECUTE | READ_FILE | READ_DIR
_NET_TCP = (1 << 0) | (1 << 1)
"""Bind and connect, TCP (ABI 4)."""
_SCOPES = (1 << 0) | (1 << 1)
"""Abstract Unix sockets and signals to processes outside the domain (ABI 6)."""

SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/opt", "/proc", "/sys", "/dev")
"""Folders every host may read: the system's programs and libraries and their settings."""

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


@cache
def abi() -> int:
    """The kernel's Landlock ABI version; 0 when it has none (or it is switched off)."""
    answer = _libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION))
    return max(int(answer), 0)


def handled(version: int) -> int:
    """The file-system rights the kernel of ABI ``version`` can deny."""
    rights = _FS_V1
    if version >= 2:
        rights |= REFER
    if version >= 3:
        rights |= TRUNCATE
    if version >= 5:
        rights |= IOCTL_DEV
    return rights


def python_folders() -> tuple[str, ...]:
    """This Python's prefixes: its virtual environment and the installation behind it."""
    return tuple(dict.fromkeys((sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(
        os.path.realpath(sys.executable)))))


def program_folder(program: str) -> str:
    """The installation a program came from (``/opt/node`` for ``/opt/node/bin/node``)."""
    return os.path.dirname(os.path.dirname(os.path.realpath(program)))


class Ruleset:
    """A Landlock ruleset made in the lab's process, to be switched on in a child.

    ``readable``: folders (or files) to read and execute under; ``writable``: folders to
    do anything under. Paths that do not exist are passed over. Use it as a context
    manager: the ruleset's descriptor is closed on the way out (the child keeps its copy
    only until it has restricted itself)."""

    def __init__(self, readable: Iterable[str], writable: Iterable[str]) -> None:
        version = abi()
        if version == 0:
            raise OSError("this kernel has no Landlock")
        fs = handled(version)
        attr = struct.pack("<Q", fs)
        if version >= 4:
            attr += struct.pack("<Q", _NET_TCP)
        if version >= 6:
            attr += struct.pack("<Q", _SCOPES)
        buffer = ctypes.create_string_buffer(attr, len(attr))
        fd = _libc.syscall(_CREATE_RULESET, buffer, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
        if fd < 0:
            raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
        self.fd = int(fd)
        try:
            for path in readable:
                self._allow(path, (READ | (IOCTL_DEV if path == "/dev" else 0)) & fs)
            self._allow("/dev/null", WRITE_FILE | READ_FILE)
            for path in writable:
                self._allow(path, fs)
        except BaseException:
            os.close(self.fd)
            raise

    def _allow(self, path: str, rights: int) -> None:
        try:
            target = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return  # not on this machine
        try:
            if not os.path.isdir(path):
                rights &= EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # what a file can be given
            rule = ctypes.create_string_buffer(struct.pack("<Qi", rights, target), 12)
            if _libc.syscall(_ADD_RULE, ctypes.c_int(self.fd), ctypes.c_int(_PATH_BENEATH), rule,
                             ctypes.c_uint32(0)) != 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        finally:
            os.close(target)

    def __enter__(self) -> Ruleset:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def restrict_self(self) -> None:
        """In the child, between fork and exec: from here on, only the ruleset's rights.
        Async-signal-safe enough for ``preexec_fn``: two syscalls, no allocation."""
        if _libc.prctl(_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if _libc.syscall(_RESTRICT_SELF, ctypes.c_int(self.fd), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
