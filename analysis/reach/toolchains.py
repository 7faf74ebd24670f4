"""Which toolchains shipped the bug: one row per product, each marked ``measured`` (from
this build's survey, by running the adapters the product's own releases carry) or
``cited`` (from the upstream history, with the link to check it), never unmarked.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .survey import COMPONENTIZE_JS, JCO, Row

ISSUE = "https://github.com/bytecodealliance/wasmtime/issues/10058"
FIX = "https://github.com/bytecodealliance/wasmtime/pull/10064"


@dataclass(frozen=True)
class Toolchain:
    product: str
    affected: str
    first_fixed: str
    basis: str
    """``measured`` or ``cited``."""
    source: str
    """For a measured row, what was run; for a cited one, where the fact comes from."""
    inside: bool = True
    """True: the adapter ships inside the components it builds; False: the tool's own internals."""

    @property
    def what(self) -> str:
        return "ships inside your component" if self.inside else "the tool's own internals"


CITED = (
    Toolchain("Wasmtime's adapter (tags)", "v23.0.0 .. v29.0.0, and every 24.0.x LTS patch through 24.0.13",
              "v29.0.1, v30.0.0 (the fix was not backported to 24.0.x)", "cited",
              f"the fix {FIX}, backported to 29.0.x only in "
              "https://github.com/bytecodealliance/wasmtime/pull/10067; the tags: "
              "https://github.com/bytecodealliance/wasmtime/tags"),
    Toolchain("wasm-component-ld (Rust's wasm32-wasip2 linker, wasi-sdk's)", "0.5.6 .. 0.5.11", "0.5.12", "cited",
              "https://github.com/bytecodealliance/wasm-component-ld/releases (its adapter pin, per release)"),
    Toolchain("Rust, target wasm32-wasip2", "stable 1.82 .. 1.85 (inferred from the linker it ships)", "1.86.0",
              "cited", "https://github.com/rust-lang/rust/pull/135850 (wasm-component-ld updated)"),
    Toolchain("wasi-sdk", "wasi-sdk-24, wasi-sdk-25", "wasi-sdk-26", "cited",
              "https://github.com/WebAssembly/wasi-sdk/releases (the wasm-component-ld each bundles)"),
    Toolchain("cargo-component", "0.14.0 .. 0.20.0", "0.21.0", "cited",
              "https://github.com/bytecodealliance/cargo-component/releases (its adapter pin, per release)"),
    Toolchain("componentize-py", "none: it builds in adapters of the design before the bug (Wasmtime 17/18 era)", "-",
              "cited", "https://github.com/bytecodealliance/componentize-py (its adapters/ folder); its wheel "
              "holds no .wasm file the survey could run"),
)
"""What the upstream history says; the survey cannot fetch these products' adapters here."""


def measured(rows: Sequence[Row]) -> list[Toolchain]:
    """Rows for the products the survey read: jco (the ``lib/`` command adapter it gives
    its users) and ComponentizeJS (the adapter in the splicer module it runs itself; a
    component it builds gets jco's reactor adapter, from the jco installed beside it)."""
    found = []
    for product, package, marker in (
            ("jco (npm): the adapter it ships", JCO, "lib/wasi_snapshot_preview1.command.wasm"),
            ("ComponentizeJS (npm): its own splicer module (the components it builds take jco's adapter)",
             COMPONENTIZE_JS, "spidermonkey-embedding-splicer.core2")):
        judged = [(r.version, r.answer) for r in rows if r.package == package and marker in r.file]
        if not judged:
            continue
        affected = [v for v, answer in judged if answer == "affected"]
        last = judged.index(next(j for j in judged if j[0] == affected[-1])) if affected else -1
        fixed = next((v for v, answer in judged[last + 1:] if answer == "not affected"), "none surveyed")
        found.append(Toolchain(product, f"{affected[0]} .. {affected[-1]}, of the releases scanned" if affected
                               else "none of the releases scanned",
                               fixed, "measured", f"scan of {len(judged)} releases' adapters in this build "
                               f"({judged[0][0]} .. {judged[-1][0]})", inside=package != COMPONENTIZE_JS))
    return found


def toolchain_map(rows: Sequence[Row]) -> list[Toolchain]:
    """What ships inside your component first, measured then cited; then the tools' own internals."""
    chart = [*measured(rows), *CITED]
    return [t for t in chart if t.inside] + [t for t in chart if not t.inside]
