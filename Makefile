# journeymap: `make run` sets everything up and serves the demo; `make test` runs every test.
# Both are safe to run again: each step only does what is still missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SYSTEM_PACKAGES := graphviz fonts-noto-cjk chromium

.PHONY: run test setup venv system-deps migrate demo bench check clean

run: setup demo
	@echo ""
	@echo "  journeymap is running at http://$(HOST):$(PORT)/"
	@echo "  sign in as: demo / demo-journeymap"
	@echo ""
	DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) -m tests.bench

setup: system-deps $(VENV)/.requirements migrate

system-deps:
	@$(PYTHON) scripts/system_deps.py $(SYSTEM_PACKAGES)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.requirements: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

migrate: $(VENV)/.requirements
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0

demo: migrate
	$(PY) manage.py seed_demo

check: setup
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
