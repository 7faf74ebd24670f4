"""One colour per outcome, the same in every figure, table and widget.

Okabe and Ito's colour-blind-safe palette: figures (``plots``) and HTML (``views``)
both take their colours from here, so ``ok`` is the same green everywhere.
"""
from __future__ import annotations

OUTCOME_COLORS: dict[str, str] = {
    "ok": "#009E73",  # bluish green
    "missing": "#D55E00",  # vermillion
    "misrouted": "#CC79A7",  # reddish purple
    "trap": "#404040",  # near black
    "timeout": "#56B4E9",  # sky blue
}
EMPTY = "#F2F2F2"
"""A slot with no preopen in that run."""

OUTCOME_GLYPHS: dict[str, str] = {
    "ok": "✓",
    "missing": "✗",
    "misrouted": "⇄",
    "trap": "⚠",
    "timeout": "⌛",
}
"""A mark per outcome, beside the colour in every HTML cell: readable in greyscale print."""

OUTCOME_HATCHES: dict[str, str] = {
    "ok": "",
    "missing": "///",
    "misrouted": "xxx",
    "trap": "...",
    "timeout": "---",
}
"""A hatch per outcome over the colour in every figure cell, for the same reason."""

ANSWER_GLYPHS: dict[str, str] = {
    "affected": OUTCOME_GLYPHS["missing"],
    "not affected": OUTCOME_GLYPHS["ok"],
    "not exposed": "–",
    "cannot tell": "?",
}
"""The same marks for a build's or a file's verdict: affected as a lost preopen, not affected as ``ok``."""


def marked(word: str) -> str:
    """An outcome or a verdict with its mark in front, e.g. ``✗ missing``; other words as they are."""
    glyph = OUTCOME_GLYPHS.get(word) or ANSWER_GLYPHS.get(word)
    return f"{glyph} {word}" if glyph else word

VERDICT_COLORS: dict[str, str] = {
    "same": OUTCOME_COLORS["ok"],
    "allowed by the spec": "#0072B2",  # blue
    "API limit": "#E69F00",  # orange
    "host bug": OUTCOME_COLORS["missing"],
    "unexplained": OUTCOME_COLORS["misrouted"],
    "failed": OUTCOME_COLORS["trap"],
}
"""A WASIp1 host's verdict per check (``reach.host_matrix``): the same as wasmtime as ``ok``,
a host bug as a lost preopen, a failure as a trap; the two judged differences in Okabe and
Ito's blue and orange."""
VERDICT_GLYPHS: dict[str, str] = {"same": "✓", "allowed by the spec": "≈", "API limit": "◐", "host bug": "✗",
                                  "unexplained": "?", "failed": "⚠"}
VERDICT_HATCHES: dict[str, str] = {"same": "", "allowed by the spec": "---", "API limit": "\\\\\\",
                                   "host bug": "///", "unexplained": "xxx", "failed": "..."}
