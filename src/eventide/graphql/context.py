"""The per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from eventide.auth.jwt_tokens import AccessClaims
from eventide.auth.principal import Principal
from eventide.errors import EventideError
from eventide.graphql.loaders import Loaders
from eventide.storage.engines import Engines

if TYPE_CHECKING:
    from eventide.graphql.persisted_queries import Registration


@dataclass(kw_only=True)
class Context:
    request: Request
    response: Response
    engines: Engines
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
