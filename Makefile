# Eventide developer commands. `make install` once, then `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Python dependencies are pinned, with hashes, in uv.lock. uv itself is pinned (with hashes)
# in requirements-uv.txt and installed into its own small environment, apart from .venv.
UV_ENV := .uv
UV := $(UV_ENV)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
# Everything a developer needs: the server, the embedded engines and the dev tools.
EXTRAS := --extra embedded --extra dev

.PHONY: install lock upgrade upgrade-uv run test lint typecheck schema schema-check contract bench-ingest \
	bench-query bench-archive bench-auth bench-limits bench-export clean

install: $(BIN)/eventide node_modules/.package-lock.json sdks/js/dist/index.js \
	console/dist/index.html

# GraphiQL's browser assets, served by Eventide itself at /graphiql/assets.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

# The JavaScript SDK, compiled by the TypeScript its package-lock.json pins.
sdks/js/dist/index.js: sdks/js/package.json sdks/js/package-lock.json sdks/js/tsconfig.json \
		$(wildcard sdks/js/src/*.ts)
	cd sdks/js && npm ci --no-audit --no-fund --ignore-scripts && npm run --silent build
	@touch $@

# The web console (console/, TypeScript and Vite from the npm registry), built into
# console/dist, which Eventide serves at /. Rebuilt when any of its sources changes.
console/node_modules/.package-lock.json: console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

CONSOLE_SOURCES := $(shell find console/src console/public -type f 2>/dev/null) \
	console/index.html console/vite.config.ts console/tsconfig.json
console/dist/index.html: console/node_modules/.package-lock.json $(CONSOLE_SOURCES)
	cd console && npm run --silent build

$(UV): requirements-uv.txt
	$(PYTHON) -m venv $(UV_ENV)
	$(UV_ENV)/bin/pip install --quiet --require-hashes --no-deps -r requirements-uv.txt
	@touch $@

# Exactly what uv.lock pins (--locked fails when pyproject.toml has changed since the lock
# was written), with Eventide itself installed editable.
$(BIN)/eventide: pyproject.toml uv.lock $(UV)
	$(UV) sync --locked --python $(PYTHON) $(EXTRAS)
	$(UV) pip check --python $(BIN)/python
	@touch $@

# Re-resolve after editing dependencies in pyproject.toml, keeping every other pin.
lock: $(UV)
	$(UV) lock --python $(PYTHON)

# Move every pin to the newest release pyproject.toml allows (PACKAGE=name: just that one).
upgrade: $(UV)
	$(UV) lock --python $(PYTHON) $(if $(PACKAGE),--upgrade-package $(PACKAGE),--upgrade)
	$(MAKE) install

# Pin another uv release: make upgrade-uv UV_VERSION=x.y.z
upgrade-uv: $(UV)
	$(if $(UV_VERSION),,$(error set UV_VERSION, e.g. make upgrade-uv UV_VERSION=x.y.z))
	echo "uv==$(UV_VERSION)" | $(UV) pip compile --quiet --universal --generate-hashes \
		--custom-compile-command "make upgrade-uv UV_VERSION=$(UV_VERSION)" - -o requirements-uv.txt
	$(MAKE) install

run: install
	$(BIN)/eventide serve

# With coverage of eventide (also in the CLI's child processes); the floor is in
# pyproject.toml. The slowest tests are listed, to see which near their timeout.
# Quick subset without coverage: .venv/bin/pytest -m "not slow"
test: install
	$(BIN)/pytest --cov --cov-report=term-missing:skip-covered --durations=12

# Style, then the import contracts of pyproject.toml: layers point down, and services
# and storage know nothing of GraphQL.
lint: install
	$(BIN)/ruff check src tests benchmarks sdks/python
	$(BIN)/ruff format --check src tests benchmarks sdks/python
	@# Every imported package is declared: the server's in `dependencies` or `embedded`;
	@# tests and benchmarks may also use the `dev` extra.
	$(BIN)/deptry src
	$(BIN)/deptry tests benchmarks --exclude '/__pycache__/' --ignore DEP002,DEP004
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy
	cd console && npm run --silent typecheck

schema: install
	$(BIN)/eventide schema > schema.graphql

schema-check: install
	$(BIN)/eventide schema | diff -u schema.graphql - \
		|| (echo "schema.graphql is stale: run 'make schema'"; exit 1)

contract: install
	$(BIN)/python ../shared/api/check-contract --require clients --require projects --require insights --require live --require lifecycle schema.graphql

# Ingestion throughput against raw asyncpg; BENCH_EVENTS sets the total (default 1,000,000),
# BENCH_PROJECTS the projects it is spread over (default 5, one of them with 90%).
bench-ingest: install
	$(BIN)/python benchmarks/ingest.py

# Analytics latency through /graphql against one-table designs of ClickHouse and of
# PostgreSQL holding the same events, answers compared (a difference fails the run);
# BENCH_COLD_EVENTS, BENCH_HOT_EVENTS (default 10,000,000 and 1,000,000) size the data
# set, BENCH_PROJECTS (default 5) splits it, 90% in one project; a small project and the
# big one are timed.
bench-query: install
	$(BIN)/python benchmarks/query.py

# Archive pass throughput against a raw PostgreSQL-to-ClickHouse copy.
bench-archive: install
	$(BIN)/python benchmarks/archive.py

# `eventide export` rows/s and peak RSS per format against the engines' own bulk output
# (ClickHouse SELECT ... FORMAT, PostgreSQL COPY) of the same rows; BENCH_EVENTS (default
# 10,000,000) sets the exported project's size.
bench-export: install
	$(BIN)/python benchmarks/export.py

# Authentication cost per request, and argon2id verifications per second.
bench-auth: install
	$(BIN)/python benchmarks/auth.py

# What the operation limits add per request.
bench-limits: install
	$(BIN)/python benchmarks/limits.py

clean:
	rm -rf $(VENV) $(UV_ENV) .eventide .pytest_cache .mypy_cache .ruff_cache node_modules \
		sdks/js/node_modules sdks/js/dist console/node_modules console/dist
