# Two commands on a fresh machine: `make run` and `make test`. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= config/alpr_guard.toml
export ALPR_GUARD_CONFIG ?= $(CONFIG)

.PHONY: run test lint types unit setup dev-keys migrate demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

dev-keys: $(STAMP)
	$(BIN)/alpr-guard keys init --if-missing

migrate: dev-keys
	$(BIN)/alpr-guard db upgrade

demo: migrate
	$(BIN)/alpr-guard demo --if-missing

run: demo
	$(BIN)/alpr-guard serve --host 127.0.0.1 --port 8080

lint: $(STAMP)
	$(BIN)/ruff check alpr_guard tests bench
	$(BIN)/ruff format --check alpr_guard tests bench

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint types unit

bench: migrate
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/search.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
