"""API tokens: create, list, validate and revoke."""

from __future__ import annotations

import datetime as dt

import strawberry

from eventide.auth import api_tokens
from eventide.auth.api_tokens import ApiTokenRecord, TokenState
from eventide.auth.ids import parse_id
from eventide.errors import InvalidInput, Unauthenticated
from eventide.graphql.accounts import UserType
from eventide.graphql.context import Info
from eventide.graphql.enums import Role, TokenScope
from eventide.graphql.permissions import signed_in
from eventide.storable import text_problem

MAX_NAME_LENGTH = 100
MAX_TTL_SECONDS = 10 * 366 * 24 * 3600


@strawberry.type(name="ApiToken")
class ApiTokenType:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(
        description="The first characters of the secret, safe to display."
    )
    scopes: list[TokenScope]
    created_at: dt.datetime
    expires_at: dt.datetime | None = strawberry.field(description="Null: never expires.")
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    owner_id: strawberry.Private[str]

    @strawberry.field
    async def owner(self, info: Info) -> UserType:
        user = await info.context.loaders.user.load(self.owner_id)
        assert user is not None, "a token row cascades away with its owner"
        return UserType.of(user)

    @classmethod
    def of(cls, record: ApiTokenRecord) -> ApiTokenType:
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            prefix=record.prefix,
            scopes=list(record.scopes),
            created_at=record.created_at,
            expires_at=record.expires_at,
            last_used_at=record.last_used_at,
            revoked_at=record.revoked_at,
            owner_id=record.user_id,
        )


@strawberry.type
class CreatedApiToken:
    token: str = strawberry.field(
        description="The secret; returned once, never stored in plain text."
    )
    api_token: ApiTokenType


@strawberry.type
class TokenValidation:
    valid: bool
    reason: str | None = strawberry.field(
        description="Null when valid; otherwise one of UNKNOWN, EXPIRED, REVOKED, OWNER_INACTIVE."
    )
    expires_at: dt.datetime | None


@strawberry.input
class CreateApiTokenInput:
    name: str
    scopes: list[TokenScope]
    ttl_seconds: int | None = strawberry.field(
        default=None, description="Lifetime in seconds; null means the token never expires."
    )


@strawberry.type
class ApiTokenQuery:
    @strawberry.field(
        extensions=signed_in(),
        description="The caller's own tokens; an admin sees every token.",
    )
    async def api_tokens(self, info: Info) -> list[ApiTokenType]:
        principal = info.context.principal
        assert principal is not None
        owner = None if principal.role is Role.ADMIN else principal.user_id
        records = await api_tokens.list_api_tokens(info.context.engines.db, user_id=owner)
        return [ApiTokenType.of(record) for record in records]

    @strawberry.field(description="Needs no credentials; tells only valid, reason and expiresAt.")
    async def validate_token(self, info: Info, token: str) -> TokenValidation:
        if not api_tokens.looks_like_api_token(token):
            return TokenValidation(valid=False, reason=TokenState.UNKNOWN.value, expires_at=None)
        check = await api_tokens.check_api_token(info.context.engines.db, secret=token)
        valid = check.state is TokenState.VALID
        return TokenValidation(
            valid=valid,
            reason=None if valid else check.state.value,
            expires_at=check.expires_at,
        )


@strawberry.type
class ApiTokenMutation:
    @strawberry.mutation(extensions=signed_in())
    async def create_api_token(self, info: Info, input: CreateApiTokenInput) -> CreatedApiToken:
        principal = info.context.principal
        assert principal is not None
        name = input.name.strip()
        if not 1 <= len(name) <= MAX_NAME_LENGTH:
            raise InvalidInput(f"Token name must be 1 to {MAX_NAME_LENGTH} characters")
        if problem := text_problem("Token name", name):
            raise InvalidInput(problem)
        if not input.scopes:
            raise InvalidInput("A token needs at least one scope")
        ttl = input.ttl_seconds
        if ttl is not None and not 1 <= ttl <= MAX_TTL_SECONDS:
            raise InvalidInput(f"ttlSeconds must be between 1 and {MAX_TTL_SECONDS}, or null")
        try:
            secret, record = await api_tokens.create_api_token(
                info.context.engines.db,
                user_id=principal.user_id,
                name=name,
                scopes=input.scopes,
                ttl_seconds=ttl,
            )
        except api_tokens.OwnerInactive:
            raise Unauthenticated("Session is no longer valid") from None
        return CreatedApiToken(token=secret, api_token=ApiTokenType.of(record))

    @strawberry.mutation(
        extensions=signed_in(),
        description="Revokes a token: the owner their own, an admin any. Revoking twice is fine.",
    )
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> bool:
        principal = info.context.principal
        assert principal is not None
        token_id = parse_id(id)
        db = info.context.engines.db
        record = await api_tokens.get_api_token(db, token_id=token_id) if token_id else None
        # Someone else's token gets the answer of an unknown id: its existence is not told.
        if (
            token_id is None
            or record is None
            or (record.user_id != principal.user_id and principal.role is not Role.ADMIN)
        ):
            raise InvalidInput("No such API token")
        await api_tokens.revoke_api_token(db, token_id=token_id)
        return True
