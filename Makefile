# tdex — two commands: `make demo` and `make test`. Everything else is installed from the
# project's own files: requirements.lock (Python, exact pins) and package-lock.json (npm).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
PYTEST_ARGS ?=
# The browser suite (tests/console, marker `browser`) drives Debian's Chromium through Playwright;
# Playwright's own browser download is never used (no internet where the tests run).
CHROMIUM := /usr/bin/chromium
# A CJK font, so that screenshots of the zh-CN console show text rather than empty boxes.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
BROWSER_PACKAGES := chromium fonts-liberation fonts-wqy-microhei

.PHONY: install browser demo test lint typecheck compose-check pytest contracts bench clean

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

# Installs Chromium (and the CJK font) from Debian when missing: about a minute on a fresh machine.
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -f $(CJK_FONT) ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "make browser: $(CHROMIUM) or $(CJK_FONT) is missing and this is not root;" \
	      "install them with: sudo apt-get install -y $(BROWSER_PACKAGES)" >&2; \
	    exit 1; \
	  fi; \
	  echo "make browser: installing $(BROWSER_PACKAGES) with apt-get"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq >/dev/null && \
	    apt-get install -y -qq --no-install-recommends $(BROWSER_PACKAGES) >/dev/null || exit 1; \
	  test -x $(CHROMIUM) || { echo "make browser: apt-get ran but $(CHROMIUM) is still missing" >&2; exit 1; }; \
	fi

pytest: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

compose-check: install
	$(BIN)/python -m tdex.compose_check

test: lint typecheck compose-check pytest

contracts: install
	$(BIN)/python -m contracts.build

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache var
