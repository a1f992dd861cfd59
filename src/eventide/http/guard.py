"""Refuse oversized bodies and cross-site form posts before any parsing."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eventide.http.errors import error_response

CSRF_HEADERS = (b"x-eventide-csrf", b"apollo-require-preflight", b"x-apollo-operation-name")
# Content types a browser may send cross-site without a CORS preflight.
_SIMPLE_CONTENT_TYPES = (
    "",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
)
_BODY_METHODS = ("POST", "PUT", "PATCH")


class RequestGuard:
    """Cap request bodies at ``max_body_bytes`` (413) and block CSRF on ``graphql_path``.

    A POST whose content type a cross-site form could send is refused (400) unless it
    carries one of :data:`CSRF_HEADERS`: a browser only sends custom headers after a
    CORS preflight, which foreign origins do not pass.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, graphql_path: str) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if scope["path"] == self.graphql_path and _looks_cross_site(headers):
            response = error_response(
                400,
                "This request was blocked as a possible cross-site request forgery: send "
                "Content-Type: application/json, or a non-empty X-Eventide-CSRF header.",
            )
            await response(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_body_bytes
        response = error_response(
            413,
            f"The request body exceeds the limit of {limit} bytes ({limit / 2**20:.3g} MiB); "
            "send smaller batches, or raise EVENTIDE_MAX_BODY_BYTES on the server.",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _looks_cross_site(headers: dict[bytes, bytes]) -> bool:
    if any(headers.get(name, b"").strip() for name in CSRF_HEADERS):
        return False
    content_type = headers.get(b"content-type", b"").decode("latin-1")
    return content_type.split(";", 1)[0].strip().lower() in _SIMPLE_CONTENT_TYPES
