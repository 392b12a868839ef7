"""Gold on the aws profile against moto_server: the models run inside Athena as MERGE statements, views as DDL.

moto's Athena records each query and answers SUCCEEDED with no rows, so this checks what madlake sends through the
real boto3 client: the statements, their order (tool_daily_metrics before the marts that read it), their dates, and
that each parses as Trino.
"""

from __future__ import annotations

from datetime import date

import boto3
import pytest
import sqlglot
from sqlglot import exp

from tests.integration.conftest import AwsLakehouse

pytestmark = pytest.mark.integration


def _queries(moto_server: str, database: str) -> list[str]:
    athena = boto3.client("athena", endpoint_url=moto_server, region_name="us-east-1")
    ids = athena.list_query_executions()["QueryExecutionIds"]
    executions = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
    mine = [e for e in executions if e.get("QueryExecutionContext", {}).get("Database") == database]
    mine.sort(key=lambda e: e["Status"]["SubmissionDateTime"])
    return [e["Query"] for e in mine]


def test_gold_runs_inside_athena_as_merges_then_views(aws_profile: AwsLakehouse, moto_server: str) -> None:
    from madlake.metrics.views import create_views, view_sql
    from madlake.pipelines.gold import build_gold

    summary = build_gold(date(2026, 3, 30), start=date(2026, 3, 29), end=date(2026, 3, 30))
    assert summary["start"] == "2026-03-29" and summary["tags"] == []
    assert create_views() == list(view_sql())

    sent = _queries(moto_server, aws_profile.namespace)
    merges = [q for q in sent if q.startswith("merge into")]
    assert [q.split()[2] for q in merges] == [
        "tool_daily_metrics",
        "category_daily_rankings",
        "tool_breakouts",
        "tool_monthly_metrics",
        "popularity_index",
    ]
    for q in merges:
        tree = sqlglot.parse_one(q, read="trino")
        assert isinstance(tree, exp.Merge)
        # the daily tables for the days of the range, the monthly ones for its month (to the range's end)
        first = "2026-03-01" if q.split()[2] in ("tool_monthly_metrics", "popularity_index") else "2026-03-29"
        assert f"date '{first}' as start_date, date '2026-03-30' as end_date" in q
    views = [q for q in sent if q.startswith("create or replace view")]
    assert sorted(q.split()[4] for q in views) == sorted(view_sql())
    assert all(isinstance(sqlglot.parse_one(q, read="trino"), exp.Create) for q in views)
    # After each merge, the audit queries run on Athena over the merged range; everything sent is Trino.
    for q in sent:
        sqlglot.parse_one(q, read="trino")
    assert any("from (select * from tool_daily_metrics where metric_date between cast(" in q for q in sent)
