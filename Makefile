# The two commands: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11
BOOTSTRAP := .wattline/bootstrap
UV := $(shell command -v uv 2>/dev/null || echo $(BOOTSTRAP)/bin/uv)

.PHONY: run test lint unit e2e sync bench fmt contracts clean

$(BOOTSTRAP)/bin/uv:
	@mkdir -p .wattline
	python3 -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet --disable-pip-version-check uv

sync: $(if $(shell command -v uv 2>/dev/null),,$(BOOTSTRAP)/bin/uv)
	@$(UV) sync --locked --quiet

run: sync
	@$(UV) run --no-sync wattline up

lint: sync
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync mypy libs/wattline_platform/src libs/wattline_cim/src contracts/src src services/*/src
	$(UV) run --no-sync lint-imports

unit: sync
	$(UV) run --no-sync pytest -q libs contracts services

e2e: sync
	$(UV) run --no-sync pytest -q tests-e2e

test: lint
	$(UV) run --no-sync pytest -q -p no:cacheprovider

bench: sync
	$(UV) run --no-sync python benchmarks/outbox_throughput.py

contracts: sync
	$(UV) run --no-sync python -m wattline_contracts.generate

fmt: sync
	$(UV) run --no-sync ruff format .
	$(UV) run --no-sync ruff check --fix .

clean:
	rm -rf .wattline/pgdata .wattline/run
