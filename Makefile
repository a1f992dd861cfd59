# Eventide developer commands. `make install` once, then `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test lint typecheck schema schema-check contract bench-ingest bench-query \
	bench-archive bench-auth bench-limits clean

install: $(BIN)/eventide node_modules/.package-lock.json

# GraphiQL's browser assets, served by Eventide itself at /graphiql/assets.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

$(BIN)/eventide: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[embedded,dev]"
	@touch $@

run: install
	$(BIN)/eventide serve

test: install
	$(BIN)/pytest

# Style, then the import contracts of pyproject.toml: layers point down, and services
# and storage know nothing of GraphQL.
lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

schema: install
	$(BIN)/eventide schema > schema.graphql

schema-check: install
	$(BIN)/eventide schema | diff -u schema.graphql - \
		|| (echo "schema.graphql is stale: run 'make schema'"; exit 1)

contract: install
	$(BIN)/python ../shared/api/check-contract schema.graphql

# Ingestion throughput against raw asyncpg; BENCH_EVENTS sets the total (default 1,000,000).
bench-ingest: install
	$(BIN)/python benchmarks/ingest.py

# Analytics latency through /graphql against raw SQL; BENCH_COLD_EVENTS, BENCH_HOT_EVENTS
# (default 10,000,000 and 1,000,000) size the data set.
bench-query: install
	$(BIN)/python benchmarks/query.py

# Archive pass throughput against a raw PostgreSQL-to-ClickHouse copy.
bench-archive: install
	$(BIN)/python benchmarks/archive.py

# Authentication cost per request, and argon2id verifications per second.
bench-auth: install
	$(BIN)/python benchmarks/auth.py

# What the operation limits add per request.
bench-limits: install
	$(BIN)/python benchmarks/limits.py

clean:
	rm -rf $(VENV) .eventide .pytest_cache .mypy_cache .ruff_cache node_modules
