# Two commands do all set-up on a fresh machine with Python >= 3.11 and pip:
#   make demo   -> .venv, install, run the demo
#   make test   -> .venv, install with dev extras, run pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint bench docs clean

# The pip the venv bundles is used as it is, as a user's `pip install` would (tests/test_install.py).
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# The lake extra pins DuckDB to the version of its extension packages, so the whole suite (not only
# tests/lake) runs on the DuckDB that a DuckLake deployment uses.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,dask,lake]"
	touch $@ $(STAMP)

demo: $(STAMP)
	$(BIN)/saidwhat demo

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(DEV_STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The outputs shown in README.md and docs/analysts.md, from a fresh demo database
# (tests/test_docs.py fails when they differ), and the files in docs/ the tests make
# themselves: the reading room's screenshot (docs/reading-room.png).
docs: $(DEV_STAMP)
	$(BIN)/python docs/generate.py
	SAIDWHAT_WRITE_DOCS=1 $(BIN)/python -m pytest -q tests/analyst/test_reading_room.py

clean:
	rm -rf $(VENV) demo.duckdb .pytest_cache
