"""Accounts and sessions: signup, login, refresh, logout, profile and password."""

from __future__ import annotations

import datetime as dt

import strawberry

from eventide.auth import sessions, users
from eventide.auth.sessions import SessionTokens
from eventide.auth.users import UserRecord
from eventide.errors import Forbidden, InvalidInput, Unauthenticated
from eventide.graphql.context import Info
from eventide.graphql.enums import Role
from eventide.graphql.permissions import signed_in
from eventide.projects import signup


@strawberry.type(name="User")
class UserType:
    id: strawberry.ID
    username: str
    email: str | None
    role: Role
    is_active: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, record: UserRecord) -> UserType:
        return cls(
            id=strawberry.ID(record.id),
            username=record.username,
            email=record.email,
            role=record.role,
            is_active=record.is_active,
            created_at=record.created_at,
        )


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    token_type: str = strawberry.field(description='Always "Bearer".')
    expires_in: int = strawberry.field(description="Access token lifetime in seconds.")
    user: UserType

    @classmethod
    def of(cls, tokens: SessionTokens) -> AuthPayload:
        return cls(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_type="Bearer",  # noqa: S106  (the scheme name)
            expires_in=tokens.expires_in,
            user=UserType.of(tokens.user),
        )


@strawberry.input
class SignupInput:
    username: str
    email: str
    password: str
    invitation: str | None = strawberry.field(
        default=None,
        description=(
            "An invitation code from createInvitation: the new account joins that project "
            "with its role."
        ),
    )


@strawberry.input
class UpdateProfileInput:
    email: str | None = None


def client_address(info: Info) -> str:
    client = info.context.request.client
    return client.host if client else "unknown"


async def current_user(info: Info) -> UserRecord:
    """The signed-in caller's row (fields using it are guarded by ``signed_in()``)."""
    principal = info.context.principal
    assert principal is not None
    user = await info.context.loaders.user.load(principal.user_id)
    if user is None:
        raise Unauthenticated("Session is no longer valid")
    return user


@strawberry.type
class AccountQuery:
    @strawberry.field(extensions=signed_in(), description="The signed-in user.")
    async def me(self, info: Info) -> UserType:
        return UserType.of(await current_user(info))


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        description=(
            "Creates a USER account and signs it in: in a new project of its own, or in "
            "the project of the invitation."
        )
    )
    async def signup(self, info: Info, input: SignupInput) -> AuthPayload:
        tokens = await signup.sign_up(
            info.context.engines,
            username=input.username,
            email=input.email,
            password=input.password,
            invitation=input.invitation,
        )
        return AuthPayload.of(tokens)

    @strawberry.mutation
    async def login(self, info: Info, username: str, password: str) -> AuthPayload:
        tokens = await sessions.sign_in(
            info.context.engines,
            username=username,
            password=password,
            client=client_address(info),
        )
        return AuthPayload.of(tokens)

    @strawberry.mutation(name="refreshToken")
    async def refresh(self, info: Info, refresh_token: str) -> AuthPayload:
        tokens = await sessions.refresh_session(info.context.engines, refresh_token=refresh_token)
        return AuthPayload.of(tokens)

    @strawberry.mutation(
        description=(
            "Revokes the current access token and, if given, the refresh token's whole "
            "family. With only a refresh token (the access token may have expired), "
            "revokes its family."
        )
    )
    async def logout(self, info: Info, refresh_token: str | None = None) -> bool:
        context = info.context
        if context.principal is None and refresh_token is None:
            raise context.credential_error or Unauthenticated("Authentication required")
        if context.principal is not None and context.principal.is_api_token:
            raise Forbidden("API tokens cannot use this field")
        await sessions.sign_out(context.engines, access=context.access, refresh_token=refresh_token)
        return True

    @strawberry.mutation(
        extensions=signed_in(),
        description="Changes the password and ends every session of the user: sign in again.",
    )
    async def change_password(self, info: Info, current_password: str, new_password: str) -> bool:
        user = await current_user(info)
        await sessions.change_password(
            info.context.engines,
            user_id=user.id,
            current_password=current_password,
            new_password=new_password,
            client=client_address(info),
        )
        return True

    @strawberry.mutation(
        extensions=signed_in(),
        description="Updates the given fields; an omitted or null email is left unchanged.",
    )
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UserType:
        user = await current_user(info)
        if input.email is None:
            return UserType.of(user)
        email = input.email.strip()
        if problem := users.email_problem(email):
            raise InvalidInput(problem)
        updated = await users.set_email(info.context.engines.db, user_id=user.id, email=email)
        if updated is None:
            raise Unauthenticated("Session is no longer valid")
        return UserType.of(updated)
