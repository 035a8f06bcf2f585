# Set-up and everyday commands. A fresh machine needs only Python 3.11+ and make:
# `make run` and `make test` create .venv and install what they need on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/baseline.yaml

.PHONY: run test bench validation reliability notebook lint clean golden

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/bureausim run $(SCENARIO)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2

bench: $(VENV)/.installed
	$(BIN)/bureausim bench --out benchmarks/results.md

validation: $(VENV)/.installed
	$(BIN)/bureausim validation --out docs/VALIDATION.md

reliability: $(VENV)/.installed-dev
	$(BIN)/python tests/catalogue.py docs/RELIABILITY.md
	$(BIN)/python tests/soak.py docs/RELIABILITY.md
	$(BIN)/python tests/faults.py docs/RELIABILITY.md

notebook: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[notebook]'
	$(BIN)/jupyter lab notebooks/

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

golden: $(VENV)/.installed-dev
	$(BIN)/python tests/golden.py
