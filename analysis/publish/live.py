"""The live explorer's assets: the real adapter builds, run in the reader's browser.

Each catalogued build, composed with each of the two guests the page runs (the opener and
the probe), is transpiled by jco and bundled by esbuild with every core module inlined into
one classic script (``live/bundle.mjs``): Chromium refuses ``fetch`` and module imports from
``file://``, and a ``<script src>`` is what still works there. ``@bytecodealliance/preview2-shim``'s
browser build is bundled once (``shim.js``) and shared. Each script only registers its bundle's
text: the runs go in a Web Worker, so that none holds up the page, and a worker made from a
``file://`` page can load no script of its own. The page's ``window.preopenLab``
(``live/preopenlab.js``) loads a build's script when it is first asked for, lays out each
preopen's directory in memory as ``model.markers`` does, runs the build in its worker (ended at
the lab's deadline, ``DEADLINE``: a timeout) and reads the output as ``runs.guest_output`` does.
Bundles are kept in the cache by the component's sha256 and the pinned packages, under this
user's seal (``artifacts.seal``): one that fails it is made again, never published.
"""
from __future__ import annotations

import html
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ..artifacts import adapters, guests, seal
from ..artifacts.cache import (
    TMP_PREFIX,
    cache_dir,
    locked,
    read_regular,
    scratch_folder,
    sha256_bytes,
    sha256_file,
    write_atomically,
)
from ..artifacts.compose import compose
from ..artifacts.npm import node, npm_home
from ..model.errors import LabError, first_line
from ..runs.runner import DEADLINE

LIVE_PACKAGES = {"@bytecodealliance/jco-transpile": "0.15.0", "@bytecodealliance/preview2-shim": "0.26.1",
                 "esbuild": "0.28.2"}
"""What the bundler installs (``npm install``, pinned): the same jco and shim as the node host."""
SCRIPTS = Path(__file__).with_name("live")
ASSETS = "live"
"""Where the live scripts go under a report's ``assets/``."""
SCRIPTS_IN_ORDER = ("manifest.js", "shim.js", "preopenlab.js", "explorer.js")
"""What a page with a live explorer loads, in this order, once it has loaded."""


GUESTS = ("opener", "probe")
"""The guests a page runs: wasi-libc's own lookup (opener), and the adapter's answers alone (probe)."""
EXPLORER_MAX = 8
"""The most directories the live explorer's slider offers."""
SEEDS = 10
"""The shuffle seeds the live explorer offers (0 to 9)."""


def explorer_choices() -> dict:
    """The lab's explorer's naming schemes and its seeded shuffles, worked out here for every
    count and seed the live one offers, so both show the same lists."""
    from ..experiments.scenarios import SCHEMES, ordering, scheme_paths

    counts = range(1, EXPLORER_MAX + 1)
    return {"schemes": {s: {n: scheme_paths(s, n) for n in counts} for s in SCHEMES},
            "shuffled": {seed: {n: ordering(n, "shuffled", seed) for n in counts} for seed in range(SEEDS)}}


BROWSER_HOSTS = ("wasm-util", "browser-wasi-shim", "wasmer-wasi", "wasi-js", "runno")
"""The WASIp1 hosts of the lab's matrix that run in a browser (node's ``node:wasi`` does not)."""


UNSEEN = ("non-directory fd",)
"""Checks of the host matrix about what no wasi-libc program asks (``fd_prestat_get`` on stdin,
stdout and stderr): a host differing only there runs the opener and the probe as wasmtime does."""


def native_sentence(differs_on: dict[str, tuple[str, ...]]) -> str:
    """What the page says of native runs, from the host matrix (``differs_on``: per host of
    ``BROWSER_HOSTS``, the checks where it is not the same as wasmtime)."""
    close = [h for h in BROWSER_HOSTS if set(differs_on[h]) <= set(UNSEEN)]
    others = "; ".join(f"{h}: {', '.join(differs_on[h])}" for h in BROWSER_HOSTS if h not in close)
    said = ("Native runs need the lab: this page would run them only through a WASIp1 host in JavaScript that "
            f"agreed with wasmtime on every check of notebook 8. Of the {len(BROWSER_HOSTS)} that run in a browser, "
            "it found ")
    if close:
        agree = ", ".join(f"{h} (differs only on {', '.join(differs_on[h])}, which no wasi-libc program asks)"
                          if differs_on[h] else h for h in close)
        return said + f"{agree} agreeing with wasmtime on everything the opener and the probe see; the others differ ({others})."
    return said + f"none agreeing with wasmtime on every check ({others})."


