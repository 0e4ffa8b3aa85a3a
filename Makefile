# tdex — two commands: `make demo` and `make test`. Everything else is installed from the
# project's own files: requirements.lock (Python, exact pins) and package-lock.json (npm).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
PYTEST_ARGS ?=

.PHONY: install demo test lint typecheck compose-check pytest contracts bench clean

install: $(PY_STAMP) $(NPM_STAMP)

$(PY_STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: install
	$(BIN)/tdex demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

compose-check: install
	$(BIN)/python -m tdex.compose_check

test: lint typecheck compose-check pytest

contracts: install
	$(BIN)/python -m contracts.build

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache var
