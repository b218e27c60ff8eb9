"""benchmarks/paper_scale.py records what a chapter did at the paper scale: sizes, asserts, result."""

import importlib.util
import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def paper_scale():
    spec = importlib.util.spec_from_file_location("paper_scale", ROOT / "benchmarks" / "paper_scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook(tmp_path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("assert that prose is not counted"))
    path = tmp_path / "toy.ipynb"
    nbformat.write(nb, path)
    return str(path)


def test_paper_sizes_are_the_paper_arguments_of_pick(paper_scale, tmp_path):
    path = _notebook(tmp_path, "from twolayer import config\n"
                               "widths = config.pick(quick=[10, 20], paper=[10, 20, 40])\n"
                               "n, d = config.pick((5, 2), (1000, 1000))\n"
                               "%time x = 1")
    sizes = paper_scale.paper_sizes(nbformat.read(path, as_version=4))
    assert sizes == {"widths": "[10, 20, 40]", "(n, d)": "(1000, 1000)"}


@pytest.fixture
def kernel_env(monkeypatch):
    # The executing kernel must be this interpreter's (the venv's) and see the package.
    monkeypatch.setenv("JUPYTER_PATH", os.path.join(sys.prefix, "share", "jupyter"))
    monkeypatch.setenv("TWOLAYER_SCALE", "paper")


def test_a_passing_chapter_is_recorded_with_its_asserts_and_cpu_time(paper_scale, tmp_path, kernel_env):
    path = _notebook(tmp_path, "from twolayer import config\nassert config.scale() == 'paper'",
                     "x = config.pick(quick=1, paper=2)\nassert x == 2\nassert x > 1")
    row = paper_scale.run_one(path, limit=120)
    assert row["status"] == "passed", row["error"]
    assert (row["asserts_held"], row["asserts_total"]) == (3, 3)
    assert row["sizes"] == {"x": "2"}
    assert row["cpu_s"] is not None and row["cpu_s"] >= 0
    assert row["peak_gb"] is not None and row["peak_gb"] > 0
    assert len(row["load"]) == 2
    json.dumps(row)  # the record is plain JSON


def test_a_failing_assert_is_recorded_with_its_cell(paper_scale, tmp_path, kernel_env):
    path = _notebook(tmp_path, "assert 1 + 1 == 2", "assert 1 + 1 == 3, 'arithmetic broke'",
                     "assert True")
    row = paper_scale.run_one(path, limit=120)
    assert row["status"] == "failed"
    assert row["error"].startswith("cell 2: AssertionError")
    assert "arithmetic broke" in row["error"]
    assert (row["asserts_held"], row["asserts_total"]) == (1, 3)
    assert row["cpu_s"] is None


def test_the_commit_is_recorded_and_marks_uncommitted_edits(paper_scale, tmp_path, monkeypatch):
    import subprocess

    monkeypatch.chdir(ROOT)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert paper_scale.commit("no/such/chapter.ipynb").split("+")[0] == head
    monkeypatch.chdir(tmp_path)  # not a git checkout
    assert paper_scale.commit("x.ipynb") == "unknown"
