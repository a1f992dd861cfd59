"""A live ``eventide serve`` for third-party suites that speak HTTP to a real server.

PostgreSQL and Redis are the test servers when ``EVENTIDE_TEST_DATABASE_URL`` and
``EVENTIDE_TEST_REDIS_URL`` name them (a fresh database, a key prefix of its own),
else the server's embedded ones; ClickHouse is always the embedded chdb, in the
server's data directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import free_port, fresh_database

ADMIN_USERNAME = "conformance-admin"
ADMIN_PASSWORD = "conformance admin password"
_STARTUP_SECONDS = 90


@dataclass(frozen=True)
class LiveServer:
    url: str  # the GraphQL endpoint
    log: Path
    admin_token: str  # an access token (JWT) of an admin
    api_token: str  # an API token of that admin with the INGEST and READ scopes


def _data(url: str, query: str, token: str | None = None, **variables: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": query, "variables": variables}
    response = httpx.post(url, json=body, headers=headers, timeout=30)
    response.raise_for_status()
    answer = response.json()
    assert "errors" not in answer, answer
    return answer["data"]


def _credentials(url: str) -> tuple[str, str]:
    """Taken before any test runs: fuzzing soon exhausts the address's sign-in attempts."""
    login = _data(
        url,
        "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
        u=ADMIN_USERNAME,
        p=ADMIN_PASSWORD,
    )
    admin_token: str = login["login"]["accessToken"]
    # The admin's only project becomes the default of its session and its token.
    _data(url, 'mutation { createProject(input: {name: "fuzz"}) { id } }', admin_token)
    created = _data(
        url,
        'mutation { createApiToken(input: {name: "fuzz", scopes: [INGEST, READ]}) { token } }',
        admin_token,
    )
    api_token: str = created["createApiToken"]["token"]
    return admin_token, api_token


def _server_environment(data_dir: Path, port: int, database_url: str | None) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("EVENTIDE_")}
    env.update(
        EVENTIDE_ENV="development",
        EVENTIDE_HOST="127.0.0.1",
        EVENTIDE_PORT=str(port),
        EVENTIDE_DATA_DIR=str(data_dir),
        EVENTIDE_ADMIN_USERNAME=ADMIN_USERNAME,
        EVENTIDE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        # Fuzzing sends thousands of operations from one address: the buckets would
        # soon answer RATE_LIMITED to everything, and nothing else would be tested.
        EVENTIDE_RATE_LIMIT_QUERY_POINTS="0",
        EVENTIDE_RATE_LIMIT_EVENTS="0",
        EVENTIDE_ARCHIVE_INTERVAL_SECONDS="0",
        EVENTIDE_LOG_LEVEL="WARNING",
    )
    if database_url:
        env["EVENTIDE_DATABASE_URL"] = database_url
    if redis_url := os.environ.get("EVENTIDE_TEST_REDIS_URL"):
        env["EVENTIDE_REDIS_URL"] = redis_url
        env["EVENTIDE_REDIS_KEY_PREFIX"] = f"eventide-live-{uuid.uuid4().hex[:10]}:"
    return env


def _wait_until_up(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"eventide serve exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"eventide serve was not ready after {_STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("live-server")
    log = data_dir / "server.log"
    port = free_port()
    eventide = Path(sys.executable).with_name("eventide")
    with fresh_database("eventide_live") as database_url, log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(eventide), "serve"],
            env=_server_environment(data_dir, port, database_url),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(process, base, log)
            url = f"{base}/graphql"
            admin_token, api_token = _credentials(url)
            yield LiveServer(url=url, log=log, admin_token=admin_token, api_token=api_token)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
