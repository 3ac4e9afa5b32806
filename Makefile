# Two commands matter: `make run` and `make test` (see README.md); `make test-fast` is the quick lane of the second.
# Everything else is installed from here.
PY := .venv/bin/python
PIP := .venv/bin/pip
SHELL := /bin/bash

# Tests use the PostgreSQL and Redis servers on this machine unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ncii
TEST_REDIS_URL ?= redis://127.0.0.1:6379

.PHONY: run test test-fast lint check install system-packages system-build system-gettext system-fonts messages \
  screenshots

# Translations: compiled from the committed .po files, never committed themselves.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

# Running needs requirements.txt; tests and tools also need requirements-dev.txt.
.venv/installed: requirements.txt
	test -d .venv || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

.venv/installed-dev: .venv/installed requirements-dev.txt | system-build
	$(PIP) install -q -r requirements-dev.txt
	touch $@

# Meta's `vpdq` package (requirements-dev.txt: the tests prove our vPDQ equal to it, and a partner's
# python-threatexchange needs it) builds from source against FFmpeg's libraries. Needs root (apt) when missing.
# vpdq's CMake asks for all seven of FFmpeg's libraries.
AV_LIBS := libavdevice libavfilter libavformat libavcodec libswresample libswscale libavutil
BUILD_PACKAGES = $(if $(shell pkg-config --exists $(AV_LIBS) 2>/dev/null && echo y),,$(addsuffix -dev,$(AV_LIBS))) \
  $(if $(shell command -v pkg-config),,pkg-config) \
  $(if $(shell command -v cmake),,cmake) $(if $(shell command -v g++),,g++)
system-build:
	@if [ -n "$(strip $(BUILD_PACKAGES))" ]; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BUILD_PACKAGES); fi

install: .venv/installed-dev node_modules/.installed

# package-lock.json pins them: mediabunny, which the browser hasher's worker imports to read videos (served as a
# static file straight from node_modules, see STATICFILES_DIRS), and axe-core for the browser tests' accessibility
# checks. Node.js and npm come with the machine.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Chromium for the browser tests, gettext for translations, FFmpeg for the test videos (tests/videos.py): each
# installed when missing. Needs root (apt).
APT_PACKAGES = $(if $(shell command -v chromium),,chromium) $(if $(shell command -v msgfmt),,gettext) \
  $(if $(shell command -v ffmpeg),,ffmpeg)
system-packages:
	@if [ -n "$(strip $(APT_PACKAGES))" ]; then \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PACKAGES); fi

# gettext's msgfmt compiles the translations; `make run` needs it too. Needs root (apt) when missing.
system-gettext:
	@command -v msgfmt >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext; }

%.mo: %.po | system-gettext
	msgfmt --check -o $@ $<

messages: $(MO_FILES)

run: .venv/installed $(MO_FILES) node_modules/.installed
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 bin/run

TEST_NEEDS := .venv/installed-dev system-packages $(MO_FILES) node_modules/.installed
PYTEST := DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_REDIS_URL)/14 CACHE_URL=$(TEST_REDIS_URL)/15 \
	  SECRET_KEY=test-secret-key-not-for-production DEBUG=0 DB_CONN_MAX_AGE=0 SECURE_SSL_REDIRECT=0 ALLOWED_HOSTS=* \
	  $(PY) -m pytest

# Tests run on both cores: pytest-xdist's processes, each with its own PostgreSQL server and Redis databases
# (tests/parallel.py). TEST_PROCESSES=0 runs them in this one process.
TEST_PROCESSES ?= 2
PARALLEL = $(if $(filter 0,$(TEST_PROCESSES)),,-n $(TEST_PROCESSES) --dist worksteal)

test: $(TEST_NEEDS)
	$(PYTEST) $(PARALLEL) $(PYTEST_ARGS)

# The fast lane: all but the tests marked slow (pyproject.toml's markers; README.md, "Test lanes").
test-fast: $(TEST_NEEDS)
	$(PYTEST) -m "not slow" $(PARALLEL) $(PYTEST_ARGS)

lint: .venv/installed-dev
	.venv/bin/ruff check .

# Production settings: no deploy warnings, no missing migrations.
check: .venv/installed node_modules/.installed
	DEBUG=0 SECRET_KEY=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))') ALLOWED_HOSTS=portal.example.org \
	  DATABASE_URL=$(TEST_DATABASE_URL) CACHE_URL=$(TEST_REDIS_URL)/15 CELERY_BROKER_URL=$(TEST_REDIS_URL)/14 \
	  $(PY) manage.py check --deploy --fail-level WARNING
	DEBUG=1 DATABASE_URL=$(TEST_DATABASE_URL) $(PY) manage.py makemigrations --check --dry-run

# Fonts for Arabic, Urdu, Devanagari and Hangul in the screenshots (callers' own devices have theirs). Needs root.
system-fonts:
	@fc-list :lang=ur | grep -q . && fc-list :lang=ko | grep -q . || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-noto-core fonts-noto-cjk; }

# The screenshot tour (tests/test_screenshot_tour.py): the caller's pages on a phone (Arabic and Urdu too), the
# caseworker's at 1280 px.
screenshots: $(TEST_NEEDS) system-fonts
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(PYTEST) tests/test_screenshot_tour.py -q -p no:cacheprovider
