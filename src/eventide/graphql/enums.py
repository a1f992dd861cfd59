"""The caller enums of :mod:`eventide.auth.principal`, exposed as GraphQL enums.

Registering them here, once, lets every module annotate fields with the same
``Role`` and ``TokenScope`` classes the permission checks compare against.
"""

from __future__ import annotations

import strawberry

from eventide.auth.principal import Role, TokenScope

__all__ = ["Role", "TokenScope"]

strawberry.enum(Role, name="Role")
strawberry.enum(TokenScope, name="TokenScope")
