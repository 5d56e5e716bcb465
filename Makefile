# Every target installs what it needs into .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
MANAGE := $(BIN)/python testproject/manage.py
# A second venv runs the suite on Django 6, which needs Python >= 3.12:
# scripts/find-python.sh picks the interpreter (PYTHON_DJANGO6, python3.13/3.12,
# or pyenv's newest) and fails loudly if there is none. `make demo` never needs it.
DJANGO6_VENV ?= .venv-django6
DJANGO6_BIN := $(DJANGO6_VENV)/bin
DJANGO6_STAMP := $(DJANGO6_VENV)/.installed
DJANGO6_MIN_PYTHON := 3.12
# build and waitress come from the dev extra: tests/test_packaging.py and the
# benchmark smoke test need them. The rest of dev (linters, Sphinx) runs once, in .venv.
DJANGO6_REQUIREMENTS := "Django>=6.0,<6.2" "build>=1.2,<2" "waitress>=3,<4"
# Python keeps the bytecode of the checkout's modules (in __pycache__, which git
# ignores), as on a developer's machine: where PYTHONDONTWRITEBYTECODE is set,
# every manage.py, worker and benchmark process would compile them again.
unexport PYTHONDONTWRITEBYTECODE
# Which Django and Python a run uses, for the log.
VERSIONS := -c "import sys, django; print(f'Django {django.get_version()} on Python {sys.version.split()[0]} ({sys.executable})')"

.PHONY: help install install-django6 test-deps test lint pytest pytest-django6 demo docs bench clean

help:
	@echo "make demo   run the demo project on http://127.0.0.1:8000/admin/"
	@echo "make test   install everything needed, then run ruff, mypy, the docs build and the tests"
	@echo "            (the tests twice: Django 5.2 in .venv, Django 6.x in .venv-django6 on Python >= 3.12)"
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

# The suite runs on PYTEST_WORKERS pytest-xdist workers (0: in this process).
# Every worker starts its own servers on free ports and its own database, so
# tests never share state; two workers nearly halve the time on two cores, and
# more only add servers competing for the same cores.
PYTEST_WORKERS ?= 2
PYTEST := -m pytest -n $(PYTEST_WORKERS)

# The Celery scale test copies 20,000 files each way in this run (about two
# minutes on moto), and 2,000 in the Django 6 run: the workers' side does not
# depend on Django's version, and make test stays within its time.
pytest: install test-deps
	$(BIN)/python $(VERSIONS)
	GENRO_CELERY_SCALE=20000 $(BIN)/python $(PYTEST) $(PYTEST_ARGS)

$(DJANGO6_BIN)/python:
	python="$$(PYTHON_DJANGO6="$(PYTHON_DJANGO6)" bash scripts/find-python.sh $(DJANGO6_MIN_PYTHON))" \
		&& echo "Django 6 venv: $$python" \
		&& "$$python" -m venv $(DJANGO6_VENV)
	$(DJANGO6_BIN)/python -m pip install --quiet --upgrade pip

$(DJANGO6_STAMP): $(DJANGO6_BIN)/python pyproject.toml
	$(DJANGO6_BIN)/python -m pip install --quiet -e ".[test]" $(DJANGO6_REQUIREMENTS)
	$(DJANGO6_BIN)/python -m pip check
	touch $(DJANGO6_STAMP)

install-django6: $(DJANGO6_STAMP)

pytest-django6: $(DJANGO6_STAMP) test-deps
	$(DJANGO6_BIN)/python $(VERSIONS)
	$(DJANGO6_BIN)/python $(PYTEST) $(PYTEST_ARGS)

# The Django 6 venv installs while lint and docs run (pip uses one core, they the
# other), and before the first pytest run, so a missing Python >= 3.12 fails
# early. Both pytest runs start servers and share the checkout: never run them
# at once, even under make -j.
DJANGO6_LOG := $(VENV)/install-django6.log
.NOTPARALLEL: test
test: install
	@$(MAKE) --no-print-directory install-django6 > $(DJANGO6_LOG) 2>&1 & installing=$$!; \
	$(MAKE) --no-print-directory lint docs; checked=$$?; \
	wait $$installing; installed=$$?; \
	cat $(DJANGO6_LOG); \
	test $$checked -eq 0 && test $$installed -eq 0
	@$(MAKE) --no-print-directory pytest pytest-django6

# Installs the comparison tools first (benchmarks/setup.sh); see docs/benchmarks.rst.
bench: install
	bash benchmarks/setup.sh
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

demo: $(DEMO_STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) demo_superuser
	$(MANAGE) runserver 127.0.0.1:8000

clean:
	rm -rf $(VENV) $(DJANGO6_VENV) build dist *.egg-info testproject/var .pytest_cache docs/_build
