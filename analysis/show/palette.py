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


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two ``#rrggbb`` colours, from 1 (the same) to 21 (black on white)."""
    def luminance(color: str) -> float:
        channels = [int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


DARK_INK, LIGHT_INK = "#111111", "#FFFFFF"


def ink(color: str) -> str:
    """The text colour for a label drawn on ``color``: near-black or white, whichever contrasts
    more. Every outcome and verdict colour here reaches 4.5:1 with its ink (``ok``'s green, 3.4:1
    under white, is 5.5:1 under near-black), so a chip keeps its colour and stays readable."""
    return max((DARK_INK, LIGHT_INK), key=lambda text: contrast(color, text))


def on_white(color: str) -> str:
    """``color`` darkened, hue kept, until text in it reaches 4.5:1 on white: for words drawn in
    an outcome's colour (``missing``'s vermillion, 3.9:1 as it is, becomes #BF5400)."""
    channels = [int(color.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]
    darker = color
    while contrast(darker, "#FFFFFF") < 4.5:
        channels = [int(c * 0.95) for c in channels]
        darker = "#" + "".join(f"{c:02X}" for c in channels)
    return darker


def chip(color: str) -> str:
    """The inline style of a word set on its outcome's or verdict's colour, in its ink."""
    return f"background:{color};color:{ink(color)};padding:0 6px;border-radius:3px"

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
