"""Give every error an ``extensions.code`` and mask the unexpected ones."""

from __future__ import annotations

import logging

from graphql import GraphQLError

from eventide.graphql.errors import INTERNAL_ERROR_MESSAGE, ApiError

logger = logging.getLogger("eventide.errors")


def classify(error: GraphQLError) -> None:
    """Set ``error.extensions['code']`` in place; hide internals of unexpected errors."""
    original = error.original_error
    extensions = dict(error.extensions or {})
    if isinstance(original, ApiError):
        extensions.update(original.extensions or {})
    elif error.path is None:
        # Before execution: the document or the variables are wrong. Coercion errors of
        # variables carry the scalar's own ValueError, whose message is ours and safe.
        extensions.setdefault("code", _document_error_code(error.message))
    elif original is not None:
        # The message may carry SQL, a stack or a secret: log it here, answer generically.
        logger.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or ()) or "operation",
            exc_info=original,
        )
        error.message = INTERNAL_ERROR_MESSAGE
        extensions = {"code": "INTERNAL_SERVER_ERROR"}
    else:
        extensions.setdefault("code", "INTERNAL_SERVER_ERROR")
    error.extensions = extensions


def _document_error_code(message: str) -> str:
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"
