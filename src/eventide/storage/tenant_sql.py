"""The tenant guard: every statement that reads or removes events names its project.

Statements are written against :data:`EVENTS` instead of a table, and rendered here for
one :class:`Scope`: for PostgreSQL, :data:`EVENTS` becomes the rows of the scope's
project; for ClickHouse, the rows of the project that the reader's snapshot may see
(:meth:`Scope.cold`). A statement that names the events table itself is refused with
:class:`UnscopedStatement`, so a query written without the project condition fails the
first time it runs instead of reading another project's events. Deletions are built
here too (:meth:`Scope.hot_delete`, :meth:`Scope.cold_delete`).

Only the archiver and the server-wide totals of administrators read every project; they
say so with :meth:`Scope.every_project`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EVENTS = "{events}"
"""Where a statement reads events: ``f"SELECT count() FROM {EVENTS} WHERE ..."``."""

HOT_TABLE = "events"
COLD_TABLE = "project_events"
# The cold layout from before projects (every row of project 1), read beside the current
# one until the archiver has rewritten each of its batches (see archive.relayout).
LEGACY_COLD_TABLE = "events"
_COLD_TABLES = f"merge(currentDatabase(), '^({COLD_TABLE}|{LEGACY_COLD_TABLE})$')"

# A table reference to events written by hand: after FROM, JOIN, INTO, UPDATE or TABLE.
_RAW_REFERENCE = re.compile(
    rf"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:ONLY\s+)?\"?(?:{HOT_TABLE}|{COLD_TABLE})\b",
    re.IGNORECASE,
)


class UnscopedStatement(Exception):
    """A statement names the events table instead of :data:`EVENTS`."""


@dataclass(frozen=True)
class Scope:
    """The events a statement may touch: one project's, or (rarely) every project's."""

    project: int | None

    @classmethod
    def of(cls, project: int) -> Scope:
        if type(project) is not int or project < 1:
            raise ValueError(f"not a project id: {project!r}")
        return cls(project)

    @classmethod
    def every_project(cls) -> Scope:
        """Every project's events: for the archiver and server-wide totals only."""
        return cls(None)

    def hot(self, sql: str) -> str:
        """``sql`` for PostgreSQL, reading the scope's events where it says :data:`EVENTS`."""
        return _render(sql, self._rows(HOT_TABLE, ""))

    def cold(self, sql: str, *, visible: str, legacy: bool) -> str:
        """``sql`` for ClickHouse, reading the scope's events that satisfy ``visible``
        (the reader's batch visibility); with ``legacy``, also those of the layout from
        before projects."""
        table = _COLD_TABLES if legacy else COLD_TABLE
        return _render(sql, self._rows(table, visible))

    def hot_delete(self, condition: str) -> str:
        """A PostgreSQL DELETE of the scope's events that satisfy ``condition``."""
        _refuse_raw(condition)
        return f"DELETE FROM {HOT_TABLE} WHERE {self._condition()}({condition})"

    def cold_delete(
        self, condition: str, *, table: str = COLD_TABLE, partition: str | None = None
    ) -> str:
        """A ClickHouse mutation deleting the scope's cold events satisfying ``condition``
        (in ``partition`` only, an expression, when given)."""
        _refuse_raw(condition)
        where = f"IN PARTITION {partition} WHERE" if partition else "WHERE"
        return f"ALTER TABLE {table} DELETE {where} {self._condition()}({condition})"

    def _condition(self) -> str:
        return "" if self.project is None else f"project_id = {self.project} AND "

    def _rows(self, table: str, visible: str) -> str:
        conditions = " AND ".join(
            c for c in (self._condition().removesuffix(" AND "), visible) if c
        )
        where = f" WHERE {conditions}" if conditions else ""
        return f"(SELECT * FROM {table}{where}) AS events"


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


def _render(sql: str, rows: str) -> str:
    _refuse_raw(sql)
    return sql.replace(EVENTS, rows)


def _refuse_raw(sql: str) -> None:
    if match := _RAW_REFERENCE.search(sql):
        raise UnscopedStatement(
            f"statement names the events table ({match.group(0)!r}); read it as EVENTS "
            "through a Scope, so that it holds one project's rows only"
        )
