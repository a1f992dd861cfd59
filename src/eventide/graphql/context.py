"""The per-request context every resolver receives as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from eventide.services import Services


@dataclass(kw_only=True)
class Context:
    request: Request
    response: Response
    services: Services


Info = StrawberryInfo[Context, None]
