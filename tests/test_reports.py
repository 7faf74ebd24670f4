"""The notebooks and the exported reports: executed for real, looked at in a real browser."""
from __future__ import annotations

import html
import re
import shutil
import subprocess
import unicodedata

import matplotlib.image
import nbformat
import numpy as np
import pytest

from analysis.experiments import verdicts
from analysis.model.describe import headline
from analysis.model.errors import LabError
from analysis.publish import notebooks, report
from analysis.publish.pages import _CROSS_REF
from analysis.show.palette import OUTCOME_COLORS


def notebook_paths():
    return sorted(notebooks.NOTEBOOKS_DIR.glob("*.ipynb"))


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    return out, report.build(out, log=lambda *_: None)


def test_committed_notebooks_have_no_outputs():
    for path in notebook_paths():
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


def test_notebook_code_cells_stay_thin():
    for path in notebook_paths():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert len(cell.source.strip().splitlines()) <= 3, (path.name, cell.source)


def test_every_notebook_opens_with_a_question_and_states_what_we_learned_through_claims():
    for path in notebook_paths():
        cells = nbformat.read(path, as_version=4).cells
        assert "question" in cells[0].source.lower(), path.name
        learned = max(i for i, c in enumerate(cells) if "## what we learned" in c.source.lower())
        assert cells[learned].cell_type == "markdown", path.name
        findings = cells[learned + 1]
        assert findings.cell_type == "code" and findings.source.startswith(("claims.", "advice.", "root_cause.", "other_hosts.", "no_test.")), path.name
        later = [c for c in cells[learned + 2:] if c.cell_type == "code"]
        assert not later, path.name  # the findings are the notebook's last word


def test_every_notebook_executes_without_errors(built):
    out, pages = built
    assert [b.notebook.stem for b in pages] == [n.stem for n in notebooks.notebooks()]
    for page in pages:
        executed = nbformat.read(out / "executed" / f"{page.notebook.stem}.ipynb", as_version=4)
        for cell in executed.cells:
            for output in cell.get("outputs", []):
                assert output.output_type != "error", (page.notebook.stem, cell.source)
                assert output.get("name") != "stderr" or "Traceback" not in output.text, page.notebook.stem


def test_exported_html_has_figures_and_no_error_traces(built):
    _, pages = built
    for page in pages:
        text = page.html.read_text()
        images = re.findall(r'<img[^>]*src="data:image/png;base64', text)
        assert len(images) >= 1 and len(images) == page.figures, page.notebook.stem
        assert "Traceback (most recent call last)" not in text, page.notebook.stem
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in text, page.notebook.stem
        assert "does not hold" not in text, page.notebook.stem  # every claim a page states held in this build


def test_no_page_carries_a_widget_each_has_its_view_and_a_line_on_the_widget(built):
    from bs4 import BeautifulSoup

    out, pages = built
    viewed = {}
    for page in pages:
        text = page.html.read_text()
        assert "application/vnd.jupyter.widget-view+json" not in text, page.notebook.stem
        assert "application/vnd.jupyter.widget-state+json" not in text, page.notebook.stem
        assert "embed-amd.js" not in text, page.notebook.stem
        soup = BeautifulSoup(text, "html.parser")
        for view in soup.select(".offline-view"):
            viewed[page.notebook.stem] = view["data-view"]
            assert "make lab" in view.select_one(".offline-line").get_text()
            assert not view.select("input[disabled], select[disabled], button[disabled]")
    assert viewed == {"03_explorer": "live-explorer", "04_root_cause": "stepper", "07_am_i_affected": "scan"}
    scan = BeautifulSoup((out / "07_am_i_affected.html").read_text(), "html.parser").select_one(".recorded-scan")
    words = scan.get_text()
    affected, fixed = verdicts.pick_builds()
    assert f"opener-{affected}.wasm" in words and f"opener-{fixed}.wasm" in words
    assert "affected" in words and "not affected" in words
    assert scan.select('a[download][href^="data:application/wasm;base64,"]')  # the repaired file


