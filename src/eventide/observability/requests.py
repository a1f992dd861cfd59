"""Request identity: an id for every request, echoed back, and one access log line."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eventide.observability.logs import RequestLog, current_request
from eventide.observability.metrics import HTTP_REQUESTS

logger = logging.getLogger("eventide.access")

REQUEST_ID_HEADER = "X-Request-Id"
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_ROUTES = ("/graphql", "/graphiql", "/metrics", "/health", "/ready")
_QUIET_ROUTES = ("/health", "/ready", "/metrics")


def _route(path: str) -> str:
    if path in _ROUTES:
        return path
    if path.startswith("/graphiql/"):
        return "/graphiql/assets"
    return "other"


class RequestContextMiddleware:
    """Accept a sane ``X-Request-Id`` or make one; log and count each request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if _CLIENT_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        log = RequestLog(request_id=request_id)
        token = current_request.set(log)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = _route(scope["path"])
            HTTP_REQUESTS.labels(route=route, status=str(status)).inc()
            logger.log(
                logging.DEBUG if route in _QUIET_ROUTES else logging.INFO,
                "%s %s %s",
                scope["method"],
                scope["path"],  # never the query string: it may carry variables
                status,
                extra={
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            current_request.reset(token)
