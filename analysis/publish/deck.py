"""The slide deck: the story for a 20-minute session, drawn for the room.

Every slide holds one idea: a title, one sentence, and one figure, small table or run. Its
speaker notes are a script: the time mark of its part of the talk, what to say, what to point
at, the way into the next slide, and below a rule the evidence (the lists a claim speaks about,
the counts). The sentence under a figure is a claim of that build (read from the executed
notebook's "What we learned", with what it was checked on going to the evidence), never a
sentence written here about a result. The main slides end on "What to do"; backup slides
follow it, uncounted in the slide number. The figures are drawn here for the
slide's size: each is shown no wider nor taller than a slide leaves it, and its fonts are
raised until the smallest label is at least ``MIN_LABEL_PX`` on the screen. The deck is plain
reveal.js, shipped beside the reports (``assets``), so a session needs no network, and it
prints one slide a page (``?print-pdf``; ``paper`` prints it).
"""
from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import nbformat

from ..model.errors import LabError

SLIDE_SIZE = (1280, 720)
"""reveal.js's slide, in CSS pixels: 16:9, scaled by reveal to fill 1366 × 768 (×1.02) or 1920 × 1080 (×1.44)."""
FIGURE_BOX = (1180, 440)
"""The most a figure takes on a slide, under its title and sentence (CSS pixels before reveal's scaling)."""
MIN_LABEL_PX = 18.5
"""The smallest label a figure may show, in CSS pixels before reveal's scaling: 14.2 px on a 1024 × 768
projector (reveal scales the slide by 0.768 there), 18.9 px at 1366 × 768."""

DECK_CSS = """
.reveal { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 30px; color: #111; }
.reveal .slides { text-align: left; }
.reveal .slides section { height: 100%; padding: 16px 40px 0 !important; box-sizing: border-box; }
.reveal .slides section .from { left: 40px; }
html.print-pdf .reveal .slides .pdf-page > section { padding: 16px 40px 0 !important; height: 100% !important; }
.reveal h1, .reveal h2 { text-transform: none; font-family: inherit; color: #111; letter-spacing: 0; }
.reveal h1 { font-size: 52px; line-height: 1.15; } .reveal h2 { font-size: 40px; margin-bottom: 14px; }
.reveal p, .reveal li { font-size: 28px; line-height: 1.35; margin: 0 0 14px; }
.reveal p.say { font-size: 28px; }
.reveal .from { font-size: 24px; color: #444; position: absolute; bottom: 0; left: 0; margin: 0; }
.reveal a { color: #0b4f8a; text-decoration: underline; }
.reveal .slide-number { font-size: 24px; background: #222; color: #fff; right: 12px; bottom: 12px; }
.reveal .slide-number a { color: #fff; text-decoration: none; }
.reveal table { font-size: 24px; border-collapse: collapse; margin: 0; }
.reveal table th, .reveal table td { padding: 4px 12px; border-bottom: 1px solid #ccc; text-align: left; }
.reveal table code { white-space: nowrap; }
.reveal td.outcome { text-align: center; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.reveal pre { font-size: 24px; line-height: 1.3; box-shadow: none; width: 100%; margin: 0; }
.reveal pre code { max-height: none; padding: 10px; white-space: pre-wrap; }
.reveal img.figure { margin: 0; display: block; max-width: none; max-height: none; }
.reveal .columns { display: flex; gap: 36px; }
.reveal .allocator-pair.compact { font-size: 0.86em; }
.reveal .big { font-size: 96px; font-weight: 700; color: #009E73; line-height: 1.1; margin: 20px 0; }
.reveal .live-explorer { font-size: 24px; border-left: 6px solid #009E73; background: #f4faf7; padding: 6px 14px; }
.reveal .live-explorer p, .reveal .live-explorer td, .reveal .live-explorer th { font-size: 24px; }
.reveal .live-explorer select, .reveal .live-explorer input { font-size: 24px; margin-right: 8px; }
.reveal .live-explorer .live-first, .reveal .live-explorer .live-checked, .reveal .live-explorer .live-native { display: none; }
.reveal p.note { font-size: 24px; color: #333; margin-top: 8px; }
.reveal .live-table { margin-top: 6px; display: block; max-height: 300px; overflow-y: auto; } .reveal .live-table td, .reveal .live-table th { padding: 2px 10px; }
"""


@dataclass(frozen=True)
class Slide:
    """One slide: its title, the one sentence it says, what it shows, what the presenter does
    with it, its evidence, and where that evidence is (a page of the reports)."""

    title: str
    say: str
    """HTML: one sentence."""
    body: str = ""
    """HTML: a figure (``figure``), a small table, a run."""
    evidence: str = ""
    """Plain text: the lists a claim speaks about and the counts, below the script's rule."""
    page: str = ""
    """The report page behind it (``03_explorer.html``), linked at its foot."""
    show: str = ""
    """Plain text: what to point at or do while saying the sentence."""
    part: str = ""
    """The part of the talk this slide opens (a key of the story's ``parts``), if it opens one."""
    backup: bool = False
    """Shown after "What to do", for questions; not counted in the slide number."""


