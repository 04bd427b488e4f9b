# Two commands for a new user: `make serve` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-test
HOST   ?= 127.0.0.1
PORT   ?= 8000

# Programs the suite needs from Debian, as path:package (a path may be a glob). `make test` installs the missing
# ones when it runs as root and otherwise stops at once with the command to run. The tests start their own
# throwaway PostgreSQL cluster from the postgresql package's binaries (harness/testing/postgres.py).
SYSTEM_TOOLS := /usr/bin/curl:curl /usr/bin/chromium:chromium /usr/lib/postgresql/*/bin/initdb:postgresql

.PHONY: serve test lint install install-test node system-tools clean

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

system-tools:
	@missing=""; for tool in $(SYSTEM_TOOLS); do ls $${tool%%:*} >/dev/null 2>&1 || missing="$$missing $${tool#*:}"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "make test needs the Debian package(s)$$missing, which are not installed. Run:" >&2; \
	  echo "  sudo apt-get update && sudo apt-get install -y$$missing" >&2; \
	  exit 2; \
	fi; \
	echo "installing$$missing (needed by the test suite)"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null

install: $(VENV)/.installed
install-test: $(STAMP)
node: node_modules/.bin/newman

serve: install
	$(VENV)/bin/harness serve --host $(HOST) --port $(PORT)

lint: install-test
	$(VENV)/bin/ruff check harness tests bench
	$(VENV)/bin/lint-imports --no-cache

test: system-tools install-test node
	$(VENV)/bin/ruff check harness tests bench
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest

clean:
	rm -rf $(VENV) node_modules
