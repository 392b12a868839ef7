"""The aws profile against moto_server: Glue catalog, S3 warehouse, Athena client; the same code as the DAGs."""

from __future__ import annotations

from datetime import date

import boto3
import pyarrow as pa
import pytest
from pyiceberg.expressions import EqualTo

from tests.integration.conftest import AwsLakehouse

pytestmark = pytest.mark.integration


def test_lakehouse_init_and_dim_tools_load_on_glue_and_s3(aws_profile: AwsLakehouse, moto_server: str) -> None:
    from madlake.config import get_settings
    from madlake.lakehouse.catalog import get_catalog
    from madlake.pipelines.tools import init_lakehouse, load_dim_tools

    created = init_lakehouse()
    assert init_lakehouse() == created  # idempotent on Glue too
    ns = get_settings().namespace
    glue = boto3.client("glue", endpoint_url=moto_server, region_name="us-east-1")
    glue_tables = {t["Name"] for t in glue.get_tables(DatabaseName=ns)["TableList"]}
    assert {"dim_tools", "rejected_records", "audit_results"} <= glue_tables

    loaded = load_dim_tools()
    assert loaded >= 113
    table = get_catalog().load_table(f"{ns}.dim_tools")
    assert table.scan().to_arrow().num_rows == loaded
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=aws_profile.bucket, Prefix="warehouse/")["Contents"]]
    assert any(k.endswith(".parquet") for k in keys), keys
    assert any(k.endswith(".metadata.json") for k in keys), keys


def test_write_modes_on_glue_and_s3(aws_profile: AwsLakehouse) -> None:
    from madlake.lakehouse import writes
    from madlake.lakehouse.tables import ensure_table
    from madlake.tables.spec import TableSpec
    from pyiceberg.schema import Schema
    from pyiceberg.types import DateType, LongType, NestedField, StringType

    spec = TableSpec(
        "events",
        Schema(
            NestedField(1, "day", DateType(), required=True),
            NestedField(2, "key", StringType(), required=True),
            NestedField(3, "value", LongType(), required=False),
        ),
        partition=(("day", "day"),),
    )
    table = ensure_table(spec)
    ctx = writes.CommitContext("test", "run", "moto")
    d = date(2024, 5, 1)
    df = pa.table({"day": [d, d], "key": ["a", "b"], "value": [1, 2]})

    def audit(staged, tbl, sid):
        return writes.AuditReport((writes.ExpectationResult("two rows", staged.num_rows == 2, str(staged.num_rows)),))

    writes.write_audit_publish(table, df, EqualTo("day", d.isoformat()), d.isoformat(), audit, ctx)
    writes.replace_partition(table, df, EqualTo("day", d.isoformat()), ctx)
    writes.merge(table, pa.table({"day": [d], "key": ["a"], "value": [10]}), ["day", "key"], ctx)
    table.refresh()
    assert sorted((r["key"], r["value"]) for r in table.scan().to_arrow().to_pylist()) == [("a", 10), ("b", 2)]
    assert table.current_snapshot().summary["madlake.source"] == "moto"


def test_athena_engine_runs_the_query_protocol(aws_profile: AwsLakehouse) -> None:
    from madlake.sql.engine import AthenaEngine, get_engine

    engine = get_engine()
    assert isinstance(engine, AthenaEngine)
    engine.poll_seconds = 0.05
    result = engine.query("select 1 as one")  # moto answers SUCCEEDED with no rows; the round trip is what we test
    assert isinstance(result, pa.Table)
