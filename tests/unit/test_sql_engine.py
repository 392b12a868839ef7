from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from madlake.lakehouse import writes
from madlake.lakehouse.tables import ensure_table
from madlake.sql.engine import LocalEngine, QueryError, format_result, referenced_tables
from madlake.tables.spec import TableSpec
from pyiceberg.expressions import EqualTo
from pyiceberg.schema import Schema
from pyiceberg.types import DateType, LongType, NestedField, StringType

SPEC = TableSpec(
    "downloads",
    Schema(
        NestedField(1, "day", DateType(), required=True),
        NestedField(2, "project", StringType(), required=True),
        NestedField(3, "n", LongType(), required=True),
    ),
    partition=(("day", "day"),),
)
CTX = writes.CommitContext("t", "r", "s")


def test_referenced_tables_ignores_ctes() -> None:
    sql = "with x as (select * from a) select * from x join b using (id)"
    assert referenced_tables(sql) == {"a", "b"}


def test_local_engine_queries_iceberg_tables_with_bound_parameters(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    for d, n in [(date(2024, 1, 1), 3), (date(2024, 1, 2), 5)]:
        df = pa.table({"day": [d, d], "project": ["duckdb", "polars"], "n": [n, n * 10]})
        writes.replace_partition(table, df, EqualTo("day", d.isoformat()), CTX)
    engine = LocalEngine()
    out = engine.query("select project, sum(n) as total from downloads where project = ? group by 1", ["duckdb"])
    assert out.to_pylist() == [{"project": "duckdb", "total": 8}]
    # an injection attempt stays a value
    assert engine.query("select count(*) as c from downloads where project = ?", ["x' or '1'='1"]).to_pylist() == [
        {"c": 0}
    ]


def test_local_engine_sees_columns_added_later(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    d = date(2024, 1, 1)
    writes.replace_partition(
        table, pa.table({"day": [d], "project": ["a"], "n": [1]}), EqualTo("day", "2024-01-01"), CTX
    )
    wider = TableSpec(SPEC.name, Schema(*SPEC.schema.fields, NestedField(4, "extra", StringType())), SPEC.partition)
    ensure_table(wider)
    assert LocalEngine().query("select extra from downloads").to_pylist() == [{"extra": None}]


def test_local_engine_reads_an_old_snapshot(lakehouse: Path) -> None:
    table = ensure_table(SPEC)
    d = date(2024, 1, 1)
    writes.replace_partition(
        table, pa.table({"day": [d], "project": ["a"], "n": [1]}), EqualTo("day", "2024-01-01"), CTX
    )
    old = table.current_snapshot().snapshot_id
    writes.replace_partition(
        table, pa.table({"day": [d], "project": ["a"], "n": [2]}), EqualTo("day", "2024-01-01"), CTX
    )
    assert LocalEngine(snapshot_ids={"downloads": old}).query("select n from downloads").to_pylist() == [{"n": 1}]
    assert LocalEngine().query("select n from downloads").to_pylist() == [{"n": 2}]


def test_query_errors_carry_the_reason(lakehouse: Path) -> None:
    with pytest.raises(QueryError, match="no_such_table"):
        LocalEngine().query("select * from no_such_table")


def test_format_result() -> None:
    t = pa.table({"a": [1, None], "b": ["x", "y"]})
    assert format_result(t, "csv").splitlines() == ["a,b", "1,x", ",y"]
    assert json.loads(format_result(t, "json")) == [{"a": 1, "b": "x"}, {"a": None, "b": "y"}]
    assert "(2 rows)" in format_result(t, "table")
