# The README's two commands are `make run` and `make test`; the rest are helpers.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
# The first Python >= 3.12 on PATH; with pyenv, .python-version selects 3.13.
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)
PORT ?= 8000
DEV_ENV := DJANGO_DEBUG=1 SITE_URL=http://127.0.0.1:$(PORT)
TEST_ENV := DJANGO_SECRET_KEY=test-only-not-secret DJANGO_DEBUG=0 EMAIL_PROVIDER=console PWNED_PASSWORDS_CHECK=0

.PHONY: help install browser gettext translations messages run test test-postgres unit e2e e2e-headed lint format bench clean

help:
	@echo "make run    serve the site at http://127.0.0.1:8000 (SQLite, console email, worker; PORT= to change)"
	@echo "make test   install what the tests need and run them all (unit + Playwright)"
	@echo "make unit | e2e | e2e-headed | lint | format | bench | messages | clean"

$(VENV)/.synced: pyproject.toml uv.lock
	@test -n "$(PYTHON)" || { echo "Python >= 3.12 not found (pyenv: 'pyenv install 3.13')."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv sync --frozen --inexact --quiet
	touch $@

install: $(VENV)/.synced

# A Chromium for Playwright: CHROMIUM_PATH, else the system's, else Playwright's own
# download, else the distribution's package when we are root.
browser: install
	@if [ -n "$$CHROMIUM_PATH" ]; then echo "Chromium: $$CHROMIUM_PATH"; \
	elif command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then \
		echo "Chromium: $$(command -v chromium || command -v chromium-browser)"; \
	elif timeout 300 $(PY) -m playwright install chromium; then echo "Chromium: Playwright's"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "No Chromium found: install one or set CHROMIUM_PATH."; exit 1; fi

# The shipped languages' catalogues (see README, "Languages"). The .po files are the
# source; the .mo files Django reads are built from them here, checked by msgfmt
# (a translation that drops or renames a %(placeholder)s fails the build).
LOCALES := de fr es pt_BR ja ar
PO_FILES := $(foreach l,$(LOCALES),auth_flow/locale/$(l)/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)

gettext:
	@command -v msgfmt >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
		else echo "gettext's msgfmt not found: install gettext (apt-get install gettext)."; exit 1; fi; }

%.mo: %.po | gettext
	msgfmt --check --output-file=$@ $<

translations: $(MO_FILES)

# Gather every marked string into the catalogues, keeping what is translated; then
# translate the new entries (msgid "" left empty or marked fuzzy) and run make again.
messages: install gettext
	$(DEV_ENV) $(PY) manage.py makemessages $(addprefix -l ,$(LOCALES)) --no-obsolete \
		--add-location file --ignore '.venv/*' --ignore 'e2e/*' --ignore 'staticfiles/*' \
		--ignore 'sent-emails/*' --ignore 'test-results/*'

run: install translations
	$(DEV_ENV) $(PY) manage.py migrate --no-input
	$(DEV_ENV) $(PY) manage.py demo_account
	@echo "Site: http://127.0.0.1:$(PORT)  (emails are printed here by the worker; Ctrl+C stops both; PORT=8001 make run for another port)"
	trap 'kill 0' EXIT INT TERM; \
	$(DEV_ENV) $(PY) manage.py send_worker --worker-id local-dev --no-reload & \
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Everything on SQLite (unit + e2e); then the unit tests again on PostgreSQL when
# TEST_POSTGRES_URL answers (.ci/run points it at this machine's server).
# Two pytest processes (pytest-xdist), each test file kept in one of them: the
# subprocess and browser tests spend much of their time waiting.
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --dist loadfile

test: browser translations
	$(TEST_ENV) $(PY) -m pytest $(PARALLEL)
	@$(MAKE) --no-print-directory test-postgres

test-postgres: install translations
	@if [ -z "$$TEST_POSTGRES_URL" ]; then \
		echo "PostgreSQL pass skipped: TEST_POSTGRES_URL is not set."; \
	elif ! $(PY) -c "import psycopg, sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" \
		"$$TEST_POSTGRES_URL" 2>/dev/null; then \
		echo "PostgreSQL pass skipped: nothing answers at TEST_POSTGRES_URL."; \
	else \
		echo "Unit tests on PostgreSQL:"; \
		$(TEST_ENV) DATABASE_URL="$$TEST_POSTGRES_URL" $(PY) -m pytest $(PARALLEL) auth_flow; \
	fi

unit: install translations
	$(TEST_ENV) $(PY) -m pytest auth_flow

e2e: browser translations
	$(TEST_ENV) $(PY) -m pytest e2e

# The journeys in a visible browser, slowed down for a person watching (SLOWMO ms per
# action). A browser window needs a display: without one, say so and stop.
SLOWMO ?= 400
e2e-headed: browser translations
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		echo "No display (DISPLAY and WAYLAND_DISPLAY are unset): a headed browser has nowhere to show."; \
		echo "Run this from a desktop session, or under a virtual one: xvfb-run make e2e-headed"; \
		exit 1; \
	fi
	$(TEST_ENV) $(PY) -m pytest e2e --headed --slowmo $(SLOWMO) -k "not production_stack and not failure_artifacts" $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m auth_flow.devtools.bench

clean:
	rm -rf $(VENV) staticfiles test-results .pytest_cache db.sqlite3 test-db.sqlite3
