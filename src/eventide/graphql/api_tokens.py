"""API tokens: create, list, validate and revoke."""

from __future__ import annotations

import datetime as dt

import strawberry

from eventide.auth import api_tokens
from eventide.auth.api_tokens import ApiTokenRecord, TokenState
from eventide.graphql.accounts import UserType
from eventide.graphql.context import Info
from eventide.graphql.enums import TokenScope
from eventide.graphql.permissions import signed_in, signed_in_principal
from eventide.graphql.projects import ProjectType
from eventide.projects import access, tokens
from eventide.projects.service import ProjectView


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
    project_id: strawberry.Private[int]

    @strawberry.field(description="The one project this token acts in.")
    async def project(self, info: Info) -> ProjectType:
        loaders = info.context.loaders
        project = await loaders.project.load(self.project_id)
        if project is None:
            raise access.not_found()  # deleted during this request
        principal = signed_in_principal(info)
        role = await loaders.role.load((self.project_id, principal.user_id))
        return ProjectType.of(ProjectView(project=project, my_role=role))

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
            project_id=record.project_id,
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
    project_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The project the token acts in; omitted: the caller's default project (SEMANTICS.md)."
        ),
    )


@strawberry.type
class ApiTokenQuery:
    @strawberry.field(
        extensions=signed_in(),
        description=(
            "The caller's own tokens and every token of the projects where the caller is "
            "EDITOR or OWNER; an admin sees every token."
        ),
    )
    async def api_tokens(self, info: Info) -> list[ApiTokenType]:
        records = await tokens.visible_tokens(info.context.engines, signed_in_principal(info))
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
        secret, record = await tokens.create_token(
            info.context.engines,
            signed_in_principal(info),
            input.project_id,
            name=input.name,
            scopes=input.scopes,
            ttl_seconds=input.ttl_seconds,
        )
        return CreatedApiToken(token=secret, api_token=ApiTokenType.of(record))

    @strawberry.mutation(
        extensions=signed_in(),
        description=(
            "Revokes a token: the owner their own, a project's EDITORs and OWNERs its tokens, "
            "an admin any. Revoking twice is fine."
        ),
    )
    async def revoke_api_token(self, info: Info, id: strawberry.ID) -> bool:
        await tokens.revoke_token(info.context.engines, signed_in_principal(info), id)
        return True
