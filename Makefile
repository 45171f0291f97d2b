# `make run` and `make test` work on a machine with only Python 3.11 or newer:
# both create .venv and install the project into it first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test bench lint speech

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Ringline needs Python 3.11 or newer; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: $(INSTALLED) speech
	$(BIN)/ringline serve

# Recordings are spoken by espeak-ng when it is installed, and rendered as tones
# otherwise; this installs it where the machine allows, and never fails the build.
speech:
	@command -v espeak-ng >/dev/null 2>&1 || { \
		[ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		{ apt-get install -y -qq espeak-ng >/dev/null 2>&1 || \
		  { apt-get update -qq >/dev/null 2>&1 && \
		    apt-get install -y -qq espeak-ng >/dev/null 2>&1; }; }; } || \
		echo "espeak-ng is not installed: recordings will be tones, not speech"

test: $(INSTALLED)
	$(BIN)/python -m pytest

bench: $(INSTALLED)
	$(BIN)/python bench/list_calls.py

lint: $(INSTALLED)
	$(BIN)/python -m pip install --quiet 'ruff>=0.6,<1'
	$(BIN)/ruff check ringline tests bench
	$(BIN)/ruff format --check ringline tests bench
