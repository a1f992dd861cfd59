"""Where cold statements land: the tables of one ClickHouse server, or a cluster's shards.

On one server every statement runs as written. In a cluster (``EVENTIDE_CLICKHOUSE_CLUSTER``)
each events and bucket table is a ReplicatedMergeTree table ``<name>_local`` on every
node, created ``ON CLUSTER``, behind a Distributed table under the table's own name. Readers
and inserts keep naming ``<name>`` and stay unchanged; what removes or rewrites rows
(``ALTER``, ``TRUNCATE``, ``DELETE FROM``, ``OPTIMIZE``) must name the local tables of every
shard, and :meth:`ColdLayout.statement` readdresses it, so every builder of such statements
(``Scope.cold_delete`` and the others) is cluster-aware without knowing it. Likewise a
listing of a table's parts (a Distributed table has none) lists those of its local
tables on every node.

Rows are sharded by ``cityHash64(project_id, user_id)``, buckets by the same key, so each
user's events of a project and the buckets counted from them live on one shard: the
archiver's bucket ``INSERT … SELECT`` runs on each shard over its own rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from eventide.storage.tenant_sql import COLD_BUCKET_TABLES, COLD_TABLE, LEGACY_COLD_TABLE

SHARDED_TABLES = (COLD_TABLE, *COLD_BUCKET_TABLES)
SHARDING_KEY = "cityHash64(project_id, user_id)"
LOCAL_SUFFIX = "_local"

_TABLES = "|".join(SHARDED_TABLES)
# A DDL statement's table: after CREATE TABLE [IF NOT EXISTS] or ALTER TABLE.
_DDL_TABLE = re.compile(r"^(CREATE TABLE (?:IF NOT EXISTS )?|ALTER TABLE )(\w+)\b")
_ENGINE = re.compile(r"\bENGINE = (\w*)MergeTree(?:\(([^)]*)\))?")
# A statement removing or rewriting rows of a sharded table, not yet addressed to the
# cluster: Distributed tables take none of these.
_REMOVAL = re.compile(
    r"^(ALTER TABLE |TRUNCATE TABLE (?:IF EXISTS )?|DELETE FROM |OPTIMIZE TABLE )"
    rf"({_TABLES})\b(?!\s+ON CLUSTER\b)",
    re.IGNORECASE,
)
# Waiting for a mutation on the replica that ran it only would let a reader on the
# other replica still see the rows.
_MUTATIONS_SYNC = re.compile(r"\bmutations_sync\s*=\s*1\b")
# The parts of a sharded table, as the retention removal lists them to find its months.
_PARTS = re.compile(
    rf"\bFROM system\.parts WHERE database = currentDatabase\(\) AND table = '({_TABLES})'"
)
_COMMENT_LINE = re.compile(r"^\s*--.*\n?", re.MULTILINE)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UnknownClusterTable(Exception):
    """A DDL statement names a table the cluster layout does not know how to shard."""


@dataclass(frozen=True)
class ColdLayout:
    """One server (``cluster`` None) or the named cluster of ``remote_servers``."""

    cluster: str | None = None

    def __post_init__(self) -> None:
        if self.cluster is not None and not _IDENTIFIER.match(self.cluster):
            raise ValueError(f"not a ClickHouse cluster name: {self.cluster!r}")

    def schema(self, statement: str, *, database: str) -> list[str]:
        """The statements applying one statement of ``clickhouse_ddl/`` in this layout."""
        if self.cluster is None:
            return [statement]
        statement = _COMMENT_LINE.sub("", statement).strip()
        match = _DDL_TABLE.match(statement)
        if match is None:
            raise UnknownClusterTable(f"not a CREATE or ALTER TABLE: {statement[:60]!r}")
        verb, table = match.groups()
        if table == LEGACY_COLD_TABLE:
            # A cluster starts in the current layout: the one from before projects (and
            # the rewriting out of it) exists on single servers only.
            return []
        if table not in SHARDED_TABLES:
            raise UnknownClusterTable(f"no sharding is defined for table {table!r}")
        local = f"{table}{LOCAL_SUFFIX}"
        on_cluster = f"ON CLUSTER {self.cluster}"
        rest = statement[match.end() :]
        if verb.startswith("ALTER"):
            # Columns are added to the shards' tables and to the table reading them.
            return [f"{verb}{local} {on_cluster}{rest}", f"{verb}{table} {on_cluster}{rest}"]
        path = f"'/clickhouse/tables/{{shard}}/{database}/{table}', '{{replica}}'"
        replicated = _ENGINE.sub(
            lambda m: f"ENGINE = Replicated{m[1]}MergeTree({path}{', ' + m[2] if m[2] else ''})",
            rest,
            count=1,
        )
        if replicated == rest:
            raise UnknownClusterTable(f"table {table!r} is not a MergeTree table")
        return [
            f"{verb}{local} {on_cluster}{replicated}",
            f"{verb}{table} {on_cluster} AS {database}.{local} "
            f"ENGINE = Distributed({self.cluster}, {database}, {local}, {SHARDING_KEY})",
        ]

    def statement(self, sql: str) -> str:
        """``sql`` as it must run: a removal from a sharded table is addressed to its
        local tables on every node of the cluster and waits for every replica; a listing
        of its parts reads those of every node."""
        if self.cluster is None:
            return sql
        sql = _PARTS.sub(
            rf"FROM clusterAllReplicas({self.cluster}, system.parts)"
            rf" WHERE database = currentDatabase() AND table = '\g<1>{LOCAL_SUFFIX}'",
            sql,
        )
        readdressed, found = _REMOVAL.subn(
            rf"\g<1>\g<2>{LOCAL_SUFFIX} ON CLUSTER {self.cluster}", sql, count=1
        )
        if not found:
            return sql
        return _MUTATIONS_SYNC.sub("mutations_sync = 2", readdressed)

    def settings(self, *, replicas: int) -> dict[str, Any]:
        """Session settings for a cluster whose shards have ``replicas`` replicas each
        (none on one server). See README "Scaling out" for why each is needed."""
        if self.cluster is None:
            return {}
        return {
            # An insert returns once every shard has its rows, not when queued.
            "distributed_foreground_insert": 1,
            # ... and once every replica of each shard has them: a batch is committed in
            # PostgreSQL right after, and a reader may be served by any replica.
            "insert_quorum": replicas,
            # A block identical to an earlier one must be written again (buckets of a
            # batch rewritten after their deletion), never dropped as a retry.
            "insert_deduplicate": 0,
            # Mutations sent without a mutations_sync of their own, DROP PARTITION and
            # other partition work wait for every replica too.
            "mutations_sync": 2,
            "alter_sync": 2,
            # Each shard counts its own rows into its own buckets (same sharding key).
            "parallel_distributed_insert_select": 2,
            # Readers keep every JOIN and IN on the initiator; a statement that would send
            # one to the shards fails instead of being answered from one shard's rows.
            "distributed_product_mode": "deny",
            "prefer_localhost_replica": 1,
        }
