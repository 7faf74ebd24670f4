"""The published builds of the ``wasi_snapshot_preview1`` adapter, and how to get them.

Every build here is the command adapter shipped inside a release of the npm package
``@bytecodealliance/jco`` (``lib/wasi_snapshot_preview1.command.wasm``). Releases that
ship the same bytes are one build; ``adapters.lock.json`` pins each build's sha256 and
says what jco's own history tells of its source. Whether a build has the preopen bug
is never written here: ``python -m analysis verdicts`` measures it.

Fetching uses ``npm pack`` (see ``npm.py``), reads only the adapter out of the
tarball, checks it against the pinned checksum and moves it into the cache in one
rename.
"""
from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import wasmtime

from ..model.describe import shown
from ..model.errors import LabError, first_line
from ..model.results import NATIVE
from . import seal
from .cache import cache_dir, locked, sha256_bytes, sha256_file, write_atomically
from .npm import MissingMember, npm, pack_members, reason

PACKAGE = "@bytecodealliance/jco"
ADAPTER_MEMBER = "package/lib/wasi_snapshot_preview1.command.wasm"
REACTOR_MEMBER = "package/lib/wasi_snapshot_preview1.reactor.wasm"
"""The same adapter for programs without a ``_start`` (libraries that export functions)."""
LOCK_FILE = Path(__file__).with_name("adapters.lock.json")

REACTOR_SUFFIX = "-reactor"
_ID = re.compile(r"jco-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)")


@dataclass(frozen=True)
class AdapterBuild:
    """One distinct adapter build: the same bytes, whichever releases ship them."""

    id: str
    """Named after the first jco release that ships it, e.g. ``jco-1.8.1``."""
    releases: tuple[str, ...]
    """Every jco release known to ship exactly these bytes, oldest first."""
    sha256: str
    source: str
    """What jco's own history says about where this build came from."""
    catalogued: bool = True
    """False for a release outside the lock file, recognised only by its checksum."""
    reactor_sha256: str | None = None
    """The reactor adapter shipped in the same release (``reactor()``), pinned too."""
    member: str = ADAPTER_MEMBER
    """Which file of the release this build is: the command adapter, or the reactor."""

    def reactor(self) -> AdapterBuild:
        """The reactor adapter of this build's release, as a build of its own (``<id>-reactor``)."""
        if self.reactor_sha256 is None:
            raise LabError(f"no reactor adapter is pinned for {self.id}: pick a catalogued build")
        return AdapterBuild(f"{self.id}{REACTOR_SUFFIX}", self.releases, self.reactor_sha256,
                            f"the reactor adapter beside {self.id}", self.catalogued, None, REACTOR_MEMBER)

    @property
    def version(self) -> str:
        """The jco release to fetch this build from."""
        return self.releases[0]

    @property
    def short_sha(self) -> str:
        return self.sha256[:16]

    def cache_path(self) -> Path:
        return cache_dir() / "adapters" / f"{self.sha256}.wasm"

    def is_cached(self) -> bool:
        path = self.cache_path()
        return path.is_file() and sha256_file(path) == self.sha256


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("-")[0].split("."))


@lru_cache(maxsize=1)
def catalogue() -> tuple[AdapterBuild, ...]:
    """All pinned builds, in release order."""
    data = json.loads(LOCK_FILE.read_text())
    builds = [
        AdapterBuild(
            id=entry["id"],
            releases=tuple(entry["releases"]),
            sha256=entry["sha256"],
            source=entry["source"],
            reactor_sha256=entry.get("reactor_sha256"),
        )
        for entry in data["builds"]
    ]
    return tuple(sorted(builds, key=lambda b: _version_key(b.version)))


def all_builds() -> tuple[str, ...]:
    """Native and every catalogued build id, in release order: what sweeps run by default."""
    return (NATIVE, *(b.id for b in catalogue()))


def _by_sha256(sha256: str) -> AdapterBuild | None:
    return next((b for b in catalogue() if b.sha256 == sha256), None)


def resolve(adapter_id: str) -> AdapterBuild:
    """Turn ``jco-X.Y.Z`` into a build.

    A catalogued id or any release listed in the lock file resolves at once. Any other
    published release is fetched and recognised by its checksum: if its bytes match a
    catalogued build, that build is returned; otherwise an uncatalogued build.
    """
    wanted = adapter_id.strip()
    reactor = wanted.endswith(REACTOR_SUFFIX)
    match = _ID.fullmatch(wanted.removesuffix(REACTOR_SUFFIX))
    if not match or match.group(1).endswith(REACTOR_SUFFIX):
        raise LabError(
            f"unknown adapter '{shown(adapter_id)}': use an id from `python -m analysis adapters`"
            " or jco-X.Y.Z for any published jco release, or --native"
        )
    if reactor:
        return resolve(wanted.removesuffix(REACTOR_SUFFIX)).reactor()
    version = match.group(1)
    for build in catalogue():
        if version in build.releases:
            return build
    return fetch_release(version)


