# Quick start: `make run` (demo) and `make test` (every check). Both set up .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
DEMO_DIR ?= .demo

.PHONY: run test lint typecheck pytest bench screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

# Byte-compiled like a pip-installed package (pip compiles at install): with
# PYTHONDONTWRITEBYTECODE set, an editable checkout would otherwise recompile every module
# at each start (~0.06 s of the TUI's start-up). Only changed files are compiled again.
run: $(RUN_STAMP)
	$(BIN)/python -m compileall -q -x '/demo/files/' src >/dev/null
	$(BIN)/shipdeck demo $(DEMO_DIR)

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(DEV_STAMP)
	$(BIN)/mypy --strict src

# Most tests wait on subprocesses, sockets and timers: two workers keep both cores busy. The
# tests of one real server (MLflow, Prefect) stay on one worker (tests/conftest.py).
PYTEST_WORKERS ?= 2

pytest: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadgroup

test: lint typecheck pytest

bench: $(DEV_STAMP)
	$(BIN)/python bench/engine.py

screenshots: $(DEV_STAMP)
	$(BIN)/python scripts/screenshots.py
	$(BIN)/python scripts/screenshots_deploy.py
	$(BIN)/python scripts/screenshot_mlflow.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .mypy_cache .pytest_cache .ruff_cache
