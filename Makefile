# FOOF — the two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
FLASK   = $(BIN)/flask --app foof

.PHONY: run test test-mysql lint install install-dev init-db clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files make the install idempotent and re-run when setup.cfg changes.
$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,mysql]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

init-db: install
	$(FLASK) init-db

run: init-db
	$(BIN)/python wsgi.py

# ruff (lint + format check) over foof/, tests/, bench/; mypy over the typed packages.
lint: install-dev
	$(BIN)/ruff check foof tests bench
	$(BIN)/ruff format --check foof tests bench
	$(BIN)/mypy foof/domain foof/search

# SQLite always; MySQL/MariaDB too when FOOF_TEST_DATABASE_URL is set (.ci/run sets it).
# Both runs happen even if the first fails; the last line says which databases ran and how
# many tests each, and the exit status is the first failing run's (0 when all passed).
test: install-dev
	@reports=$$(mktemp -d); trap 'rm -rf "$$reports"' EXIT; status=0; \
	FOOF_TEST_DATABASE_URL= $(BIN)/python -m pytest --junitxml="$$reports/sqlite.xml" || status=$$?; \
	if [ -n "$$FOOF_TEST_DATABASE_URL" ]; then \
		echo "== again on $$(echo $$FOOF_TEST_DATABASE_URL | sed 's/:[^:@/]*@/:***@/')"; \
		$(BIN)/python -m pytest --junitxml="$$reports/db.xml" || { rc=$$?; [ $$status -ne 0 ] || status=$$rc; }; \
		$(BIN)/python -c "$$TEST_SUMMARY" "SQLite=$$reports/sqlite.xml" "db=$$reports/db.xml"; \
	else \
		$(BIN)/python -c "$$TEST_SUMMARY" "SQLite=$$reports/sqlite.xml"; \
	fi; \
	exit $$status

# MariaDB/MySQL only, on a fresh database made for the run (as .ci/run does) and dropped
# afterwards, pass or fail. Root without a password on TEST_DB_HOST:TEST_DB_PORT.
TEST_DB_HOST ?= 127.0.0.1
TEST_DB_PORT ?= 3306
MYSQL = mysql --protocol=tcp -h $(TEST_DB_HOST) -P $(TEST_DB_PORT) -uroot
test-mysql: install-dev
	@name="foof_test_$$(date +%s)_$$$$"; status=0; \
	$(MYSQL) -e "CREATE DATABASE \`$$name\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" || exit 1; \
	reports=$$(mktemp -d); \
	trap '$(MYSQL) -e "DROP DATABASE IF EXISTS \`'"$$name"'\`" || true; rm -rf "$$reports"' EXIT; \
	trap 'exit 130' INT TERM; \
	export FOOF_TEST_DATABASE_URL="mysql+mysqldb://root@$(TEST_DB_HOST):$(TEST_DB_PORT)/$$name?charset=utf8mb4"; \
	echo "== on database $$name ($(TEST_DB_HOST):$(TEST_DB_PORT), dropped afterwards)"; \
	$(BIN)/python -m pytest --junitxml="$$reports/db.xml" || status=$$?; \
	$(BIN)/python -c "$$TEST_SUMMARY" "db=$$reports/db.xml"; \
	exit $$status

# The last line of `make test` / `make test-mysql`: LABEL=junit.xml arguments, "db" meaning
# the database FOOF_TEST_DATABASE_URL names (reported as MariaDB or MySQL).
define TEST_SUMMARY
import os, sys, xml.etree.ElementTree as ET
parts = []
for arg in sys.argv[1:]:
    label, path = arg.split("=", 1)
    if label == "db":
        label = "MySQL/MariaDB"
        try:
            import sqlalchemy
            with sqlalchemy.create_engine(os.environ["FOOF_TEST_DATABASE_URL"]).connect() as conn:
                version = conn.exec_driver_sql("SELECT VERSION()").scalar()
            label = "MariaDB" if "mariadb" in version.lower() else "MySQL"
        except Exception:
            pass
    try:
        root = ET.parse(path).getroot()
        suite = root if root.tag == "testsuite" else root.find("testsuite")
        n = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
        n["xfailed"] = sum(1 for s in suite.iter("skipped") if s.get("type") == "pytest.xfail")
        n["skipped"] -= n["xfailed"]
    except (OSError, ET.ParseError, AttributeError):
        parts.append(label + ": no result (pytest did not finish)")
        continue
    counts = [str(n["tests"] - n["failures"] - n["errors"] - n["skipped"] - n["xfailed"]) + " passed"]
    counts += [f"{n[key]} {word}" for key, word in (("failures", "failed"), ("errors", "errors"),
                                                    ("skipped", "skipped"), ("xfailed", "xfailed")) if n[key]]
    parts.append(label + ": " + ", ".join(counts))
print("== " + "; ".join(parts))
endef
export TEST_SUMMARY

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
