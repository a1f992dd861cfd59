"""A deleted project's data leaves both stores exactly, whenever the removal is killed.

Beside the deleted project lives another one with the same event ids, users and days,
archived by the same passes: after every removal, killed or not, it holds exactly what
it held and answers exactly what it answered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest

from eventide.analytics.dau import daily_active_users
from eventide.analytics.top_events import top_events
from eventide.archive import cold_batches
from eventide.archive.archiver import archive_pass
from eventide.archive.lock import ARCHIVE_LOCK
from eventide.archive.recovery import SETTLE_AFTER
from eventide.archive.tiers import tier_snapshot
from eventide.auth import api_tokens
from eventide.auth.principal import TokenScope
from eventide.ingest.store import STORE_EVENTS_SQL, store_events
from eventide.ingest.validation import ValidatedBatch, validate_batch
from eventide.projects import store
from eventide.projects.purge import purge_deleted_projects
from eventide.projects.roles import ProjectRole
from eventide.storage import _sql_files
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import COPIED_EVENTS, EVENTS, LEGACY_COLD_TABLE, Scope
from tests.archive.tiers import NOW, Event, put_hot, read_tiers, spread
from tests.conftest import TEST_PROJECT
from tests.graphql_client import GraphQLClient
from tests.projects._world import account
from tests.waiting import backend_waiting_for_lock, eventually


class Killed(BaseException):
    """Stands for the process dying: no ``except Exception`` handler runs."""


# A day past the hot window (only in ClickHouse once archived), and a closed day within
# it (also kept in PostgreSQL's copied_events).
DAYS = (dt.date(2026, 11, 1), dt.date(2026, 11, 21))
RECENT = 5
# The deleted project keeps RECENT hot events, 10 copied ones and 2 * 10 + RECENT ledger
# rows.
CHUNK = 2
STEPS = {
    "writers_done": 1,
    "hot_chunk_deleted": 7,
    "hot_deleted": 1,
    "ledger_chunk_deleted": 12,
    "ledger_deleted": 1,
    "cold_deleted": 1,
    "batches_deleted": 1,
    "access_deleted": 1,
    "purged": 1,
}
CASES = [
    pytest.param(step, nth, id=f"{step}-{nth}")
    for step, times in STEPS.items()
    for nth in sorted({1, times})
]
PURGEABLE = ("api_tokens", "invitations", "project_members", "event_ids", "archive_batches")


def _events(project: int) -> list[Event]:
    """The same events (ids, users, instants) whatever the project."""
    old = [e for i, day in enumerate(DAYS) for e in spread(f"d{i}-", day, 10)]
    recent = [
        Event(f"recent-{i}", NOW - dt.timedelta(hours=3 + i), user_id=f"u{i % 3}")
        for i in range(RECENT)
    ]
    return [dataclasses.replace(e, project=project) for e in old + recent]


async def _put_ledger(engines: Engines, events: list[Event]) -> None:
    await engines.db.executemany(
        "INSERT INTO event_ids (project_id, event_id, received_at) VALUES ($1, $2, $3)",
        [(e.project, e.event_id, NOW) for e in events],
    )


async def _give_access(engines: Engines, project: int, user_id: str) -> None:
    """A member, an API token and an invitation of ``project``."""
    await store.insert_member(
        engines.db, project_id=project, user_id=user_id, role=ProjectRole.OWNER
    )
    await api_tokens.create_api_token(
        engines.db,
        user_id=user_id,
        project_id=project,
        name="ingest",
        scopes=[TokenScope.INGEST],
        ttl_seconds=None,
    )
    await engines.db.execute(
        """INSERT INTO invitations (project_id, role, code_hash, expires_at)
           VALUES ($1, 'VIEWER', $2, now() + interval '1 day')""",
        project,
        uuid.uuid4().bytes,
    )


async def _two_projects(engines: Engines) -> tuple[int, int]:
    """A project about to be deleted and one that stays, with identical events in both
    tiers, ledger rows, batches of the same passes, members, tokens and invitations."""
    doomed = (await store.insert_project(engines.db, name="Doomed", timezone="UTC")).id
    kept = (await store.insert_project(engines.db, name="Kept", timezone="UTC")).id
    someone = await account(engines, name="member")
    for project in (doomed, kept):
        events = _events(project)
        await put_hot(engines, events)
        await _put_ledger(engines, events)
        await _give_access(engines, project, someone.user_id)
    await archive_pass(engines, trigger="cli", now=NOW, batch_size=4)
    return doomed, kept


async def _answers(engines: Engines, project: int) -> dict[str, Any]:
    """What readers of ``project`` see: each tier, dau, topEvents, and its other rows."""
    first, last = dt.date(2026, 10, 25), NOW.date()
    found: dict[str, Any] = {
        "tiers": await read_tiers(engines, project=project),
        "dau": await daily_active_users(
            engines, project=project, first=first, last=last, timezone="UTC"
        ),
        "top": await top_events(
            engines, project=project, first=first, last=last, timezone="UTC", limit=10
        ),
    }
    for table in PURGEABLE:
        found[table] = await engines.db.fetchval(
            f"SELECT count(*) FROM {table} WHERE project_id = $1", project
        )
    found["batches"] = [
        tuple(r)
        for r in await engines.db.fetch(
            "SELECT id, state, moved FROM archive_batches WHERE project_id = $1 ORDER BY id",
            project,
        )
    ]
    return found


async def _left_of(engines: Engines, project: int) -> dict[str, int]:
    """Every row of ``project`` anywhere, whether or not a reader would count it."""
    scope = Scope.of(project)
    left = {table: int(count) for table, count in (await _counts(engines, project)).items()}
    left["hot"] = await engines.db.fetchval(scope.hot(f"SELECT count(*) FROM {EVENTS}"))
    left["copied"] = await engines.db.fetchval(scope.hot(f"SELECT count(*) FROM {COPIED_EVENTS}"))
    cold = await engines.cold.fetch(
        scope.cold(f"SELECT count() FROM {EVENTS}", visible="", legacy=True)
    )
    left["cold"] = int(cold[0][0])
    return left


async def _counts(engines: Engines, project: int) -> dict[str, int]:
    return {
        table: await engines.db.fetchval(
            f"SELECT count(*) FROM {table} WHERE project_id = $1", project
        )
        for table in PURGEABLE
    }


NOTHING = {table: 0 for table in (*PURGEABLE, "hot", "copied", "cold")}


async def _purged_at(engines: Engines, project: int) -> dt.datetime | None:
    value: dt.datetime | None = await engines.db.fetchval(
        "SELECT purged_at FROM projects WHERE id = $1", project
    )
    return value


async def test_the_scenario_puts_the_deleted_project_in_every_store(engines: Engines) -> None:
    doomed, _ = await _two_projects(engines)
    left = await _left_of(engines, doomed)
    assert left == {
        "api_tokens": 1,
        "invitations": 1,
        "project_members": 1,
        "event_ids": 2 * 10 + RECENT,
        "archive_batches": 6,
        "hot": RECENT,
        "copied": 10,
        "cold": 2 * 10,
    }


@pytest.mark.parametrize(("step", "nth"), CASES)
async def test_a_removal_killed_at_any_step_is_finished_by_the_next(
    engines: Engines, step: str, nth: int
) -> None:
    doomed, kept = await _two_projects(engines)
    before = {p: await _answers(engines, p) for p in (kept, TEST_PROJECT)}
    await store.mark_deleted(engines.db, project_id=doomed)
    seen: dict[str, int] = {}

    async def kill(name: str) -> None:
        seen[name] = seen.get(name, 0) + 1
        if name == step and seen[name] == nth:
            raise Killed

    with pytest.raises(Killed):
        await purge_deleted_projects(engines, chunk=CHUNK, faults=kill)
    assert {p: await _answers(engines, p) for p in before} == before
    assert await _purged_at(engines, doomed) is None or step == "purged"

    assert await purge_deleted_projects(engines, chunk=CHUNK) == (
        [] if step == "purged" else [doomed]
    )

    assert await _left_of(engines, doomed) == NOTHING
    assert await _purged_at(engines, doomed) is not None
    assert {p: await _answers(engines, p) for p in before} == before
    # Later passes and removals find nothing more to do with it.
    await archive_pass(engines, trigger="cli", now=NOW)
    assert await purge_deleted_projects(engines) == []
    assert await _left_of(engines, doomed) == NOTHING
    assert {p: await _answers(engines, p) for p in before} == before


async def test_every_step_was_reached(engines: Engines) -> None:
    """The steps the cases above kill at are exactly the steps a removal takes."""
    doomed, _ = await _two_projects(engines)
    await store.mark_deleted(engines.db, project_id=doomed)
    seen: dict[str, int] = {}

    async def count(name: str) -> None:
        seen[name] = seen.get(name, 0) + 1

    assert await purge_deleted_projects(engines, chunk=CHUNK, faults=count) == [doomed]
    assert seen == STEPS


async def test_archive_passes_leave_a_deleted_projects_rows_alone(engines: Engines) -> None:
    doomed = (await store.insert_project(engines.db, name="Doomed", timezone="UTC")).id
    kept = (await store.insert_project(engines.db, name="Kept", timezone="UTC")).id
    for project in (doomed, kept):
        await put_hot(engines, _events(project))
    await store.mark_deleted(engines.db, project_id=doomed)

    await archive_pass(engines, trigger="cli", now=NOW, batch_size=4)

    # The deleted project's old events were not copied; the other's were.
    assert (await _left_of(engines, doomed))["archive_batches"] == 0
    assert (await _left_of(engines, doomed))["cold"] == 0
    assert (await _left_of(engines, doomed))["hot"] == 2 * 10 + RECENT
    kept_tiers = await read_tiers(engines, project=kept)
    assert (len(kept_tiers.hot), len(kept_tiers.cold)) == (RECENT, 2 * 10)

    assert await purge_deleted_projects(engines) == [doomed]
    assert await _left_of(engines, doomed) == NOTHING
    assert await read_tiers(engines, project=kept) == kept_tiers


async def test_batches_of_a_dead_pass_settle_before_the_project_is_purged(
    engines: Engines,
) -> None:
    doomed = (await store.insert_project(engines.db, name="Doomed", timezone="UTC")).id
    kept = (await store.insert_project(engines.db, name="Kept", timezone="UTC")).id
    for project in (doomed, kept):
        await put_hot(engines, _events(project))

    async def die_after_first_copy(name: str) -> None:
        if name == "chunk_copied":
            raise Killed

    # The first chunk copied is the deleted project's (passes go by project id).
    with pytest.raises(Killed):
        await archive_pass(
            engines, trigger="cli", now=NOW, batch_size=4, faults=die_after_first_copy
        )
    await store.mark_deleted(engines.db, project_id=doomed)

    assert await purge_deleted_projects(engines) == []
    # Everything went but the aborted batch, which an insert of the dead pass could
    # still reach: it stays, hiding whatever lands.
    assert await _left_of(engines, doomed) == {**NOTHING, "archive_batches": 1}
    assert await _purged_at(engines, doomed) is None
    (batch,) = await engines.db.fetch(
        "SELECT id, state FROM archive_batches WHERE project_id = $1", doomed
    )
    assert batch["state"] == "aborted"
    # The other project's rows are archived meanwhile, by later batches.
    await archive_pass(engines, trigger="cli", now=NOW, batch_size=4)
    assert await purge_deleted_projects(engines) == []
    landed = dt.datetime.combine(DAYS[0], dt.time(), dt.UTC)
    await engines.cold.insert(
        "project_events",
        cold_batches.COLUMNS,
        [(doomed, "landed-late", "u1", "click", landed, NOW, "", batch["id"])],
    )
    assert (await _left_of(engines, doomed))["cold"] == 1
    assert "landed-late" not in (await read_tiers(engines)).cold

    await engines.db.execute(
        "UPDATE archive_batches SET finished_at = finished_at - $1::interval WHERE id = $2",
        SETTLE_AFTER,
        batch["id"],
    )
    assert await purge_deleted_projects(engines) == [doomed]
    assert await _left_of(engines, doomed) == NOTHING
    kept_tiers = await read_tiers(engines, project=kept)
    assert (len(kept_tiers.hot), len(kept_tiers.cold)) == (RECENT, 2 * 10)
    assert "landed-late" not in (await read_tiers(engines)).cold


async def _recreate_legacy_table(engines: Engines) -> None:
    for file in _sql_files.load("clickhouse_ddl"):
        for statement in file.statements():
            await engines.cold.execute(statement)


async def _legacy_batch(engines: Engines, day: dt.date, prefix: str) -> int:
    """A committed batch of project 1 in the cold layout from before projects."""
    run = await engines.db.fetchval(
        "INSERT INTO archive_runs (trigger, cutoff, status) VALUES ('cli', $1, 'succeeded')"
        " RETURNING id",
        NOW,
    )
    events = spread(prefix, day, 10)
    batch: int = await engines.db.fetchval(
        """INSERT INTO archive_batches (run_id, project_id, day, state, moved, legacy)
           VALUES ($1, 1, $2, 'committed', $3, true) RETURNING id""",
        run,
        day,
        len(events),
    )
    await engines.cold.insert(
        LEGACY_COLD_TABLE,
        # The layout before projects: the same columns but the project.
        cold_batches.COLUMNS[1:],
        [(e.event_id, e.user_id, e.event_type, e.occurred_at, NOW, "", batch) for e in events],
    )
    return batch


@pytest.mark.parametrize("step", ["hot_deleted", "cold_deleted", "batches_deleted", None])
async def test_the_project_from_before_projects_is_removed_in_both_layouts(
    engines: Engines, step: str | None
) -> None:
    kept = (await store.insert_project(engines.db, name="Kept", timezone="UTC")).id
    twins = [
        dataclasses.replace(e, project=kept)
        for prefix, day in (("old-", DAYS[0]), ("older-", DAYS[1]))
        for e in spread(prefix, day, 10)
    ]
    await put_hot(engines, twins + _events(TEST_PROJECT))
    await _put_ledger(engines, _events(TEST_PROJECT))
    # One batch rewritten into the current layout by a pass, another not yet.
    await _recreate_legacy_table(engines)
    await _legacy_batch(engines, DAYS[0], "old-")
    await archive_pass(engines, trigger="cli", now=NOW, batch_size=4)
    await _recreate_legacy_table(engines)
    rewriting = await _legacy_batch(engines, DAYS[1], "older-")
    # A pass died rewriting it: its batch was left copying, superseding the old one.
    await engines.db.execute(
        """INSERT INTO archive_batches (run_id, project_id, day, state, moved, supersedes)
           SELECT run_id, 1, day, 'copying', moved, id FROM archive_batches WHERE id = $1""",
        rewriting,
    )
    assert len((await read_tiers(engines, project=TEST_PROJECT)).cold) == 2 * 10 + 2 * 10
    before = await _answers(engines, kept)
    await store.mark_deleted(engines.db, project_id=TEST_PROJECT)

    async def kill(name: str) -> None:
        if name == step:
            raise Killed

    if step is not None:
        with pytest.raises(Killed):
            await purge_deleted_projects(engines, faults=kill)
        assert await _answers(engines, kept) == before
    # The dead pass's batch waits to settle; the batch it superseded goes at once.
    assert await purge_deleted_projects(engines) == []
    assert await _left_of(engines, TEST_PROJECT) == {**NOTHING, "archive_batches": 1}
    await engines.db.execute(
        "UPDATE archive_batches SET finished_at = finished_at - $1::interval"
        " WHERE state = 'aborted'",
        SETTLE_AFTER,
    )
    assert await purge_deleted_projects(engines) == [TEST_PROJECT]

    assert await _left_of(engines, TEST_PROJECT) == NOTHING
    assert await _answers(engines, kept) == before
    async with tier_snapshot(engines, scope=Scope.every_project()) as tiers:
        assert not tiers.visibility.legacy


DELETE = "mutation($id: ID!) { deleteProject(id: $id) }"
CREATE = 'mutation { createProject(input: {name: "Doomed"}) { id } }'


async def test_delete_project_returns_before_the_removal_which_then_runs(
    client: GraphQLClient, engines: Engines
) -> None:
    owner = await account(engines, name="owner")
    doomed = int((await client.data(CREATE, token=owner.token))["createProject"]["id"])
    events = _events(doomed)
    await put_hot(engines, events)
    await _put_ledger(engines, events)

    # While an archive pass holds the lock the removal cannot start; the deletion still
    # returns, so it does not wait for the removal.
    async with engines.db.acquire() as holder:
        await holder.execute("SELECT pg_advisory_lock($1)", ARCHIVE_LOCK)
        try:
            deleted = await asyncio.wait_for(
                client.data(DELETE, {"id": str(doomed)}, token=owner.token), timeout=10
            )
            assert deleted == {"deleteProject": True}
            assert (await _left_of(engines, doomed))["hot"] == len(events)
        finally:
            await holder.execute("SELECT pg_advisory_unlock($1)", ARCHIVE_LOCK)

    await eventually(lambda: _purged_at(engines, doomed), what="the deleted project purged")
    assert await _left_of(engines, doomed) == NOTHING
    # Ids are never reused.
    created = int((await client.data(CREATE, token=owner.token))["createProject"]["id"])
    assert created > doomed


def _batch(ids: list[str]) -> ValidatedBatch:
    return validate_batch(
        [{"eventId": i, "userId": "u1", "eventType": "click", "occurredAt": NOW} for i in ids],
        received_at=NOW,
        sent_at=None,
    )


async def test_nothing_is_stored_in_a_project_once_it_is_deleted(engines: Engines) -> None:
    doomed = (await store.insert_project(engines.db, name="Doomed", timezone="UTC")).id
    await store.mark_deleted(engines.db, project_id=doomed)
    # A caller let in before the deletion stores after it.
    stored = await store_events(
        engines.db, project=doomed, batch=_batch(["late"]), received_at=NOW, dedup_since=NOW
    )
    assert stored == []
    assert await _left_of(engines, doomed) == NOTHING


async def test_the_removal_waits_for_ingestion_that_saw_the_project_live(
    engines: Engines,
) -> None:
    doomed = (await store.insert_project(engines.db, name="Doomed", timezone="UTC")).id
    batch = _batch(["in-flight-1", "in-flight-2"])
    await store_events(
        engines.db, project=doomed, batch=_batch(["partition"]), received_at=NOW, dedup_since=NOW
    )
    async with engines.db.acquire() as writer, engines.db.acquire() as observer:
        transaction = writer.transaction()
        await transaction.start()
        try:
            args = (batch.event_ids, batch.user_ids, batch.event_types, batch.occurred_at)
            await writer.execute(STORE_EVENTS_SQL, *args, batch.properties, NOW, NOW, doomed)
            await store.mark_deleted(engines.db, project_id=doomed)
            removal = asyncio.create_task(purge_deleted_projects(engines))
            await backend_waiting_for_lock(observer, "LOCK TABLE ONLY events%")
            assert not removal.done()
        finally:
            await transaction.commit()
    assert await removal == [doomed]
    assert await _left_of(engines, doomed) == NOTHING
