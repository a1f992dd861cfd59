"""``@requiresRole``: the schema directive that both documents and guards a field.

Put ``directives=[RequiresRole(role=Role.ADMIN)]`` on a field and nothing else: when the
schema is built, :func:`guard_role_fields` gives every field carrying the directive a
permission check. Without credentials the field answers UNAUTHENTICATED; with another
role, or with any API token, FORBIDDEN.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import strawberry
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location
from strawberry.types.base import (
    StrawberryContainer,
    StrawberryObjectDefinition,
    get_object_definition,
)
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.union import StrawberryUnion

from eventide.errors import Forbidden
from eventide.graphql.context import Info
from eventide.graphql.enums import Role
from eventide.graphql.permissions import SignedIn

# An admin may do whatever a user may.
_RANK = {Role.USER: 0, Role.ADMIN: 1}


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

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        SignedIn().has_permission(source, info)
        principal = info.context.principal
        assert principal is not None
        if _RANK[principal.role] < _RANK[self.role]:
            raise Forbidden(f"This field requires the {self.role.value} role")
        return True


def required_role(field: StrawberryField) -> Role | None:
    roles = [d.role for d in field.directives if isinstance(d, RequiresRole)]
    return max(roles, key=_RANK.__getitem__) if roles else None


def guard_role_fields(*roots: type | None) -> None:
    """Attach the role check to every field, reachable from ``roots``, that has the directive."""
    for definition in _object_types(roots):
        for field in definition.fields:
            role = required_role(field)
            if role is None or any(isinstance(e, _RoleGuard) for e in field.extensions):
                continue
            field.extensions.append(_RoleGuard(role))


class _RoleGuard(PermissionExtension):
    def __init__(self, role: Role) -> None:
        super().__init__(permissions=[HasRole(role)], use_directives=False)


def _object_types(roots: tuple[type | None, ...]) -> Iterator[StrawberryObjectDefinition]:
    seen: set[str] = set()
    pending: list[Any] = [root for root in roots if root is not None]
    while pending:
        definition = get_object_definition(_unwrap(pending.pop()))
        if definition is None or definition.name in seen:
            continue
        seen.add(definition.name)
        yield definition
        for field in definition.fields:
            pending.append(field.type)
            if isinstance(field.type, StrawberryUnion):
                pending.extend(field.type.types)


def _unwrap(type_: Any) -> Any:
    while True:
        if isinstance(type_, StrawberryContainer):
            type_ = type_.of_type
        elif isinstance(type_, LazyType):
            type_ = type_.resolve_type()
        else:
            return type_
