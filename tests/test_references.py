"""Every citation in the book resolves, and every bibliography entry has the fields its style needs.

The strict book build also fails on these, but only after executing every chapter; this test says
which key or field is wrong in a second.
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENTRY = re.compile(r"@(\w+)\{([^,\s]+),(.*?)\n\}", re.S)
REQUIRED = {"article": ["journal"], "inproceedings": ["booktitle"], "book": ["publisher"]}


def _entries():
    text = (ROOT / "references.bib").read_text()
    return {key: (kind.lower(), body) for kind, key, body in ENTRY.findall(text)}


def _cited_keys():
    keys = set()
    pages = list((ROOT / "chapters").glob("*.ipynb")) + list(ROOT.glob("*.md"))
    for page in pages:
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", page.read_text()):
            keys.update(k.strip() for k in group.split(","))
    return keys


def test_every_cited_key_is_in_references_bib():
    missing = sorted(_cited_keys() - set(_entries()))
    assert not missing, f"cited but not in references.bib: {missing}"


def test_every_entry_has_the_fields_its_type_needs():
    problems = []
    for key, (kind, body) in _entries().items():
        for field in ["title", "author", "year"] + REQUIRED.get(kind, []):
            if not re.search(rf"^\s*{field}\s*=", body, re.M):
                problems.append(f"{key} ({kind}) has no {field}")
    assert not problems, "; ".join(problems)
