# make book : build the HTML book (executes every chapter) into _build/html
# make test : package tests, every chapter under nbval, then a strict book build from an empty cache,
#             then every built page opened in headless Chromium (tests/browser/check_site.py;
#             installs Debian's chromium with apt-get when run as root and it is missing)
# make paper: the book at the papers' sizes (TWOLAYER_SCALE=paper), from an empty cache; then
#             `.venv/bin/python benchmarks/paper_scale.py` records per-chapter times, memory and asserts
# All create .venv and install the exact pins of requirements.txt on first use.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Use the venv's Jupyter kernel even if the user has another "python3" kernelspec registered.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export JAX_PLATFORMS ?= cpu
export PYDEVD_DISABLE_FILE_VALIDATION := 1
JB := $(BIN)/jupyter-book build . -W -n --keep-going

.PHONY: book test paper clean env

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "error: no python3 found; install Python 3.11 or newer" >&2; exit 1; fi
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "error: Python >= 3.11 is needed (jax 0.10); found " + sys.version.split()[0] + " at $(PYTHON). Run: make PYTHON=/path/to/python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

book: $(STAMP)
	$(JB)
	@echo "Book built: open _build/html/index.html"

test: $(STAMP)
	@# Package tests two at a time: 118-126 s against 175-181 s one at a time on 2 cores (2026-12-03).
	$(BIN)/python -m pytest -n 2 tests
	@# Two chapters at a time (each notebook whole, in order, in its own kernel): 183-200 s against
	@# 233-242 s one at a time on 2 cores (measured 2026-12-03).
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile --nbval-lax --nbval-current-env --nbval-cell-timeout=600 chapters
	rm -rf _build
	$(JB)
	$(BIN)/python tests/browser/check_site.py

paper: $(STAMP)
	rm -rf _build
	@mkdir -p _build
	@# A cell may take up to 15 minutes at the papers' sizes (the quick scale's limit is 10).
	sed 's/^  timeout: 600$$/  timeout: 900/' _config.yml > _build/_config_paper.yml
	@grep -q '^  timeout: 900$$' _build/_config_paper.yml || { echo "error: no 'timeout: 600' line in _config.yml to raise for the paper scale" >&2; exit 1; }
	TWOLAYER_SCALE=paper $(JB) --config _build/_config_paper.yml
	@echo "Book built at the papers' sizes: open _build/html/index.html"

clean:
	rm -rf _build
