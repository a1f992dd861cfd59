"""A schemathesis check for /graphql: no answer reports a failure of the server.

Schemathesis's own ``not_a_server_error`` counts every GraphQL error that is not a
validation error as a server failure, ``UNAUTHENTICATED`` and ``BAD_USER_INPUT``
included. The server's own failures are a 5xx status and ``INTERNAL_SERVER_ERROR``, the
code of every unexpected exception (a bug); those are what this check refuses.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.check
def no_internal_error(ctx: Any, response: Any, case: Any) -> None:
    """Neither a 5xx status nor an INTERNAL_SERVER_ERROR in the GraphQL errors."""
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}: {response.text[:500]}")
    try:
        body = json.loads(response.text)
    except ValueError as error:
        raise AssertionError(f"not JSON: {response.text[:500]}") from error
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    internal = [
        error
        for error in errors
        if isinstance(error, dict)
        and (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
    ]
    if internal:
        raise AssertionError(f"INTERNAL_SERVER_ERROR: {json.dumps(internal)[:500]}")
