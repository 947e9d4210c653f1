# Lead Workshop. `make run` starts the app with demo data; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: install assets run test test-unit test-browser lint messages makemessages loadtest clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install whenever the pinned requirements change.
$(VENV)/.installed: $(BIN)/activate pyproject.toml requirements.lock
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

locale/.compiled: $(VENV)/.installed $(wildcard locale/*/LC_MESSAGES/django.po)
	$(BIN)/python manage.py compilemessages --ignore '.venv' -v 0
	touch $@

# Browser assets come from npm (pinned in package-lock.json) and are copied into
# static/vendor/, which is not committed.
static/vendor/chart.umd.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	# With its source map: production's manifest storage checks every file a script names.
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map static/vendor/

# axe-core checks accessibility in the browser tests, which inject it from node_modules:
# it is never copied to static/, so it is never served to users.
node_modules/axe-core/axe.min.js: static/vendor/chart.umd.min.js
	test -f $@ || npm ci --no-audit --no-fund --loglevel=error

assets: static/vendor/chart.umd.min.js node_modules/axe-core/axe.min.js

install: $(VENV)/.installed locale/.compiled assets

messages: locale/.compiled

# Extract new strings into the .po files (then translate them and commit).
makemessages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages --all --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --add-location file

run: install
	PORT=$(PORT) scripts/run.sh

test: install
	scripts/test.sh

# The load test against gunicorn, one Celery worker, PostgreSQL and Redis with 1M leads.
# Not part of `make test`: it takes about ten minutes. See the README's "Load test".
loadtest: install
	scripts/loadtest.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var locale/.compiled node_modules static/vendor
