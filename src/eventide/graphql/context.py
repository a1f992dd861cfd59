"""The per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from eventide.auth.principal import Principal
from eventide.services import Services


@dataclass(kw_only=True)
class Context:
    request: Request
    response: Response
    services: Services
    # Set by get_context from the Authorization header; None for anonymous callers.
    principal: Principal | None = None


Info = StrawberryInfo[Context, None]
