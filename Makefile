# The two commands: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11
BOOTSTRAP := .wattline/bootstrap
UV := $(shell command -v uv 2>/dev/null || echo $(BOOTSTRAP)/bin/uv)

.PHONY: run test lint unit e2e sync bench fmt contracts clean backoffice backoffice-client node

# The back office (backoffice/, React + Vite) is built with the machine's Node.js and npm from
# its lock file, again only when one of its sources is newer than the build.
BACKOFFICE_SOURCES := $(wildcard backoffice/package.json backoffice/package-lock.json \
	backoffice/index.html backoffice/*.config.* backoffice/tsconfig*.json) \
	$(shell find backoffice/src backoffice/public -type f 2>/dev/null)
# npm ci writes node_modules/.package-lock.json: older than the lock file, the install is stale.
BACKOFFICE_MODULES := backoffice/node_modules/.package-lock.json
# The browser tests drive Debian's chromium (Playwright's own browser download is not used).
CHROMIUM := /usr/bin/chromium

$(BOOTSTRAP)/bin/uv:
	@mkdir -p .wattline
	python3 -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet --disable-pip-version-check uv

sync: $(if $(shell command -v uv 2>/dev/null),,$(BOOTSTRAP)/bin/uv)
	@$(UV) sync --locked --quiet

run: sync backoffice
	@$(UV) run --no-sync wattline up

node:
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "make: the back office \
	is built with Node.js 20 or newer and npm, and this machine has no node/npm on the PATH \
	(Debian: apt-get install nodejs npm)" >&2; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { \
	echo "make: the back office needs Node.js 20 or newer; this is node $$(node --version)" >&2; \
	exit 1; }

$(BACKOFFICE_MODULES): backoffice/package-lock.json backoffice/package.json | node
	cd backoffice && npm ci --no-audit --no-fund

backoffice/dist/index.html: $(BACKOFFICE_MODULES) $(BACKOFFICE_SOURCES) | node
	cd backoffice && npm run build

backoffice: backoffice/dist/index.html

# The TypeScript client from the gateway's OpenAPI document (`wattline openapi`): openapi.json
# and src/api/schema.d.ts, both committed; a test fails when they drift.
backoffice-client: sync $(BACKOFFICE_MODULES)
	cd backoffice && PATH="$(abspath $(dir $(UV))):$$PATH" npm run generate

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "make: the browser tests need Debian's chromium \
	at $(CHROMIUM), and this machine has no apt-get: install chromium there" >&2; exit 1; }
	@if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "make: the browser tests need chromium: run 'apt-get install chromium' as \
	root (no sudo here)" >&2; exit 1; fi; \
	echo "make: installing Debian's chromium for the back office's browser tests"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y --no-install-recommends chromium \
	|| { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium; }

lint: sync
	$(UV) run --no-sync ruff check .
	$(UV) run --no-sync ruff format --check .
	$(UV) run --no-sync mypy libs/wattline_platform/src libs/wattline_cim/src contracts/src src services/*/src
	$(UV) run --no-sync lint-imports

unit: sync
	$(UV) run --no-sync pytest -q libs contracts services

e2e: sync backoffice $(CHROMIUM)
	$(UV) run --no-sync pytest -q tests-e2e

test: lint backoffice $(CHROMIUM)
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
