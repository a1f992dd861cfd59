"""Refusals at the HTTP level, shaped like GraphQL errors so clients parse one format."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

from eventide.observability.metrics import OPERATIONS, operation_label

_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    503: "SERVICE_UNAVAILABLE",
}


def error_response(
    status: int, message: str, *, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    code = refusal_code(status)
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


def refusal_code(status: int) -> str:
    return _CODES.get(status, "BAD_REQUEST")


def count_refusal(status: int) -> None:
    """Count a GraphQL request refused before it became an operation, by its code."""
    OPERATIONS.labels(operation=operation_label(None), outcome=refusal_code(status)).inc()
