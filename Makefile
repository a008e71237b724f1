# Two commands from a fresh clone: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# One process with threads: rate limits kept in memory are then shared by every request. More worker
# processes need SIPAS_REDIS_URL (survey/gunicorn_conf.py refuses to start otherwise).
WORKERS ?= 1
THREADS ?= 4
DEMO_RESPONSES ?= 20000
FLASK := $(BIN)/flask --app wsgi
export PORT

.PHONY: run test test-sqlite test-postgres lint format install install-run translations messages benchmark-seed benchmark-page clean
.PHONY: audit multinode soak restore-drill

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Serving needs only the runtime requirements; tests, lint and the audit add the development tools and npm.
$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed: $(VENV)/.installed-run requirements-dev.txt $(wildcard package-lock.json)
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@if [ -f package.json ] && command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent; \
	elif [ -f package.json ]; then echo "npm not found: browser tests will skip (and fail under CI=true)"; fi
	touch $@

install-run: $(VENV)/.installed-run

install: $(VENV)/.installed

translations: install-run
	$(BIN)/pybabel compile --use-fuzzy=false -d translations >/dev/null 2>&1 || $(BIN)/pybabel compile -d translations

## run: migrate, seed the demo province if the database is empty, serve on $(HOST):$(PORT)
run: install-run translations
	$(FLASK) db upgrade
	$(FLASK) load-instruments
	$(FLASK) seed-demo --if-empty --responses $(DEMO_RESPONSES)
	@echo ""
	@echo "SIPAS is starting on http://$(HOST):$(PORT)/"
	@echo "  landing page with every counter's QR code: http://$(HOST):$(PORT)/"
	@echo "  health check:                              http://$(HOST):$(PORT)/healthz"
	@echo "  a survey link (all of them: PORT=$(PORT) $(FLASK) list-counters):"
	@$(FLASK) list-counters | head -n 3 | sed 's/^/    /'
	@echo "  demo logins (e-mail, password, role, agency) from instance/demo-logins.txt:"
	@sed 's/^/    /' instance/demo-logins.txt 2>/dev/null || echo "    (none: this database was not seeded by make run)"
	@echo ""
	exec $(BIN)/gunicorn --config survey/gunicorn_conf.py --bind $(HOST):$(PORT) \
		--workers $(WORKERS) --threads $(THREADS) --no-control-socket wsgi:app

## test: the whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set (every test
## that touches a database; tests/analytics is the database-free library, so it runs once)
test: install translations test-sqlite test-postgres

test-sqlite: install
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -q

test-postgres: install
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL), without the database-free tests/analytics"; \
		$(BIN)/python -m pytest -q --ignore=tests/analytics; \
	else \
		echo "TEST_DATABASE_URL not set: PostgreSQL run skipped (CI sets it)"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## messages: re-extract translatable strings and merge them into the Vietnamese catalogue
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-location --width 120

benchmark-seed: install
	$(BIN)/python benchmarks/seed_demo.py

benchmark-page: install translations
	$(BIN)/python benchmarks/survey_page_weight.py

## audit: known vulnerabilities in the pinned runtime requirements (pip-audit; see docs/production.md)
audit: install
	$(BIN)/python scripts/audit.py requirements.txt

## multinode: two gunicorn nodes on one PostgreSQL (TEST_DATABASE_URL or the local server) and one Redis
## (SIPAS_TEST_REDIS_URL, default database 13), then the restore drill on their database
multinode: install translations
	SIPAS_MULTINODE=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/multinode

## soak: 60 s of submissions and dashboard reads while workers are killed, a reload, a PostgreSQL restart
soak: install translations
	$(BIN)/python benchmarks/soak.py

## restore-drill: pg_dump DATABASE_URL, restore into a scratch database, compare, drop it
restore-drill: install
	$(BIN)/python scripts/restore_drill.py "$(DATABASE_URL)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache node_modules test-artifacts
