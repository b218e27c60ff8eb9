"""How long each chapter page is for a reader: full document height in the browser.

AFTER a build (``make book`` or ``make test``), from the repository root:

    .venv/bin/python benchmarks/page_heights.py _build/html --compare BEFORE.txt --out AFTER.txt

``_build/html`` is the built site (the default). Every chapter page (``chapters/*.html``;
``--all`` adds the other pages) is opened in headless Chromium exactly as the browser
check opens it (``tests/browser/check_site.py``: same window width ``check_site.WIDTH`` = 1280 px,
same offline flags, same probe, which reports once the page has loaded and MathJax has typeset),
and the full document height in CSS pixels is read in the state the page opens in (hide-input
cells and solutions collapsed). The full-page screenshots of the check under
``_build/screenshots/`` have this height (plus 20 px).

The table has one row per page: page, height in px, and screens = height / 1000 (a 1000 px high
window; the check's window is 1280 x 1000). ``--out FILE`` also writes it to FILE, in the format
``--compare`` reads back; with ``--compare BEFORE.txt`` two more columns give the BEFORE height and
AFTER / BEFORE (issue 12 aims at <= 0.60 for every chapter).

The BEFORE table of the second edition (commit 30216ef, built in a separate worktree with the same
venv and Chromium) is /work/helpers/page_heights_before.txt; its numbers are also at the end of
this docstring, so the file can be recreated from here.

Chromium is found (or installed as root with apt-get) as the browser check does.

BEFORE (commit 30216ef, Chromium 156, window 1280 x 1000; 60 % of it is issue 12's aim):

    page                               height px  screens   60 %
    chapters/gd_step_size.html             21057     21.1  12634
    chapters/natural_gradient.html         25753     25.8  15452
    chapters/two_timescales.html           25828     25.8  15497
    chapters/wide_networks.html            17629     17.6  10577
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
SCREEN_PX = 1000


def load_check_site():
    spec = importlib.util.spec_from_file_location("check_site",
                                                  ROOT / "tests" / "browser" / "check_site.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["check_site"] = mod  # its dataclasses look their module up here
    spec.loader.exec_module(mod)
    return mod


def chapter_pages(site: Path, everything: bool, cs) -> list[str]:
    """The chapters (pages under chapters/); with everything, every page that is not a redirect."""
    out = []
    for rel in cs.list_pages(site):
        if everything:
            html = (site / rel).read_text(encoding="utf8")
            if not cs.redirect_target(BeautifulSoup(html, "html.parser")):
                out.append(rel)
        elif rel.startswith("chapters/"):
            out.append(rel)
    return out


def measure(site: Path, pages: list[str], jobs: int, cs) -> dict[str, int | None]:
    """Document height (CSS px) of each page at the check's window width; None if it failed."""
    binary = cs.find_chromium(install=True)
    heights: dict[str, int | None] = {}
    with tempfile.TemporaryDirectory(prefix="twolayer-heights-") as tmp:
        copy = Path(tmp) / "html"
        shutil.copytree(site, copy)
        cs.instrument(copy, pages)

        def one(rel):
            res = cs.chromium(binary, (copy / rel).as_uri(), f"--window-size={cs.WIDTH},{SCREEN_PX}",
                              "--dump-dom")
            page = cs.Page(rel, BeautifulSoup("", "html.parser"))
            info = cs.check_in_browser(page, res.stdout) if res.returncode == 0 else {}
            if not info:
                print(f"warning: {rel}: no height ({res.returncode}; {page.problems[:1]})",
                      file=sys.stderr)
            return rel, (int(info["height"]) if info else None)

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            heights.update(pool.map(one, pages))
    return heights


def read_table(path: Path) -> dict[str, int]:
    """Page -> height from a table written by --out (lines starting with '#' are comments)."""
    out = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#") and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def format_table(heights: dict[str, int | None], before: dict[str, int] | None, title: str) -> str:
    head = f"{'page':<34} {'height px':>9} {'screens':>8}"
    if before is not None:
        head += f" {'before px':>9} {'after/before':>12}"
    lines = [f"# {title}", f"# screens = height / {SCREEN_PX} px"
             + ("; issue 12 aims at after/before <= 0.60" if before is not None else ""), "# " + head]
    for rel, h in heights.items():
        row = f"{rel:<34} {h if h is not None else '-':>9} "
        row += f"{h / SCREEN_PX:>8.1f}" if h is not None else f"{'-':>8}"
        if before is not None:
            b = before.get(rel)
            row += f" {b if b else '-':>9} "
            row += f"{h / b:>12.2f}" if (b and h) else f"{'-':>12}"
        lines.append(row)
    total = [h for h in heights.values() if h]
    lines.append(f"# {len(total)} pages, {sum(total)} px in all ({sum(total) / SCREEN_PX:.1f} screens)")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("site", nargs="?", default=str(ROOT / "_build" / "html"),
                    help="the built book (default: _build/html)")
    ap.add_argument("--all", action="store_true", help="every page, not only the chapter pages")
    ap.add_argument("--out", help="also write the table to this file")
    ap.add_argument("--compare", help="a table written by --out earlier (BEFORE)")
    ap.add_argument("--title", default="", help="first line of the table (default: the site path)")
    ap.add_argument("--jobs", type=int, default=2, help="browsers at the same time")
    args = ap.parse_args()
    site = Path(args.site).resolve()
    if not (site / "index.html").is_file():
        print(f"error: no built book at {site}; build it first (make book).", file=sys.stderr)
        return 2
    cs = load_check_site()
    pages = chapter_pages(site, args.all, cs)
    if not pages:
        print(f"error: no chapter pages (pages with an .ipynb source) under {site}", file=sys.stderr)
        return 2
    heights = measure(site, pages, args.jobs, cs)
    before = read_table(Path(args.compare)) if args.compare else None
    title = args.title or f"page heights of {site} at window {cs.WIDTH} px wide"
    table = format_table(heights, before, title)
    print(table, end="")
    if args.out:
        Path(args.out).write_text(table)
    return 0 if all(h is not None for h in heights.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
