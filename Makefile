# Two commands for a newcomer: `make demo` and `make test`. Each builds .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint bench soak clean

# Editable: a plain path entry (pyproject.toml's package-dir), not an import hook that slows
# every start-up.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

test: lint
	$(BIN)/pytest

# The tests that start no process: unit tests and credproc run in-process against the local
# STS. Under a minute of CPU (busy cores take longer); tests/conftest.py keeps the
# `integration` marker exact.
test-fast: $(STAMP)
	$(BIN)/pytest -m "not integration"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Ten minutes of chaos against every path; ends with "N calls, F faults, K kills, T tamperings,
# B broken" and fails if B > 0. See docs/security.md, "The soak".
soak: $(STAMP)
	$(BIN)/python bench/soak.py --seconds 600

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis bench/.work
