"""``eventide archive``: one pass from the command line, in a process of its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

from eventide.config import Settings
from eventide.storage.engines import Engines
from tests.archive.tiers import Event, put_hot


async def test_archive_command_runs_one_pass(
    engines: Engines, settings: Settings, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    await put_hot(engines, [Event("old", now - dt.timedelta(days=30)), Event("new", now)])
    env = {
        **os.environ,
        "EVENTIDE_DATABASE_URL": settings.database_url or "",
        "EVENTIDE_REDIS_URL": settings.redis_url or "",
        # Its own embedded ClickHouse unless the suite runs on a server.
        "EVENTIDE_CLICKHOUSE_URL": settings.clickhouse_url or "",
        "EVENTIDE_DATA_DIR": str(tmp_path),
        "EVENTIDE_JWT_SECRET": settings.jwt_secret,
    }
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("eventide")),
        "archive",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().startswith("moved 1 events that occurred before ")
    hot = await engines.db.fetch("SELECT event_id FROM events")
    assert [r["event_id"] for r in hot] == ["new"]
    run = await engines.db.fetchrow("SELECT trigger, status, moved FROM archive_runs")
    assert tuple(run) == ("cli", "succeeded", 1)
