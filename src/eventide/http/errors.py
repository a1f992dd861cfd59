"""Refusals at the HTTP level, shaped like GraphQL errors so clients parse one format."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

from eventide.observability.metrics import HTTP_REFUSALS

_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    503: "SERVICE_UNAVAILABLE",
}


def error_response(
    status: int, message: str, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    code = _CODES.get(status, "BAD_REQUEST")
    HTTP_REFUSALS.labels(code=code).inc()
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)
