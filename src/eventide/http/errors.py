"""Refusals at the HTTP level, shaped like GraphQL errors so clients parse one format."""

from __future__ import annotations

from collections.abc import Mapping

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from eventide.graphql.context import Context

_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    503: "SERVICE_UNAVAILABLE",
}


def error_response(
    status: int, message: str, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    code = _CODES.get(status, "BAD_REQUEST")
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


class JsonErrorsGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view, answering its HTTP-level refusals in JSON, not plain text.

    Those are: a body that is not JSON, a batch (an array body; batching is off), a
    mutation sent with GET, a missing query, an unsupported content type.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response: Response
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            response = error_response(error.status_code, error.reason)
        await response(scope, receive, send)
