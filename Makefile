# Maillage — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := backoffice

.PHONY: run test test-sqlite test-postgresql bench install services chromium libreoffice wrk clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## make run: install, migrate, load the demo territory, start web + worker.
run: install
	@mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@bash scripts/run-dev.sh

services:
	@bash scripts/ensure-services.sh

chromium:
	@bash scripts/ensure-debian-package.sh chromium chromium "the browser tests drive it"

libreoffice:
	@bash scripts/ensure-debian-package.sh soffice libreoffice-writer-nogui "the PDF tests convert Word documents with it"

wrk:
	@bash scripts/ensure-debian-package.sh wrk wrk "the benchmark loads pages with it"

## make test: the whole suite, on SQLite and on PostgreSQL, with the real Redis.
test: install services chromium libreoffice
	TEST_DATABASE=sqlite $(BIN)/python -m pytest -p no:cacheprovider
	TEST_DATABASE=postgresql $(BIN)/python -m pytest -p no:cacheprovider

test-sqlite: install services chromium libreoffice
	TEST_DATABASE=sqlite $(BIN)/python -m pytest -p no:cacheprovider

test-postgresql: install services chromium libreoffice
	TEST_DATABASE=postgresql $(BIN)/python -m pytest -p no:cacheprovider

## make bench: speed and memory figures into bench/results.json.
bench: install services wrk
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance
