"""The archiver running in the background of the server."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest

from eventide.archive.archiver import archive_pass
from eventide.archive.schedule import scheduled_archiving
from eventide.storage.engines import Engines
from tests.archive.tiers import Event, assert_exactly_once, put_hot


def _every(engines: Engines, seconds: int) -> Engines:
    settings = dataclasses.replace(engines.settings, archive_interval_seconds=seconds)
    return dataclasses.replace(engines, settings=settings)


async def _runs(engines: Engines) -> list[str]:
    rows = await engines.db.fetch("SELECT status FROM archive_runs ORDER BY id")
    return [r["status"] for r in rows]


@pytest.mark.slow  # the shortest interval is a second
async def test_runs_a_pass_at_startup_then_every_interval(engines: Engines) -> None:
    now = dt.datetime.now(dt.UTC)
    events = [Event("old", now - dt.timedelta(days=30)), Event("new", now)]
    await put_hot(engines, events)
    async with scheduled_archiving(_every(engines, 1)):
        assert _scheduler_tasks()
        for _ in range(400):  # up to 20 s on a busy machine
            # Finished, not just started: leaving the block cancels a pass under way.
            if (await _runs(engines)).count("succeeded") >= 2:
                break
            await asyncio.sleep(0.05)
    assert not _scheduler_tasks()
    assert (await _runs(engines))[:2] == ["succeeded", "succeeded"]
    assert (await assert_exactly_once(engines, events)).hot == ["new"]


async def test_interval_zero_archives_only_on_demand(engines: Engines) -> None:
    await put_hot(engines, [Event("old", dt.datetime.now(dt.UTC) - dt.timedelta(days=30))])
    async with scheduled_archiving(_every(engines, 0)):
        # A schedule starts its first pass at once: by now its task would exist.
        assert not _scheduler_tasks()
        # A whole pass on demand gives a scheduled one every chance to have run too.
        await archive_pass(engines, trigger="admin")
        assert not _scheduler_tasks()
    rows = await engines.db.fetch("SELECT trigger, status FROM archive_runs ORDER BY id")
    assert [(r["trigger"], r["status"]) for r in rows] == [("admin", "succeeded")]


def _scheduler_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "eventide-archiver"]
