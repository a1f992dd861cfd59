"""Where every error gets its ``extensions.code``: the one mapping of errors to the API.

Services and resolvers raise the domain errors of :mod:`eventide.errors`; graphql-core
and Strawberry wrap them (and anything else raised) in a ``GraphQLError``, which
:func:`classify` gives the contract's code. Unexpected errors are masked.
"""

from __future__ import annotations

import logging

from graphql import GraphQLError

from eventide.errors import EventideError, Unavailable
from eventide.storage.outages import unavailable_engine

logger = logging.getLogger("eventide.errors")
# How graphql-core words a variable, and a literal, that its type's scalar refused.
_LITERAL_COERCION = "Expected value of type "

INTERNAL_ERROR_MESSAGE = "Internal server error"


class InternalServerError(EventideError):
    """What a client is told about a failure it cannot act on; details go to the log."""

    code = "INTERNAL_SERVER_ERROR"


def classify(error: GraphQLError, *, executing: bool) -> None:
    """Set ``error.extensions['code']`` in place; hide internals of unexpected errors.

    ``executing`` tells errors of execution (variable values are coerced there) from
    those of parsing and validation, which come before it.
    """
    original = error.original_error
    extensions = dict(error.extensions or {})
    if isinstance(original, EventideError):
        extensions.update(original.extensions)
    elif error.path is None and executing and error.message.startswith("Variable '$"):
        # The variables' values are wrong. Their coercion errors may carry the scalar's
        # own ValueError, whose message is ours and safe.
        extensions.setdefault("code", "BAD_USER_INPUT")
    elif (
        error.path is None
        and not executing
        and (original is None or error.message.startswith(_LITERAL_COERCION))
    ):
        # The document is wrong: every validation rule alike, an unused or undefined
        # variable too, however its message begins, and a literal its scalar refuses
        # (whose ValueError message is ours and safe).
        extensions.setdefault("code", _document_error_code(error.message))
    elif original is not None:
        # Raised by a resolver, or (without a path) by a hook around execution.
        answer = client_error(original, where=".".join(str(p) for p in error.path or ()))
        error.message = answer.message
        extensions = dict(answer.extensions)
    else:
        extensions.setdefault("code", "INTERNAL_SERVER_ERROR")
    error.extensions = extensions


def client_error(error: Exception, *, where: str) -> EventideError:
    """What a client is told about an exception that is not an :class:`EventideError`.

    An engine out of reach is SERVICE_UNAVAILABLE, worth a retry; anything else is
    masked. Either way the message may carry SQL, an address or a secret: the detail
    goes to the log only.
    """
    if engine := unavailable_engine(error):
        logger.warning(
            "%s unavailable in %s: %s: %s",
            engine,
            where or "operation",
            type(error).__name__,
            error,
        )
        return Unavailable(f"{engine} is unavailable, retry later")
    logger.error("unexpected error in %s", where or "operation", exc_info=error)
    return InternalServerError(INTERNAL_ERROR_MESSAGE)


def _document_error_code(message: str) -> str:
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    return "GRAPHQL_VALIDATION_FAILED"
