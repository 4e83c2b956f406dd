# FOOF — the two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
FLASK   = $(BIN)/flask --app foof

.PHONY: run test install install-dev init-db clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files make the install idempotent and re-run when setup.cfg changes.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

init-db: install
	$(FLASK) init-db

run: init-db
	$(BIN)/python wsgi.py

# SQLite always; MySQL/MariaDB too when FOOF_TEST_DATABASE_URL is set (.ci/run sets it).
test: install-dev
	FOOF_TEST_DATABASE_URL= $(BIN)/python -m pytest
	@if [ -n "$$FOOF_TEST_DATABASE_URL" ]; then \
		echo "== again on $$(echo $$FOOF_TEST_DATABASE_URL | sed 's/:[^:@/]*@/:***@/')"; \
		$(BIN)/python -m pytest; \
	fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
