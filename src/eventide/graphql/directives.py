"""``@requiresRole``: the schema directive that documents a role check, and the check.

Put ``extensions=admin_only()`` (or ``requires_role(role)``) on a field: Strawberry's
permission extension runs :class:`HasRole` before the resolver and prints the
permission's schema directive, ``@requiresRole(role: ...)``, on the field, so the
directive in the SDL and the check cannot drift apart. Without credentials the field
answers UNAUTHENTICATED; with a lesser role, or with any API token, FORBIDDEN.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types.field import StrawberryField

from eventide.errors import Forbidden
from eventide.graphql.context import Info
from eventide.graphql.enums import Role
from eventide.graphql.permissions import signed_in_principal


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresRole",
    description="Only callers signed in with this role (or a higher one) may use the field.",
)
class RequiresRole:
    role: Role


class HasRole(BasePermission):
    """A user session (never an API token) whose role is ``role`` or above."""

    def __init__(self, role: Role) -> None:
        self.role = role
        self._directive = RequiresRole(role=role)

    @property
    def schema_directive(self) -> object:
        return self._directive

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not signed_in_principal(info).holds(self.role):
            raise Forbidden(f"This field requires the {self.role.value} role")
        return True


def requires_role(role: Role) -> list[FieldExtension]:
    """``extensions=`` for a field only callers signed in with ``role`` may use."""
    return [PermissionExtension(permissions=[HasRole(role)])]


def admin_only() -> list[FieldExtension]:
    """``extensions=`` for a field only administrators may use."""
    return requires_role(Role.ADMIN)


def required_role(field: StrawberryField) -> Role | None:
    """The role the field's ``@requiresRole`` names, if it has one."""
    roles = [d.role for d in field.directives if isinstance(d, RequiresRole)]
    return max(roles, key=lambda role: role.rank) if roles else None