def explorer_html(assets_url: str, checked: str, native: str = "Native runs need the lab.") -> str:
    """What a page holds where its live explorer goes: the box, what the build's check of it
    found (``checked``, a sentence of ``live_check``), what it says of native runs
    (``native_sentence``), then the scripts that fill it."""
    from ..model.wasi import ERRNO_NAMES
    from ..show.palette import OUTCOME_COLORS, OUTCOME_GLYPHS, ink

    palette = html.escape(json.dumps({"colors": OUTCOME_COLORS, "inks": {o: ink(c) for o, c in OUTCOME_COLORS.items()}, "glyphs": OUTCOME_GLYPHS, "errnos": ERRNO_NAMES}))
    base = f"{assets_url}/{ASSETS}/"
    return (f'<div class="live-explorer" data-palette="{palette}"><p class="live-first"><b>Live in this page.</b> The real adapter '
            "builds, each composed with the lab's opener or probe, run in your browser's own WebAssembly engine "
            "(transpiled by jco; preview2-shim gives each preopen an in-memory directory holding its MARKER). "
            "The opener asks wasi-libc where each <code>&lt;name&gt;/MARKER</code> goes and reads it; the probe "
            "asks the adapter for each fd's name only. The lists are the lab's explorer's (the same schemes and "
            "seeded shuffles; names of your own comma-separated).</p>"
            # explorer.js puts the controls and the table here, under the first paragraph
            f'<p class="live-checked">{html.escape(checked)}</p><p class="live-native">{html.escape(native)}</p></div>'
            # Loaded after the page has painted and loaded, one after the other: nothing of it delays the page.
            f"<script>addEventListener('load', () => {json.dumps([base + n for n in SCRIPTS_IN_ORDER])}.reduce("
            "(ready, src) => ready.then(() => new Promise((done, fail) => { const s = document.createElement('script');"
            " s.src = src; s.onload = done; s.onerror = fail; document.head.appendChild(s); })), Promise.resolve()));"
            "</script>")


def bundle_path(build: adapters.AdapterBuild | None, guest: str = "opener") -> Path:
    """Where the cache keeps ``bundle``'s script (``.js``, its seal beside it); ``build`` None:
    the shared script ``guest`` names (``shim``, or ``tools`` for page 7's scanner)."""
    component = None if build is None else compose(guests.get(guest).wasm(), build)
    key = sha256_bytes(json.dumps([component and sha256_file(component), None if component else guest, LIVE_PACKAGES,
                                   sha256_file(SCRIPTS / "bundle.mjs")]).encode())[:32]
    return cache_dir() / "live" / f"{key}.js"


def bundle(build: adapters.AdapterBuild | None, guest: str = "shim") -> bytes:
    """The classic script that registers ``guest`` composed with ``build`` (None: the shared
    script ``guest`` names: ``shim``, preview2-shim, or ``tools``, wasm-tools); made once, then
    kept under the seal and read only through it."""
    out = bundle_path(build, guest)
    with locked(out):
        kept = seal.read_sealed(out, "a live bundle")
        if kept is not None:
            return kept
        home = npm_home("live-bundler", LIVE_PACKAGES, [SCRIPTS / "bundle.mjs"], "the live explorer's bundler",
                        "--ignore-scripts")  # esbuild finds its binary in its optional dependency
        with scratch_folder(out.parent, TMP_PREFIX) as scratch:  # a folder of its own: nothing planted in the way
            partial = scratch / "bundle.js"
            what = [f"--{guest}", str(partial)] if build is None else [str(compose(guests.get(guest).wasm(), build)),
                                                                      str(partial), f"{build.id}/{guest}"]
            done = subprocess.run([node("the live explorer's bundler"), str(home / "bundle.mjs"), *what],
                                  capture_output=True, text=True, timeout=600)
            if done.returncode != 0 or not partial.is_file():
                raise LabError(f"the live bundle of {build.id if build else guest} could not be made: "
                               f"{first_line(done.stderr or done.stdout)}")
            made = read_regular(partial)
        seal.write_sealed(out, made)  # without a key, nothing is kept: made again next time
        return made


def write_assets(folder: Path, builds: Sequence[adapters.AdapterBuild] | None = None,
                 affected: Sequence[str] = (), keep: Sequence[str] = ()) -> dict[str, dict]:
    """Every build's scripts (one per guest), the shared shim, the page's two scripts and the
    manifest naming them, into ``folder`` (a report's ``assets/live``); ``affected``: the builds
    this build measured affected, for the explorer's menu; ``keep``: other scripts of the folder
    (page 7's), left in place. Returns the manifest's builds: per guest, file, bytes and sha256."""
    def put(name: str, data: bytes) -> dict:
        write_atomically(folder / name, data)
        return {"file": name, "bytes": len(data), "sha256": sha256_bytes(data)}

    entries = {build.id: {guest: put(f"{build.id}.{guest}.js", bundle(build, guest)) for guest in GUESTS}
               for build in (builds or adapters.catalogue())}
    put("shim.js", bundle(None, "shim"))
    for script in ("preopenlab.js", "explorer.js"):
        put(script, (SCRIPTS / script).read_bytes())
    manifest = {"builds": entries, "guests": list(GUESTS), "base": "", "affected": list(affected),
                "deadline": DEADLINE, **explorer_choices()}
    put("manifest.js", f"globalThis.preopenLabManifest = {json.dumps(manifest)};\n".encode())
    kept = {"shim.js", "preopenlab.js", "explorer.js", "manifest.js", *keep}
    kept |= {e["file"] for by_guest in entries.values() for e in by_guest.values()}
    for stale in folder.glob("*.js"):  # an earlier build's layout: nothing names it now
        if stale.name not in kept:
            stale.unlink()
    return entries
