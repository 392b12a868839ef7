"""The lakehouse layer on a SQLite catalog: table creation and the three write modes."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from madlake.lakehouse import writes
from madlake.lakehouse.tables import ensure_table, ensure_tables
from madlake.names import PROP_DAG_ID, PROP_RUN_ID, PROP_SOURCE
from madlake.tables.spec import TableSpec
from pyiceberg.expressions import AlwaysTrue, EqualTo
from pyiceberg.schema import Schema
from pyiceberg.types import DateType, LongType, NestedField, StringType, TimestamptzType

SPEC = TableSpec(
    name="events",
    schema=Schema(
        NestedField(1, "day", DateType(), required=True),
        NestedField(2, "key", StringType(), required=True),
        NestedField(3, "value", LongType(), required=False),
        NestedField(4, "first_seen_at", TimestamptzType(), required=False),
    ),
    partition=(("day", "day"),),
    sort=("key",),
    key=("day", "key"),
)
CTX = writes.CommitContext(dag_id="test_dag", run_id="run-1", source="unit-test")
D1, D2 = date(2024, 1, 1), date(2024, 1, 2)


def rows(day: date, values: dict[str, int]) -> pa.Table:
    return pa.table({"day": [day] * len(values), "key": list(values), "value": list(values.values())})


def content(table) -> list[tuple]:
    table.refresh()
    return sorted((r["day"], r["key"], r["value"]) for r in table.scan().to_arrow().to_pylist())


def audit_ok(staged: pa.Table, table, snapshot_id: int) -> writes.AuditReport:
    return writes.AuditReport((writes.ExpectationResult("rows > 0", staged.num_rows > 0, str(staged.num_rows)),))


def audit_no_negatives(staged: pa.Table, table, snapshot_id: int) -> writes.AuditReport:
    bad = [r for r in staged.to_pylist() if r["value"] < 0]
    return writes.AuditReport((writes.ExpectationResult("value >= 0", not bad, f"{len(bad)} negative"),))


def test_every_registered_table_is_created_idempotently(lakehouse: Path) -> None:
    first = ensure_tables()
    again = ensure_tables()
    assert first == again
    assert {"madlake.dim_tools", "madlake.rejected_records", "madlake.audit_results"} <= set(first)


def test_table_layout_follows_the_spec(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    assert [f.name for f in table.schema().fields] == ["day", "key", "value", "first_seen_at"]
    assert table.schema().find_field("day").required
    assert str(table.spec().fields[0].transform) == "day"
    assert table.sort_order().fields[0].source_id == 2


def test_table_gains_columns_added_to_its_spec(lakehouse: Path) -> None:
    ensure_table(SPEC)
    wider = TableSpec(
        name=SPEC.name,
        schema=Schema(*SPEC.schema.fields, NestedField(5, "extra", StringType(), required=False)),
        partition=SPEC.partition,
    )
    assert "extra" in [f.name for f in ensure_table(wider).schema().fields]


def test_replace_partition_replaces_exactly_its_partition(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    writes.replace_partition(table, rows(D1, {"a": 1, "b": 2}), EqualTo("day", "2024-01-01"), CTX)
    writes.replace_partition(table, rows(D2, {"a": 5}), EqualTo("day", "2024-01-02"), CTX)
    writes.replace_partition(table, rows(D1, {"a": 1, "b": 2}), EqualTo("day", "2024-01-01"), CTX)  # rerun
    assert content(table) == [(D1, "a", 1), (D1, "b", 2), (D2, "a", 5)]
    writes.replace_partition(table, rows(D1, {"c": 3}), EqualTo("day", "2024-01-01"), CTX)  # new input replaces
    assert content(table) == [(D1, "c", 3), (D2, "a", 5)]


def test_replace_partition_refuses_rows_outside_the_partition(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    with pytest.raises(writes.RowsOutsideFilterError, match="1 of 1 rows fall outside"):
        writes.replace_partition(table, rows(D2, {"a": 1}), EqualTo("day", "2024-01-01"), CTX)
    assert content(table) == []


def test_commits_carry_dag_run_and_source(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    writes.replace_partition(table, rows(D1, {"a": 1}), EqualTo("day", "2024-01-01"), CTX)
    summary = table.current_snapshot().summary
    assert summary[PROP_DAG_ID] == "test_dag"
    assert summary[PROP_RUN_ID] == "run-1"
    assert summary[PROP_SOURCE] == "unit-test"


def test_conform_names_the_missing_required_column(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    with pytest.raises(ValueError, match="required column 'key'"):
        writes.conform(table, pa.table({"day": [D1]}))


def test_merge_updates_inserts_and_preserves(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    t1 = datetime(2024, 2, 1, tzinfo=UTC)
    first = rows(D1, {"a": 1, "b": 2}).append_column("first_seen_at", pa.array([t0, t0], pa.timestamp("us", "UTC")))
    writes.merge(table, first, ["day", "key"], CTX, preserve=["first_seen_at"])
    second = pa.table(
        {
            "day": [D1, D2],
            "key": ["a", "z"],
            "value": [10, 26],
            "first_seen_at": pa.array([t1, t1], pa.timestamp("us", "UTC")),
        }
    )
    result = writes.merge(table, second, ["day", "key"], CTX, preserve=["first_seen_at"])
    assert (result.inserted, result.updated) == (1, 1)
    assert content(table) == [(D1, "a", 10), (D1, "b", 2), (D2, "z", 26)]
    seen = {r["key"]: r["first_seen_at"] for r in table.scan().to_arrow().to_pylist()}
    assert seen == {"a": t0, "b": t0, "z": t1}


def test_merge_of_the_same_rows_changes_nothing(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    writes.merge(table, rows(D1, {"a": 1, "b": 2}), ["day", "key"], CTX)
    snapshots = len(table.metadata.snapshots)
    again = writes.merge(table, rows(D1, {"b": 2, "a": 1}), ["day", "key"], CTX)
    table.refresh()
    assert again.skipped
    assert len(table.metadata.snapshots) == snapshots
    assert content(table) == [(D1, "a", 1), (D1, "b", 2)]


def test_merge_keeps_the_last_duplicate_of_a_key(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    dup = pa.table({"day": [D1, D1], "key": ["a", "a"], "value": [1, 2]})
    writes.merge(table, dup, ["day", "key"], CTX)
    assert content(table) == [(D1, "a", 2)]


def test_merge_reads_only_touched_partitions(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    writes.merge(table, rows(D1, {"a": 1}), ["day", "key"], CTX)
    scope = writes.touched_partitions_filter(table, rows(D2, {"a": 1}))
    assert table.scan(row_filter=scope).to_arrow().num_rows == 0
    scope = writes.touched_partitions_filter(table, rows(D1, {"x": 1}))
    assert table.scan(row_filter=scope).to_arrow().num_rows == 1


def test_wap_publishes_a_passing_audit_and_drops_the_branch(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    recorded: list[tuple] = []
    result = writes.write_audit_publish(
        table,
        rows(D1, {"a": 1}),
        EqualTo("day", "2024-01-01"),
        "2024-01-01",
        audit_ok,
        CTX,
        recorder=lambda *args: recorded.append(args),
    )
    table.refresh()
    assert table.current_snapshot().snapshot_id == result.snapshot_id
    assert list(table.refs()) == ["main"]
    assert content(table) == [(D1, "a", 1)]
    assert recorded and recorded[0][-1] is True


def test_wap_failed_audit_leaves_main_untouched_and_keeps_the_branch(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    writes.write_audit_publish(table, rows(D1, {"a": 1}), EqualTo("day", "2024-01-01"), "2024-01-01", audit_ok, CTX)
    main_before = table.current_snapshot().snapshot_id
    recorded: list[tuple] = []
    with pytest.raises(writes.AuditFailedError, match="value >= 0: 1 negative") as err:
        writes.write_audit_publish(
            table,
            rows(D1, {"a": -5}),
            EqualTo("day", "2024-01-01"),
            "2024-01-01",
            audit_no_negatives,
            CTX,
            recorder=lambda *args: recorded.append(args),
        )
    table.refresh()
    assert table.current_snapshot().snapshot_id == main_before
    assert content(table) == [(D1, "a", 1)]
    branch = err.value.branch
    assert branch in table.refs()
    staged = table.scan(snapshot_id=table.refs()[branch].snapshot_id).to_arrow().to_pylist()
    assert [r["value"] for r in staged] == [-5]  # the bad rows stay inspectable on the branch
    assert recorded and recorded[0][-1] is False


def test_wap_refuses_to_publish_when_main_moved(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    writes.replace_partition(table, rows(D2, {"z": 9}), EqualTo("day", "2024-01-02"), CTX)

    def audit_while_someone_else_commits(staged: pa.Table, tbl, snapshot_id: int) -> writes.AuditReport:
        other = load_table_copy(tbl)
        writes.replace_partition(other, rows(D2, {"z": 10}), EqualTo("day", "2024-01-02"), CTX)
        return audit_ok(staged, tbl, snapshot_id)

    with pytest.raises(writes.PublishRefusedError, match="main moved"):
        writes.write_audit_publish_once(
            table, rows(D1, {"a": 1}), EqualTo("day", "2024-01-01"), "2024-01-01", audit_while_someone_else_commits, CTX
        )
    assert content(table) == [(D2, "z", 10)]  # the other writer's commit survives; ours was not published


def load_table_copy(table):
    from madlake.lakehouse.catalog import get_catalog

    return get_catalog().load_table(".".join(table.name()))


def test_wap_rebases_when_main_moved_and_both_land(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    calls = {"n": 0}

    def audit_racing_once(staged: pa.Table, tbl, snapshot_id: int) -> writes.AuditReport:
        calls["n"] += 1
        if calls["n"] == 1:
            writes.replace_partition(load_table_copy(tbl), rows(D2, {"z": 9}), EqualTo("day", "2024-01-02"), CTX)
        return audit_ok(staged, tbl, snapshot_id)

    result = writes.write_audit_publish(
        table, rows(D1, {"a": 1}), EqualTo("day", "2024-01-01"), "2024-01-01", audit_racing_once, CTX
    )
    assert result.attempts == 2
    assert content(table) == [(D1, "a", 1), (D2, "z", 9)]


def test_concurrent_wap_of_two_days_both_land(lakehouse: Path) -> None:
    ensure_table(SPEC)
    errors: list[BaseException] = []

    def publish(day: date, values: dict[str, int]) -> None:
        try:
            table = load_table_copy_by_name(SPEC.name)
            writes.write_audit_publish(
                table, rows(day, values), EqualTo("day", day.isoformat()), day.isoformat(), audit_ok, CTX
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(d, {"k": i})) for i, d in enumerate([D1, D2])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert content(load_table_copy_by_name(SPEC.name)) == [(D1, "k", 0), (D2, "k", 1)]


def load_table_copy_by_name(name: str):
    from madlake.lakehouse.catalog import get_catalog

    return get_catalog().load_table(f"madlake.{name}")


def test_wap_on_an_empty_table_whole_table_filter(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    writes.write_audit_publish(table, rows(D1, {"a": 1}), AlwaysTrue(), "all", audit_ok, CTX)
    assert content(table) == [(D1, "a", 1)]
