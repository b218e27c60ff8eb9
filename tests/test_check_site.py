"""The browser check's static half catches what it claims to catch (no browser needed here).

``tests/browser/check_site.py`` runs in ``make test`` after the book build; these tests feed its
page checks a small hand-made site with one planted fault each and expect that fault reported.
"""

import importlib.util
import json
import pathlib
import struct
import sys
import zlib

import pytest
from bs4 import BeautifulSoup

ROOT = pathlib.Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("check_site", ROOT / "tests" / "browser" / "check_site.py")
check_site = importlib.util.module_from_spec(_spec)
sys.modules["check_site"] = check_site  # dataclasses look their module up here
_spec.loader.exec_module(check_site)


def _png(width=4, height=3):
    raw = b"".join(b"\x00" + b"\xff" * (3 * width) for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


GOOD_PAGE = """<html><head><script defer src="../_static/mathjax/tex-chtml.js"></script></head><body>
<a href="../_sources/chapters/ch.ipynb">.ipynb</a>
<p>See <a href="../intro.html#who">intro</a> and <a href="#thm">the theorem</a>,
<span class="math notranslate nohighlight">\\(x\\)</span>.</p>
<div class="proof theorem admonition" id="thm">Theorem</div>
<div class="cell_output docutils container"><img src="../_images/fig.png"/></div>
<div class="exercise admonition" id="ex-one">Exercise</div>
<div class="solution dropdown admonition" id="sol-one">Solution</div>
</body></html>"""


@pytest.fixture
def site(tmp_path):
    html = tmp_path / "_build" / "html"
    (html / "chapters").mkdir(parents=True)
    (html / "_images").mkdir()
    (html / "_static" / "mathjax").mkdir(parents=True)
    (html / "_sources" / "chapters").mkdir(parents=True)
    (html / "_static" / "mathjax" / "tex-chtml.js").write_text("")
    (html / "_sources" / "chapters" / "ch.ipynb").write_text("{}")
    (html / "_images" / "fig.png").write_bytes(_png())
    (html / "intro.html").write_text('<html><body><h1 id="who">Who</h1></body></html>')
    (html / "chapters" / "ch.html").write_text(GOOD_PAGE)
    executed = tmp_path / "_build" / "jupyter_execute" / "chapters"
    executed.mkdir(parents=True)
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [
        {"output_type": "display_data", "data": {"image/png": "...", "text/plain": "<Figure>"}}]}]}
    (executed / "ch.ipynb").write_text(json.dumps(nb))
    return html


def _problems(html, text=None):
    rel = "chapters/ch.html"
    if text is not None:
        (html / rel).write_text(text)
    page = check_site.Page(rel, BeautifulSoup((html / rel).read_text(), "html.parser"))
    check_site.check_links(page, html, {})
    check_site.check_static(page, html, html.parent)
    return page.problems


def test_a_good_page_passes(site):
    assert _problems(site) == []


@pytest.mark.parametrize("old, new, expected", [
    ('href="../intro.html#who"', 'href="../intro.html#nobody"', "has no anchor #nobody"),
    ('href="../intro.html#who"', 'href="../missing.html"', "no such file missing.html"),
    ('href="#thm"', 'href="#thm-typo"', "missing anchor #thm-typo"),
    ('src="../_images/fig.png"', 'src="../_images/gone.png"', "not a valid image"),
    ('<img src="../_images/fig.png"/>', "", "has 1 image outputs, the page shows 0"),
    ('<img src="../_images/fig.png"/>', "<pre class=\"output text_plain\">Traceback (most recent call last)</pre>",
     "shows an error"),
    ('../_static/mathjax/tex-chtml.js', 'https://cdn.example.org/mathjax/tex-chtml.js', "from the network"),
    ('solution dropdown admonition', 'solution admonition', "not hidden by default"),
    ('href="../_sources/chapters/ch.ipynb"', 'href="../intro.html"', "no download link"),
])
def test_a_planted_fault_is_reported(site, old, new, expected):
    assert old in GOOD_PAGE
    problems = _problems(site, GOOD_PAGE.replace(old, new))
    assert any(expected in p for p in problems), problems


def test_an_empty_image_file_is_reported(site):
    (site / "_images" / "fig.png").write_bytes(b"")
    assert any("not a valid image" in p for p in _problems(site))


def test_raw_tex_and_stray_dollars_are_reported():
    page = check_site.Page("x.html", BeautifulSoup("", "html.parser"))
    dom = """<html><body><p>raw \\(x\\) here</p>
    <p>and $<span class="math"><mjx-container>H</mjx-container></span>$ too</p>
    <script type="application/json" id="%s">{"state": "typeset", "errors": [], "images": [],
    "height": 100, "mathjax": "3.2.2"}</script></body></html>""" % check_site.PROBE_ID
    check_site.check_in_browser(page, dom)
    assert any("raw \\( \\)" in p for p in page.problems), page.problems
    assert any("stray '$'" in p for p in page.problems), page.problems


def test_untypeset_math_and_a_missing_report_are_reported():
    page = check_site.Page("x.html", BeautifulSoup("", "html.parser"))
    check_site.check_in_browser(page, '<html><body><span class="math">\\(x\\)</span></body></html>')
    assert any("did not finish loading" in p for p in page.problems), page.problems
    page = check_site.Page("x.html", BeautifulSoup("", "html.parser"))
    dom = """<html><body><span class="math">\\(x\\)</span><script type="application/json" id="%s">
    {"state": "typeset", "errors": ["Uncaught TypeError: boom"], "images": [
    {"src": "a.png", "complete": true, "width": 0, "height": 0}], "height": 1, "mathjax": null}
    </script></body></html>""" % check_site.PROBE_ID
    check_site.check_in_browser(page, dom)
    for expected in ("math not typeset", "JavaScript error: Uncaught TypeError", "image did not load"):
        assert any(expected in p for p in page.problems), (expected, page.problems)
