"""``eventide archive`` and ``eventide expire``: from the command line, in a process of
its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

from eventide.config import Settings
from eventide.storage.engines import Engines
from tests.archive.tiers import Event, put_hot


def _env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "EVENTIDE_DATABASE_URL": settings.database_url or "",
        "EVENTIDE_REDIS_URL": settings.redis_url or "",
        # Its own embedded ClickHouse unless the suite runs on a server.
        "EVENTIDE_CLICKHOUSE_URL": settings.clickhouse_url or "",
        "EVENTIDE_DATA_DIR": str(tmp_path),
        "EVENTIDE_JWT_SECRET": settings.jwt_secret,
    }


async def _run(command: str, env: dict[str, str]) -> tuple[int | None, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("eventide")),
        command,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, stdout.decode(), stderr.decode()


async def test_archive_command_runs_one_pass(
    engines: Engines, settings: Settings, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    await put_hot(engines, [Event("old", now - dt.timedelta(days=30)), Event("new", now)])
    returncode, stdout, stderr = await _run("archive", _env(settings, tmp_path))
    assert returncode == 0, stderr
    assert stdout.startswith("moved 1 events that occurred before ")
    hot = await engines.db.fetch("SELECT event_id FROM events")
    assert [r["event_id"] for r in hot] == ["new"]
    run = await engines.db.fetchrow("SELECT trigger, status, moved FROM archive_runs")
    assert tuple(run) == ("cli", "succeeded", 1)


async def test_expire_command_removes_what_retention_hides(
    engines: Engines, settings: Settings, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    await put_hot(engines, [Event("old", now - dt.timedelta(days=30)), Event("new", now)])
    env = _env(settings, tmp_path)
    returncode, _, stderr = await _run("expire", env)
    assert returncode != 0
    assert "EVENTIDE_RETENTION_DAYS is not set" in stderr
    returncode, stdout, stderr = await _run("expire", {**env, "EVENTIDE_RETENTION_DAYS": "20"})
    assert returncode == 0, stderr
    assert stdout.startswith("removed events that occurred before ")
    assert "2 hot partitions, 0 hot rows" in stdout
    hot = await engines.db.fetch("SELECT event_id FROM events")
    assert [r["event_id"] for r in hot] == ["new"]
