"""Field permissions as small classes; each raises the contract's error code."""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from eventide.auth.principal import Principal, TokenScope
from eventide.errors import Forbidden, Unauthenticated
from eventide.graphql.context import Info


def _principal(info: Info) -> Principal:
    principal = info.context.principal
    if principal is None:
        # Refused credentials stay refused: they never fall back to anonymous.
        raise info.context.credential_error or Unauthenticated("Authentication required")
    return principal


def signed_in_principal(info: Info) -> Principal:
    """The caller, a user with a session token (JWT); API tokens are refused."""
    principal = _principal(info)
    if principal.is_api_token:
        raise Forbidden("API tokens cannot use this field")
    return principal


class SignedIn(BasePermission):
    """Any signed-in user with a session token (JWT); API tokens are refused."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        signed_in_principal(info)
        return True


class Scoped(BasePermission):
    """A signed-in user, or an API token holding ``scope``."""

    def __init__(self, scope: TokenScope) -> None:
        self.scope = scope

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not _principal(info).allows(self.scope):
            raise Forbidden(f"This API token lacks the {self.scope.value} scope")
        return True


def signed_in() -> list[FieldExtension]:
    """``extensions=`` for a field that needs a user session."""
    return [PermissionExtension(permissions=[SignedIn()], use_directives=False)]


def scoped(scope: TokenScope) -> list[FieldExtension]:
    """``extensions=`` for a field open to users and to API tokens with ``scope``."""
    return [PermissionExtension(permissions=[Scoped(scope)], use_directives=False)]
