"""The authenticated caller of a request."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.Enum):
    USER = "USER"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        """A role may do whatever a role of lower rank may."""
        return 1 if self is Role.ADMIN else 0


class TokenScope(enum.Enum):
    INGEST = "INGEST"
    READ = "READ"


@dataclass(frozen=True, kw_only=True)
class Principal:
    """A signed-in user (JWT) or an API token acting as its owner within its scopes.

    ``project_id`` is the internal id of the one project an API token acts in; None for
    a user session, which names its project per field (``eventide.projects.access``).
    """

    user_id: str
    role: Role
    api_token_id: str | None = None
    scopes: frozenset[TokenScope] = field(default_factory=frozenset)
    project_id: int | None = None

    @property
    def is_api_token(self) -> bool:
        return self.api_token_id is not None

    @property
    def key(self) -> str:
        """Names the caller in logs and rate limits: the token, or the user of a session."""
        if self.api_token_id is not None:
            return f"token:{self.api_token_id}"
        return f"user:{self.user_id}"

    def holds(self, role: Role) -> bool:
        """A user session (never an API token) whose role is ``role`` or above."""
        return not self.is_api_token and self.role.rank >= role.rank

    def allows(self, scope: TokenScope) -> bool:
        """A user session may do everything its role allows; a token only its scopes."""
        return not self.is_api_token or scope in self.scopes