def fetch_release(version: str) -> AdapterBuild:
    """Any published jco release's adapter, fetched (once) and known by its checksum:
    the catalogued build that ships the same bytes, or an uncatalogued build.

    The record of which checksum a release ships is sealed (``seal``): a record anyone else
    wrote could map the release to another build, so it is fetched again instead; without
    a key nothing is recorded and the release is fetched each time it is asked for."""
    record = cache_dir() / "adapters" / "releases" / f"{version}.sha256"
    sealed = seal.read_sealed(record, f"the checksum of jco {version}", RECORD_MAX_BYTES)
    if sealed is not None:
        digest = sealed.decode("ascii", "replace").strip()
        known = _by_sha256(digest)
        if known is not None:
            return known
        build = AdapterBuild(f"jco-{version}", (version,), digest, _UNCATALOGUED, False)
        if build.is_cached():
            return build
    data = _download(version)
    digest = sha256_bytes(data)
    seal.write_sealed(record, (digest + "\n").encode())
    known = _by_sha256(digest)
    build = known or AdapterBuild(f"jco-{version}", (version,), digest, _UNCATALOGUED, False)
    write_atomically(build.cache_path(), data)
    return build


RECORD_MAX_BYTES = 256
"""A release's checksum record is one sha256 in hex; a larger one in the cache is not read."""
_UNCATALOGUED = "not in the lock file: fetched on demand and known only by its checksum"


def fetch(build: AdapterBuild) -> Path:
    """The cached adapter file for ``build``, fetched first if it is missing or damaged."""
    path = build.cache_path()
    if build.is_cached():
        return path
    with locked(path):
        return _fetch_locked(build, path)


def _fetch_locked(build: AdapterBuild, path: Path) -> Path:
    if path.is_file():
        if sha256_file(path) == build.sha256:
            return path  # another process fetched it while we waited
        path.unlink()  # damaged: fetch it again rather than use it
    data = _download(build.version, build.member)
    digest = sha256_bytes(data)
    if digest != build.sha256:
        raise LabError(
            f"checksum mismatch for adapter {build.id}: jco {build.version} gave sha256 "
            f"{digest[:16]}…, the lock file pins {build.short_sha}…; nothing was cached. "
            "If jco re-published this release, run `python -m analysis adapters --scan` "
            "and review the lock file"
        )
    write_atomically(path, data)
    return path


def _download(version: str, member: str = ADAPTER_MEMBER) -> bytes:
    """Fetch one jco release with ``npm pack`` and return one adapter's bytes (the command
    adapter unless told), checked to be one before anything is cached."""
    try:
        data = pack_members(PACKAGE, version, [member], f"adapter jco-{version}")[member]
    except MissingMember:
        raise LabError(
            f"jco {version} ships no {member.removeprefix('package/')}: releases "
            "before 1.0.0 carry pre-WASI-0.2 adapters; pick jco 1.0.0 or newer"
        ) from None
    problem = unusable(data)
    if problem:
        raise LabError(f"jco {version}'s {member.removeprefix('package/')} is not a usable adapter "
                       f"({problem}); nothing was cached: pick another release")
    return data


def unusable(data: bytes) -> str | None:
    """Why ``data`` cannot be a WASIp1 command adapter, or None: it must be a valid core
    module that exports the preview1 functions the guests call, ``_start``'s stand-in among them."""
    if not data.startswith(b"\0asm"):
        return "not a WebAssembly binary"
    try:
        module = wasmtime.Module(wasmtime.Engine(), data)
    except wasmtime.WasmtimeError as exc:
        return f"not a valid WebAssembly module: {first_line(exc, 'invalid')}"
    exports = {e.name for e in module.exports}
    missing = [n for n in ("fd_prestat_get", "fd_prestat_dir_name", "path_open", "fd_read") if n not in exports]
    return f"it exports no {', '.join(missing)}" if missing else None


# -- maintenance -------------------------------------------------------------------


def published_releases() -> list[str]:
    """Every published jco release from 1.0.0 on, oldest first, as npm lists them."""
    done = subprocess.run(
        [npm(), "view", PACKAGE, "versions", "--json"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise LabError(f"npm view failed ({reason(done.stderr)}); retry")
    versions = [v for v in json.loads(done.stdout) if "-" not in v]
    return sorted((v for v in versions if _version_key(v) >= (1, 0, 0)), key=_version_key)


def scan(versions: list[str] | None = None) -> list[dict]:
    """Fetch releases and group them by adapter checksum, for refreshing the lock file.

    Existing entries keep their id and source; new checksums get an entry named after
    their first release and a source that says it still needs looking into.
    """
    by_sha: dict[str, list[str]] = {}
    for version in versions if versions is not None else published_releases():
        digest = sha256_bytes(_download(version))
        by_sha.setdefault(digest, []).append(version)
    entries = []
    for digest, releases in by_sha.items():
        known = _by_sha256(digest)
        first = sorted(releases, key=_version_key)[0]
        entries.append(
            {
                "id": known.id if known else f"jco-{first}",
                "releases": sorted(releases, key=_version_key),
                "sha256": digest,
                "reactor_sha256": sha256_bytes(_download(first, REACTOR_MEMBER)),
                "source": known.source if known else "found by `adapters --scan`; source not yet researched",
            }
        )
    return sorted(entries, key=lambda e: _version_key(e["releases"][0]))


def write_lock(entries: list[dict]) -> None:
    document = {
        "package": PACKAGE,
        "file": ADAPTER_MEMBER.removeprefix("package/"),
        "builds": entries,
        "reactor_file": REACTOR_MEMBER.removeprefix("package/"),
    }
    write_atomically(LOCK_FILE, (json.dumps(document, indent=2) + "\n").encode())
    catalogue.cache_clear()


__all__ = [
    "AdapterBuild",
    "all_builds",
    "catalogue",
    "fetch",
    "fetch_release",
    "resolve",
    "scan",
    "write_lock",
]
