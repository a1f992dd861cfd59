"""Signup: a new account, and the project it starts in, in one transaction.

Without an invitation the account gets a project of its own, named after it, as its
OWNER; with one it joins the invitation's project with the invitation's role. Either
way nothing is kept unless all of it is: a taken username leaves the code unused, and
a code used meanwhile leaves no account behind.
"""

from __future__ import annotations

from eventide.auth import passwords, sessions, users
from eventide.auth.sessions import SessionTokens
from eventide.errors import Forbidden
from eventide.projects import invitations, store
from eventide.projects.roles import ProjectRole
from eventide.storage.engines import Engines


async def sign_up(
    engines: Engines, *, username: str, email: str, password: str, invitation: str | None
) -> SessionTokens:
    if invitation is None and engines.settings.signup_policy == "invite":
        raise Forbidden("Signing up on this server needs an invitation")
    email = email.strip()
    sessions.check_new_account(username=username, email=email, password=password)
    if invitation is not None:
        invitations.check_code(invitation)
    password_hash = await passwords.hash_password(password)
    async with engines.db.acquire() as conn, conn.transaction():
        user = await users.create_user(
            conn, username=username, email=email, password_hash=password_hash
        )
        if invitation is None:
            project = await store.insert_project(conn, name=username, timezone="UTC")
            project_id, role = project.id, ProjectRole.OWNER
        else:
            redeemed = await invitations.redeem(conn, code=invitation, user_id=user.id)
            project_id, role = redeemed.project_id, redeemed.role
        await store.insert_member(conn, project_id=project_id, user_id=user.id, role=role)
    return await sessions.open_session(engines, user=user)
