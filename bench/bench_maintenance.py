"""Lakehouse maintenance: what compaction + snapshot expiry + unreferenced-file removal buy a small-file table.

A table gets 12 daily partitions loaded in 16 small appends each (192 data files and snapshots: the shape of a
pipeline that merges every 90 minutes). The baseline is that table as it is: a query's wall time (a fresh DuckDB
registration, which plans the scan from the manifests, plus a group-by over every row) and its storage. Then
``maintain_table`` runs (compact every partition, expire all but the last snapshot, delete what nothing references)
and the same query is timed again, in the same run. Rows are identical before and after (fingerprint checked).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import date, timedelta

DAYS = 12
APPENDS_PER_DAY = 16
ROWS_PER_APPEND = 500
REPEAT = 5


def _time_query(name: str) -> float:
    from madlake.sql.engine import LocalEngine

    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        LocalEngine().query(f"select day, count(*), sum(value) from {name} group by day order by day")
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    os.environ["MADLAKE_HOME"] = tempfile.mkdtemp(prefix="bench-maintenance-")
    import pyarrow as pa
    from madlake.lakehouse.catalog import reset_catalog_cache
    from madlake.lakehouse.tables import ensure_table
    from madlake.lakehouse.writes import CommitContext, conform
    from madlake.ops.maintenance import MaintenancePolicy, maintain_table
    from madlake.tables.spec import TableSpec
    from pyiceberg.schema import Schema
    from pyiceberg.types import DateType, LongType, NestedField, StringType

    from tests.fingerprint import fingerprint_table  # test and benchmark machinery lives under tests/

    reset_catalog_cache()
    spec = TableSpec(
        name="bench_events",
        schema=Schema(
            NestedField(1, "day", DateType(), required=True),
            NestedField(2, "key", StringType(), required=True),
            NestedField(3, "value", LongType(), required=False),
        ),
        partition=(("day", "day"),),
        sort=("key",),
    )
    table = ensure_table(spec)
    start = time.perf_counter()
    for d in range(DAYS):
        day = date(2026, 1, 1) + timedelta(days=d)
        for a in range(APPENDS_PER_DAY):
            keys = [f"k{a}-{i}" for i in range(ROWS_PER_APPEND)]
            df = pa.table({"day": [day] * ROWS_PER_APPEND, "key": keys, "value": list(range(ROWS_PER_APPEND))})
            table.append(conform(table, df))
    load_s = time.perf_counter() - start
    before_print = fingerprint_table(table, key=())
    before_query = _time_query(spec.name)

    policy = MaintenancePolicy(
        snapshot_retention=timedelta(0), retain_last=1, orphan_min_age=timedelta(0), compact_min_files=8
    )
    start = time.perf_counter()
    report = maintain_table(table, policy, CommitContext("bench", "bench", "maintenance"))
    maintain_s = time.perf_counter() - start
    after_query = _time_query(spec.name)
    after_print = fingerprint_table(table, key=())
    assert after_print.same_content(before_print), "maintenance changed the rows"
    b, a = report.before, report.after
    assert b is not None and a is not None

    print(f"table: {DAYS} partitions x {APPENDS_PER_DAY} appends x {ROWS_PER_APPEND} rows (loaded in {load_s:.1f}s)")
    print(f"data files     : {b.data_files:>7} -> {a.data_files:<7} ({b.data_files / max(a.data_files, 1):.0f}x fewer)")
    print(f"files on disk  : {b.files:>7} -> {a.files:<7} (incl. metadata, manifests, manifest lists)")
    print(f"bytes on disk  : {b.bytes:>7} -> {a.bytes:<7} ({b.bytes / max(a.bytes, 1):.1f}x less)")
    print(f"snapshots      : {b.snapshots:>7} -> {a.snapshots:<7}")
    print(f"maintenance    : {maintain_s:.2f}s ({report.partitions_compacted} partitions compacted, "
          f"{report.snapshots_expired} snapshots expired, {report.orphans_deleted} files deleted)")  # fmt: skip
    print(f"query (median of {REPEAT}): baseline {before_query * 1000:.0f} ms -> {after_query * 1000:.0f} ms "
          f"= {before_query / after_query:.1f}x faster; rows identical ({after_print.rows})")  # fmt: skip


if __name__ == "__main__":
    main()