@dataclass(frozen=True)
class Said:
    """A claim as a notebook's "What we learned" stated it in this build."""

    statement: str
    holds: bool
    rest: str
    """The lists it speaks about, what it was checked on and what the hunter tried, in words."""


class Claims:
    """The claims the executed notebooks stated, found by the words they start with."""

    def __init__(self, executed: Mapping[str, nbformat.NotebookNode]) -> None:
        from bs4 import BeautifulSoup

        self.by_page: dict[str, list[Said]] = {}
        for stem, notebook in executed.items():
            said = []
            code = [c for c in notebook.cells if c.cell_type == "code"]
            for output in code[-1].get("outputs", []) if code else []:
                for item in BeautifulSoup(output.get("data", {}).get("text/html", ""), "html.parser").select("li"):
                    mark = item.find("b")
                    statement, rest, in_rest = [], [], False
                    for part in item.contents[1:]:
                        in_rest = in_rest or getattr(part, "name", None) in ("br", "span")
                        (rest if in_rest else statement).append(part.get_text(" ") if hasattr(part, "get_text")
                                                                else str(part))
                    said.append(Said(" ".join("".join(statement).split()), mark.get_text().startswith("✓"),
                                     " ".join(" ".join(rest).split())))
            self.by_page[stem] = said

    def said(self, page: str, starts: str) -> Said:
        """The claim of ``page`` (a notebook stem) whose statement starts with ``starts``."""
        found = [s for s in self.by_page.get(page, []) if s.statement.startswith(starts)]
        if len(found) != 1:
            raise LabError(f"the deck quotes a claim of {page} starting {starts!r}, and the build stated "
                           f"{len(found)} such claims")
        return found[0]

    def sentence(self, page: str, starts: str) -> str:
        """The claim as a slide says it: as stated, or marked refuted when this build's runs refuted it."""
        said = self.said(page, starts)
        text = html.escape(said.statement)
        return text if said.holds else f"<b>Refuted in this build:</b> {text}"

    def domain(self, page: str, starts: str) -> str:
        """The lists the claim speaks about, as a sentence: "For: ..." up to its first parenthesis."""
        rest = self.said(page, starts).rest
        words = rest.removeprefix("For: ").split(" (", 1)[0].rstrip(".")
        return f"For {words}." if rest.startswith("For: ") else ""

    def notes(self, page: str, starts: str) -> str:
        said = self.said(page, starts)
        return f"{said.statement} {said.rest}"


def _raise_fonts(fig, box: tuple[int, int]) -> tuple[float, float, float]:
    """Every font of ``fig`` raised together until its smallest label shows at ``MIN_LABEL_PX``
    in ``box``: how wide it is shown (CSS px), its smallest label (px), and how much the fonts grew."""
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
             if t.get_visible() and t.get_text().strip()]
    grown = 1.0
    for _ in range(6):
        width, height = fig.get_tightbbox().size  # inches, as saved with bbox_inches="tight"
        shown = min(box[0], box[1] * width / height)  # CSS px wide
        per_point = shown / (width * 72)
        smallest = min(t.get_fontsize() for t in texts) * per_point
        if smallest >= MIN_LABEL_PX - 0.05:
            break
        grown *= MIN_LABEL_PX / smallest
        for t in texts:
            t.set_fontsize(t.get_fontsize() * MIN_LABEL_PX / smallest)
    return shown, smallest, grown


def figure(fig, box: tuple[int, int] = FIGURE_BOX) -> str:
    """``fig`` as an ``<img>`` for a slide: as large as ``box`` lets it be, with every font
    raised together until its smallest label shows at ``MIN_LABEL_PX``. ``fig`` may be a
    function of how much to widen a grid's columns (``plots.survival_grid``'s ``widen``): it is
    drawn again with columns as much wider as its fonts grew, so labels still fit their cells.
    The image carries its alternative text and, for the deck's test, the smallest label's size."""
    from ..show.views import figure_title

    if callable(fig):
        draw, widen = fig, 1.0
        fig = draw(widen)
        shown, smallest, grown = _raise_fonts(fig, box)
        for _ in range(3):
            if grown <= widen * 1.02:
                break
            widen = grown
            fig = draw(widen)
            shown, smallest, grown = _raise_fonts(fig, box)
    else:
        shown, smallest, _ = _raise_fonts(fig, box)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=144, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode()
    return (f'<img class="figure" alt="{html.escape(figure_title(fig))}" style="width:{shown:.0f}px" '
            f'data-min-label-px="{smallest:.2f}" data-width-px="{shown:.0f}" src="data:image/png;base64,{data}">')


_URL = re.compile(r"https?://[^\s,;)]+")


def _link(match: re.Match) -> str:
    """An address in the notes as a link a presenter can say (``views.link_words``)."""
    from ..show.links import link_words

    url = match.group(0)
    return f'<a href="{html.escape(url)}">{html.escape(link_words(url))}</a>'


