"""Build a chapter notebook (without outputs) from a plain-text cell file.

The cell file holds cells separated by marker lines ``%% md`` and ``%% code`` (a marker alone on its
line). Chapters are committed as .ipynb; this helper only makes writing them in an editor easier:

    python tools/cells2ipynb.py chapter.cells chapters/chapter.ipynb
    python tools/cells2ipynb.py --back chapters/chapter.ipynb chapter.cells   # the reverse
"""

import sys

import nbformat


def cells_to_nb(text: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    kind, buf = None, []

    def flush():
        if kind is None:
            return
        src = "\n".join(buf).strip("\n")
        cell = nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
        nb.cells.append(cell)

    for line in text.splitlines():
        if line.strip() in ("%% md", "%% code"):
            flush()
            kind, buf = line.strip()[3:], []
        else:
            buf.append(line)
    flush()
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
    return nb


def nb_to_cells(nb) -> str:
    out = []
    for cell in nb.cells:
        out.append("%% md" if cell.cell_type == "markdown" else "%% code")
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
