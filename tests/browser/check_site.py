"""Open every page of the built book in headless Chromium and check what a reader would see.

    .venv/bin/python tests/browser/check_site.py [--site _build/html] [--screenshots _build/screenshots]

Run by ``make test`` right after the strict book build. It exits non-zero, listing every problem
with its page, when any of these fails:

* **Math is typeset** (in the browser): every ``.math`` element Sphinx wrote holds a MathJax
  ``mjx-container``, MathJax reported no error (``mjx-merror``), and no raw TeX is left in the
  page text (``\\(``, ``\\)``, ``\\[``, ``\\]``, ``$$``, or ``$...\\command...$``). MathJax must
  come from the site itself (``_static/mathjax``), never a CDN, and the browser runs with every
  remote host unreachable: this is also the "math renders offline" test.
* **Every figure a chapter produced is an image that loaded**: the number of image outputs in the
  executed notebook (``_build/jupyter_execute/<page>.ipynb``, cells not tagged ``remove-*``)
  equals the number of ``<img>`` in the page's cell outputs; each such file exists and is a valid
  PNG/JPEG/SVG with a non-zero size; and in the browser every ``<img>`` of the page finished
  loading with a non-zero natural size (a small script injected into a temporary copy of the
  site records ``naturalWidth``/``naturalHeight`` once the page and MathJax are done). The file
  check says *which* figure is broken; the browser check proves it actually decodes.
* **No cell shows an error**: no traceback output, no ``Traceback (most recent call last)`` or
  ``SomethingError:`` line in any output, no docutils system message; no uncaught JavaScript
  error on the page.
* **Every internal link resolves**: each relative ``href``/``src`` (links, images, scripts,
  stylesheets, the redirect of ``index.html``) points at a file of the site, and each ``#anchor``
  at an ``id`` of the target page. No page loads a script or stylesheet from the network.
* **Course use**: every chapter page (a page built from an ``.ipynb``) offers its ``.ipynb`` for
  download, and every exercise solution is collapsed when the page opens.
* **Nothing is wider than the text column** (at the window width ``WIDTH``): no MathJax display
  (``mjx-container[display]``), no cell output (its ``<pre>``, HTML or LaTeX output), no table and
  not the page itself is wider than the room it has, by more than ``OVERFLOW_TOL_PX``; content
  that is collapsed when the page opens (solutions, hide-input cells) is opened for the moment
  of the measurement and counts too. Each one is reported with its width, its room, the section
  id, the code cell's number on the page, and the start of its longest line (or its TeX). Code
  *inputs* wider than the column are listed as warnings only (see ``OVERFLOW_FAILS``).
  At 1280 px the column is 688 px (the right-hand contents sidebar shows from 1200 px on; a 1000
  px window has 736 px, a 1920 px one 790 px), which holds 78 characters of a printed output and
  77 of code (14 px monospace, about 8.4 px a character plus 32 px of padding); a theorem or
  exercise box has about 60 px less. Keep printed lines to 76 characters or fewer.

A screenshot of every page of the table of contents is saved under ``--screenshots`` (full page
height, capped at ``MAX_SHOT_HEIGHT`` pixels), and the summary gives every page's full height in
pixels at this width (``benchmarks/page_heights.py`` measures the chapters alone and compares two
builds).

Chromium: ``$CHROMIUM`` if set, else ``chromium`` (Debian's package) or ``chromium-browser`` on
PATH. When none is found and we run as root with apt-get, Debian's ``chromium`` is installed
(``apt-get update && apt-get install -y chromium``, about a minute); otherwise the check stops and
prints what to install.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import posixpath
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
WIDTH = 1280
MAX_SHOT_HEIGHT = 32000
VIRTUAL_TIME_MS = 20000
CHROMIUM_TIMEOUT_S = 180
SKIP_DIRS = ("_static", "_sources", "_images", "_downloads")
INSTRUCTORS = "instructors.html"   # must list every exercise of the book (see check_instructors)

# Flags for a reproducible, offline, throw-away browser. The resolver rule makes every remote host
# unreachable, so anything the site still tried to fetch from the network would fail here.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    f"--virtual-time-budget={VIRTUAL_TIME_MS}",
]

# Horizontal overflow: an element counts as wider than the text column when its content is more
# than this many CSS pixels wider than its box, or its box sticks out of the column by as much.
OVERFLOW_TOL_PX = 4
# What fails the check (each kind is an element the probe measures, see PROBE_JS): a display or an
# output the reader has to scroll sideways (or that spills over the margin) hides part of a
# formula or a printed table. Code *inputs* wider than the column only scroll inside their own box
# and most are collapsed (hide-input); they are listed as warnings, not failures.
OVERFLOW_FAILS = ("math display", "output", "table", "page")

# Injected at the top of <head> in a temporary copy of each page. When the page has loaded and
# MathJax (if any) has finished typesetting, it appends a JSON report that --dump-dom returns.
PROBE_ID = "twolayer-browser-probe"
PROBE_JS = """
<script>(function () {
  var errors = [];
  window.addEventListener("error", function (e) {
    if (e.target && e.target !== window && (e.target.src || e.target.href)) {
      errors.push("resource failed to load: " + (e.target.src || e.target.href));
    } else {
      errors.push(String(e.message) + (e.filename ? " (" + e.filename + ":" + e.lineno + ")" : ""));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    errors.push("unhandled promise rejection: " + String(e.reason));
  });
  // Elements whose content is wider than the text column (see OVERFLOW_KINDS). Collapsed
  // content (hide-input cells, solution dropdowns) is opened, measured and closed again in one
  // synchronous step, so the page the reader sees (and the screenshot) is not changed.
  var TOL = %(tol)d;
  function squash(s, n) {
    s = (s || "").replace(/\\s+/g, " ").trim();
    return s.length > n ? s.slice(0, n - 3) + "..." : s;
  }
  function texOf(el) {
    try {
      for (var item of window.MathJax.startup.document.math) {
        if (item.typesetRoot === el) { return item.math; }
      }
    } catch (e) {}
    return el.textContent;
  }
  function longestLine(el) {
    var lines = (el.innerText || el.textContent || "").split("\\n"), best = "";
    lines.forEach(function (l) { if (l.length > best.length) { best = l; } });
    return best;
  }
  function overflows() {
    var hidden = [], closed = [];
    document.querySelectorAll(".toggle-hidden").forEach(function (el) {
      hidden.push(el); el.classList.remove("toggle-hidden");
    });
    document.querySelectorAll("details:not([open])").forEach(function (el) {
      closed.push(el); el.open = true;
    });
    var found = [], seen = [];
    var groups = [
      ["math display", "mjx-container[display='true']"],
      ["output", "div.cell_output pre, div.cell_output div.output.text_html, " +
                 "div.cell_output div.output.text_latex"],
      ["code input", "div.cell_input pre"],
      ["table", "article table"],
    ];
    try {
      groups.forEach(function (g) {
        document.querySelectorAll(g[1]).forEach(function (el) {
          if (seen.some(function (s) { return s.contains(el) || el.contains(s); })) { return; }
          if (g[0] === "table" && el.closest("div.cell_output")) { return; }
          var col = el.closest("article") || document.body;
          var cr = col.getBoundingClientRect(), r = el.getBoundingClientRect();
          var cs = getComputedStyle(col);
          var colLeft = cr.left + parseFloat(cs.paddingLeft || "0");
          var colRight = cr.right - parseFloat(cs.paddingRight || "0");
          var inside = el.scrollWidth - el.clientWidth;       // content wider than its own box
          var outside = Math.round(r.right - colRight);       // box sticking out of the column
          var over = Math.max(inside, outside);
          if (r.width === 0 || over <= TOL) { return; }
          seen.push(el);
          var text = g[0] === "math display" ? texOf(el) : g[0] === "table" ? el.textContent
                                                                           : longestLine(el);
          var sec = el.closest("section[id]");
          var cell = el.closest("div.cell");
          var collapsed = hidden.concat(closed).some(function (h) { return h.contains(el); });
          found.push({kind: g[0], px: over, width: Math.round(el.scrollWidth),
                      // the room it has: its own box (a theorem box is narrower than the
                      // column), or the column from its left edge when the box sticks out
                      room: inside >= outside ? el.clientWidth : Math.round(colRight - r.left),
                      column: Math.round(colRight - colLeft), text: squash(text, 90),
                      chars: g[0] === "math display" ? null : longestLine(el).length,
                      section: sec ? sec.id : null,
                      cell: cell ? Array.prototype.indexOf.call(
                          document.querySelectorAll("div.cell"), cell) + 1 : null,
                      collapsed: collapsed});
        });
      });
      var doc = document.documentElement;
      if (doc.scrollWidth > doc.clientWidth + TOL) {
        found.push({kind: "page", px: doc.scrollWidth - doc.clientWidth, width: doc.scrollWidth,
                    column: doc.clientWidth, text: "the whole page scrolls sideways",
                    chars: null, section: null, cell: null, collapsed: false});
      }
    } finally {
      hidden.forEach(function (el) { el.classList.add("toggle-hidden"); });
      closed.forEach(function (el) { el.open = false; });
    }
    return found;
  }
  function report(state) {
    var images = Array.prototype.map.call(document.images, function (im) {
      return {src: im.getAttribute("src"), complete: im.complete,
              width: im.naturalWidth, height: im.naturalHeight};
    });
    var body = document.body || document.documentElement;
    var out = {state: state, errors: errors, images: images,
               height: Math.max(body.scrollHeight, document.documentElement.scrollHeight),
               width: window.innerWidth,
               mathjax: !!(window.MathJax && window.MathJax.version) ? window.MathJax.version : null};
    try { out.overflows = overflows(); } catch (e) { errors.push("overflow probe: " + e); }
    var el = document.createElement("script");
    el.type = "application/json";
    el.id = "%(probe_id)s";
    el.textContent = JSON.stringify(out);
    body.appendChild(el);
  }
  window.addEventListener("load", function () {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) {
      mj.startup.promise.then(function () { report("typeset"); },
                              function (err) { errors.push("MathJax: " + err); report("mathjax-failed"); });
    } else if (document.querySelector("script[src*='mathjax']")) {
      report("mathjax-not-started");
    } else {
      report("no-mathjax");
    }
  });
})();</script>
""" % {"probe_id": PROBE_ID, "tol": OVERFLOW_TOL_PX}

RAW_TEX = [
    (re.compile(r"\\\(|\\\)"), "raw \\( \\) inline math"),
    (re.compile(r"\\\[|\\\]"), "raw \\[ \\] display math"),
    (re.compile(r"\$\$"), "raw $$ math"),
    (re.compile(r"\$[^$\s][^$]{0,300}?\\[A-Za-z]+[^$]{0,300}?\$"), "raw $...\\command...$ math"),
]
ERROR_LINE = re.compile(r"^\s*(Traceback \(most recent call last\)|([A-Za-z_][\w.]*)?(Error|Exception)(:|$))",
                        re.MULTILINE)
# JavaScript errors that are known and harmless, each with its reason. Nothing else is tolerated.
KNOWN_JS_ERRORS = [
    # Sphinx 7.4 adds an inline (body-only) script registered after the builder started twice
    # (once as filename None, once as ""; its de-duplication misses that). sphinx-thebe 0.3.1's
    # `const THEBE_JS_URL = ...` line then throws on its second copy. The first copy already
    # defined the constants, and the book does not use Thebe (launch buttons are plain links).
    re.compile(r"Identifier 'THEBE_JS_URL' has already been declared"),
]
CODE_TAGS = {"script", "style", "pre", "code", "textarea", "noscript", "mjx-container"}


@dataclass
class Page:
    rel: str                      # path relative to the site root, e.g. "chapters/wide_networks.html"
    soup: BeautifulSoup
    problems: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)

    @property
    def doc(self) -> str:
        return self.rel[: -len(".html")]


# --------------------------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------------------------
def find_chromium(install: bool) -> str:
    env = os.environ.get("CHROMIUM")
    if env:
        if shutil.which(env):
            return shutil.which(env)
        sys.exit(f"error: CHROMIUM={env!r} is not an executable.")
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    how = "apt-get update && apt-get install -y chromium"
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"Chromium not found; installing Debian's package: {how}", flush=True)
        t0 = time.perf_counter()
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        # The emoji font only makes the status table's check marks visible in the screenshots.
        for cmd in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-color-emoji"]):
            res = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if res.returncode != 0:
                sys.exit(f"error: {' '.join(cmd)} failed:\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
        print(f"Chromium installed in {time.perf_counter() - t0:.0f} s", flush=True)
        path = shutil.which("chromium")
        if path:
            return path
    sys.exit(
        "error: the browser check needs Chromium, and none was found.\n"
        f"  On Debian/Ubuntu, as root:  {how}\n"
        "  (or: sudo apt-get install -y chromium)\n"
        "  Elsewhere, install Chromium or Chrome and set CHROMIUM=/path/to/the/binary."
    )


def chromium(binary: str, url: str, *extra: str) -> subprocess.CompletedProcess:
    """Run one headless Chromium on ``url`` with a fresh profile; a hang counts as a failure."""
    with tempfile.TemporaryDirectory(prefix="twolayer-chromium-") as profile:
        cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(cmd, 124, "", f"Chromium ran past {CHROMIUM_TIMEOUT_S} s")


# --------------------------------------------------------------------------------------------
# Static checks on the built HTML
# --------------------------------------------------------------------------------------------
def list_pages(site: Path) -> list[str]:
    out = []
    for p in sorted(site.rglob("*.html")):
        rel = p.relative_to(site).as_posix()
        if rel.split("/")[0] in SKIP_DIRS:
            continue
        out.append(rel)
    return out


def ids_of(soup: BeautifulSoup) -> set[str]:
    ids = {el["id"] for el in soup.find_all(id=True)}
    ids |= {el["name"] for el in soup.find_all("a", attrs={"name": True})}
    return ids


def redirect_target(soup: BeautifulSoup) -> str | None:
    meta = soup.find("meta", attrs={"http-equiv": re.compile("refresh", re.I)})
    if meta and "url=" in meta.get("content", "").lower():
        return meta["content"].split("=", 1)[1].strip().strip("'\"")
    return None


def image_size(path: Path) -> tuple[int, int] | None:
    """Width and height of a PNG, JPEG or SVG file, or None when it is not a valid image."""
    data = path.read_bytes()
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                return w, h
            i += 2 + length
        return None
    if path.suffix == ".svg" and b"<svg" in data[:2000]:
        return (1, 1)
    return None


def check_links(page: Page, site: Path, id_cache: dict) -> int:
    """Every relative href/src of the page resolves to a file of the site (and anchor)."""
    checked = 0
    refs = []
    for tag, attr in (("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
                      ("source", "src"), ("iframe", "src")):
        for el in page.soup.find_all(tag, attrs={attr: True}):
            refs.append((tag, attr, el[attr], el))
    target = redirect_target(page.soup)
    if target:
        refs.append(("meta", "refresh", target, None))
    base = posixpath.dirname(page.rel)
    for tag, attr, url, el in refs:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme or url.startswith("//"):
            external_asset = tag == "script" or (tag == "link" and "stylesheet" in (el.get("rel") or []))
            if parts.scheme in ("http", "https") and external_asset:
                page.problems.append(f"loads {tag} from the network (not offline): {url}")
            continue
        if url.startswith("/"):
            page.problems.append(f"absolute path {url!r} breaks a relocated site")
            continue
        path = urllib.parse.unquote(parts.path)
        frag = urllib.parse.unquote(parts.fragment)
        if not path:
            if frag and frag not in id_cache.setdefault(page.rel, ids_of(page.soup)):
                page.problems.append(f"link to missing anchor #{frag}")
            checked += 1
            continue
        rel = posixpath.normpath(posixpath.join(base, path))
        full = site / rel
        if full.is_dir():
            full, rel = full / "index.html", posixpath.join(rel, "index.html")
        checked += 1
        if rel.startswith("..") or not full.is_file():
            page.problems.append(f"{tag} {attr}={url!r}: no such file {rel}")
            continue
        if frag and full.suffix == ".html":
            if rel not in id_cache:
                id_cache[rel] = ids_of(BeautifulSoup(full.read_text(encoding="utf8"), "html.parser"))
            if frag not in id_cache[rel]:
                page.problems.append(f"link {url!r}: {rel} has no anchor #{frag}")
    return checked


def output_images(page: Page) -> list:
    return [img for out in page.soup.select("div.cell_output") for img in out.find_all("img")]


def executed_image_count(notebook: Path) -> int | None:
    """Image outputs of the executed notebook (None when it holds no outputs at all)."""
    nb = json.loads(notebook.read_text(encoding="utf8"))
    if not any(c.get("outputs") for c in nb.get("cells", [])):
        return None  # a build served from the execution cache writes the notebook without outputs
    count = 0
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"remove-output", "remove-cell"}:
            continue
        for out in cell.get("outputs", []):
            if any(k.startswith("image/") for k in out.get("data", {})):
                count += 1
    return count


def check_static(page: Page, site: Path, build: Path) -> None:
    soup = page.soup
    # Figures: the executed notebook's image outputs are all on the page, as valid image files.
    executed = build / "jupyter_execute" / (page.doc + ".ipynb")
    imgs = output_images(page)
    if executed.is_file():
        expected = executed_image_count(executed)
        page.notes["figures"] = "?" if expected is None else expected
        if expected is not None and len(imgs) != expected:
            page.problems.append(f"the executed notebook has {expected} image outputs, "
                                 f"the page shows {len(imgs)}")
    for img in imgs:
        src = urllib.parse.unquote(urllib.parse.urlsplit(img.get("src", "")).path)
        if img.get("src", "").startswith("data:"):
            continue
        f = site / posixpath.normpath(posixpath.join(posixpath.dirname(page.rel), src))
        size = image_size(f) if f.is_file() else None
        if not size or min(size) <= 0:
            page.problems.append(f"figure {src!r} is missing or not a valid image")
    for out in soup.select("div.cell_output"):
        for el in out.select(".text_plain, .stream, .stderr"):
            if re.fullmatch(r"\s*<Figure size [\d.]+x[\d.]+ with \d+ Axes>\s*", el.get_text()):
                page.problems.append("a figure was rendered as text (<Figure size ...>), not as an image")
    # Errors shown in the page.
    for el in soup.select(".output.traceback, .system-message, .problematic"):
        page.problems.append(f"error shown on the page ({' '.join(el.get('class', []))}): "
                             f"{el.get_text(' ', strip=True)[:200]!r}")
    for out in soup.select("div.cell_output"):
        m = ERROR_LINE.search(out.get_text("\n"))
        if m:
            page.problems.append(f"a cell output shows an error: {m.group(0).strip()!r}")
    # MathJax must come from the site.
    mj = [s["src"] for s in soup.find_all("script", src=True) if "mathjax" in s["src"].lower()]
    if soup.select(".math") and not mj:
        page.problems.append("the page has math but loads no MathJax")
    for src in mj:
        if urllib.parse.urlsplit(src).scheme or "_static/mathjax/" not in src:
            page.problems.append(f"MathJax is not loaded from the site's _static/mathjax: {src}")
    # Course use: chapter pages offer their .ipynb; solutions start collapsed.
    if (site / "_sources" / (page.doc + ".ipynb")).is_file():
        base = posixpath.dirname(page.rel)
        links = [a["href"] for a in soup.find_all("a", href=True)
                 if posixpath.normpath(posixpath.join(base, a["href"])) == f"_sources/{page.doc}.ipynb"]
        if not links:
            page.problems.append("no download link to the chapter's .ipynb")
    for sol in soup.select("div.solution"):
        if "dropdown" not in sol.get("class", []):
            page.problems.append(f"solution {sol.get('id', '?')!r} is not hidden by default "
                                 "(give it `:class: dropdown`)")


# --------------------------------------------------------------------------------------------
# Checks in the browser
# --------------------------------------------------------------------------------------------
def visible_text(soup: BeautifulSoup) -> str:
    body = soup.body or soup
    for el in body.find_all(CODE_TAGS):
        el.decompose()
    for el in body.select(".highlight, .cell_input, .output.stream, .output.text_plain, .output.stderr"):
        el.decompose()
    return body.get_text(" ")


def check_in_browser(page: Page, dom: str) -> dict:
    soup = BeautifulSoup(dom, "html.parser")
    probe = soup.find("script", id=PROBE_ID)
    if probe is None:
        page.problems.append("the page did not finish loading (and typesetting) within the "
                             f"{VIRTUAL_TIME_MS / 1000:.0f} s virtual-time budget")
        return {}
    info = json.loads(probe.string)
    for err in info["errors"]:
        if any(rx.search(err) for rx in KNOWN_JS_ERRORS):
            continue
        kind = "" if err.startswith("resource failed") else "JavaScript error: "
        page.problems.append(f"in the browser: {kind}{err}")
    if info["state"] in ("mathjax-failed", "mathjax-not-started"):
        page.problems.append(f"MathJax did not run ({info['state']})")
    maths = soup.select(".math")
    untypeset = [m for m in maths if m.find("mjx-container") is None]
    page.notes["math"] = len(soup.find_all("mjx-container"))
    for m in untypeset[:5]:
        page.problems.append(f"math not typeset: {m.get_text()[:80]!r}")
    if len(untypeset) > 5:
        page.problems.append(f"... and {len(untypeset) - 5} more untypeset math elements")
    if soup.find(["mjx-merror"]) is not None or soup.select("[data-mjx-error]"):
        page.problems.append("MathJax reported a TeX error: "
                             f"{(soup.find('mjx-merror') or soup.select('[data-mjx-error]')[0]).get_text()[:120]!r}")
    # Half-parsed dollar math ($$ inside a paragraph, an unbalanced $) leaves a stray "$" glued to
    # a typeset formula: the TeX is typeset, but the reader sees "$" signs around it.
    for m in maths:
        before, after = m.previous_sibling, m.next_sibling
        if (isinstance(before, str) and before.rstrip().endswith("$")) or \
                (isinstance(after, str) and after.lstrip().startswith("$")):
            page.problems.append(f"stray '$' next to the formula {m.get_text()[:60]!r} "
                                 "(dollar math not parsed as intended)")
    text = visible_text(soup)
    for rx, what in RAW_TEX:
        m = rx.search(text)
        if m:
            s = max(0, m.start() - 40)
            context = " ".join(text[s:m.end() + 40].split())
            page.problems.append(f"{what} left in the page: {context!r}")
    for im in info["images"]:
        if not im["complete"] or im["width"] <= 0 or im["height"] <= 0:
            page.problems.append(f"image did not load in the browser: {im['src']}")
    page.notes["images"] = len(info["images"])
    page.notes["height"] = info.get("height")
    check_overflow(page, info)
    # Solutions must be collapsed when the page opens (sphinx-togglebutton hides dropdowns).
    for sol in soup.select("div.solution"):
        if "toggle-hidden" not in sol.get("class", []):
            page.problems.append(f"solution {sol.get('id', '?')!r} is visible when the page opens")
    return info


def describe_overflow(o: dict) -> str:
    """One line an author can act on: what is too wide, by how much, where, and its text."""
    where = []
    if o.get("section"):
        where.append(f"#{o['section']}")
    if o.get("cell"):
        where.append(f"code cell {o['cell']} of the page")
    if o.get("collapsed"):
        where.append("collapsed when the page opens")
    room = o.get("room", o["column"])
    size = f"{o['width']} px wide, {room} px of room (+{o['px']} px)"
    if abs(room - o["column"]) > 16:        # in a theorem/exercise box, say how wide the column is
        size += f"; the text column is {o['column']} px"
    if o.get("chars"):
        size += f", longest line {o['chars']} characters"
    return (f"{o['kind']} wider than the text column: {size}"
            + (f" [{'; '.join(where)}]" if where else "") + f': "{o["text"]}"')


def check_overflow(page: Page, info: dict) -> None:
    """Displays, outputs and tables wider than the text column fail; wide code inputs warn."""
    for o in info.get("overflows") or []:
        if o["kind"] in OVERFLOW_FAILS:
            page.problems.append(describe_overflow(o))
        else:
            page.notes.setdefault("warnings", []).append(describe_overflow(o))


def instrument(copy_root: Path, pages: list[str]) -> None:
    for rel in pages:
        f = copy_root / rel
        html = f.read_text(encoding="utf8")
        m = re.search(r"<head[^>]*>", html, re.I)
        at = m.end() if m else 0
        f.write_text(html[:at] + PROBE_JS + html[at:], encoding="utf8")


def check_instructors(pages: dict) -> None:
    """The instructor page links to every chapter page and to every exercise of the book."""
    page = pages.get(INSTRUCTORS)
    if page is None:
        return
    linked = set()
    for a in page.soup.find_all("a", href=True):
        parts = urllib.parse.urlsplit(a["href"])
        if not parts.scheme and parts.path:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page.rel), parts.path))
            linked.add((target, urllib.parse.unquote(parts.fragment)))
    for rel, other in pages.items():
        if rel.startswith("chapters/") and (rel, "") not in linked:
            page.problems.append(f"does not link to the chapter {rel}")
        for ex in other.soup.select("div.exercise[id]"):
            if (rel, ex["id"]) not in linked:
                page.problems.append(f"does not list the exercise {rel}#{ex['id']}")


def toc_docs(root: Path) -> list[str]:
    """Documents listed in _toc.yml (the pages a reader navigates), in order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    docs = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                docs.append(posixpath.splitext(e["file"])[0])
            walk(e.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return docs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", default=str(ROOT / "_build" / "html"))
    ap.add_argument("--screenshots", default=str(ROOT / "_build" / "screenshots"))
    ap.add_argument("--no-install", action="store_true", help="never apt-get install Chromium")
    ap.add_argument("--jobs", type=int, default=2, help="browsers run at the same time")
    args = ap.parse_args()
    t_start = time.perf_counter()
    site = Path(args.site).resolve()
    build = site.parent
    if not (site / "index.html").is_file():
        print(f"error: no built book at {site}; build it first (make book).", file=sys.stderr)
        return 2
    binary = find_chromium(install=not args.no_install)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"Browser check with {version or binary} on {site}", flush=True)

    rels = list_pages(site)
    pages = {rel: Page(rel, BeautifulSoup((site / rel).read_text(encoding="utf8"), "html.parser"))
             for rel in rels}
    id_cache: dict = {}
    links = 0
    for page in pages.values():
        links += check_links(page, site, id_cache)
        check_static(page, site, build)

    shots_dir = Path(args.screenshots)
    if shots_dir.exists():
        shutil.rmtree(shots_dir)
    toc = [d + ".html" for d in toc_docs(build.parent)]  # the book root holds _toc.yml
    with tempfile.TemporaryDirectory(prefix="twolayer-site-") as tmp:
        copy = Path(tmp) / "html"
        shutil.copytree(site, copy)
        instrument(copy, rels)

        def visit(rel: str):
            page = pages[rel]
            if redirect_target(page.soup):
                return rel, None, None
            res = chromium(binary, (copy / rel).as_uri(), f"--window-size={WIDTH},1000", "--dump-dom")
            if res.returncode != 0:
                page.problems.append(f"Chromium failed (exit {res.returncode}): {res.stderr[-500:]}")
                return rel, None, None
            info = check_in_browser(page, res.stdout)
            shot = None
            if rel in toc and info:
                shot = shots_dir / (rel[: -len(".html")] + ".png")
                shot.parent.mkdir(parents=True, exist_ok=True)
                height = max(600, min(int(info["height"]) + 20, MAX_SHOT_HEIGHT))
                r2 = chromium(binary, (copy / rel).as_uri(), f"--window-size={WIDTH},{height}",
                              f"--screenshot={shot}")
                if r2.returncode != 0 or not shot.is_file():
                    page.problems.append(f"screenshot failed: {r2.stderr[-300:]}")
                    shot = None
            return rel, info, shot

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(visit, rels))

    missing_toc = [d for d in toc if d not in pages]
    check_instructors(pages)
    print(f"\n{'page':<34} {'math':>5} {'imgs':>5} {'figs':>5} {'height':>7}  screenshot / result")
    failed = 0
    for rel, info, shot in results:
        page = pages[rel]
        n = page.notes
        status = "OK" if not page.problems else f"{len(page.problems)} PROBLEM(S)"
        where = shot.relative_to(ROOT) if shot and shot.is_relative_to(ROOT) else (shot or "")
        if info is None and not page.problems:
            status, where = "OK", f"redirect to {redirect_target(page.soup)}"
        print(f"{rel:<34} {n.get('math', '-'):>5} {n.get('images', '-'):>5} {n.get('figures', '-'):>5}"
              f" {n.get('height') or '-':>7}  {where}  {status}")
        failed += bool(page.problems)
    problems = [(rel, p) for rel in rels for p in pages[rel].problems]
    problems += [(d, "listed in _toc.yml but not built") for d in missing_toc]
    warnings = [(rel, w) for rel in rels for w in pages[rel].notes.get("warnings", [])]
    if warnings:
        print(f"\nWarnings (do not fail the check): {len(warnings)}")
        for rel, w in warnings:
            print(f"  {rel}: {w}")
    print(f"\n{len(rels)} pages opened, {links} internal links checked, "
          f"{time.perf_counter() - t_start:.0f} s")
    if problems:
        print(f"\nFAILED: {len(problems)} problem(s)")
        for rel, p in problems:
            print(f"  {rel}: {p}")
        return 1
    print("Browser check passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
