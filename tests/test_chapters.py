"""Every chapter follows the book's anatomy and is committed without outputs.

The chapters' claims themselves are checked by running them (`pytest --nbval-lax chapters`); this
file checks the structure a reader and an instructor rely on.
"""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("*.ipynb") if not p.name.startswith("_"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _text(path):
    return "\n".join("".join(c["source"]) for c in _cells(path))


def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks found under chapters/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: cell {i} has outputs; strip them before committing"
            assert cell.get("execution_count") is None, f"{path.name}: cell {i} has an execution count"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_anatomy(path):
    cells = _cells(path)
    text = _text(path)
    first_md = next("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert first_md.lstrip().startswith("# "), f"{path.name}: the first cell must carry the title"
    title = first_md.lstrip().splitlines()[0]
    assert "$" not in title, (
        f"{path.name}: the title {title!r} has TeX math; it also appears in the navigation of pages "
        "that load no MathJax (search, index, bibliography), where it would show as raw TeX. "
        "Write it with Unicode (e.g. λ₀/n²) instead")
    assert re.search(r"Runtime:\*?\*?\s*about \d+", first_md), f"{path.name}: no runtime note at the top"
    for needle, what in [
        ("{prf:theorem}", "a theorem block"),
        ("{prf:proof}", "a proof block"),
        ("{exercise}", "an exercise"),
        ("{solution}", "a solution"),
        ("{cite", "a citation"),
        ("print_versions(", "the versions it ran with"),
        ("jax_enable_x64", "an explicit float64 switch"),
    ]:
        assert needle in text, f"{path.name}: missing {what} ({needle})"
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert re.search(r"^\s*assert\s", code, re.M), f"{path.name}: no assert checks a claim"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_in_the_table_of_contents(path):
    toc = (ROOT / "_toc.yml").read_text()
    assert f"chapters/{path.stem}" in toc, f"{path.name} is not listed in _toc.yml"


def _instructor_exercises():
    import ast

    text = (ROOT / "instructors.md").read_text()
    m = re.search(r"^EXERCISES = (\{.*?^\})", text, re.M | re.S)
    assert m, "instructors.md has no EXERCISES table"
    return ast.literal_eval(m.group(1))


def _exercise_labels(path):
    md = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown")
    blocks = re.findall(r"^(`{3,}|:{3,})\{exercise\}[^\n]*\n(.*?)^\1\s*$", md, re.M | re.S)
    return [re.search(r"^:label:\s*(\S+)", body, re.M) for _, body in blocks]


def test_every_exercise_is_described_on_the_instructors_page():
    table = _instructor_exercises()
    labels = []
    for path in CHAPTERS:
        for found in _exercise_labels(path):
            assert found, f"{path.name}: an exercise has no :label: (the instructors' page lists it by label)"
            labels.append(found.group(1))
    missing = [lab for lab in labels if lab not in table]
    assert not missing, f"instructors.md EXERCISES lacks {missing}: add (kind, difficulty, description)"
    stale = sorted(set(table) - set(labels))
    assert not stale, f"instructors.md EXERCISES lists exercises no chapter has: {stale}"
    for lab, (kind, level, what) in table.items():
        assert kind in ("proof", "computation", "coding"), f"{lab}: kind {kind!r}"
        assert level in ("easy", "medium", "hard"), f"{lab}: difficulty {level!r}"
        assert 10 <= len(what) <= 140 and not what.endswith("."), f"{lab}: one line, no final period"


PLOTTING = re.compile(r"\bplt\.|\bax\w*\.(plot|semilogy|loglog|scatter|set_)|plotting\.")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_plotting_cells_are_collapsed(path):
    """The page is for reading: a cell that draws a figure carries the hide-input tag."""
    shown = [i for i, c in enumerate(_cells(path)) if c["cell_type"] == "code"
             and PLOTTING.search("".join(c["source"]))
             and "hide-input" not in (c.get("metadata", {}).get("tags") or [])]
    assert not shown, f"{path.name}: plotting cells {shown} lack the hide-input tag"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_code_lines_fit_the_column(path):
    """The page shows about 80-88 characters of code before it scrolls sideways."""
    wide = [(i, line[:40]) for i, c in enumerate(_cells(path)) if c["cell_type"] == "code"
            for line in "".join(c["source"]).splitlines() if len(line) > 88]
    assert not wide, f"{path.name}: {len(wide)} code lines over 88 characters, e.g. {wide[:3]}"
