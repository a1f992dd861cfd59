"""``eventide export`` throughput and memory, against the engines' own bulk output.

Fills a fresh PostgreSQL database (created and dropped here) and a fresh embedded
ClickHouse (chdb, in this process) with the data set of benchmarks/query.py: BENCH_EVENTS
events in the exported project (the big one of BENCH_PROJECTS), nine in ten cold over
BENCH_COLD_DAYS days, the rest hot over the last 7 days with 1% late. Then, per format:

- export: the project's every event, the whole range, through the export's snapshot
  stream and writer (what ``eventide export`` runs) into /dev/null;
- reference: the same rows in the same order (newest first) written by the engines
  themselves into a scratch file: ClickHouse ``SELECT ... FORMAT`` (JSONEachRow,
  CSVWithNames, Parquet) of the cold rows, then PostgreSQL ``COPY ... TO`` (CSV) of the
  hot rows; no snapshot, no merge.

Prints rows/s of each and, for the export, the peak RSS of this process while it ran and
its growth over the RSS before (ClickHouse's memory included, as chdb runs in this
process; PostgreSQL's not). The peak is Linux's VmHWM, reset before each export.

Environment: BENCH_EVENTS (default 10,000,000), BENCH_COLD_DAYS (180), BENCH_USERS
(200,000), BENCH_PROJECTS (5), BENCH_DATABASE_URL, BENCH_REDIS_URL (see _engines).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import tempfile
import time
from pathlib import Path

from _engines import BIG_SHARE, PROJECTS, bench_account, bench_services
from query import HOT_END, HOT_START, fill, sizes

from eventide.analytics.export import export_events
from eventide.analytics.export_formats import FORMATS, write_all
from eventide.storage.engines import Engines
from eventide.storage.tenant_sql import COLD_TABLE, HOT_TABLE

_CH_FORMATS = {"ndjson": "JSONEachRow", "csv": "CSVWithNames", "parquet": "Parquet"}
_COLUMNS = "event_id, user_id, event_type, occurred_at, received_at, properties"


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    # Writing 5 resets VmHWM to the current RSS (Linux 4.0 and later).
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


async def exported(engines: Engines, project: int, format: str) -> tuple[int, float, int, int]:
    """Events written, seconds, peak RSS and its growth (KiB)."""
    gc.collect()
    _reset_peak()
    before = _status_kib("VmRSS")
    started = time.perf_counter()
    # Opened off the loop, as any file an async function opens.
    with await asyncio.to_thread(open, os.devnull, "wb") as out:
        stream = export_events(
            engines,
            project=project,
            occurred_from=HOT_START - dt.timedelta(days=COLD_DAYS),
            occurred_to=HOT_END,
        )
        written = await write_all(stream, format, out)
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    return written, seconds, peak, peak - before


async def reference(engines: Engines, project: int, format: str, scratch: Path) -> float:
    """Seconds for the engines to write the project's rows in ``format`` themselves."""
    cold_file, hot_file = scratch / "cold", scratch / "hot.csv"
    started = time.perf_counter()
    await engines.cold.execute(
        f"INSERT INTO FUNCTION file('{cold_file}', '{_CH_FORMATS[format]}')"
        f" SELECT {_COLUMNS} FROM {COLD_TABLE} WHERE project_id = {int(project)}"
        " ORDER BY occurred_at DESC, event_id DESC, received_at DESC"
        " SETTINGS engine_file_truncate_on_insert = 1"
    )
    await engines.db.copy_from_query(
        f"SELECT {_COLUMNS} FROM {HOT_TABLE} WHERE project_id = $1"
        ' ORDER BY occurred_at DESC, event_id COLLATE "C" DESC, received_at DESC',
        project,
        output=str(hot_file),
        format="csv",
        header=True,
        timeout=3600.0,
    )
    seconds = time.perf_counter() - started
    for path in (cold_file, hot_file):
        path.unlink()
    return seconds


EVENTS = int(os.environ.get("BENCH_EVENTS", "10000000"))
COLD_DAYS = int(os.environ.get("BENCH_COLD_DAYS", "180"))
USERS = int(os.environ.get("BENCH_USERS", "200000"))
HOT_SHARE = 0.1


async def main() -> None:
    # The exported (big) project holds BENCH_EVENTS; the others share what the split adds.
    total = EVENTS if PROJECTS == 1 else round(EVENTS / BIG_SHARE)
    hot = round(total * HOT_SHARE)
    async with bench_services() as engines:
        _, ids = await bench_account(engines.db)
        shares = sizes(cold=total - hot, hot=hot, users_=USERS, projects=PROJECTS)
        await fill(engines, dict(zip(ids, shares, strict=True)), cold_days=COLD_DAYS)
        big = ids[0]
        print(
            f"project of {shares[0].cold + shares[0].hot:,} events"
            f" ({shares[0].cold:,} cold over {COLD_DAYS} days, {shares[0].hot:,} hot),"
            f" {PROJECTS} projects"
        )
        print(f"{'format':8} {'export rows/s':>14} {'reference rows/s':>17} {'ratio':>6}"
              f" {'peak RSS':>10} {'growth':>9}")  # fmt: skip
        with tempfile.TemporaryDirectory() as scratch:
            for format in FORMATS:
                written, seconds, peak, growth = await exported(engines, big, format)
                ref = await reference(engines, big, format, Path(scratch))
                print(
                    f"{format:8} {written / seconds:14,.0f} {written / ref:17,.0f}"
                    f" {ref / seconds:6.2f} {peak / 1024:7,.0f} MiB {growth / 1024:5,.0f} MiB"
                )


if __name__ == "__main__":
    asyncio.run(main())
