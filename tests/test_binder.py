"""Binder installs the same versions as requirements.txt, and the chapters need nothing else.

Binder (repo2docker) reads only ``binder/`` when that folder exists: ``runtime.txt`` (the Python
version), ``requirements.txt`` (the runtime pins) and ``postBuild`` (installs this package).
These tests check, without network:

* every Binder pin is an exact pin of ``requirements.txt`` with the same version, and every
  package ``requirements.txt`` pins that a Binder package depends on (say ``jaxlib`` under
  ``jax``) is pinned in Binder too, at the same version; no Jupyter server or book-building
  package is pinned for Binder (it brings its own server);
* every chapter, and the ``twolayer`` package they import, imports only the standard library,
  ``twolayer``, IPython (part of Binder's kernel environment) and packages pinned for Binder;
* the repository address is set in one place (``_config.yml``) and its copies agree.
"""

from __future__ import annotations

import ast
import json
import os
import pathlib
import re
import sys
from importlib import metadata

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = pathlib.Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))

# Binder's JupyterLab environment provides these; pinning them would fight its server.
SERVER_PACKAGES = {"ipykernel", "ipython", "tornado", "pyzmq", "jupyter-client", "jupyter-core",
                   "jupyter-server", "jupyterlab", "notebook", "traitlets", "nbclient"}
# Tools that build or test the book: not needed to run a chapter.
BOOK_TOOLS = {"jupyter-book", "jupyter-cache", "nbval", "pytest"}
BOOK_TOOL_PREFIXES = ("sphinx", "myst-", "pydata-sphinx")
# Importable in a Binder kernel without a pin: the kernel's own environment.
KERNEL_PROVIDED = {"IPython", "ipykernel"}


def read_pins(path: pathlib.Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file, by canonical name. Other lines are kept
    out (comments, ``-e .``); a line that is neither is an error."""
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-e"):
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", (
            f"{path.relative_to(ROOT)}: {line!r} is not an exact pin (name==version)")
        pins[canonicalize_name(req.name)] = specs[0].version
    return pins


@pytest.fixture(scope="module")
def pins():
    return read_pins(ROOT / "requirements.txt")


@pytest.fixture(scope="module")
def binder_pins():
    return read_pins(BINDER / "requirements.txt")


def test_binder_pins_are_the_same_versions(pins, binder_pins):
    assert binder_pins, "binder/requirements.txt pins nothing"
    for name, version in binder_pins.items():
        assert name in pins, f"binder pins {name}, which requirements.txt does not pin"
        assert version == pins[name], (
            f"binder pins {name}=={version} but requirements.txt pins {name}=={pins[name]}")


def test_binder_pins_runtime_packages_only(binder_pins):
    for name in binder_pins:
        assert name not in SERVER_PACKAGES, (
            f"binder/requirements.txt pins the Jupyter server package {name}; Binder brings its own")
        assert name not in BOOK_TOOLS and not name.startswith(BOOK_TOOL_PREFIXES), (
            f"binder/requirements.txt pins the book-building/test tool {name}; a reader does not need it")


def _dependency_closure(names):
    """Distributions reachable from ``names`` through installed metadata (no extras)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            todo.append(canonicalize_name(req.name))
    return seen


def test_binder_pins_every_pinned_dependency(pins, binder_pins):
    # Otherwise pip would pick the newest release of, say, jaxlib under a pinned jax.
    closure = _dependency_closure(binder_pins)
    missing = sorted(n for n in closure if n in pins and n not in binder_pins)
    assert not missing, (
        f"Binder packages depend on {missing}, which requirements.txt pins; "
        "pin them in binder/requirements.txt with the same versions")


def test_runtime_and_postbuild():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    m = re.fullmatch(r"python-(\d+\.\d+)", runtime)
    assert m, f"binder/runtime.txt must read python-X.Y, not {runtime!r}"
    project = _pyproject()
    assert SpecifierSet(project["requires-python"]).contains(m.group(1) + ".0"), (
        f"binder/runtime.txt asks for Python {m.group(1)}, but pyproject.toml requires "
        f"{project['requires-python']}")
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable (chmod +x)"
    assert re.search(r"pip install\b.*--no-deps.*-e \.", post.read_text()), (
        "binder/postBuild must install the package with pip install --no-deps -e .")


def _pyproject():
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _imports(source: str, where: str) -> set[str]:
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines), filename=where)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _sources():
    for path in CHAPTERS:
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "code":
                yield f"{path.name} cell {i}", "".join(cell["source"])
    for path in sorted((ROOT / "src" / "twolayer").glob("*.py")):
        yield f"src/twolayer/{path.name}", path.read_text()


def test_chapters_import_only_what_binder_installs(binder_pins):
    dists_of = metadata.packages_distributions()
    allowed_dists = set(binder_pins)
    problems = []
    seen = 0
    for where, source in _sources():
        for module in _imports(source, where):
            seen += 1
            if module in sys.stdlib_module_names or module == "twolayer" or module in KERNEL_PROVIDED:
                continue
            dists = {canonicalize_name(d) for d in dists_of.get(module, [])}
            if not dists & allowed_dists:
                problems.append(f"{where} imports {module!r} "
                                f"(distribution {sorted(dists) or 'unknown'}), not pinned for Binder")
    assert seen, "found no import statements at all"
    assert not problems, "\n".join(problems)


def _repository_url():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")


def test_repository_url_is_set_in_one_place():
    """_config.yml holds the address; the README's Binder badge and CITATION.cff copy it."""
    url, branch = _repository_url()
    m = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", url)
    assert m, f"_config.yml repository.url must be https://github.com/OWNER/REPO, not {url!r}"
    badge = f"https://mybinder.org/v2/gh/{m.group(1)}/{m.group(2)}/{branch}?urlpath=lab"
    readme = (ROOT / "README.md").read_text()
    binder_links = re.findall(r"https://mybinder\.org/v2/gh/[^\s)\"']+", readme)
    assert binder_links, "README.md has no Binder link"
    for link in binder_links:
        assert link == badge, (f"README.md links to {link}, but _config.yml says the repository is "
                               f"{url} (branch {branch}): use {badge}")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["repository-code"].rstrip("/") == url, (
        f"CITATION.cff repository-code is {cff['repository-code']}, _config.yml says {url}")