def spoken(text: str) -> str:
    """Plain text for the notes as HTML: no backticks, each address a link with words, not a bare URL."""
    text = html.unescape(re.sub(r"<[^>]+>", "", text)).replace("`", "")
    parts = _URL.split(text)
    links = [_link(m) for m in _URL.finditer(text)]
    return "".join(html.escape(part) + (links[i] if i < len(links) else "") for i, part in enumerate(parts))


def timings(slides: Sequence[Slide], parts: Mapping[str, float]) -> dict[int, str]:
    """The time mark of each slide that opens a part of the talk: ``4:00–8:00 · The symptom``,
    from the parts' minutes in order."""
    marks, start = {}, 0.0
    for index, slide in enumerate(slides):
        if slide.part:
            end = start + parts[slide.part]
            marks[index] = f"{int(start)}:{round(start % 1 * 60):02d}–{int(end)}:{round(end % 1 * 60):02d} · {slide.part}"
            start = end
    return marks


def _without(evidence: str, say: str) -> str:
    """The evidence less the slide's own sentence where it opens with it (a claim's notes do)."""
    sentence = html.unescape(re.sub(r"<[^>]+>", "", say)).strip()
    ends = [m.end() for m in re.finditer(r"[.](\s|$)", sentence)]
    for end in sorted(ends, reverse=True):  # the longest opening of the sentence the evidence repeats
        opening = sentence[:end].strip()
        if evidence.startswith(opening):
            return evidence[len(opening):].lstrip()
    return evidence


def notes(slide: Slide, following: Slide | None, mark: str = "") -> str:
    """The presenter's script for ``slide``: its time mark, what to say and show, the way into the
    next slide, and below a rule its evidence."""
    lines = [f'<p class="time"><b>{html.escape(mark)}</b></p>' if mark else "",
             f"<p><b>Say:</b> {spoken(slide.say)}</p>",
             f"<p><b>{'If asked' if slide.backup else 'Show'}:</b> {spoken(slide.show)}</p>" if slide.show else "",
             (f"<p><b>Then:</b> {html.escape(following.title)}</p>" if following and not following.backup
              else "<p><b>Then:</b> questions; the backup slides follow.</p>" if not slide.backup else ""),
             f"<hr><p><b>Evidence:</b> {spoken(_without(slide.evidence, slide.say))}</p>" if slide.evidence else ""]
    return "".join(lines)


def section(slide: Slide, number: int, script: str = "") -> str:
    """One slide as reveal.js's ``<section>``, its script in ``<aside class="notes">``."""
    where = "backup" if slide.backup else str(number)
    foot = (f'<p class="from">{where} · the evidence: <a href="../{slide.page}">{html.escape(slide.page)}</a></p>'
            if slide.page else "")
    title = f"<h2>{html.escape(slide.title)}</h2>" if number > 1 else f"<h1>{html.escape(slide.title)}</h1>"
    backup = ' data-visibility="uncounted" data-backup="1"' if slide.backup else ""
    return (f'<section data-slide="{number}"{backup}>{title}<p class="say">{slide.say}</p>{slide.body}{foot}'
            f'<aside class="notes">{script}</aside></section>')


def deck_page(slides: Sequence[Slide], title: str, assets_url: str, parts: Mapping[str, float]) -> str:
    """The deck as one page: reveal.js and its notes plugin from ``assets_url``, nothing from the
    network; ``parts``: the talk's parts and their minutes, in order."""
    reveal = f"{assets_url}/reveal.js"
    marks = timings(slides, parts)
    sections = "\n".join(section(s, i, notes(s, slides[i] if i < len(slides) else None, marks.get(i - 1, "")))
                         for i, s in enumerate(slides, 1))
    width, height = SLIDE_SIZE
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="{reveal}/dist/reveal.css">'
            f'<link rel="stylesheet" href="{reveal}/dist/theme/white.css"><style>{DECK_CSS}</style></head>'
            f'<body><div class="reveal"><div class="slides">\n{sections}\n</div></div>'
            f'<script src="{reveal}/dist/reveal.js"></script><script src="{reveal}/plugin/notes/notes.js"></script>'
            f"<script>Reveal.initialize({{hash: true, width: {width}, height: {height}, center: false, "
            "margin: /print-pdf/.test(location.search) ? 0 : 0.04, "
            "slideNumber: 'c/t', transition: 'none', plugins: [RevealNotes], "
            # reveal.js leaves keys to a focused input or textarea, not to a select or a button: the
            # explorer's menus on its slide keep their arrow keys, its buttons their space bar
            "keyboardCondition: (e) => !(e.target instanceof Element && e.target.matches('select, button, input, textarea'))"
            "});"
            # the slides off screen take no focus: Tab on the demo slide stays on it, never on a hidden link
            "const onScreen = () => document.querySelectorAll('.reveal .slides > section').forEach((s) => "
            "{ s.inert = !s.classList.contains('present'); });"
            "Reveal.on('ready', onScreen); Reveal.on('slidechanged', onScreen);</script></body></html>\n")

