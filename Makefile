# The two commands a newcomer needs: `make run` (demo kiosk) and `make test` (everything CI runs).
# System packages are installed with apt-get (through sudo when not root); git, make and sudo
# come before this file can run (README, first lines).
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# What the commands below and the tests run, and nothing else (tests/test_system_packages.py):
# python3-venv, python3-dev, gcc, swig, libpcsclite-dev: the venv and pyscard's build;
# pcscd, vsmartcard-vpcd: the end-to-end card tests; tmux: the console test; procps: pgrep
# (make bench); systemd: systemd-analyze, -sysusers, -tmpfiles and systemctl (the box tests);
# postgresql: initdb and pg_ctl for the restart test's own server; git: the wheel and
# catalogue tests copy the tree's files; make: the catalogue test runs `make catalogs`;
# debootstrap, systemd-container: `make boot-test` builds and boots a Debian 12 container.
APT_PACKAGES := python3-venv python3-dev gcc swig libpcsclite-dev pcscd vsmartcard-vpcd \
	tmux procps systemd postgresql git make debootstrap systemd-container

.PHONY: run test system-packages venv lint typecheck bench fuzz catalogs lock boot-test

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# Every Python package from the locks, each file checked against its hash, and nothing built in
# an isolated environment (that would fetch the build requirements unpinned: pyscard asks for
# setuptools and PyPI's swig): first the locked setuptools, then the dependencies, pyscard
# built by that setuptools and apt's swig, then the kiosk itself without dependencies.
$(BIN)/.installed: pyproject.toml requirements-build.lock requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements-build.lock
	$(BIN)/pip install -q --require-hashes --no-build-isolation -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

venv: system-packages $(BIN)/.installed

run: venv
	$(BIN)/kiosk demo-data --if-empty
	$(BIN)/kiosk run --simulate

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

# The box on a booted systemd: a throw-away Debian 12 container (debootstrap, systemd-nspawn
# --boot) installs the kiosk from its wheel and requirements.lock, runs `kiosk install` and checks
# the units, the watchdog, `kiosk doctor`, a restart after kill -9 and `kiosk uninstall --purge`
# (tests/box/boot/boot-test.sh; root, the Debian mirror and PyPI; about 4 minutes).
boot-test: venv
	$(SUDO) PYTHON=$(abspath $(BIN))/python tests/box/boot/boot-test.sh

# The e-ID benchmark reads through pcscd and the virtual reader; the sync one needs PostgreSQL.
bench: venv
	pgrep -x pcscd >/dev/null || $(SUDO) pcscd
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

# The import's end-to-end cases get a share of the examples (see tests/sync/test_import_fuzz.py).
fuzz: venv
	$(BIN)/pytest tests/eid/test_fuzz.py tests/sync/test_import_fuzz.py --fuzz-examples 100000

# The translation catalogues, from every text the code marks (tr, staff_tr, N_, NP_) anywhere in the
# kiosk package: the screens and the printed ticket (kiosk/domain/parking/printing.py) alike,
# the same scope tests/ui/test_translations.py checks. New texts arrive untranslated (or fuzzy)
# and that test names them until they are filled in; texts no code uses any more go obsolete.
# One message per line and the file but no line number: the diffs show what changed.
CATALOG_KEYWORDS := -k tr -k staff_tr -k N_ -k NP_:1c,2
catalogs: $(BIN)/.installed
	pot=$$(mktemp --suffix=.pot) && \
	$(BIN)/pybabel -q extract --no-default-keywords $(CATALOG_KEYWORDS) --add-location=file \
		--no-wrap --project=rehab-kiosk -o "$$pot" kiosk && \
	$(BIN)/pybabel -q update --no-wrap --ignore-pot-creation-date -i "$$pot" \
		-d kiosk/core/locale -D kiosk; \
	status=$$?; rm -f "$$pot"; exit $$status

# The lock files, after a change of the dependencies in pyproject.toml (commit them with it):
# requirements.lock for the box (the kiosk's dependencies and the setuptools that builds its
# wheel), requirements-dev.lock for `make run`, `make test` and CI (with the dev tools), and
# requirements-build.lock, the same setuptools alone, installed first so that the source
# packages (pyscard) build without isolation. Every version pinned and every file's hash: an
# install gets exactly what was tested.
PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host
lock: $(BIN)/.installed
	$(PIP_COMPILE) --build-deps-for=wheel --output-file requirements.lock pyproject.toml
	$(PIP_COMPILE) --build-deps-for=wheel --only-build-deps --constraint requirements.lock \
		--output-file requirements-build.lock pyproject.toml
	$(PIP_COMPILE) --extra dev --output-file requirements-dev.lock pyproject.toml
