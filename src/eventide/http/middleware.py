"""The middleware stack, outermost first."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from eventide.config import Settings
from eventide.http.deadlines import BodyDeadline
from eventide.http.guard import RequestGuard
from eventide.observability.requests import REQUEST_ID_HEADER, RequestContextMiddleware

GRAPHQL_PATH = "/graphql"
# What browser clients send besides the body's type and the credential: the CSRF headers
# (see guard.py), Apollo Client's identification, and distributed-tracing context
# (W3C Trace Context and Baggage, Sentry).
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "X-Eventide-CSRF",
    "Apollo-Require-Preflight",
    "X-Apollo-Operation-Name",
    "apollographql-client-name",
    "apollographql-client-version",
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
    REQUEST_ID_HEADER,
)


def http_middleware(settings: Settings) -> list[Middleware]:
    stack = [Middleware(RequestContextMiddleware)]
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=list(CORS_REQUEST_HEADERS),
                expose_headers=[
                    "RateLimit-Limit",
                    "RateLimit-Remaining",
                    "RateLimit-Reset",
                    "Retry-After",
                    REQUEST_ID_HEADER,
                ],
                max_age=600,
            )
        )
    stack.append(
        Middleware(
            BodyDeadline,
            idle_seconds=settings.request_body_idle_timeout_seconds,
            total_seconds=settings.request_body_timeout_seconds,
        )
    )
    stack.append(
        Middleware(
            RequestGuard, max_body_bytes=settings.body_limit_bytes, graphql_path=GRAPHQL_PATH
        )
    )
    return stack
