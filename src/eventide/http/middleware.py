"""The middleware stack, outermost first."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from eventide.config import Settings
from eventide.http.guard import RequestGuard
from eventide.observability.requests import REQUEST_ID_HEADER, RequestContextMiddleware

GRAPHQL_PATH = "/graphql"


def http_middleware(settings: Settings) -> list[Middleware]:
    stack = [Middleware(RequestContextMiddleware)]
    if settings.cors_origins:
        stack.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=[
                    "Authorization",
                    "Content-Type",
                    "X-Eventide-CSRF",
                    REQUEST_ID_HEADER,
                ],
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
            RequestGuard, max_body_bytes=settings.body_limit_bytes, graphql_path=GRAPHQL_PATH
        )
    )
    return stack
