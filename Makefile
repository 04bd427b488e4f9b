# Two commands for a new user: `make serve` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-test
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: serve test lint install install-test node clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

node_modules/.bin/newman: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed
install-test: $(STAMP)
node: node_modules/.bin/newman

serve: install
	$(VENV)/bin/harness serve --host $(HOST) --port $(PORT)

lint: install-test
	$(VENV)/bin/ruff check harness tests bench

test: install-test node
	$(VENV)/bin/ruff check harness tests bench
	$(PY) -m pytest

clean:
	rm -rf $(VENV) node_modules
