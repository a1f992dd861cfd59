"""The tenant guard: every statement that reads or removes events names its project.

Statements are written against :data:`EVENTS` instead of a table, and rendered here for
one :class:`Scope`: for PostgreSQL, :data:`EVENTS` becomes the rows of the scope's
project; for ClickHouse, the rows of the project that the reader's snapshot may see
(:meth:`Scope.cold`). A statement that names the events table itself is refused with
:class:`UnscopedStatement`, so a query written without the project condition fails the
first time it runs instead of reading another project's events. Deletions are built
here too (:meth:`Scope.hot_delete`, :meth:`Scope.cold_delete`).

Only the archiver and the server-wide totals of administrators read every project; they
say so with :meth:`Scope.every_project`. A reader's scope may also hold the retention
boundary (:meth:`Scope.retained_since`): rows before it are not rendered at all.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from eventide.storage._erased_sql import ErasedRows as ErasedRows
from eventide.storage._erased_sql import erased_condition as erased_condition
from eventide.storage._erased_sql import literal, not_erased
from eventide.storage._erased_sql import user_condition as user_condition

EVENTS = "{events}"
"""Where a statement reads events: ``f"SELECT count() FROM {EVENTS} WHERE ..."``."""
COPIED_EVENTS = "{copied_events}"
"""Where a PostgreSQL statement that keeps the hot store's own space (never a question)
reads the events of closed days already copied to the cold store."""
USER_BUCKETS = "{user_buckets}"
"""Where a statement reads the events counted per 15-minute bucket and user."""
TYPE_BUCKETS = "{type_buckets}"
"""Where a cold statement reads the events counted per 15-minute bucket, event type and
user."""

HOT_TABLE = "events"
COPIED_TABLE = "copied_events"
COLD_TABLE = "project_events"
# Each placeholder's table in each store (see migrations/0006 and clickhouse_ddl/0003).
_HOT_TABLES = {EVENTS: HOT_TABLE, COPIED_EVENTS: COPIED_TABLE, USER_BUCKETS: "user_buckets"}
_COLD_BUCKET_TABLES = {
    USER_BUCKETS: "project_user_buckets",
    TYPE_BUCKETS: "project_type_buckets",
}
COLD_BUCKET_TABLES = tuple(_COLD_BUCKET_TABLES.values())
# The cold layout from before projects (every row of project 1), read beside the current
# one until the archiver has rewritten each of its batches (see archive.relayout).
LEGACY_COLD_TABLE = "events"
_COLD_TABLES = f"merge(currentDatabase(), '^({COLD_TABLE}|{LEGACY_COLD_TABLE})$')"

# A table reference to events (or their buckets) written by hand: after FROM, JOIN, INTO,
# UPDATE or TABLE.
_NAMES = "|".join((*_HOT_TABLES.values(), COLD_TABLE, *COLD_BUCKET_TABLES))
_RAW_REFERENCE = re.compile(
    rf"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:ONLY\s+)?\"?(?:{_NAMES})\b", re.IGNORECASE
)


class UnscopedStatement(Exception):
    """A statement names the events table instead of :data:`EVENTS`."""


@dataclass(frozen=True)
class Scope:
    """The events a statement may touch: one project's, or (rarely) every project's;
    cold rows of ``erasures`` (the project's pending end-user erasures) are not among
    them."""

    project: int | None
    # With EVENTIDE_RETENTION_DAYS: the events (and buckets) that occurred before this
    # instant, a bucket's start, are rendered as if they had never been stored.
    retained_from: dt.datetime | None = None
    erasures: tuple[ErasedRows, ...] = field(default=(), kw_only=True)

    @classmethod
    def of(cls, project: int) -> Scope:
        if type(project) is not int or project < 1:
            raise ValueError(f"not a project id: {project!r}")
        return cls(project)

    @classmethod
    def every_project(cls) -> Scope:
        """Every project's events: for the archiver and server-wide totals only."""
        return cls(None)

    def retained_since(self, boundary: dt.datetime) -> Scope:
        """This scope without the rows before ``boundary`` (the start of a 15-minute UTC
        bucket, so that a bucket is either wholly kept or wholly left out)."""
        if boundary.tzinfo is None or boundary.timestamp() % 900:
            raise ValueError(f"not the start of a bucket: {boundary!r}")
        return replace(self, retained_from=boundary.astimezone(dt.UTC))

    def hot(self, sql: str) -> str:
        """``sql`` for PostgreSQL, reading the scope's events where it says :data:`EVENTS`
        (and their buckets where it says :data:`USER_BUCKETS`; the hot store has no
        :data:`TYPE_BUCKETS`)."""
        _refuse_raw(sql)
        for placeholder, table in _HOT_TABLES.items():
            kept = self._retained(table, _hot_instant)
            sql = sql.replace(placeholder, self._rows(table, kept, alias=table))
        return sql

    def cold(self, sql: str, *, visible: str, legacy: bool) -> str:
        """``sql`` for ClickHouse, reading the scope's events (and buckets) that satisfy
        ``visible`` (the reader's batch visibility); with ``legacy``, also the events of
        the layout from before projects, which have no buckets."""
        _refuse_raw(sql)
        for placeholder, table in _COLD_BUCKET_TABLES.items():
            if placeholder in sql:
                if legacy:
                    raise UnscopedStatement("the cold layout from before projects has no buckets")
                if self.erasures:
                    raise UnscopedStatement("cold buckets still count rows of pending erasures")
                kept = _joined(visible, self._retained(table, cold_instant))
                sql = sql.replace(placeholder, self._rows(table, kept, alias=table))
        table = _COLD_TABLES if legacy else COLD_TABLE
        erased = not_erased(self.erasures) if self.erasures else ""
        kept = _joined(visible, self._retained(COLD_TABLE, cold_instant), erased)
        return sql.replace(EVENTS, self._rows(table, kept, alias=HOT_TABLE))

    def hot_delete(self, condition: str, *, rows: str = EVENTS) -> str:
        """A PostgreSQL DELETE of the scope's :data:`EVENTS` (or :data:`COPIED_EVENTS`) that
        satisfy ``condition`` (triggers take events out of their buckets in the same
        statement)."""
        _refuse_raw(condition)
        if rows not in (EVENTS, COPIED_EVENTS):
            raise UnscopedStatement(f"not a placeholder of hot events: {rows!r}")
        return f"DELETE FROM {_HOT_TABLES[rows]} WHERE {self._condition()}({condition})"

    def hot_move_to_copied(self, condition: str) -> str:
        """A PostgreSQL statement moving the scope's events that satisfy ``condition`` from
        :data:`HOT_TABLE` to :data:`COPIED_TABLE` (the partition of their day must exist)."""
        return (
            f"WITH moved AS ({self.hot_delete(condition)} RETURNING *)"
            f" INSERT INTO {COPIED_TABLE} SELECT * FROM moved"
        )

    def cold_delete(
        self, condition: str, *, table: str = COLD_TABLE, partition: str | None = None
    ) -> str:
        """A ClickHouse mutation deleting the scope's cold events satisfying ``condition``
        (in ``partition`` only, an expression, when given)."""
        _refuse_raw(condition)
        where = f"IN PARTITION {partition} WHERE" if partition else "WHERE"
        return f"ALTER TABLE {table} DELETE {where} {self._condition()}({condition})"

    def cold_drop_partition(self, partition: int, *, table: str = COLD_TABLE) -> str:
        """A ClickHouse statement dropping the whole ``partition`` (a ``toYYYYMM`` month)
        of ``table``: every project's rows in it, so only :meth:`every_project` may."""
        if self.project is not None:
            raise UnscopedStatement("a partition holds every project's rows")
        return f"ALTER TABLE {table} DROP PARTITION {int(partition)}"

    def _condition(self) -> str:
        return "" if self.project is None else f"project_id = {self.project} AND "

    def _rows(self, table: str, visible: str, *, alias: str) -> str:
        conditions = " AND ".join(
            c for c in (self._condition().removesuffix(" AND "), visible) if c
        )
        where = f" WHERE {conditions}" if conditions else ""
        return f"(SELECT * FROM {table}{where}) AS {alias}"

    def _retained(self, table: str, literal: _Literal) -> str:
        """The retention condition on ``table``'s rows ("" without retention)."""
        if self.retained_from is None:
            return ""
        column = "bucket" if table in _BUCKET_TABLES else "occurred_at"
        return f"{column} >= {literal(self.retained_from)}"


_BUCKET_TABLES = frozenset({_HOT_TABLES[USER_BUCKETS], *COLD_BUCKET_TABLES})
_Literal = Callable[[dt.datetime], str]


def _hot_instant(instant: dt.datetime) -> str:
    # A constant, so that PostgreSQL prunes the partitions before it when planning.
    return f"'{instant.isoformat()}'::timestamptz"


def cold_instant(instant: dt.datetime) -> str:
    """``instant`` (to the second) as a ClickHouse constant of the events' columns' type."""
    return f"toDateTime64('{instant:%Y-%m-%d %H:%M:%S}', 6, 'UTC')"


def _joined(*conditions: str) -> str:
    return " AND ".join(c for c in conditions if c)


LEGACY_PROJECT = 1
"""The project of everything stored before projects existed ("Default")."""

_CURRENT_COLUMNS = "event_id, user_id, event_type, occurred_at, received_at, properties"


def relayout_statement(*, legacy_batch: int, batch: int) -> str:
    """The ClickHouse statement copying the rows of ``legacy_batch`` from the layout
    before projects into the current one, as rows of ``batch``."""
    return (
        f"INSERT INTO {COLD_TABLE} (project_id, {_CURRENT_COLUMNS}, batch_id) "
        f"SELECT {LEGACY_PROJECT}, {_CURRENT_COLUMNS}, {int(batch)} "
        f"FROM {LEGACY_COLD_TABLE} WHERE batch_id = {int(legacy_batch)}"
    )


# The 15-minute UTC bucket of an instant, as PostgreSQL's event_bucket() computes it:
# floored, for instants before 1970 too (toStartOfFifteenMinutes clamps those).
_BUCKET_US = 900_000_000
_BUCKET_BASE_US = 100_000 * 86_400_000_000  # a whole number of buckets
_COLD_BUCKET = (
    f"fromUnixTimestamp64Micro(intDiv(toUnixTimestamp64Micro(occurred_at) + {_BUCKET_BASE_US},"
    f" {_BUCKET_US}) * {_BUCKET_US} - {_BUCKET_BASE_US}, 'UTC')"
)


def bucket_statements(*, project: int, batch: int, start_us: int, end_us: int) -> list[str]:
    """The ClickHouse statements counting the cold rows of archive ``batch`` (of
    ``project``, all of them within ``[start_us, end_us)``) into both bucket tables."""
    return _bucket_inserts(
        f"FROM {COLD_TABLE} WHERE project_id = {int(project)} AND batch_id = {int(batch)}"
        f" AND occurred_at >= fromUnixTimestamp64Micro(toInt64({int(start_us)}))"
        f" AND occurred_at < fromUnixTimestamp64Micro(toInt64({int(end_us)}))"
    )


def user_bucket_statements(*, project: int, user_id: str) -> list[str]:
    """The ClickHouse statements counting every cold row of ``user_id`` in ``project``
    (of every batch) into both bucket tables."""
    return _bucket_inserts(
        f"FROM {COLD_TABLE} WHERE project_id = {int(project)} AND user_id = {literal(user_id)}"
    )


def _bucket_inserts(rows: str) -> list[str]:
    user, kind = COLD_BUCKET_TABLES
    return [
        f"INSERT INTO {user} (project_id, bucket, user_id, batch_id, events)"
        f" SELECT project_id, {_COLD_BUCKET} AS bucket, user_id, batch_id, count() {rows}"
        " GROUP BY project_id, bucket, user_id, batch_id",
        f"INSERT INTO {kind} (project_id, bucket, event_type, user_id, batch_id, events)"
        f" SELECT project_id, {_COLD_BUCKET} AS bucket, event_type, user_id, batch_id, count()"
        f" {rows} GROUP BY project_id, bucket, event_type, user_id, batch_id",
    ]


def _refuse_raw(sql: str) -> None:
    if match := _RAW_REFERENCE.search(sql):
        raise UnscopedStatement(
            f"statement names the events table ({match.group(0)!r}); read it as EVENTS "
            "through a Scope, so that it holds one project's rows only"
        )
