"""Embedded mode: with no URL set, all three engines start under the data directory,
and what was written is still there after a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eventide.config import Settings

SCRIPT = """
import asyncio, sys
from eventide.config import load_settings
from eventide.storage.engines import open_engines

async def main(mode):
    async with open_engines(load_settings()) as s:
        if mode == "write":
            await s.db.execute("CREATE TABLE kept (v text)")
            await s.db.execute("INSERT INTO kept VALUES ('postgres-kept')")
            await s.redis.set("kept", "redis-kept")
            await s.cold.execute("CREATE TABLE kept (v String) ENGINE = MergeTree ORDER BY v")
            await s.cold.insert("kept", ("v",), [("clickhouse-kept",)])
        elif mode == "read":
            print(await s.db.fetchval("SELECT v FROM kept"))
            print((await s.redis.get("kept")).decode())
            print((await s.cold.fetch("SELECT v FROM kept"))[0][0])
        print(sorted(k for k, ok in (await s.readiness()).items() if ok))

asyncio.run(main(sys.argv[1]))
"""


def _run(mode: str, data_dir: Path, **urls: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTIDE_")}
    env["EVENTIDE_DATA_DIR"] = str(data_dir)
    env.update(urls)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


@pytest.mark.slow
def test_embedded_engines_keep_data_across_restarts(tmp_path: Path) -> None:
    assert _run("write", tmp_path) == ["['clickhouse', 'postgres', 'redis']"]
    assert _run("read", tmp_path) == [
        "postgres-kept",
        "redis-kept",
        "clickhouse-kept",
        "['clickhouse', 'postgres', 'redis']",
    ]
    assert (tmp_path / "postgres").is_dir()
    assert (tmp_path / "clickhouse").is_dir()


@pytest.mark.slow
def test_configured_servers_start_no_embedded_engine(settings: Settings, tmp_path: Path) -> None:
    if not (
        os.environ.get("EVENTIDE_TEST_DATABASE_URL") and os.environ.get("EVENTIDE_TEST_REDIS_URL")
    ):
        pytest.skip("needs EVENTIDE_TEST_DATABASE_URL and EVENTIDE_TEST_REDIS_URL")
    assert settings.database_url
    assert settings.redis_url
    lines = _run(
        "ready",
        tmp_path,
        EVENTIDE_DATABASE_URL=settings.database_url,
        EVENTIDE_REDIS_URL=settings.redis_url,
    )
    assert lines == ["['clickhouse', 'postgres', 'redis']"]
    assert not (tmp_path / "postgres").exists()
    assert not list(tmp_path.glob("redis.db*"))
