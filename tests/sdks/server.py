"""A real ``eventide serve`` process that the SDK tests can kill and start again on the
same port, and the API calls that give each test a project and a token of its own.

PostgreSQL and Redis are the test servers when ``EVENTIDE_TEST_DATABASE_URL`` and
``EVENTIDE_TEST_REDIS_URL`` name them (a fresh database, a key prefix of its own), else
the server's embedded ones; ClickHouse is the embedded chdb in the server's data
directory, which a restart finds again.
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

from tests.processes import free_port, fresh_database

ADMIN_USERNAME = "sdk-admin"
ADMIN_PASSWORD = "sdk admin password"
_STARTUP_SECONDS = 90
EVENT_PAGE = 1000  # the API's largest page


class EventideProcess:
    """``eventide serve`` on a fixed port and data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/graphql"
        self.log = data_dir / "server.log"
        self._env = {**env, "EVENTIDE_PORT": str(self.port), "EVENTIDE_DATA_DIR": str(data_dir)}
        self._process: subprocess.Popen[bytes] | None = None
        self._admin_token: str | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self) -> None:
        eventide = Path(sys.executable).with_name("eventide")
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(eventide), "serve"], env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + _STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AssertionError(f"eventide serve exited:\n{self.log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"eventide serve was not ready:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no answer is finished, no connection closed politely."""
        assert self._process is not None
        self._process.kill()
        self._process.wait()

    def freeze(self) -> None:
        """SIGSTOP: requests sent from now on stay in flight, unanswered."""
        os.kill(self.pid, signal.SIGSTOP)

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def data(self, query: str, token: str | None = None, **variables: Any) -> Any:
        token = token or self.admin_token()
        response = httpx.post(
            self.url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        answer = response.json()
        assert "errors" not in answer, answer
        return answer["data"]

    def admin_token(self) -> str:
        if self._admin_token is None:
            response = httpx.post(
                self.url,
                json={
                    "query": "mutation($u: String!, $p: String!) "
                    "{ login(username: $u, password: $p) { accessToken } }",
                    "variables": {"u": ADMIN_USERNAME, "p": ADMIN_PASSWORD},
                },
                timeout=30,
            )
            self._admin_token = response.json()["data"]["login"]["accessToken"]
        return self._admin_token

    def new_tenant(self) -> Tenant:
        """A project of its own and an INGEST and READ token acting in it."""
        project = self.data(
            "mutation($n: String!) { createProject(input: {name: $n}) { id } }",
            n=f"sdk-{uuid.uuid4().hex[:8]}",
        )["createProject"]["id"]
        token = self.data(
            "mutation($p: ID!) { createApiToken(input: "
            '{name: "sdk", scopes: [INGEST, READ], projectId: $p}) { token } }',
            p=project,
        )["createApiToken"]["token"]
        return Tenant(server=self, project=project, token=token)


@dataclass(frozen=True)
class Tenant:
    server: EventideProcess
    project: str
    token: str

    def stored_events(self) -> list[dict[str, Any]]:
        """Every stored event of the project, through the ``events`` query."""
        events: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            page = self.server.data(
                "query($p: ID, $first: Int!, $after: String) { events(projectId: $p, "
                "first: $first, after: $after) { edges { node { eventId userId eventType "
                "occurredAt properties } } pageInfo { hasNextPage endCursor } } }",
                self.token,
                p=self.project,
                first=EVENT_PAGE,
                after=after,
            )["events"]
            events.extend(edge["node"] for edge in page["edges"])
            if not page["pageInfo"]["hasNextPage"]:
                return events
            after = page["pageInfo"]["endCursor"]

    def stored_ids(self) -> list[str]:
        return [event["eventId"] for event in self.stored_events()]


@contextlib.contextmanager
def running_server(data_dir: Path, **settings: str) -> Iterator[EventideProcess]:
    """A server with these EVENTIDE_* settings, on a database of its own."""
    with fresh_database("eventide_sdk") as database_url:
        env = server_environment(database_url, settings)
        server = EventideProcess(data_dir, env)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def server_environment(database_url: str | None, settings: dict[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("EVENTIDE_")}
    env.update(
        EVENTIDE_ENV="development",
        EVENTIDE_HOST="127.0.0.1",
        EVENTIDE_ADMIN_USERNAME=ADMIN_USERNAME,
        EVENTIDE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        EVENTIDE_ARCHIVE_INTERVAL_SECONDS="0",
        EVENTIDE_LOG_LEVEL="WARNING",
        **{f"EVENTIDE_{name.upper()}": value for name, value in settings.items()},
    )
    if database_url:
        env["EVENTIDE_DATABASE_URL"] = database_url
    if redis_url := os.environ.get("EVENTIDE_TEST_REDIS_URL"):
        env["EVENTIDE_REDIS_URL"] = redis_url
        env["EVENTIDE_REDIS_KEY_PREFIX"] = f"eventide-sdk-{uuid.uuid4().hex[:10]}:"
    return env


def closed_port_url() -> str:
    """A GraphQL URL on a loopback port where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/graphql"
