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
