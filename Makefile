# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dqgov-installed

.PHONY: setup browser demo test lint bench bench-scale bench-portal clean airflow-up airflow-down airflow-status

## setup: create or update .venv with the project and its test tools (idempotent, no prompts)
setup: $(STAMP) browser

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

## browser: Debian's Chromium and CJK fonts for the browser tests, when missing and we are root
## (Playwright drives /usr/bin/chromium; it never downloads a browser of its own)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk; \
	  else \
	    echo "note: /usr/bin/chromium is missing: as root, apt-get install chromium fonts-noto-cjk (browser tests need it)"; \
	  fi; \
	fi

## demo: build the demo bank, run the checks through Airflow, print a summary, serve the portal on :8000
demo: setup
	$(BIN)/dqgov demo

## test: lint, type-check and run the whole test suite (SQLite and PostgreSQL), in TEST_WORKERS processes
## (a test module stays in one of them, with its module fixtures)
TEST_WORKERS ?= 2
test: setup lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## airflow-up: start the production tier's Airflow (API server, scheduler, DAG processor) on PostgreSQL
## metadata (DQGOV_AIRFLOW_DB_URL, created if missing); idempotent
airflow-up: setup
	$(BIN)/dqgov airflow up

## airflow-down: stop it, with every task it started
airflow-down:
	$(BIN)/dqgov airflow down

## airflow-status: which of its processes run, and whether its API server answers
airflow-status:
	$(BIN)/dqgov airflow status

## bench: measure the check pipeline (results go to docs/benchmarks.md by hand)
bench: setup
	$(BIN)/python bench/bench_check.py

## bench-scale: load BENCH_N merchants + BENCH_N customers into PostgreSQL with COPY, then time each
## phase of a check (read floor, evaluate, GX, plain GX, validate, reconcile, snapshot; docs/benchmarks.md)
BENCH_N   ?= 100000
BENCH_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/dqgov_bench_scale_$(BENCH_N)
bench-scale: setup
	$(BIN)/python bench/load_bank.py $(BENCH_URL) --merchants $(BENCH_N) --customers $(BENCH_N)
	$(BIN)/python bench/bench_scale.py $(BENCH_URL) --runs 3

## bench-portal: server time of the portal's pages with 100,000 to-dos (appends to docs/benchmarks.md)
bench-portal: setup
	$(BIN)/python bench/bench_portal.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
