"""Replays cold statements against Distributed tables in the embedded engine; prints
every answer that differs from the one recorded on plain tables, and exits non-zero.

Run in a process of its own (the embedded engine allows one per process) by
test_cold_statements.py: ``python _distributed_replay.py DIR``, where ``DIR/sent.json``
holds ``[[sql, answer or null], ...]`` and answers are sorted reprs of rows.

The engine defines a cluster of one shard, this process, which it reaches without a
network: the schema is the cluster layout's, with plain MergeTree tables under the
Distributed ones (replication needs Keeper, and ON CLUSTER its queue: both are left
out, and only they), and every statement runs as cluster mode sends it, with its session
settings. Answers about the schema itself (``system.tables``) are not compared: a
cluster has no layout from before projects.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

from eventide.storage import _sql_files
from eventide.storage.clickhouse import EmbeddedColdStore
from eventide.storage.cold_layout import ColdLayout

CLUSTER = "solo"
CONFIG = f"""<clickhouse>
    <tcp_port>9000</tcp_port>
    <remote_servers>
        <{CLUSTER}>
            <shard>
                <replica><host>localhost</host><port>9000</port></replica>
            </shard>
        </{CLUSTER}>
    </remote_servers>
</clickhouse>
"""
_ON_CLUSTER = re.compile(rf" ON CLUSTER {CLUSTER}\b")
_REPLICATED = re.compile(r"ENGINE = Replicated(\w*)MergeTree\('[^']*', '[^']*'(?:, ([^)]*))?\)")


def _unreplicated(statement: str) -> str:
    statement = _ON_CLUSTER.sub("", statement)
    return _REPLICATED.sub(
        lambda m: f"ENGINE = {m[1]}MergeTree" + (f"({m[2]})" if m[2] else ""), statement
    )


async def _answer(cold: EmbeddedColdStore, sql: str, fetch: bool) -> list[str] | None:
    if not fetch:
        await cold._run(sql, "Null")
        return None
    table = await cold._run(sql, "ArrowTable")
    rows = zip(*(column.to_pylist() for column in table.columns), strict=True)
    return sorted(repr(row) for row in rows)


async def replay(folder: Path) -> int:
    (folder / "config.xml").write_text(CONFIG)
    cold = EmbeddedColdStore(f"file:{folder / 'data'}?config-file={folder / 'config.xml'}")
    layout = ColdLayout(CLUSTER)
    try:
        for file in _sql_files.load("clickhouse_ddl"):
            for statement in file.statements():
                for each in layout.schema(statement, database=cold.database):
                    await cold._run(_unreplicated(each), "Null")
        for name, value in layout.settings(replicas=1).items():
            await cold._run(f"SET {name} = {value!r}", "Null")
        sent: list[list[Any]] = json.loads((folder / "sent.json").read_text())
        differences = 0
        for sql, recorded in sent:
            answer = await _answer(cold, _unreplicated(layout.statement(sql)), recorded is not None)
            # What the schema holds differs by design (no layout from before projects).
            if answer != recorded and "system.tables" not in sql:
                differences += 1
                print(f"differs: {sql[:300]}\n  plain:       {recorded}\n  distributed: {answer}")
        engines = await _answer(
            cold, "SELECT name, engine FROM system.tables WHERE database = currentDatabase()", True
        )
        print(f"replayed {len(sent)} statements on {engines}")
        return 1 if differences else 0
    finally:
        await cold.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(replay(Path(sys.argv[1]))))
