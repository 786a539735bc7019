# Sportello: `make run` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock

.PHONY: run test test-only lint format bench install install-test system-deps system-test-deps messages lock clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Sportello needs Python 3.11 or newer: set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install -q -c $(LOCK) -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml $(LOCK)
	$(BIN)/pip install -q -c $(LOCK) -e ".[test]"
	@touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test pyproject.toml $(LOCK)
	$(BIN)/pip install -q -c $(LOCK) -e ".[test,bench]"
	@touch $@

install: $(VENV)/.installed system-deps
install-test: $(VENV)/.installed-test system-test-deps

# Debian libraries Sportello loads at run time (Pango for the statement PDFs).
system-deps:
	@bash scripts/system-deps.sh

# Real servers the tests talk to (see docs/testing.md); installed from Debian's packages.
system-test-deps:
	@bash scripts/system-test-deps.sh

# A desk on this machine: the mail receiver on port 2525 (send it mail, it opens tickets)
# and outgoing mail written to var/sent-mail/ instead of sent; the environment overrides.
run: export SPORTELLO_SMTP_BIND ?= 127.0.0.1:2525
run: export EMAIL_BACKEND ?= sportello.core.email_backend.EmailBackend
run: install
	$(BIN)/sportello migrate --no-input
	$(BIN)/sportello demo
	$(BIN)/sportello serve

test: install-test lint test-only

test-only:
	$(BIN)/pytest $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check src bench
	$(BIN)/ruff format --check src bench

format:
	$(BIN)/ruff format src bench
	$(BIN)/ruff check --fix src bench

bench: install-test $(VENV)/.installed-bench
	bash bench/run.sh

messages: install
	cd src/sportello && ../../$(BIN)/sportello makemessages -l it -l en --no-obsolete && \
		../../$(BIN)/sportello compilemessages

# Refresh the pinned versions after changing pyproject.toml's ranges.
lock: $(BIN)/python
	$(BIN)/pip install -q -e ".[test,bench]"
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e ' > $(LOCK)

clean:
	rm -rf $(VENV) var
