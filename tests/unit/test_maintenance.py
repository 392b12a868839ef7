"""Maintenance on a SQLite-catalog lakehouse: compaction, snapshot expiry, unreferenced-file removal, safety rules."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from madlake.lakehouse import writes
from madlake.lakehouse.tables import ensure_table
from madlake.ops import maintenance as m
from madlake.tables.spec import TableSpec
from pyiceberg.expressions import EqualTo
from pyiceberg.schema import Schema
from pyiceberg.types import DateType, LongType, NestedField, StringType, TimestamptzType

from tests.fingerprint import fingerprint_table

SPEC = TableSpec(
    name="events",
    schema=Schema(
        NestedField(1, "day", DateType(), required=True),
        NestedField(2, "key", StringType(), required=True),
        NestedField(3, "value", LongType(), required=False),
    ),
    partition=(("day", "day"),),
    sort=("key",),
    key=("day", "key"),
)
CTX = writes.CommitContext(dag_id="test_dag", run_id="run-1", source="unit-test")
D1, D2 = date(2024, 1, 1), date(2024, 1, 2)
NOW_POLICY = m.MaintenancePolicy(
    snapshot_retention=timedelta(0), retain_last=1, orphan_min_age=timedelta(0), compact_min_files=4
)


def append(table, day: date, keys: list[str], value: int = 1) -> None:
    df = pa.table({"day": [day] * len(keys), "key": keys, "value": [value] * len(keys)})
    table.append(writes.conform(table, df), snapshot_properties=CTX.properties())


def files_on_disk(table) -> set[str]:
    return {f.path for f in m.list_table_files(table)}


def rows(table, snapshot_id: int | None = None) -> list[tuple]:
    return sorted((r["day"], r["key"], r["value"]) for r in table.scan(snapshot_id=snapshot_id).to_arrow().to_pylist())


def test_compaction_rewrites_only_partitions_with_many_small_files(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    for i in range(6):
        append(table, D1, [f"k{i}"])
    append(table, D2, ["a"])
    append(table, D2, ["b"])
    before = fingerprint_table(table, key=SPEC.key)
    policy = m.MaintenancePolicy(compact_min_files=4, snapshot_retention=timedelta(days=7))

    report = m.maintain_table(table, policy, CTX)

    after = fingerprint_table(table, key=SPEC.key)
    print(f"compaction: data files {report.before.data_files} -> {report.after.data_files}, rows {after.rows}")
    assert after.same_content(before), "compaction changed the rows"
    assert report.partitions_compacted == 1 and report.files_compacted == 6 and report.files_written == 1
    assert (report.before.data_files, report.after.data_files) == (8, 3)
    by_day = {}
    for task in table.scan().plan_files():
        by_day[task.file.partition[0]] = by_day.get(task.file.partition[0], 0) + 1
    assert sorted(by_day.values()) == [1, 2]  # D1 compacted to one file, D2 (2 files < 4) untouched
    assert table.current_snapshot().summary["madlake.operation"] == "compaction"
    # Nothing expired (7-day retention): the pre-compaction files are still on disk for time travel.
    assert report.snapshots_expired == 0
    assert report.after.files > report.before.files


def test_expiry_removes_only_files_no_remaining_snapshot_needs(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    append(table, D1, ["a"], value=1)
    tagged = table.current_snapshot().snapshot_id
    with table.manage_snapshots() as ms:
        ms.create_tag(snapshot_id=tagged, tag_name="release-1")
    tagged_rows = rows(table, tagged)
    writes.replace_partition(
        table, pa.table({"day": [D1], "key": ["b"], "value": [2]}), EqualTo("day", "2024-01-01"), CTX
    )
    middle = table.current_snapshot().snapshot_id
    middle_files = {t.file.file_path.removeprefix("file://") for t in table.scan(snapshot_id=middle).plan_files()}
    writes.replace_partition(
        table, pa.table({"day": [D1], "key": ["c"], "value": [3]}), EqualTo("day", "2024-01-01"), CTX
    )
    current_rows = rows(table)
    snapshots_before = {s.snapshot_id for s in table.metadata.snapshots}
    time.sleep(0.01)

    report = m.maintain_table(table, NOW_POLICY, CTX)

    remaining = {s.snapshot_id for s in table.metadata.snapshots}
    print(f"expiry: {len(snapshots_before)} snapshots -> {len(remaining)}, {report.orphans_deleted} files deleted")
    assert tagged in remaining, "a tagged snapshot was expired"
    assert middle not in remaining
    assert report.snapshots_expired == len(snapshots_before) - len(remaining) > 0
    assert rows(table) == current_rows
    assert rows(table, tagged) == tagged_rows  # the tag's files survived
    on_disk = files_on_disk(table)
    assert not (middle_files & on_disk), "files only the expired snapshot needed are still on disk"
    assert m.referenced_files(table) <= on_disk, "a file a live snapshot needs was deleted"
    assert report.after.files < report.before.files


def test_a_reader_holding_an_old_snapshot_still_reads_it_after_maintenance(lakehouse: Path) -> None:
    from madlake.sql.engine import LocalEngine

    table = ensure_table(SPEC)
    for i in range(5):
        append(table, D1, [f"k{i}"], value=i)
    old_snapshot = table.current_snapshot().snapshot_id
    old_print = fingerprint_table(table, snapshot_id=old_snapshot, key=SPEC.key)
    # A second reader opened the table before maintenance and keeps its (now stale) metadata.
    stale = table.catalog.load_table(table.name())
    engine = LocalEngine(snapshot_ids={"events": old_snapshot})
    writes.replace_partition(
        table, pa.table({"day": [D2], "key": ["z"], "value": [9]}), EqualTo("day", "2024-01-02"), CTX
    )
    # Retained by age (1 day) even though it is not among the last snapshots: compaction, expiry and cleanup run.
    policy = m.MaintenancePolicy(
        snapshot_retention=timedelta(days=1), retain_last=1, orphan_min_age=timedelta(0), compact_min_files=4
    )

    report = m.maintain_table(table, policy, CTX)

    assert report.partitions_compacted == 1
    assert fingerprint_table(table, snapshot_id=old_snapshot, key=SPEC.key).same_content(old_print)
    assert sorted(r["key"] for r in stale.scan().to_arrow().to_pylist()) == [f"k{i}" for i in range(5)]
    n = engine.query("select count(*) from events").column(0)[0].as_py()
    print(f"reader of snapshot {old_snapshot}: {n} rows after maintenance (compacted {report.files_compacted} files)")
    assert n == 5


def test_crash_orphans_survive_while_young_and_are_removed_once_old(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    append(table, D1, ["a"])
    data_dir = Path(table.location().removeprefix("file://")) / "data" / "day_day=2024-01-01"
    orphan = data_dir / "00000-0-crashed-writer.parquet"
    orphan.write_bytes(b"PAR1 half-written")
    policy = m.MaintenancePolicy()  # default 3 h safety age

    first = m.maintain_table(table, policy, CTX)
    assert orphan.exists(), "a young unreferenced file (a writer in flight) was deleted"
    assert first.orphans_too_young >= 1 and first.orphans_deleted == 0

    old = time.time() - 4 * 3600
    os.utime(orphan, (old, old))
    second = m.maintain_table(table, policy, CTX)
    print(f"orphans: young kept {first.orphans_too_young}, old deleted {second.orphans_deleted}")
    assert not orphan.exists()
    assert second.orphans_deleted == 1 and second.orphan_bytes_deleted == len(b"PAR1 half-written")
    assert rows(table) == [(D1, "a", 1)]


def test_dry_run_changes_nothing(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    for i in range(5):
        append(table, D1, [f"k{i}"])
    before_files = files_on_disk(table)
    before_snapshots = len(table.metadata.snapshots)
    policy = m.MaintenancePolicy(
        snapshot_retention=timedelta(0), retain_last=1, orphan_min_age=timedelta(0), compact_min_files=4, dry_run=True
    )
    report = m.maintain_table(table, policy, CTX)
    assert report.partitions_compacted == 1 and report.snapshots_expired == 4
    assert files_on_disk(table) == before_files
    assert len(table.metadata.snapshots) == before_snapshots


def test_partition_with_delete_files_is_not_compacted(lakehouse: Path) -> None:
    # pyiceberg writes copy-on-write, so fake the signal through the planner's view of the partition.
    table = ensure_table(SPEC)
    for i in range(4):
        append(table, D1, [f"k{i}"])
    report = m.TableReport(table="events")
    policy = m.MaintenancePolicy(compact_min_files=4)
    assert len(m._compaction_candidates(table, policy, report)) == 1
    original = type(table).scan

    def scan_with_deletes(self, *args, **kwargs):
        scan = original(self, *args, **kwargs)
        tasks = list(scan.plan_files())
        for t in tasks:
            t.delete_files = {tasks[0].file}
        scan.plan_files = lambda: tasks
        return scan

    type(table).scan = scan_with_deletes
    try:
        assert m._compaction_candidates(table, policy, report) == []
    finally:
        type(table).scan = original
    assert report.partitions_skipped_deletes == 1


def test_partition_filter_selects_exactly_one_partition(lakehouse: Path) -> None:
    spec = TableSpec(
        name="stamped",
        schema=Schema(
            NestedField(1, "at", TimestamptzType(), required=False),
            NestedField(2, "kind", StringType(), required=False),
        ),
        partition=(("at", "month"), ("kind", "identity")),
    )
    table = ensure_table(spec)
    ts = pa.timestamp("us", "UTC")
    df = pa.table(
        {
            "at": pa.array(
                [datetime(2024, 1, 31, 23, 59, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC), None, None], ts
            ),
            "kind": ["x", "x", None, "it's"],
        }
    )
    table.append(writes.conform(table, df))
    for task in table.scan().plan_files():
        selected = table.scan(row_filter=m.partition_filter(table, tuple(task.file.partition))).to_arrow()
        assert selected.num_rows == task.file.record_count == 1, task.file.partition


def test_athena_statements_quote_nothing_they_cannot_check() -> None:
    policy = m.MaintenancePolicy(snapshot_retention=timedelta(days=3), retain_last=2)
    statements = m.athena_statements("madlake", "pypi_downloads", policy)
    assert statements == [
        "ALTER TABLE madlake.pypi_downloads SET TBLPROPERTIES ("
        "'vacuum_max_snapshot_age_seconds'='259200', 'vacuum_min_snapshots_to_keep'='2')",
        "OPTIMIZE madlake.pypi_downloads REWRITE DATA USING BIN_PACK",
        "VACUUM madlake.pypi_downloads",
    ]
    for bad in ("x; drop table y", "a.b", "Tools", "t'--", ""):
        with pytest.raises(ValueError, match="refusing"):
            m.athena_statements("madlake", bad, policy)


def test_policy_rejects_unsafe_values() -> None:
    with pytest.raises(ValueError, match="retain_last"):
        m.MaintenancePolicy(retain_last=0)
    with pytest.raises(ValueError, match="negative"):
        m.MaintenancePolicy(orphan_min_age=timedelta(hours=-1))


def test_compaction_is_not_counted_as_a_load_by_source_freshness(lakehouse: Path) -> None:
    from madlake.ops.freshness import measure_table

    table = ensure_table(SPEC)
    for i in range(4):
        append(table, D1, [f"k{i}"])
    m.maintain_table(table, m.MaintenancePolicy(compact_min_files=4), writes.CommitContext("maint", "r", "maintenance"))
    assert table.current_snapshot().summary["madlake.source"] == "maintenance"
    rows_ = measure_table(table, SPEC, D2, datetime.now(UTC))
    assert [(r.source, r.loads) for r in rows_] == [("unit-test", 1)]  # 4 appends by one run; compaction ignored
