"""How pending erasures reach readers' cold statements: only while pending, and never
through the cold buckets, which still count the erased rows."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from eventide.archive.archiver import archive_pass
from eventide.archive.tiers import tier_snapshot
from eventide.lifecycle.completion import complete_erasures
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import (
    EVENTS,
    TYPE_BUCKETS,
    USER_BUCKETS,
    ErasedRows,
    Scope,
    UnscopedStatement,
)
from tests.archive.tiers import NOW, put_hot, spread
from tests.conftest import TEST_PROJECT
from tests.lifecycle.erasing import erase

SQL = f"SELECT count() FROM {EVENTS}"


def test_a_pending_erasure_hides_its_rows_in_the_cold_statement() -> None:
    erased = ErasedRows("u'1", 9, (4, 6), (("e1", 1_700_000_000_000_000),))
    rendered = Scope(3, erasures=(erased,)).cold(SQL, visible="batch_id <= 9", legacy=False)
    assert rendered == (
        "SELECT count() FROM (SELECT * FROM project_events WHERE project_id = 3"
        " AND batch_id <= 9 AND NOT ((user_id = unhex('752731') AND ((batch_id <= 9"
        " AND batch_id NOT IN (4, 6)) OR (event_id, toUnixTimestamp64Micro(received_at))"
        " IN ((unhex('6531'), 1700000000000000)))))) AS events"
    )
    assert Scope(3, erasures=()).cold(SQL, visible="v", legacy=True) == Scope.of(3).cold(
        SQL, visible="v", legacy=True
    )


@pytest.mark.parametrize("placeholder", [USER_BUCKETS, TYPE_BUCKETS])
def test_cold_buckets_are_refused_while_an_erasure_is_pending(placeholder: str) -> None:
    scope = Scope(3, erasures=(ErasedRows("u", 1),))
    with pytest.raises(UnscopedStatement):
        scope.cold(f"SELECT sum(events) FROM {placeholder}", visible="", legacy=False)


async def test_readers_see_the_erasure_only_while_it_is_pending(engines: Engines) -> None:
    events = [
        dataclasses.replace(e, project=TEST_PROJECT) for e in spread("d-", dt.date(2026, 11, 2), 9)
    ]
    await put_hot(engines, events)
    await archive_pass(engines, trigger="cli", now=NOW)
    plain = Scope.of(TEST_PROJECT)
    async with tier_snapshot(engines, scope=plain) as before:
        assert before.scope == plain
        assert before.visibility.bucketed
    await erase(engines, TEST_PROJECT, "u1")
    async with tier_snapshot(engines, scope=plain) as pending:
        [hidden] = pending.scope.erasures
        assert (hidden.user_id, hidden.max_committed, hidden.erased) == (
            "u1",
            before.visibility.max_committed,
            (),
        )
        assert not pending.visibility.bucketed
    await complete_erasures(engines)
    async with tier_snapshot(engines, scope=plain) as after:
        assert after.scope == plain
        assert after.visibility == before.visibility
