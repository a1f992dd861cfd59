"""Administration of accounts and tokens; every field requires the ADMIN role."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable
from typing import TypeVar

import strawberry

from eventide.auth import administration, users
from eventide.auth.ids import parse_id
from eventide.auth.purge import purge_expired_tokens
from eventide.auth.users import UserRecord
from eventide.errors import InvalidInput
from eventide.graphql.accounts import UserType
from eventide.graphql.context import Info
from eventide.graphql.directives import admin_only
from eventide.graphql.enums import Role
from eventide.graphql.pagination import PageInfo, check_page_size, decode_cursor, encode_cursor

T = TypeVar("T")

_CURSOR_KIND = "users"


@strawberry.type
class UserEdge:
    cursor: str
    node: UserType


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo


def _cursor(user: UserRecord) -> str:
    return encode_cursor(_CURSOR_KIND, user.created_at.isoformat(), user.id)


def _position(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    created_at, user_id = decode_cursor(_CURSOR_KIND, cursor, (str, str))
    try:
        at = dt.datetime.fromisoformat(created_at)
        if at.tzinfo is not None:
            at.astimezone(dt.UTC)  # overflows past the calendar's ends
    except (ValueError, OverflowError):
        raise InvalidInput("Invalid cursor") from None
    parsed = parse_id(user_id)
    if parsed is None or at.tzinfo is None:
        raise InvalidInput("Invalid cursor")
    return at, parsed


def _user_id(value: strawberry.ID) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise InvalidInput("No such user")
    return parsed


@strawberry.type
class AdminQuery:
    @strawberry.field(extensions=admin_only(), description="Every account, oldest first.")
    async def users(self, info: Info, first: int = 50, after: str | None = None) -> UserConnection:
        check_page_size(first)
        position = _position(after) if after is not None else None
        # One row more than asked tells whether another page exists.
        rows = await users.list_users(info.context.engines.db, limit=first + 1, after=position)
        page = rows[:first]
        edges = [UserEdge(cursor=_cursor(user), node=UserType.of(user)) for user in page]
        return UserConnection(
            edges=edges,
            page_info=PageInfo.forward([e.cursor for e in edges], has_next_page=len(rows) > first),
        )


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        extensions=admin_only(), description="Deletes expired and revoked tokens; returns how many."
    )
    async def purge_expired_tokens(self, info: Info) -> int:
        return await purge_expired_tokens(info.context.engines)

    @strawberry.mutation(extensions=admin_only())
    async def set_user_role(self, info: Info, user_id: strawberry.ID, role: Role) -> UserType:
        db = info.context.engines.db
        user = await _administer(administration.set_role(db, user_id=_user_id(user_id), role=role))
        return UserType.of(user)

    @strawberry.mutation(
        extensions=admin_only(),
        description="Deactivation makes every token of the user fail at once.",
    )
    async def set_user_active(self, info: Info, user_id: strawberry.ID, active: bool) -> UserType:
        db = info.context.engines.db
        change = administration.set_active(db, user_id=_user_id(user_id), active=active)
        return UserType.of(await _administer(change))

    @strawberry.mutation(
        extensions=admin_only(),
        description="Removes the account and its tokens; its events stay.",
    )
    async def delete_user(self, info: Info, user_id: strawberry.ID) -> bool:
        db = info.context.engines.db
        return await _administer(administration.delete_user(db, user_id=_user_id(user_id)))


async def _administer(change: Awaitable[T | None]) -> T:
    """Run an account change; a missing account is the caller's error."""
    result = await change
    if not result:
        raise InvalidInput("No such user")
    return result
