# Two commands on a fresh machine: `make run` and `make test`. Both bootstrap .venv themselves.
#   make run [HOST=127.0.0.1] [PORT=8080]   serve the API with dev keys and demo users
# `make run` installs the runtime only (alpr_guard[postgres]: no test or lint tools); `make test`
# adds the developer tool chain to the same .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-runtime
CONFIG ?= config/alpr_guard.toml
HOST   ?= 127.0.0.1
PORT   ?= 8080
export ALPR_GUARD_CONFIG ?= $(CONFIG)

.PHONY: run test lint types unit setup runtime dev-keys migrate demo bench clean oidc-provider screenshots

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[postgres]'
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP)

setup: $(STAMP)

runtime: $(RUN_STAMP)

dev-keys: $(RUN_STAMP)
	$(BIN)/alpr-guard keys init --if-missing

migrate: dev-keys
	$(BIN)/alpr-guard db upgrade

demo: migrate
	$(BIN)/alpr-guard demo --if-missing

run: demo
	$(BIN)/alpr-guard serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check alpr_guard tests bench tools
	$(BIN)/ruff format --check alpr_guard tests bench tools
	$(BIN)/lint-imports  # the layering contracts in pyproject.toml ([tool.importlinter])

types: $(STAMP)
	$(BIN)/mypy

# The sign-in tests run a real OpenID Provider (the oidc-provider npm package) on loopback.
OIDC_PROVIDER := tests/oidc_provider
OIDC_STAMP := $(OIDC_PROVIDER)/node_modules/.installed

$(OIDC_STAMP): $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	cd $(OIDC_PROVIDER) && npm ci --no-audit --no-fund
	touch $(OIDC_STAMP)

oidc-provider: $(OIDC_STAMP)

# The whole suite runs under branch coverage. Floors: every branch of the pure decisions
# (policy/) and of crypto.py; COVERAGE_FLOOR percent overall (code run only in the CLI's
# subprocesses is not counted, so the overall figure understates what the suite exercises).
COVERAGE_FLOOR ?= 90
# The suite runs in one process per CPU (pytest-xdist): every test builds its own database (a
# SQLite file in its temporary directory; on PostgreSQL each worker migrates a database of its
# own), servers take free ports, so no two tests share state. TEST_WORKERS=0 runs it in one.
TEST_WORKERS ?= auto
unit: $(STAMP) $(OIDC_STAMP)
	rm -f .coverage
	$(BIN)/pytest -n $(TEST_WORKERS) --cov=alpr_guard --cov-branch --cov-report=
	$(BIN)/coverage report --include='alpr_guard/policy/*,alpr_guard/crypto.py' --skip-covered --fail-under=100
	@echo "overall branch coverage (floor $(COVERAGE_FLOOR)%):"
	$(BIN)/coverage report --format=total --fail-under=$(COVERAGE_FLOOR)

test: lint types unit

bench: $(STAMP) migrate
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/search.py

# 1280x800 screenshots of each console page (headless Debian Chromium, a throwaway demo instance).
screenshots: $(STAMP)
	$(BIN)/python -m tests.console.screenshots docs/screenshots

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(OIDC_PROVIDER)/node_modules
