# born_assets: the two set-up commands are `make release` and `make test`; both create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export BORN_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
UI_PORT ?= 3000

.PHONY: install dev release test lint typecheck pytest ui sample-data clean bench screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[execution]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,execution,embedding]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

## Materialize the whole graph on data/ and cut the next release version (v1, v2, ...);
## prints the transparency table, the release path and the fate summary.
release: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/born release 2> $(DAGSTER_HOME)/last-release.log \
		|| (tail -n 40 $(DAGSTER_HOME)/last-release.log; exit 1)
	@echo "run recorded in $(DAGSTER_HOME) (log: $(DAGSTER_HOME)/last-release.log); 'make ui' shows it"
	$(BIN)/born summary

## Lint, type-check, load the definitions with `dg check defs`, and run the whole test suite.
test: dev $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/dg check defs
	$(BIN)/pytest

## Retake the README's pictures (docs/screenshots/): the browser tests drive the UI through a day.
screenshots: dev
	BORN_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -q born_assets_tests/defs/test_browser.py

## Benchmark the whole graph on a seeded synthetic corpus (BENCH_ROWS=100000; 1000000 on request)
## against a DuckDB floor, a plain Python merge and an ast.parse floor; writes .bench/results-N.json.
BENCH_ROWS ?= 100000
bench: install
	BENCH_ROWS=$(BENCH_ROWS) $(BIN)/python -m bench.run

## The Dagster UI on http://127.0.0.1:$(UI_PORT)
ui: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -h 127.0.0.1 -p $(UI_PORT) -w workspace.yaml

## Rebuild data/lanes from ../shared/data/real (deterministic).
sample-data: install
	$(BIN)/python scripts/build_sample_data.py

clean:
	rm -rf data/warehouse data/releases data/similarity data/warehouse.duckdb $(DAGSTER_HOME)
