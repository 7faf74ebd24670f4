"""Addresses in the lab's words as links that say where they go, for a reader, a screen reader
and a presenter; spelled out in full on paper."""
from __future__ import annotations

import html
import re

from ..model.describe import prose


_ISSUE = re.compile(r"https://github\.com/[^/]+/([^/]+)/(issues|pull)/(\d+)")


def link_words(url: str) -> str:
    """What a link to ``url`` says, for a reader and a screen reader: ``wasmtime pull 10064``,
    or the site and the address's last part (``github.com, releases``)."""
    found = _ISSUE.match(url)
    if found:
        return f"{found.group(1)} {'issue' if found.group(2) == 'issues' else 'pull'} {found.group(3)}"
    place = url.split("//", 1)[-1].rstrip("/").split("/")
    return place[0] if len(place) == 1 else f"{place[0]}, {place[-1]}"


def linked(source: str, spelled: bool = False) -> str:
    """Addresses in a source text as links that say where they go (``spelled``: the address
    itself, for paper), the rest as prose."""
    def link(m: re.Match) -> str:
        words = m.group(1) if spelled else html.escape(link_words(html.unescape(m.group(1))))
        return f'<a href="{m.group(1)}">{words}</a>'

    return re.sub(r"(https://[^\s,;)]+)", link, prose(source))
