# Hindsight: `make run` for the demo, `make test` for the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?=
# In CI a missing PostgreSQL / Redis is an error, never a skip.
CI ?=
SERVICES_ENV := $(if $(CI),HINDSIGHT_REQUIRE_SERVICES=1,)

.PHONY: setup system-deps run test test-fast lint fmt migrations-check backup restore bench load clean eval-extraction train-extraction messages

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c requirements.lock -e '.[dev]'
	@mkdir -p var
	@touch $@

# PostgreSQL, Redis and Chromium for the service and browser tests, gettext for the catalog tests: installed from Debian when missing and we are root.
system-deps:
	@missing=""; \
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing="$$missing redis-server"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	{ command -v xgettext && command -v msgfmt; } >/dev/null || missing="$$missing gettext"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (install them, or their tests will skip)"; fi; \
	fi

run: setup
	DJANGO_DEBUG=true $(PY) manage.py migrate --no-input
	PORT=$(PORT) DJANGO_DEBUG=true $(PY) manage.py load_demo
	@echo "Serving http://127.0.0.1:$(PORT)/  (admin: /admin/, API: /api/)"
	DJANGO_DEBUG=true $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: setup system-deps
	$(SERVICES_ENV) $(PY) -m tests.servers -- $(PY) -m pytest $(PYTEST_ARGS)

# The extraction benchmark (issue 12, EXTRACTION.md): figures per corpus part and language. PART=dev|test|all
PART ?= all
eval-extraction: setup
	$(PY) -m tests.extraction_eval --part $(PART)

# Rebuild forecasts/extraction_model.json from the development part only (fixed seed; needs scikit-learn,
# a dev dependency). `$(PY) -m tests.extraction_eval --cv` gives its 5-fold cross-validated figures.
train-extraction: setup
	$(PY) -m tests.extraction_eval --train

# Translations: collect the strings into the zh-Hant catalog, derive zh-Hans from it with OpenCC
# (make_hans_catalog, reviewed replacements in that command), compile both.
messages: setup
	DJANGO_DEBUG=true $(PY) manage.py makemessages -l zh_Hant --no-obsolete --ignore='.venv/*' --ignore='tests/*' --ignore='bench/*'
	DJANGO_DEBUG=true $(PY) manage.py make_hans_catalog
	DJANGO_DEBUG=true $(PY) manage.py compilemessages --ignore='.venv/*'

# Quick local loop: SQLite, no servers; service tests skip.
test-fast: setup
	$(PY) -m pytest -m "not services" $(PYTEST_ARGS)

# Also the boundaries (issue 15): import contracts and mypy, both configured in pyproject.toml.
lint: setup migrations-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

fmt: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: setup
	DJANGO_SECRET_KEY=x $(PY) manage.py makemigrations --check --dry-run

# Benchmarks (BENCHMARKS.md): throwaway PostgreSQL + Redis, synthetic data; SCALE=small|full.
SCALE ?= small
bench: setup system-deps
	HINDSIGHT_REQUIRE_SERVICES=1 $(PY) -m tests.servers -- $(PY) bench/run.py --scale $(SCALE)

# A bounded load run (issues 8, 16): CLIENTS concurrent clients (one in ten an editor writing through the
# API) for DURATION seconds; fails on any error or wrong answer, a p95 above P95_MS, or a lost forecast.
CLIENTS ?= 100
DURATION ?= 120
P95_MS ?= 5000
load: setup system-deps
	HINDSIGHT_REQUIRE_SERVICES=1 $(PY) -m tests.servers -- $(PY) bench/load.py --clients $(CLIENTS) --seconds $(DURATION) --p95-ms $(P95_MS)

# Database backup / restore of DATABASE_URL (PostgreSQL: pg_dump custom format; SQLite: a file copy).
FILE ?= var/backup-$(shell date +%Y%m%d-%H%M%S).dump
backup: setup
	$(PY) -m config.backup dump $(FILE)

restore: setup
	@test -n "$(FILE)" && test -f "$(FILE)" || (echo "usage: make restore FILE=var/backup-....dump"; exit 2)
	$(PY) -m config.backup restore $(FILE)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
