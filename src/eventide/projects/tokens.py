"""API tokens of projects: each acts in one project, managed by its EDITORs.

A token is created in a project where the caller is at least EDITOR. Listing shows the
caller's own tokens and every token of the projects where the caller is at least
EDITOR (an ADMIN: every token); revoking is open to the token's owner, to those
EDITORs and OWNERs, and to ADMINs. Tokens of a
deleted project are gone.
"""

from __future__ import annotations

from eventide.auth import api_tokens
from eventide.auth.api_tokens import ApiTokenRecord
from eventide.auth.ids import parse_id
from eventide.auth.principal import Principal, Role, TokenScope
from eventide.errors import InvalidInput, Unauthenticated
from eventide.projects import access, store
from eventide.projects.roles import MANAGES_TOKENS
from eventide.storable import text_problem
from eventide.storage.engines import Engines

MAX_NAME_LENGTH = 100
MAX_TTL_SECONDS = 10 * 366 * 24 * 3600
NO_SUCH_TOKEN = "No such API token"  # noqa: S105  (a message, not a secret)


async def create_token(
    engines: Engines,
    principal: Principal,
    project_id: str | None,
    *,
    name: str,
    scopes: list[TokenScope],
    ttl_seconds: int | None,
) -> tuple[str, ApiTokenRecord]:
    """The secret (shown once) and the token, acting in the caller's project."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidInput(f"Token name must be 1 to {MAX_NAME_LENGTH} characters")
    if problem := text_problem("Token name", name):
        raise InvalidInput(problem)
    if not scopes:
        raise InvalidInput("A token needs at least one scope")
    if ttl_seconds is not None and not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise InvalidInput(f"ttlSeconds must be between 1 and {MAX_TTL_SECONDS}, or null")
    project = await access.resolve(engines, principal, project_id, need=MANAGES_TOKENS)
    try:
        return await api_tokens.create_api_token(
            engines.db,
            user_id=principal.user_id,
            project_id=project,
            name=name,
            scopes=scopes,
            ttl_seconds=ttl_seconds,
        )
    except api_tokens.OwnerInactive:
        raise Unauthenticated("Session is no longer valid") from None
    except api_tokens.ProjectGone:
        raise access.not_found() from None


async def visible_tokens(engines: Engines, principal: Principal) -> list[ApiTokenRecord]:
    """Newest first: the caller's own tokens in the projects the caller is a member of,
    and every token of the projects where the caller manages tokens."""
    if principal.holds(Role.ADMIN):
        return await api_tokens.list_api_tokens(engines.db, user_id=None)
    memberships = await store.projects_of_member(engines.db, user_id=principal.user_id)
    managed = [project.id for project, role in memberships if role.includes(MANAGES_TOKENS)]
    member_of = {project.id for project, _ in memberships}
    records = await api_tokens.list_api_tokens(
        engines.db, user_id=principal.user_id, project_ids=managed
    )
    # A project the caller was removed from is not shown, not even through own tokens.
    return [record for record in records if record.project_id in member_of]


async def revoke_token(engines: Engines, principal: Principal, token_id: str) -> None:
    """Revoke a token the caller may see; revoking twice is fine."""
    parsed = parse_id(token_id)
    record = await api_tokens.get_api_token(engines.db, token_id=parsed) if parsed else None
    # A token the caller may not see gets the answer of an unknown id.
    if parsed is None or record is None or not await _may_manage(engines, principal, record):
        raise InvalidInput(NO_SUCH_TOKEN)
    await api_tokens.revoke_api_token(engines.db, token_id=parsed)


async def _may_manage(engines: Engines, principal: Principal, record: ApiTokenRecord) -> bool:
    if record.user_id == principal.user_id or principal.holds(Role.ADMIN):
        return True
    role = await store.member_role(
        engines.db, project_id=record.project_id, user_id=principal.user_id
    )
    return role is not None and role.includes(MANAGES_TOKENS)
