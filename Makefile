# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dqgov-installed

.PHONY: setup demo test lint bench clean

## setup: create or update .venv with the project and its test tools (idempotent, no prompts)
setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

## demo: build the demo bank, run the checks through Airflow, print a summary, serve the portal on :8000
demo: setup
	$(BIN)/dqgov demo

## test: lint, type-check and run the whole test suite (SQLite and PostgreSQL)
test: setup lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## bench: measure the check pipeline (results go to docs/benchmarks.md by hand)
bench: setup
	$(BIN)/python bench/bench_check.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
