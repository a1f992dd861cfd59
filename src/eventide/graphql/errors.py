"""API errors with the machine-readable codes of the contract."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class ApiError(GraphQLError):
    """An error a client can act on; ``code`` lands in ``extensions.code``."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    code = "FORBIDDEN"


class Conflict(ApiError):
    code = "CONFLICT"


class RateLimited(ApiError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retryAfter=retry_after)


class ServiceUnavailable(ApiError):
    """An engine is down; the client may retry later."""

    code = "SERVICE_UNAVAILABLE"


class InternalServerError(ApiError):
    """What a client is told about a failure it cannot act on; details go to the log."""

    code = "INTERNAL_SERVER_ERROR"


INTERNAL_ERROR_MESSAGE = "Internal server error"
