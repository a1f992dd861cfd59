"""Bounds on how long a client may take to send a request.

Uvicorn waits for a request's headers and body as long as the client keeps the
connection open, so a few stalled connections could hold the server's sockets and
memory. Headers are bounded in the HTTP protocol (uvicorn offers no setting for it),
the body in the ASGI layer.
"""

from __future__ import annotations

import asyncio
import time

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from eventide.http.errors import error_response

_HEADERS_TIMEOUT_MESSAGE = "The request headers did not arrive in time"


class _BodyTimeout(Exception):
    pass


class BodyDeadline:
    """Answer 408 (and close) when a request body stalls.

    Each wait for the next part of the body is bounded by ``idle_seconds``, the whole
    body by ``total_seconds`` from the first wait, so neither a body announced and never
    sent nor one trickling a byte at a time holds a connection for longer.
    """

    def __init__(self, app: ASGIApp, *, idle_seconds: float, total_seconds: float) -> None:
        self.app = app
        self.idle_seconds = idle_seconds
        self.total_seconds = total_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline: float | None = None
        body_done = False
        started = False

        async def bounded_receive() -> Message:
            nonlocal deadline, body_done
            if body_done:  # only the disconnect is left to wait for: no bound
                return await receive()
            now = time.monotonic()
            if deadline is None:
                deadline = now + self.total_seconds
            try:
                # A deadline on this task, not a task of its own as wait_for would make
                # for every part of every body.
                async with asyncio.timeout(min(self.idle_seconds, deadline - now)):
                    message = await receive()
            except TimeoutError:
                raise _BodyTimeout from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except _BodyTimeout:
            if started:  # nothing else can be said; the server closes the connection
                raise
            response = error_response(
                408,
                "The request body did not arrive in time; send it without pauses.",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol, closing a connection whose request headers do not
    arrive within ``header_timeout`` seconds: from the connection's start, or from the
    first byte of each further request on it (idle keep-alive connections are closed by
    uvicorn's own ``timeout_keep_alive``). A request begun but not finished gets a 408
    first; a connection that sent nothing is just closed."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None
    _request_begun = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._request_begun = True
        if self._header_timer is None:
            self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        self._request_begun = False
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm_header_deadline(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._request_begun:
            self.transport.write(_raw_408())
        self.transport.close()


def _raw_408() -> bytes:
    body = orjson.dumps(
        {
            "errors": [
                {"message": _HEADERS_TIMEOUT_MESSAGE, "extensions": {"code": "REQUEST_TIMEOUT"}}
            ]
        }
    )
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def header_deadline_protocol(seconds: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class to give uvicorn (its ``http`` option)."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": seconds})
