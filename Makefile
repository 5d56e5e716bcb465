# Every target installs what it needs into .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
MANAGE := $(BIN)/python testproject/manage.py

.PHONY: help install test-deps test lint pytest demo docs bench clean

help:
	@echo "make demo   run the demo project on http://127.0.0.1:8000/admin/"
	@echo "make test   install everything needed, then run ruff, mypy, the docs build and the tests"
	@echo "make docs   build the documentation into docs/_build/html"
	@echo "make bench  run the benchmarks against django-storages, rclone, aws s3 sync and cp"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The demo needs only the app itself, not the test and docs tools.
$(DEMO_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $(DEMO_STAMP)

test-deps: install
	bash scripts/test-deps.sh

lint: install
	$(BIN)/ruff check genro_storage_django tests testproject docs benchmarks
	$(BIN)/ruff format --check genro_storage_django tests testproject docs benchmarks
	$(BIN)/mypy genro_storage_django

docs: install
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

pytest: install test-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint docs pytest

# Installs the comparison tools first (benchmarks/setup.sh); see docs/benchmarks.rst.
bench: install
	bash benchmarks/setup.sh
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

demo: $(DEMO_STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) demo_superuser
	$(MANAGE) runserver 127.0.0.1:8000

clean:
	rm -rf $(VENV) build dist *.egg-info testproject/var .pytest_cache docs/_build
