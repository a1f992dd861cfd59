"""Live servers for the SDK tests: one with the default limits, and a strict one whose
small rate limit and body limit the SDKs must cope with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.processes import free_port
from tests.sdks.server import EventideProcess, Tenant, running_server

# The strict server: 600 events a minute per token (10 a second, so a 10-event batch
# waits about 1 s for room), and bodies of at most 4 KiB.
STRICT_EVENTS_PER_MINUTE = 600
STRICT_MAX_BATCH = 10
STRICT_BODY_BYTES = 4096
# The origin of the browser tests' page (tests/sdks/test_js_sdk.py): cross-origin to the
# server, which lists it in EVENTIDE_CORS_ORIGINS, and on loopback like it (Chromium
# refuses requests from other address spaces to loopback).
APP_ORIGIN = f"http://localhost:{free_port()}"


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventideProcess]:
    with running_server(
        tmp_path_factory.mktemp("sdk-server"),
        rate_limit_events="0",
        rate_limit_query_points="0",
        cors_origins=APP_ORIGIN,
    ) as live:
        yield live


@pytest.fixture(scope="package")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventideProcess]:
    with running_server(
        tmp_path_factory.mktemp("sdk-strict-server"),
        rate_limit_events=str(STRICT_EVENTS_PER_MINUTE),
        max_batch_events=str(STRICT_MAX_BATCH),
        max_body_bytes=str(STRICT_BODY_BYTES),
        rate_limit_query_points="0",
    ) as live:
        yield live


@pytest.fixture
def tenant(server: EventideProcess) -> Tenant:
    return server.new_tenant()


@pytest.fixture
def strict_tenant(strict_server: EventideProcess) -> Tenant:
    return strict_server.new_tenant()
