"""Build a chapter notebook (without outputs) from a plain-text cell file.

The cell file holds cells separated by marker lines ``%% md`` and ``%% code`` (a marker alone on its
line). Chapters are committed as .ipynb; this helper only makes writing them in an editor easier:

    python tools/cells2ipynb.py chapter.cells chapters/chapter.ipynb
    python tools/cells2ipynb.py --back chapters/chapter.ipynb chapter.cells   # the reverse

A cell's tags ride on its marker line, so a round trip keeps them: ``%% code tags=hide-input`` or
``%% code tags=hide-input,hide-output``.
"""

import sys

import nbformat


def cells_to_nb(text: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    kind, tags, buf = None, [], []

    def flush():
        if kind is None:
            return
        src = "\n".join(buf).strip("\n")
        cell = nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
        if tags:
            cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)

    for line in text.splitlines():
        words = line.strip().split()
        if len(words) in (2, 3) and words[0] == "%%" and words[1] in ("md", "code") and (
                len(words) == 2 or words[2].startswith("tags=")):
            flush()
            kind, buf = words[1], []
            tags = words[2][len("tags="):].split(",") if len(words) == 3 else []
        else:
            buf.append(line)
    flush()
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
    return nb


def nb_to_cells(nb) -> str:
    out = []
    for cell in nb.cells:
        marker = "%% md" if cell.cell_type == "markdown" else "%% code"
        tags = cell.get("metadata", {}).get("tags") or []
        out.append(marker + (" tags=" + ",".join(tags) if tags else ""))
        out.append(cell.source)
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1] == "--back":
        nb = nbformat.read(sys.argv[2], as_version=4)
        open(sys.argv[3], "w").write(nb_to_cells(nb))
    else:
        nb = cells_to_nb(open(sys.argv[1]).read())
        nbformat.validate(nb)
        nbformat.write(nb, sys.argv[2])
