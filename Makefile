# Two commands on a fresh machine: `make run` (the demo) and `make test` (everything).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install run test lint unit bench screenshots clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/cosignatory demo

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

# Installs system packages when missing, starts a throwaway PostgreSQL, runs every test.
test: install
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory lint
	bash scripts/with-postgres.sh $(VENV)/bin/pytest -p no:cacheprovider $(PYTEST_ARGS)

unit: install
	$(VENV)/bin/pytest tests/unit -q

bench: install
	bash scripts/system-deps.sh
	bash scripts/with-postgres.sh bash -c 'for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done'

# Photographs every web page (headless Chromium) into docs/screenshots/ for README and docs/web.md.
screenshots: install
	bash scripts/system-deps.sh
	$(PY) scripts/screenshots.py --out docs/screenshots

clean:
	rm -rf $(VENV) .demo .mypy_cache .ruff_cache
