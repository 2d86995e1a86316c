# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
PYTEST_WORKERS ?= 2

.PHONY: run serve install install-dev test test-pg lint typecheck migrations-check pytest bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(UV) pip install --quiet --python $(BIN)/python -r requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(UV) pip install --quiet --python $(BIN)/python -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev
	bash scripts/system-deps.sh test

## make run: install, migrate, load the demo desk if empty, serve on :8000
run: install
	$(BIN)/expediter migrate --verbosity 0
	$(BIN)/expediter demo
	@echo ""
	@echo "  Expediter is starting on http://127.0.0.1:8000"
	@echo "  Sign in as admin@demo.example, lead@demo.example, agent@demo.example"
	@echo "  or requester@demo.example, password: expediter-demo"
	@echo ""
	$(BIN)/expediter serve --host 127.0.0.1 --port 8000

## make test: linters, type check, migrations check and the whole suite (SQLite)
test: install-dev lint typecheck migrations-check pytest

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck:
	$(BIN)/mypy

migrations-check:
	EXPEDITER_DATA_DIR=$$(mktemp -d) DJANGO_SETTINGS_MODULE=expediter.config.testing \
		$(BIN)/python -m django makemigrations --check --dry-run

pytest:
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

## make test-pg: the suite again on a private PostgreSQL cluster (installed from Debian)
test-pg: install-dev
	bash scripts/system-deps.sh postgres
	bash scripts/with-postgres.sh $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

## make bench: speed figures (never assertions)
bench: install-dev
	$(BIN)/python bench/run_all.py

messages:
	cd src/expediter && ../../$(BIN)/python -m django makemessages -l fr --settings expediter.config.testing && ../../$(BIN)/python -m django compilemessages --settings expediter.config.testing

clean:
	rm -rf $(VENV) var .pg
