# Eventide against real servers (see compose.yaml); the embedded engines are not installed.
# GraphiQL's browser assets, from the npm registry; the server serves them itself.
FROM node:20-slim AS graphiql
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --omit=dev

# The web console, built into static files the server serves at /.
FROM node:20-slim AS console
WORKDIR /console
COPY console/package.json console/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY console/ ./
RUN npm run build

# Eventide and its runtime dependencies, exactly as uv.lock pins them (hashes checked), into
# a virtual environment at /opt/eventide. No extras: neither embedded engines nor dev tools.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/eventide
COPY requirements-uv.txt /tmp/
RUN pip install --require-hashes --no-deps -r /tmp/requirements-uv.txt
WORKDIR /build
# Dependencies first, in their own layer, so a source change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-editable --no-install-project --python /usr/local/bin/python3
COPY README.md ./
COPY src ./src
COPY migrations ./migrations
COPY clickhouse_ddl ./clickhouse_ddl
RUN uv sync --locked --no-dev --no-editable --python /usr/local/bin/python3 \
    && uv pip check --python /opt/eventide/bin/python

FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/eventide/bin:$PATH

RUN useradd --system --create-home --home-dir /srv/eventide eventide
WORKDIR /srv/eventide

COPY --from=build /opt/eventide /opt/eventide
COPY --from=graphiql /assets/node_modules/graphiql/graphiql.min.js /assets/node_modules/graphiql/graphiql.min.css ./node_modules/graphiql/
COPY --from=graphiql /assets/node_modules/react/umd/react.production.min.js ./node_modules/react/umd/
COPY --from=graphiql /assets/node_modules/react-dom/umd/react-dom.production.min.js ./node_modules/react-dom/umd/
COPY --from=console /console/dist ./console

USER eventide
ENV EVENTIDE_ENV=production \
    EVENTIDE_HOST=0.0.0.0 \
    EVENTIDE_PORT=8000 \
    EVENTIDE_DATA_DIR=/srv/eventide/data \
    EVENTIDE_GRAPHIQL_ASSETS_DIR=/srv/eventide/node_modules \
    EVENTIDE_CONSOLE_ASSETS_DIR=/srv/eventide/console
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=2).status != 200)"
CMD ["eventide", "serve"]