def test_index_lists_every_notebook_and_the_measured_headline(built):
    out, pages = built
    text = (out / "index.html").read_text()
    for page in pages:
        assert f'href="{page.html.name}"' in text
    builds = verdicts.measure()[1:]
    measured = headline([v.adapter for v in builds if v.affected], [v.adapter for v in builds if not v.affected])
    assert measured in html.unescape(text)


def test_a_failing_cell_is_named(tmp_path):
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")])
    path = tmp_path / "broken.ipynb"
    nbformat.write(broken, path)
    with pytest.raises(LabError, match=r"broken\.ipynb: cell 2 failed: ZeroDivisionError"):
        notebooks.execute(path)


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no Chromium: `make browser` installs Debian's chromium (it needs root or sudo)")
    return found


def _browser(*args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--virtual-time-budget=10000"]
    return subprocess.run([_chromium(), *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("page, title", [
    ("index.html", "preopen lab: the WASIp1-to-WASIp2 adapter preopen bug"),
    ("02_reproduce.html", "2 · Reproducing wasmtime#10058"),
    ("03_explorer.html", "3 · Explorer"),
])
def test_reports_render_in_a_real_browser(built, tmp_path, page, title):
    out, _ = built
    url = (out / page).as_uri()
    dom = _browser(f"--user-data-dir={tmp_path / 'dom'}", "--dump-dom", url).stdout
    assert title in dom
    assert re.search(r'<img[^>]*src="data:image/png;base64', dom)
    if page == "03_explorer.html":  # the live explorer, filled by its scripts in the page
        assert "live-table" in dom and "Checked on " in dom

    shot = tmp_path / "shot.png"
    _browser(f"--user-data-dir={tmp_path / 'shot'}", "--window-size=1280,2400", f"--screenshot={shot}", url)
    pixels = (matplotlib.image.imread(shot)[..., :3] * 255).round().astype(int)
    ok_green = np.array([int(OUTCOME_COLORS["ok"][i:i + 2], 16) for i in (1, 3, 5)])
    # The figures' "ok" colour covers a real part of the page: a figure is on screen.
    assert (np.abs(pixels - ok_green).sum(axis=-1) < 12).sum() > 2000


def test_every_page_has_its_own_title_links_and_figure_descriptions(built):
    out, pages = built
    for at, page in enumerate(pages):
        text = page.html.read_text()
        assert f"<title>{html.escape(page.notebook.title)} · preopen lab</title>" in text, page.notebook.stem
        assert text.count('<a href="index.html">index</a>') == 2, page.notebook.stem  # top and bottom
        if at + 1 < len(pages):
            assert f'href="{pages[at + 1].notebook.stem}.html"' in text
        alts = re.findall(r'<img alt="([^"]*)"[^>]*src="data:image/png', text) + \
            re.findall(r'<img[^>]*src="data:image/png[^>]*alt="([^"]*)"', text)
        assert len(alts) == page.figures and all(a.startswith("Figure: ") for a in alts), (page.notebook.stem, alts)


def test_prose_has_linked_cross_references_and_no_literal_backticks(built):
    from bs4 import BeautifulSoup

    out, pages = built
    stems = {str(int(p.notebook.stem.split("_")[0])): p.notebook.stem for p in pages}
    for page in pages:
        source = nbformat.read(notebooks.NOTEBOOKS_DIR / f"{page.notebook.stem}.ipynb", as_version=4)
        mentioned = [m.group(1) for cell in source.cells if cell.cell_type == "markdown"
                     for m in _CROSS_REF.finditer(cell.source) if m.group(1) in stems]
        text = page.html.read_text()
        linked = re.findall(r'<a href="(\d+)_[a-z_]+\.html">notebook (\d+)</a>', text)
        assert len(linked) >= len(mentioned) and all(int(a) == int(b) for a, b in linked), page.notebook.stem
        soup = BeautifulSoup(text, "html.parser")
        for output in soup.select(".jp-OutputArea-output"):
            for quoted in output(["script", "style", "table"]):  # tables quote wasmtime's own words
                quoted.decompose()
            assert "`" not in output.get_text(), (page.notebook.stem, output.get_text()[:200])


def test_outcomes_and_tables_read_without_colour(built):
    from bs4 import BeautifulSoup

    from analysis.show.palette import OUTCOME_GLYPHS

    out, pages = built
    for page in pages:
        text = page.html.read_text()
        soup = BeautifulSoup(text, "html.parser")
        cells = soup.select("td.outcome[data-outcome]")
        assert all(c.get_text().startswith(OUTCOME_GLYPHS[c["data-outcome"]]) for c in cells), page.notebook.stem
        for output in soup.select(".jp-OutputArea-output"):
            assert not output.select("tbody tr th"), page.notebook.stem  # no DataFrame index column
            for cell in output.select("td"):
                words = cell.get_text().strip()
                assert words not in ("NaN", "nan") and not words.endswith(("…", "...")), (page.notebook.stem, words)
        assert "@media print" in text, page.notebook.stem


def test_the_deck_tells_a_story_with_notes_and_loads_nothing_from_the_network(built, tmp_path):
    from bs4 import BeautifulSoup

    out, _ = built
    deck = out / "slides" / "index.html"
    soup = BeautifulSoup(deck.read_text(), "html.parser")
    sections = soup.select(".reveal .slides > section")
    main = [s for s in sections if not s.get("data-backup")]
    assert 14 <= len(main) <= 18 and sections[:len(main)] == main  # the backup slides come after the end
    assert all(s.get("data-visibility") == "uncounted" for s in sections[len(main):])
    assert "?" in sections[0].select_one("h1").get_text() and "?" in sections[0].select_one("p.say").get_text()
    assert main[-1].select_one("h2").get_text() == "What to do"
    demo = next(i for i, s in enumerate(main) if s.select_one(".live-explorer"))
    assert 3 <= demo < len(main) - 2  # after the reproduction, before the way out
    marks = []
    for section in sections:
        assert section.select_one("p.say").get_text().strip(), section.get_text()[:80]  # one sentence each
        notes = section.select_one("aside.notes")
        said = notes.get_text(" ")
        assert "Say:" in said and "Then:" in said or section in sections[len(main):], said[:80]
        assert "`" not in said and "http" not in said, said  # no backticks, every address a link with words
        assert notes.select_one("hr") and "Evidence:" in said.split("Then:")[-1], said[:80]
        marks += [m.get_text() for m in notes.select("p.time")]
        assert "does not hold" not in section.get_text() and "Refuted" not in section.get_text()
    assert marks[0].startswith("0:00–") and marks[-1].split(" · ")[0].endswith("–20:00"), marks
    for section in sections[1:]:
        link = section.select_one("p.from a")["href"]
        assert (out / "slides" / link).resolve().is_file(), link
    for img in soup.select("img"):
        assert img.get("alt", "").startswith("Figure: ") and img.get("data-min-label-px")
    for tag in soup.select("script[src], link[href]"):
        url = tag.get("src") if tag.name == "script" else tag.get("href")
        assert url and not url.startswith(("http:", "https:")), str(tag)
        assert (out / "slides" / url).resolve().is_file(), url


FIT = """() => {
  const slide = document.querySelector('.slides > section.present');
  const frame = slide.getBoundingClientRect();
  const slides = document.querySelector('.slides');
  const scale = slides.getBoundingClientRect().width / slides.offsetWidth;
  const outside = [], small = [], labels = [];
  for (const el of slide.querySelectorAll('*')) {
    if (el.closest('aside.notes')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.left < frame.left - 1 || r.right > frame.right + 1 || r.top < frame.top - 1 || r.bottom > frame.bottom + 1)
      outside.push(el.tagName + ' ' + (el.textContent || '').trim().slice(0, 40));
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const px = parseFloat(getComputedStyle(el).fontSize) * scale;
    if (own && px < 18) small.push(`${px.toFixed(1)} px: ${el.textContent.trim().slice(0, 40)}`);
    if (el.dataset.minLabelPx) labels.push(parseFloat(el.dataset.minLabelPx) * r.width / parseFloat(el.dataset.widthPx));
  }
  return {outside, small, labels, scrolls: slide.scrollHeight > slide.clientHeight + 1};
}"""


@pytest.mark.parametrize("size", [(1024, 768), (1366, 768), (1920, 1080)])
def test_every_slide_fits_the_screen_with_text_readable_from_the_back(built, size):
    """Nothing outside a slide's box, nothing scrolling, text at least 18 px and figure labels at
    least 14 px on the screen, in a real chromium at an old projector's, a projector's and a
    monitor's size."""
    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    url = (out / "slides" / "index.html").as_uri()
    with chromium.browser() as chrome:
        page = chrome.new_page(viewport={"width": size[0], "height": size[1]})
        page.goto(url)
        page.wait_for_selector(".reveal.ready")
        count = page.evaluate("document.querySelectorAll('.slides > section').length")
        for index in range(count):
            page.goto(f"{url}#/{index}")
            page.wait_for_function("i => document.querySelectorAll('.slides > section')[i].classList.contains('present')",
                                   arg=index)
            if page.locator(".slides > section.present .live-explorer").count():
                page.wait_for_selector(".slides > section.present .live-table td.outcome")
            seen = page.evaluate(FIT)
            assert not seen["outside"] and not seen["scrolls"], (index + 1, size, seen)
            assert not seen["small"], (index + 1, size, seen["small"][:3])
            assert all(px >= 14 for px in seen["labels"]), (index + 1, size, seen["labels"])


def test_a_menu_on_a_slide_keeps_its_arrow_keys(built):
    """The live explorer's slide: ArrowDown in its build menu picks the next build, and the deck
    stays on that slide (reveal.js took the key and moved on)."""
    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    with chromium.browser() as chrome:
        page = chrome.new_page(viewport={"width": 1024, "height": 768})
        page.goto((out / "slides" / "index.html").as_uri())
        page.wait_for_selector(".reveal.ready")
        index = page.evaluate("[...document.querySelectorAll('.slides > section')].findIndex(s => s.querySelector('.live-explorer'))")
        page.evaluate(f"Reveal.slide({index})")
        menu = page.locator('.slides > section.present select[aria-label="adapter build"]')
        menu.wait_for()
        before = menu.input_value()
        menu.focus()
        page.keyboard.press("ArrowDown")
        assert menu.input_value() != before
        assert page.evaluate("Reveal.getIndices().h") == index
        for _ in range(12):  # Tab stays on the slide shown: the others are inert, their links out of reach
            page.keyboard.press("Tab")
            assert page.evaluate("!document.activeElement.closest('.slides > section') || "
                                 "document.activeElement.closest('.slides > section').classList.contains('present')")


def test_the_report_prints_the_deck_and_a_handout_every_page_with_its_words(built):
    from pypdf import PdfReader

    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    slides = PdfReader(out / "slides.pdf")
    count = (out / "slides" / "index.html").read_text().count('<section data-slide="')
    assert len(slides.pages) == count
    for number, page in enumerate(slides.pages, 1):
        assert len(page.extract_text().split()) >= 5, number
    handout = PdfReader(out / "handout.pdf")
    assert 1 <= len(handout.pages) <= 2
    words = unicodedata.normalize("NFKC", " ".join(p.extract_text() for p in handout.pages))  # ligatures: "ff"
    for needed in ("Am I affected?", "How to check", "How to repair", "What the runs found", "make report",
                   "scan", "Measured", "Cited", "https://github.com/"):
        assert needed in words, needed
    assert all(len(p.extract_text().split()) > 20 for p in handout.pages)


def test_the_explorer_page_runs_the_real_builds_with_the_network_off(built, runner):
    """Page 3's live explorer, opened from file:// with every request outside the folder refused,
    shows the report's case through the newest affected build as the lab runs it."""
    from analysis.experiments.verdicts import REPORT_CASE
    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    affected = [v.adapter for v in verdicts.measure() if v.affected][-1]
    expected = [p.outcome for p in runner.run(REPORT_CASE, adapter=affected).preopens]
    with chromium.browser() as chrome:
        page = chrome.new_page()
        page.route("**/*", lambda r: r.abort() if not r.request.url.startswith("file:") else r.continue_())
        page.goto((out / "03_explorer.html").as_uri())
        page.wait_for_selector(".live-table td.outcome")
        shown = page.eval_on_selector_all(".live-table td.outcome", "cells => cells.map(c => c.dataset.outcome)")
        assert page.locator('.live-explorer select[aria-label="adapter build"]').input_value() == affected
    assert shown == expected


def test_the_recorded_stepper_walks_every_step_without_a_kernel(built):
    """Page 4's stepper, recorded: Prev and Next walk the call's steps, each with the model's
    own sentence; the list menu opens each case at its own first step."""
    from analysis.model import chain
    from analysis.model.describe import step_sentence
    from analysis.publish import chromium
    from analysis.publish.offline import STEPPER_CASES

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    with chromium.browser() as chrome:
        page = chrome.new_page()
        page.goto((out / "04_root_cause.html").as_uri())
        caption = lambda: page.locator(".recorded-stepper .stepper-step:not([hidden]) .stepper-caption").inner_text()
        trace = chain.explain(STEPPER_CASES[0].paths, STEPPER_CASES[0].fd, "missing-increment")
        assert caption().startswith(f"Step {STEPPER_CASES[0].opens_at} of {len(trace.steps) + 1}.")
        for _ in range(len(trace.steps) + 3):  # past the end: it stays at the copy
            page.click(".recorded-stepper button[data-move='1']")
        assert caption().startswith(f"Step {len(trace.steps) + 1} ")
        for _ in range(len(trace.steps) + 3):
            page.click(".recorded-stepper button[data-move='-1']")
        words = caption()
        assert words.startswith("Step 0 ") and step_sentence(trace, 0).split(",")[0].replace("`", "") in words
        page.select_option(".recorded-stepper select", "2")
        other = chain.explain(STEPPER_CASES[2].paths, STEPPER_CASES[2].fd, "missing-increment")
        assert caption().startswith(f"Step {len(other.steps) + 1} of {len(other.steps) + 1}.")
        assert page.locator(".recorded-stepper .stepper-step:not([hidden]) img").count() == 1


# -- readers who are not the author: axe, phones, print, PDFs, screen readers --------------------------

SERIOUS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter((v) => ['serious', 'critical'].includes(v.impact))
  .map((v) => `${v.id}: ${v.nodes.length} × ${v.nodes[0].target.join(' ')} ${(v.nodes[0].any[0] || {}).message || ''}`)"""


def _pages(out):
    return [*sorted(out.glob("0*.html")), out / "index.html", out / "handout.html"]


def _axe(page, axe) -> list[str]:
    page.add_script_tag(path=str(axe))
    return page.evaluate(SERIOUS)


def test_axe_finds_nothing_serious_on_any_page_the_handout_or_any_slide(built):
    """axe-core (pinned, from npm) in chromium: every page, the index and the handout on a
    laptop, on a phone and with a dark desktop, and every slide of the deck as shown."""
    from analysis.publish import chromium
    from analysis.publish.assets import AXE, fetch_assets

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    axe = fetch_assets((AXE,))[AXE.name]
    found = {}
    with chromium.browser() as chrome:
        for label, options in (("laptop", {"viewport": {"width": 1366, "height": 768}}),
                               ("phone", {"viewport": {"width": 390, "height": 844}, "is_mobile": True}),
                               ("dark", {"viewport": {"width": 1366, "height": 768}, "color_scheme": "dark"})):
            context = chrome.new_context(**options)
            page = context.new_page()
            for path in _pages(out):
                page.goto(path.as_uri())
                if path.name == "03_explorer.html":
                    page.wait_for_selector(".live-table td.outcome")
                found[(label, path.name)] = _axe(page, axe)
            context.close()
        page = chrome.new_page(viewport={"width": 1366, "height": 768})
        url = (out / "slides" / "index.html").as_uri()
        page.goto(url)
        page.wait_for_selector(".reveal.ready")
        page.add_script_tag(path=str(axe))
        for index in range(page.evaluate("document.querySelectorAll('.slides > section').length")):
            page.evaluate(f"Reveal.slide({index})")
            page.wait_for_function("i => Reveal.getIndices().h === i", arg=index)
            if page.locator(".slides > section.present .live-explorer").count():
                page.wait_for_selector(".slides > section.present .live-table td.outcome")
            found[("slide", index + 1)] = page.evaluate(SERIOUS)
    assert {where: said for where, said in found.items() if said} == {}
    assert len(found) == 3 * len(_pages(out)) + len(list(re.finditer(r'<section data-slide="', (
        out / "slides" / "index.html").read_text())))


WIDER = """() => {
  const width = document.documentElement.clientWidth, wide = [], cut = [];
  const page = (el) => el === document.body || el === document.documentElement || el.matches('.jp-Notebook, .jp-Cell');
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (!r.width || r.right <= width + 1) continue;
    let up = el.parentElement, scrolls = false, clips = false;
    for (; up; up = up.parentElement) {
      const s = getComputedStyle(up);
      if (up.getBoundingClientRect().right > width + 1) continue;
      if (!page(up) && /(auto|scroll)/.test(s.overflowX)) { scrolls = true; break; }
      if (/(hidden|clip)/.test(s.overflowX)) { clips = true; break; }
    }
    if (clips) cut.push(el.tagName + '.' + el.className);
    else if (!scrolls) wide.push(el.tagName + '.' + el.className);
  }
  return {page: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5), cut: cut.slice(0, 5),
          viewport: !!document.querySelector('meta[name="viewport"]')};
}"""


def test_on_a_phone_nothing_is_wider_than_the_screen_and_the_explorer_stacks_its_rows(built):
    """At 390 × 844: a viewport meta, no page wider than the screen, nothing cut off (code and
    wide tables scroll sideways inside their own box), and the explorer's table one stacked
    block per preopen, each cell led by its heading."""
    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    with chromium.browser() as chrome:
        context = chrome.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        page = context.new_page()
        for name in ("index.html", "03_explorer.html", "04_root_cause.html", "07_am_i_affected.html",
                     "handout.html"):
            page.goto((out / name).as_uri())
            if name == "03_explorer.html":
                page.wait_for_selector(".live-table td.outcome")
            seen = page.evaluate(WIDER)
            assert seen["viewport"] and seen["page"] <= 390 and not seen["wide"] and not seen["cut"], (name, seen)
        page.goto((out / "03_explorer.html").as_uri())
        cell = page.locator(".live-table td.outcome").first
        cell.wait_for()
        assert cell.evaluate("c => getComputedStyle(c).display") == "block"
        assert cell.evaluate("c => getComputedStyle(c, '::before').content") == '"outcome: "'
        context.close()


def test_printing_keeps_code_inside_the_page_and_prints_every_stepper_step(built):
    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    with chromium.browser() as chrome:
        page = chrome.new_page(viewport={"width": 700, "height": 1000})
        page.emulate_media(media="print")
        page.goto((out / "04_root_cause.html").as_uri())
        steps = page.locator(".recorded-stepper .stepper-step")
        assert steps.count() > 20
        assert all(steps.nth(i).is_visible() for i in range(steps.count()))
        wider = page.evaluate("[...document.querySelectorAll('pre, .jp-InputArea-editor')]"
                              ".filter((p) => p.scrollWidth > p.clientWidth + 1).length")
        assert wider == 0
        page.goto((out / "index.html").as_uri())
        assert page.evaluate("[...document.querySelectorAll('table')].every((t) => t.tHead && "
                             "getComputedStyle(t.tHead).display === 'table-header-group')")


def test_the_pdfs_are_tagged_in_english_and_the_handout_keeps_headings_with_their_tables(built):
    from pypdf import PdfReader

    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    for name in ("slides.pdf", "handout.pdf"):
        root = PdfReader(out / name).trailer["/Root"]
        assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"], name
        assert str(root.get("/Lang")) == "en", name
    pages = [unicodedata.normalize("NFKC", p.extract_text()) for p in PdfReader(out / "handout.pdf").pages]
    heading = next(i for i, words in enumerate(pages) if "Toolchains: what ships" in words)
    assert "Measured in this build" in pages[heading]


def test_screen_readers_hear_the_explorer_and_the_stepper(built):
    """The explorer's result line and the recorded stepper's caption are polite live regions,
    filled when the reader changes something."""
    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    with chromium.browser() as chrome:
        page = chrome.new_page()
        page.goto((out / "03_explorer.html").as_uri())
        page.wait_for_selector(".live-table td.outcome")
        status = page.locator('.live-explorer [aria-live="polite"]')
        assert status.count() == 1 and "run in this page" in status.inner_text()
        page.goto((out / "07_am_i_affected.html").as_uri())
        assert page.locator('.live-scan .live-scan-said[aria-live="polite"]').count() == 1
        assert page.locator('.live-scan-answer[aria-live]').count() == 0  # the details are read, not announced
        page.goto((out / "04_root_cause.html").as_uri())
        said = page.locator('.recorded-stepper [aria-live="polite"]')
        page.click(".recorded-stepper button[data-move='-1']")
        shown = page.locator(".recorded-stepper .stepper-step:not([hidden]) .stepper-caption").inner_text()
        assert said.inner_text() == shown and shown.startswith("Step ")


def test_a_grids_labels_fit_their_cells_on_a_slide(runner):
    """The deck raises a figure's fonts to be read from the back; a survival grid is drawn again
    with columns as much wider, so no cell's label runs into the next (the longest names of the
    deck's three lists)."""
    from analysis.findings.claims import FIRST_MISROUTED, INTACT, LAST_MISROUTED
    from analysis.publish import deck
    from analysis.show import plots

    runs = [runner.run(paths, adapter="jco-1.8.1") for paths in (FIRST_MISROUTED, LAST_MISROUTED, INTACT)]
    drawn = []

    def draw(widen):
        drawn.append(plots.survival_grid(runs, labels=[" ".join(r.paths) for r in runs], widen=widen))
        return drawn[-1]

    deck.figure(draw, (1180, 160))  # short: the fonts grow by more than a cell's margin (drawn once, "/cache" and four more overran)
    fig = drawn[-1]
    ax = fig.axes[0]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    for text in ax.texts:
        box = text.get_window_extent(renderer)
        x, _ = text.get_position()
        left, right = ax.transData.transform([(x - 0.5, 0), (x + 0.5, 0)])[:, 0]
        assert left <= box.x0 and box.x1 <= right, text.get_text()


def test_on_a_phone_figures_keep_their_labels_size(built):
    """Each figure of the index and pages 2 to 4 is shown at 390 px wide no smaller than at
    1366 px (it scrolls sideways in its own box instead of shrinking)."""
    from analysis.publish import chromium

    if chromium.chromium() is None:
        pytest.skip("no chromium")
    out, _ = built
    scales = "[...document.querySelectorAll('img[src^=\"data:image/png\"]')].map((i) => i.width / i.naturalWidth)"
    with chromium.browser() as chrome:
        shown = {}
        for width, height in ((1366, 768), (390, 844)):
            page = chrome.new_page(viewport={"width": width, "height": height})
            for name in ("index.html", "02_reproduce.html", "03_explorer.html", "04_root_cause.html"):
                page.goto((out / name).as_uri())
                shown[(width, name)] = page.evaluate(scales)
            page.close()
    for name in ("index.html", "02_reproduce.html", "03_explorer.html", "04_root_cause.html"):
        assert shown[(390, name)] and all(small >= large - 0.01 for small, large in
                                          zip(shown[(390, name)], shown[(1366, name)])), name
