# Two commands on a fresh machine with python3 and make:
#   make demo   venv + install + demo data + `overclock build` of the whole demo warehouse on DuckDB
#   make test   venv + install (dev extras) + system deps + ruff + mypy + pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BQ_VENV := .venv-bq-emulator
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test install install-dev system-deps bq-emulator lint typecheck pytest check bench clean dagster-validate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstall only when pyproject.toml changes (stamps make both commands idempotent and quick on re-run).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The BigQuery emulator pins its own duckdb and sqlglot, so it lives in a virtual environment of its own.
$(BQ_VENV)/.installed:
	$(PYTHON) -m venv $(BQ_VENV)
	$(BQ_VENV)/bin/pip install -q 'crucible-emulator[server]'
	touch $@

bq-emulator: $(BQ_VENV)/.installed

# PostgreSQL server binaries (Debian's package); the tests start and stop their own throwaway cluster.
system-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then \
		echo "installing PostgreSQL (Debian package)"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; \
		else sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; fi; \
	fi

demo: install
	$(BIN)/overclock demo-data --if-missing
	$(BIN)/overclock build --prod


lint: install-dev
	$(BIN)/ruff check framework plugins dagster_defs tests benchmarks
	$(BIN)/ruff format --check framework plugins dagster_defs tests benchmarks

typecheck: install-dev
	$(BIN)/mypy framework dagster_defs

pytest: install-dev system-deps bq-emulator
	$(BIN)/pytest -q -n 2 --dist loadgroup

# The CI gate on the compiled DAG, over this repository's own models (README: CI checks).
check: install
	$(BIN)/overclock check

# The Dagster code location loads (through the compile cache's manifest) and validates.
dagster-validate: install-dev
	DAGSTER_HOME=$$(mktemp -d) $(BIN)/dagster definitions validate -m dagster_defs

test: lint typecheck pytest check dagster-validate

bench: install-dev
	@for b in benchmarks/*/run.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf .overclock project/target project/logs
