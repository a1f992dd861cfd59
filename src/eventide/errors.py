"""The errors services raise, each naming what the client should do about it.

Services know nothing of GraphQL or HTTP: they raise these, and the API layer turns
each into the contract's ``extensions.code`` in one place
(:func:`eventide.graphql.errors.classify`). ``code`` is that code; ``extensions`` carries
whatever else the client is told (``retryAfter``).
"""

from __future__ import annotations

from typing import Any, ClassVar


class EventideError(Exception):
    """An error a client can act on; its message is safe to show to the client."""

    code: ClassVar[str] = "BAD_USER_INPUT"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class InvalidInput(EventideError):
    """An argument is not acceptable; sending it again will not help."""

    code = "BAD_USER_INPUT"


class Unauthenticated(EventideError):
    """No credentials, or credentials that are not (or no longer) valid."""

    code = "UNAUTHENTICATED"


class Forbidden(EventideError):
    """Valid credentials that do not allow this."""

    code = "FORBIDDEN"


class NotFound(EventideError):
    """Nothing the caller may see goes by that name or id."""

    code = "NOT_FOUND"


class Conflict(EventideError):
    """The request contradicts what is stored (a name already taken)."""

    code = "CONFLICT"


class RateLimited(EventideError):
    """A budget is used up; ``retry_after`` seconds from now it admits the request."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retryAfter=retry_after)
        self.retry_after = retry_after


class Unavailable(EventideError):
    """An engine is out of reach; the same request may succeed later."""

    code = "SERVICE_UNAVAILABLE"


class PersistedQueryNotFound(EventideError):
    """A persisted query's hash without its document, and no document stored under it:
    the client sends the hash again with the document."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        # The message is the protocol's: Apollo clients match on it as well as on the code.
        super().__init__("PersistedQueryNotFound")


class QueryTimeout(EventideError):
    """The work ran past its time limit and was cancelled."""

    code = "QUERY_TIMEOUT"
