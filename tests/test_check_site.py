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


# --------------------------------------------------------------------------------------------
# Horizontal overflow (issue 12): displays and outputs wider than the text column fail.
# --------------------------------------------------------------------------------------------
def _overflow(kind, px=300):
    return {"kind": kind, "px": px, "width": 600 + px, "room": 600, "column": 600, "text": "H_inf = ...",
            "chars": None if kind == "math display" else 120, "section": "results", "cell": 3,
            "collapsed": False}


def test_overflow_reports_fail_for_displays_and_outputs_and_warn_for_code():
    page = check_site.Page("chapters/ch.html", BeautifulSoup("", "html.parser"))
    info = {"overflows": [_overflow("math display"), _overflow("output"), _overflow("code input")]}
    check_site.check_overflow(page, info)
    assert len(page.problems) == 2, page.problems
    assert page.problems[0].startswith("math display wider than the text column: 900 px wide, "
                                       "600 px of room (+300 px) [#results; code cell 3")
    assert "output wider than the text column" in page.problems[1]
    assert "longest line 120 characters" in page.problems[1]
    assert page.problems[1].endswith(': "H_inf = ..."')      # TeX is quoted as written
    assert [w.split(" wider")[0] for w in page.notes["warnings"]] == ["code input"]


# A page shaped like a Jupyter Book chapter (article column 600 px, MathJax CHTML display blocks,
# cell inputs/outputs as <pre>, a solution collapsed by sphinx-togglebutton, a hide-input cell in a
# closed <details>), without MathJax itself: the probe only measures the elements.
NARROW_PAGE = """<html><head><style>
body { margin: 0; } article { width: 600px; padding: 0 20px; }
mjx-container { overflow: auto; }   /* as the book theme styles it */
mjx-container[display="true"] { display: block; text-align: center; }
mjx-box { display: inline-block; }
pre { overflow: auto; font-family: monospace; font-size: 14px; }
.admonition.toggle-hidden .admonition-title ~ * { height: 0; margin: 0; opacity: 0;
                                                  visibility: hidden; display: block; }
</style></head><body><article class="bd-article"><section id="results">
<p>Narrow prose.</p>
<mjx-container class="MathJax" jax="CHTML" display="true"><mjx-box style="width: 400px">DISPLAY</mjx-box></mjx-container>
<div class="proof theorem admonition" style="padding: 0 100px">
<mjx-container class="MathJax" jax="CHTML" display="true"><mjx-box style="width: 300px">THEOREM</mjx-box></mjx-container></div>
<div class="cell docutils container">
<div class="cell_input docutils container"><pre>run = train.run(problem, steps=100)</pre></div>
<div class="cell_output docutils container"><div class="output stream"><pre>OUTPUT_LINE</pre></div></div></div>
<div class="cell docutils container"><details class="hide above-input"><summary>Show code</summary>
<div class="cell_input docutils container"><pre>HIDDEN_CODE</pre></div></details></div>
<div class="solution dropdown admonition toggle toggle-hidden" id="sol-one">
<p class="admonition-title">Solution</p>
<mjx-container class="MathJax" jax="CHTML" display="true"><mjx-box style="width: 300px">SOLUTION</mjx-box></mjx-container>
</div></section></article></body></html>"""


def _browser():
    import os
    import shutil

    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


needs_browser = pytest.mark.skipif(_browser() is None, reason="no Chromium on PATH (the browser "
                                   "check installs Debian's chromium as root; see check_site.py)")


def _in_browser(tmp_path, html):
    (tmp_path / "page.html").write_text(html)
    check_site.instrument(tmp_path, ["page.html"])
    res = check_site.chromium(_browser(), (tmp_path / "page.html").as_uri(),
                              f"--window-size={check_site.WIDTH},1000", "--dump-dom")
    assert res.returncode == 0, res.stderr[-500:]
    page = check_site.Page("page.html", BeautifulSoup("", "html.parser"))
    info = check_site.check_in_browser(page, res.stdout)
    return page, info, res.stdout


@needs_browser
def test_a_narrow_page_has_no_overflow(tmp_path):
    page, info, dom = _in_browser(tmp_path, NARROW_PAGE)
    assert info["overflows"] == [] and page.problems == [], (info, page.problems)
    assert "warnings" not in page.notes
    assert 0 < info["height"] < 1000
    # Measuring opened the collapsed solution and hide-input cell only for the moment it took.
    sol = BeautifulSoup(dom, "html.parser").find(id="sol-one")
    assert "toggle-hidden" in sol["class"]
    assert BeautifulSoup(dom, "html.parser").find("details").get("open") is None


WIDE = "x" * 150   # 150 monospace characters at 14 px: about 1260 px, twice the column


@needs_browser
@pytest.mark.parametrize("old, new, kind, fails", [
    ('style="width: 400px">DISPLAY', 'style="width: 900px">DISPLAY', "math display", True),
    ("OUTPUT_LINE", "short\n" + WIDE + "\nshort", "output", True),
    ('style="width: 300px">SOLUTION', 'style="width: 800px">SOLUTION', "math display", True),
    # inside a theorem box (400 px of room in the 600 px column): fits the column, not the box
    ('style="width: 300px">THEOREM', 'style="width: 500px">THEOREM', "math display", True),
    ("run = train.run(problem, steps=100)", WIDE, "code input", False),
    ("HIDDEN_CODE", WIDE, "code input", False),
])
def test_an_overwide_element_is_reported(tmp_path, old, new, kind, fails):
    assert old in NARROW_PAGE
    page, info, _ = _in_browser(tmp_path, NARROW_PAGE.replace(old, new))
    found = [o for o in info["overflows"] if o["kind"] == kind]
    assert len(found) == 1 and len(info["overflows"]) == 1, info["overflows"]
    o = found[0]
    assert o["section"] == "results" and o["column"] == 600 and o["px"] >= 100, o
    assert o["room"] == (400 if "THEOREM" in new else 600 if kind != "code input" else o["room"]), o
    assert o["collapsed"] == (new.startswith('style="width: 800px">SOLUTION') or old == "HIDDEN_CODE")
    if kind == "math display":
        assert o["text"] in ("DISPLAY", "SOLUTION", "THEOREM"), o  # no MathJax: the element's text
    else:
        assert o["text"].startswith("xxxx") and o["chars"] == 150, o
    report = page.problems if fails else page.notes.get("warnings", [])
    assert len(report) == 1 and report[0].startswith(f"{kind} wider than the text column"), report
    assert (page.problems == []) == (not fails)
