"""``eventide export`` in a process of its own: output to stdout or a file, and every
refusal as one line on stderr with a non-zero exit code."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from eventide.analytics.export_formats import FORMATS
from eventide.cli import _output
from eventide.config import Settings
from eventide.projects import store
from eventide.storage.engines import Engines
from tests.analytics.stores import put_hot
from tests.conftest import TEST_PROJECT
from tests.export.read_back import listed, read_back
from tests.export.test_export import RANGE, days_of_events
from tests.graphql_client import GraphQLClient


def environment(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "EVENTIDE_DATABASE_URL": settings.database_url or "",
        "EVENTIDE_REDIS_URL": settings.redis_url or "",
        # Its own embedded ClickHouse (empty) unless the suite runs on a server.
        "EVENTIDE_CLICKHOUSE_URL": settings.clickhouse_url or "",
        "EVENTIDE_DATA_DIR": str(tmp_path / "data"),
        "EVENTIDE_JWT_SECRET": settings.jwt_secret,
    }


async def eventide_export(settings: Settings, tmp_path: Path, *args: str) -> tuple[int, bytes, str]:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("eventide")),
        "export",
        *args,
        env=environment(settings, tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stdout, stderr.decode()


@pytest.mark.parametrize("format", FORMATS)
async def test_writes_the_listing_to_stdout_and_to_a_file(
    engines: Engines,
    settings: Settings,
    client: GraphQLClient,
    user_token: str,
    tmp_path: Path,
    format: str,
) -> None:
    # Hot events only: the child process has a cold store of its own.
    await put_hot(engines, days_of_events(40))
    oracle = await listed(client, user_token, start=RANGE[0], end=RANGE[1])
    assert len(oracle) == 40
    common = ["--project", str(TEST_PROJECT), "--from", RANGE[0], "--to", RANGE[1]]
    code, stdout, stderr = await eventide_export(settings, tmp_path, *common, "--format", format)
    assert code == 0, stderr
    assert read_back(format, stdout) == oracle
    assert "exported 40 events" in stderr
    if format == "csv":
        return  # written as NDJSON is: a file differs for Parquet only (it can seek)
    target = tmp_path / f"events.{format}"
    code, stdout, stderr = await eventide_export(
        settings, tmp_path, *common, "--format", format, "--output", str(target)
    )
    assert code == 0, stderr
    assert stdout == b""
    assert read_back(format, target.read_bytes()) == oracle


async def test_unknown_and_deleted_projects_are_refused(
    engines: Engines, settings: Settings, tmp_path: Path
) -> None:
    deleted = await store.insert_project(engines.db, name="Gone", timezone="UTC")
    await put_hot(engines, days_of_events(3), project=deleted.id)
    assert await store.mark_deleted(engines.db, project_id=deleted.id)
    target = tmp_path / "never.ndjson"
    for project in (deleted.id, 999):
        code, stdout, stderr = await eventide_export(
            settings, tmp_path, "--project", str(project), "--from", RANGE[0],
            "--to", RANGE[1], "--format", "ndjson", "--output", str(target),
        )  # fmt: skip
        assert (code, stdout) == (1, b"")
        assert stderr.endswith(f"eventide: no such project: {project}\n")
        assert "Traceback" not in stderr
        assert not target.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "x1"], "eventide: not a project id: 'x1'"),
        (["--project", "0"], "eventide: not a project id: '0'"),
        (["--from", RANGE[1], "--to", RANGE[0]], "eventide: --from is after --to"),
        (["--from", "2026-03-01T00:00:00"], "needs a UTC offset"),
        (["--to", "yesterday"], "not an RFC 3339 instant: 'yesterday'"),
        (["--from", "0001-01-01T00:00:00+01:00"], "outside years 1 to 9999 in UTC"),
        (["--format", "xml"], "invalid choice: 'xml'"),
    ],
)
async def test_bad_arguments_are_one_line_on_stderr(
    settings: Settings, tmp_path: Path, args: list[str], message: str
) -> None:
    given = dict(zip(args[::2], args[1::2], strict=True))
    defaults = {"--project": "1", "--from": RANGE[0], "--to": RANGE[1], "--format": "csv"}
    argv = [part for option in {**defaults, **given}.items() for part in option]
    code, stdout, stderr = await eventide_export(settings, tmp_path, *argv)
    assert code != 0
    assert stdout == b""
    assert message in stderr
    assert "Traceback" not in stderr


def test_the_range_needs_both_ends() -> None:
    from eventide.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["export", "--project", "1", "--from", RANGE[0], "--format", "csv"])
    assert exit_.value.code == 2


def test_a_failed_export_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "partial.csv"

    def fail_midway() -> None:
        with _output(str(target)) as out:
            out.write(b"eventId,userId\r\n")
            assert target.exists()
            raise OSError("store went away")

    with pytest.raises(OSError, match="store went away"):
        fail_midway()
    assert not target.exists()


async def test_a_reader_that_stops_early_ends_the_export_quietly(
    engines: Engines, settings: Settings, tmp_path: Path
) -> None:
    await put_hot(engines, days_of_events(30))
    command = (
        f"{Path(sys.executable).with_name('eventide')} export --project {TEST_PROJECT}"
        f" --from {RANGE[0]} --to {RANGE[1]} --format ndjson 2>{tmp_path / 'stderr'}"
        # The reader is gone long before the export writes (it opens the engines first).
        " | true; exit ${PIPESTATUS[0]}"
    )
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", command, env=environment(settings, tmp_path)
    )
    assert await asyncio.wait_for(process.wait(), 120) == 1
    stderr = (tmp_path / "stderr").read_text()
    assert stderr.endswith("eventide: the output was closed before the export ended\n")
    assert "Traceback" not in stderr
