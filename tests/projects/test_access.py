"""access.resolve: which project a caller acts in, with which role, against PostgreSQL."""

from __future__ import annotations

import pytest

from eventide.auth import api_tokens
from eventide.auth.authenticate import authenticate
from eventide.auth.principal import Principal, Role, TokenScope
from eventide.errors import Forbidden, InvalidInput, NotFound
from eventide.projects import access, store
from eventide.projects.roles import INGESTS, MANAGES_PROJECT, READS, ProjectRole
from eventide.storage.engines import Engines
from tests.projects._world import MALFORMED_IDS, RANDOM_ID, World, account, join, project, world

ROLES = list(ProjectRole)


@pytest.fixture
async def w(engines: Engines) -> World:
    return await world(engines)


async def _refusal(
    engines: Engines, principal: Principal, pid: str | None, need: ProjectRole
) -> Exception:
    with pytest.raises((NotFound, Forbidden, InvalidInput)) as raised:
        await access.resolve(engines, principal, pid, need=need)
    return raised.value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("need", ROLES)
async def test_a_member_acts_up_to_their_role(
    engines: Engines, w: World, role: ProjectRole, need: ProjectRole
) -> None:
    principal = w.member(role).principal
    if role.rank >= need.rank:
        assert await access.resolve(engines, principal, str(w.target), need=need) == w.target
    else:
        error = await _refusal(engines, principal, str(w.target), need)
        assert isinstance(error, Forbidden)


def test_roles_are_ordered() -> None:
    assert [r.rank for r in (ProjectRole.VIEWER, ProjectRole.EDITOR, ProjectRole.OWNER)] == [
        0,
        1,
        2,
    ]
    assert ProjectRole.OWNER.includes(ProjectRole.EDITOR)
    assert not ProjectRole.VIEWER.includes(ProjectRole.EDITOR)
    assert (READS, INGESTS, MANAGES_PROJECT) == (
        ProjectRole.VIEWER,
        ProjectRole.EDITOR,
        ProjectRole.OWNER,
    )


@pytest.mark.parametrize("why", ["another tenant's", "deleted", "random", *MALFORMED_IDS])
async def test_what_a_caller_may_not_see_is_not_found_alike(
    engines: Engines, w: World, why: str
) -> None:
    pid = w.foreign_ids().get(why, why)
    error = await _refusal(engines, w.outsider.principal, pid, READS)
    assert isinstance(error, NotFound)
    assert error.message == access.NO_SUCH_PROJECT


async def test_a_deleted_project_is_gone_for_its_own_members(engines: Engines, w: World) -> None:
    await store.mark_deleted(engines.db, project_id=w.target)
    for who in (w.owner, w.viewer, w.admin):
        error = await _refusal(engines, who.principal, str(w.target), READS)
        assert isinstance(error, NotFound)


async def test_an_admin_acts_in_every_live_project(engines: Engines, w: World) -> None:
    for pid in (w.target, w.outsiders_own):
        got = await access.authorize(engines, w.admin.principal, str(pid), need=MANAGES_PROJECT)
        assert (got.project.id, got.role) == (pid, None)
    for gone in (str(w.deleted), RANDOM_ID, "x"):
        assert isinstance(await _refusal(engines, w.admin.principal, gone, READS), NotFound)


async def test_the_default_project_of_a_session_is_its_only_project(
    engines: Engines, w: World
) -> None:
    assert await access.resolve(engines, w.viewer.principal, None, need=READS) == w.target
    # The outsider's deleted project does not count: one live project remains.
    assert await access.resolve(engines, w.outsider.principal, None, need=READS) == w.outsiders_own
    with pytest.raises(Forbidden):
        await access.resolve(engines, w.viewer.principal, None, need=INGESTS)


@pytest.mark.parametrize("projects", [0, 2])
async def test_without_exactly_one_project_a_session_must_name_it(
    engines: Engines, projects: int
) -> None:
    who = await account(engines)
    for n in range(projects):
        await project(engines, f"p{n}", o=(who, ProjectRole.VIEWER))
    error = await _refusal(engines, who.principal, None, READS)
    assert isinstance(error, InvalidInput)
    assert "projectId" in error.message
    assert error.extensions["argument"] == "projectId"


async def test_an_admin_without_projectid_follows_the_same_default(
    engines: Engines, w: World
) -> None:
    assert isinstance(await _refusal(engines, w.admin.principal, None, READS), InvalidInput)
    await join(engines, w.outsiders_own, w.admin, ProjectRole.VIEWER)
    # A member with too low a role, but an ADMIN may do everything.
    assert await access.resolve(engines, w.admin.principal, None, need=MANAGES_PROJECT) == (
        w.outsiders_own
    )


async def _token_principal(engines: Engines, owner_id: str, project_id: int) -> Principal:
    secret, _ = await api_tokens.create_api_token(
        engines.db,
        user_id=owner_id,
        project_id=project_id,
        name="sdk",
        scopes=[TokenScope.READ, TokenScope.INGEST],
        ttl_seconds=None,
    )
    auth = await authenticate(engines, f"Bearer {secret}")
    assert auth.principal is not None, auth.error
    return auth.principal


async def test_an_api_token_acts_in_its_own_project_only(engines: Engines, w: World) -> None:
    # The owner belongs to both projects; the token to one.
    await join(engines, w.outsiders_own, w.editor, ProjectRole.OWNER)
    principal = await _token_principal(engines, w.editor.user_id, w.target)
    assert principal.project_id == w.target
    assert await access.resolve(engines, principal, None, need=INGESTS) == w.target
    assert await access.resolve(engines, principal, str(w.target), need=READS) == w.target
    for other in (str(w.outsiders_own), str(w.deleted), RANDOM_ID, "x"):
        error = await _refusal(engines, principal, other, READS)
        assert isinstance(error, NotFound)
        assert error.message == access.NO_SUCH_PROJECT


async def test_an_api_token_never_goes_beyond_its_owners_current_role(
    engines: Engines, w: World
) -> None:
    principal = await _token_principal(engines, w.editor.user_id, w.target)
    assert await access.resolve(engines, principal, None, need=INGESTS) == w.target
    await store.update_member_role(
        engines.db, project_id=w.target, user_id=w.editor.user_id, role=ProjectRole.VIEWER
    )
    assert isinstance(await _refusal(engines, principal, None, INGESTS), Forbidden)
    assert await access.resolve(engines, principal, None, need=READS) == w.target
    await store.delete_member(engines.db, project_id=w.target, user_id=w.editor.user_id)
    assert isinstance(await _refusal(engines, principal, None, READS), NotFound)


async def test_an_admins_api_token_may_do_everything_in_its_project(
    engines: Engines, w: World
) -> None:
    principal = await _token_principal(engines, w.admin.user_id, w.target)
    assert principal.role is Role.ADMIN
    assert await access.resolve(engines, principal, None, need=MANAGES_PROJECT) == w.target
    assert isinstance(await _refusal(engines, principal, str(w.outsiders_own), READS), NotFound)


async def test_a_token_of_a_deleted_project_is_refused(engines: Engines, w: World) -> None:
    principal = await _token_principal(engines, w.owner.user_id, w.target)
    await store.mark_deleted(engines.db, project_id=w.target)
    # Checked before the deletion, used after: the project is gone.
    assert isinstance(await _refusal(engines, principal, None, READS), NotFound)
