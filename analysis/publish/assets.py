"""What the pages and the deck load, shipped beside them so a reader needs no network.

require.js (nbconvert's page template loads it) and reveal.js (with its theme's font, and its
notes plugin) come out of their
npm packages with ``npm pack``, each file pinned by sha256 and checked before it is cached.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..artifacts.cache import cache_dir, sha256_bytes, write_atomically
from ..artifacts.npm import pack_members
from ..model.errors import LabError


@dataclass(frozen=True)
class Asset:
    name: str
    package: str
    version: str
    member: str
    sha256: str


_REVEAL = "4.6.1"
_REVEAL_FILES = {
    "dist/reveal.js": "73d4b64d59eded6de6a49500e7b709eb8d92c0d1d88d911319ce551c31341e9f",
    "dist/reveal.css": "fa4713396db8274bc0f1def50767464b6d98e61f4f83d17f4de6417210b25901",
    "dist/theme/white.css": "bf59df9ecd8563ac1da668571397dd454048f493e0feddcc565df7eedc40fad4",
    "plugin/notes/notes.js": "5c49866ac430789657b5b33363d2bf3edb2ef804f91c81ebd19ebc351fb0451a",
    "dist/theme/fonts/source-sans-pro/source-sans-pro.css":
        "5292b4fb38f4e609bf20cd98b3e5c039dbd7271d1c9174302305fbaaf42035cc",
    "dist/theme/fonts/source-sans-pro/source-sans-pro-regular.woff":
        "d4eaa48ba450f4dd2d024ab5b0e895c73c81475718e5453fd1890254c16b7a57",
    "dist/theme/fonts/source-sans-pro/source-sans-pro-italic.woff":
        "05d3615fdbe7d35c62d6a1308dc48e3985016b69e65926ed37b99fe7e6b297dc",
    "dist/theme/fonts/source-sans-pro/source-sans-pro-semibold.woff":
        "b0abd2736335424f9fd3eb27974a36d03783b3db141e0801dca7d3a635218b46",
    "dist/theme/fonts/source-sans-pro/source-sans-pro-semibolditalic.woff":
        "7225cacc06c2f360367c138daa4ce727c2a0d26e42875b1f9e802f181fdb81c5",
}

ASSETS = (
    Asset("require.js", "requirejs", "2.3.7", "package/require.js",
          "8215b90000b571bd241d28512c83f59855cecc3158db94b79b2d974c9923b5d2"),
    *(Asset(f"reveal.js/{path}", "reveal.js", _REVEAL, f"package/{path}", digest)
      for path, digest in _REVEAL_FILES.items()),
)
"""What the exported pages load (require.js: no page carries a widget, so no widget renderer),
and the deck to run its slides (reveal.js, with its theme's font): pinned, shipped beside the reports. ``name`` is the
file's path under ``assets/``."""


AXE = Asset("axe.min.js", "axe-core", "4.14.1", "package/axe.min.js",
            "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c")
"""Deque's accessibility checker, which the tests run in chromium on every page and slide; not
shipped with the reports."""


def fetch_assets(assets: tuple[Asset, ...] = ASSETS) -> dict[str, Path]:
    """The cached asset files, fetched with npm (one ``npm pack`` per package) and checked
    on first use."""
    found, missing = {}, {}
    for asset in assets:
        path = cache_dir() / "assets" / f"{asset.sha256}-{Path(asset.name).name}"
        found[asset.name] = path
        if not (path.is_file() and sha256_bytes(path.read_bytes()) == asset.sha256):
            missing.setdefault((asset.package, asset.version), []).append(asset)
    for (package, version), assets in missing.items():
        members = pack_members(package, version, [a.member for a in assets], f"report asset {package}@{version}")
        for asset in assets:
            if sha256_bytes(members[asset.member]) != asset.sha256:
                raise LabError(f"checksum mismatch for {package}@{version} {asset.member}; "
                               "nothing was cached: check npm's registry settings and retry")
        for asset in assets:
            write_atomically(found[asset.name], members[asset.member])
    return found
