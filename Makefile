# journeymap: `make run` sets everything up and serves the demo; `make test` runs every test.
# Both are safe to run again: each step only does what is still missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
SYSTEM_PACKAGES := graphviz fonts-noto-cjk fonts-noto-color-emoji fonts-dejavu-core gettext chromium
# Development commands run with DEBUG on: the app refuses to start without SECRET_KEY otherwise.
MANAGE := DEBUG=true $(PY) manage.py

.PHONY: run test lint install system-deps migrate demo bench faults check clean messages

run: install demo
	@echo ""
	@echo "  journeymap is running at http://$(HOST):$(PORT)/"
	@echo "  sign in as: demo / demo-journeymap"
	@echo ""
	$(MANAGE) runserver $(HOST):$(PORT)

# The tests make their own database; they need no migrated one. ruff (lint and format)
# runs first: it takes seconds, and a finding stops the run before the slow part.
test: install lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	SECRET_KEY=bench-only-not-a-secret $(PY) -m tests.bench

# Concurrent editors against gunicorn on a PostgreSQL of its own, restarted in the middle:
# every acknowledged edit must be in the database afterwards (tests/faults.py, ~1.5 min).
faults: install
	$(PY) -m tests.faults

install: system-deps $(VENV)/.requirements
# Static files are collected with DEBUG off, as production serves them (hashed, compressed); no key is used.
	SECRET_KEY=collectstatic-only $(PY) manage.py collectstatic --noinput -v0

system-deps:
	@$(PYTHON) scripts/system_deps.py $(SYSTEM_PACKAGES)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.requirements: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

migrate: install
	$(MANAGE) migrate --noinput -v0

demo: migrate
	$(MANAGE) seed_demo

# After changing interface text: collect it into locale/ja/LC_MESSAGES/django.po, then
# (once the new entries are translated) compile django.mo. tests/test_i18n.py fails while
# a text is unmarked, untranslated, fuzzy or missing from the compiled catalogue.
messages: install
	$(MANAGE) makemessages --locale ja --no-obsolete --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'tests/*' --add-location file
	$(MANAGE) compilemessages --locale ja --ignore '.venv/*'

check: install
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
