# Two set-up commands for a fresh machine (Python 3.11 and make): `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,forecast]"
	touch $(STAMP)

install: $(STAMP)

## demo: start the bundled emulator, run the tap into DuckDB with Meltano, print row counts, run dbt (models and tests) and the forecast
demo: install
	$(BIN)/python scripts/demo.py

## test: the whole suite (unit, emulator integration, SDK standard tests, wheel, Meltano + DuckDB)
test: install
	$(BIN)/python -m pytest

## test-fast: the unit tier only (no emulator, no Meltano), for the edit-test loop
test-fast: install
	$(BIN)/python -m pytest -m unit -q

## lint: ruff over the whole repository (configured in pyproject.toml)
lint: install
	$(BIN)/ruff check .

## bench: extraction benchmark against the emulator (BENCH_ARGS=--quick for a short run)
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .meltano output dist build
