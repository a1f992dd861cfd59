"""Fields about the server itself."""

from __future__ import annotations

import strawberry

from eventide import __version__


@strawberry.type
class SystemQuery:
    @strawberry.field(description="The server's version.")
    def version(self) -> str:
        return __version__
