"""The per-request context every resolver receives as ``info.context``: of an HTTP
request, or of a WebSocket connection (all of its operations share it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from eventide.auth.jwt_tokens import AccessClaims
from eventide.auth.principal import Principal
from eventide.errors import EventideError
from eventide.graphql.loaders import Loaders
from eventide.live.broker import Live
from eventide.storage.engines import Engines

if TYPE_CHECKING:
    from eventide.graphql.persisted_queries import Registration


@dataclass(kw_only=True)
class Context:
    # A Request, or the WebSocket of a connection; for a WebSocket, ``response`` only
    # collects headers that nobody reads (there is no HTTP response to carry them).
    request: HTTPConnection
    response: Response
    engines: Engines
    live: Live | None = None
    # A WebSocket connection's ``connection_init`` payload (where its credentials are).
    connection_params: dict[str, object] | None = None
    # Set by get_context from the Authorization header; None for anonymous callers.
    principal: Principal | None = None
    # Why the presented credentials were refused; guarded fields raise it.
    credential_error: EventideError | None = None
    # The decoded access token of a user session (logout revokes it).
    access: AccessClaims | None = None
    loaders: Loaders = field(default_factory=Loaders)
    # A document sent with its persisted-query hash, stored once it is about to run.
    persisted_query: Registration | None = None
    # The operation's cost in points (set before it runs), and the projects it was
    # charged to: each project's budget pays once per operation.
    operation_cost: int = 1
    charged_projects: set[int] = field(default_factory=set)


Info = StrawberryInfo[Context, None]
