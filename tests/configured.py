"""Engines, and a client on an app, whose settings differ from the session's (tiny
limits, production, retention)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx

from eventide.app import create_app
from eventide.storage.engines import Engines
from tests.graphql_client import GraphQLClient


def configured_engines(engines: Engines, **overrides: Any) -> Engines:
    """The session's engines under ``engines.settings`` changed by ``overrides``."""
    return dataclasses.replace(engines, settings=dataclasses.replace(engines.settings, **overrides))


@contextlib.asynccontextmanager
async def configured_client(
    engines: Engines, *, address: str = "203.0.113.7", **overrides: Any
) -> AsyncIterator[GraphQLClient]:
    """The session's engines under ``engines.settings`` changed by ``overrides``."""
    configured = configured_engines(engines, **overrides)
    app = create_app(configured.settings)
    app.state.engines = configured
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://eventide.test") as http:
        yield GraphQLClient(http)
