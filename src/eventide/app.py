"""The Starlette application: routes, and a lifespan that owns the engines."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from eventide.archive.expiry import retention_removal
from eventide.archive.schedule import scheduled_archiving
from eventide.auth.bootstrap import bootstrap_admin
from eventide.auth.purge import token_purging
from eventide.config import Settings, load_settings
from eventide.console import Console, wants_page
from eventide.graphiql import graphiql_routes
from eventide.graphql.schema import schema
from eventide.graphql.view import GraphQLView
from eventide.http.errors import error_response
from eventide.http.middleware import http_middleware
from eventide.ingest.pruning import ledger_pruning
from eventide.lifecycle.completion import erasure_completion
from eventide.live.broker import live_events
from eventide.observability.metrics import metrics_endpoint
from eventide.projects.purge import project_purging
from eventide.storage.engines import Engines, open_engines

# Net allocations of tracked objects (dicts, lists, ...) between collections of the
# youngest generation; Python's default is 700.
_YOUNG_COLLECTION_THRESHOLD = 20_000


async def health(request: Request) -> PlainTextResponse:
    """Liveness: the process answers; touches no engine."""
    return PlainTextResponse("ok")


async def ready(request: Request) -> JSONResponse:
    """Readiness: 200 when PostgreSQL, ClickHouse and Redis all answer, else 503."""
    engines: Engines = request.app.state.engines
    status = await engines.readiness()
    return JSONResponse(status, status_code=200 if all(status.values()) else 503)


def http_error_handler(console: Console) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def http_error(request: Request, error: Exception) -> Response:
        """Starlette's own refusals (no such route, a method the route does not take), in
        the JSON error shape of every other refusal instead of plain text. A browser
        opening a path of no route gets the console, whose own router shows that page."""
        assert isinstance(error, HTTPException)
        if error.status_code == 404 and wants_page(request):
            return console.page()
        return error_response(error.status_code, error.detail, headers=error.headers)

    return http_error


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            open_engines(settings) as engines,
            ledger_pruning(engines),
            scheduled_archiving(engines),
            project_purging(engines),
            retention_removal(engines),
            erasure_completion(engines),
            live_events(engines) as live,
        ):
            await bootstrap_admin(engines)
            async with token_purging(engines):
                app.state.engines = engines
                app.state.live = live
                # What startup built lives as long as the process; frozen, it is no longer
                # rescanned by every full collection (milliseconds per large request).
                gc.freeze()
                # A batch's containers (a few per event) all die with its request: with
                # the first collection due only after more than a few batches' worth of
                # them, they are freed by their counts instead of being scanned while
                # alive, and promoted to be scanned again (0.4 ms per 1,000 events).
                gc.set_threshold(_YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
                yield

    # The IDE is served at /graphiql from local assets; strawberry's loads from a CDN.
    # Subscriptions are served over WebSocket with graphql-transport-ws only (the older
    # subscriptions-transport-ws protocol is unmaintained).
    graphql = GraphQLView(
        schema, graphql_ide=None, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,)
    )
    console = Console(settings.console_assets_dir)
    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *graphiql_routes(settings.graphiql_assets_dir),
            *console.routes(),
        ],
        middleware=http_middleware(settings),
        exception_handlers={HTTPException: http_error_handler(console)},
        lifespan=lifespan,
    )
