"""The ``gold_metrics`` DAG through Airflow itself (``dag.test``) on a local lakehouse of generated sample sources."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from madlake.names import Dag, Table, asset_uri

pytestmark = pytest.mark.integration

DAY = date(2026, 3, 31)


def test_dag_is_triggered_by_any_source_asset_and_announces_the_gold_assets() -> None:
    from madlake.orchestration.runner import load_dag

    dag = load_dag(Dag.GOLD_METRICS)
    sources = {
        Table.PYPI_DOWNLOADS,
        Table.REDDIT_MENTIONS,
        Table.GITHUB_REPO_SNAPSHOTS,
        Table.GITHUB_STARS_DAILY,
        Table.DIM_TOOLS,
        Table.PYPI_DOWNLOADS_MONTHLY,
        Table.GITHUB_REPO_HISTORY,
    }
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"
    assert {a.uri for a in condition.objects} == {asset_uri(t) for t in sources}
    build = dag.get_task("build_gold_metrics")
    assert {o.uri for o in build.outlets} == {
        asset_uri(t)
        for t in (
            Table.TOOL_DAILY_METRICS,
            Table.CATEGORY_DAILY_RANKINGS,
            Table.POPULARITY_INDEX,
            Table.TOOL_BREAKOUTS,
            Table.TOOL_MONTHLY_METRICS,
        )
    }
    assert {"date", "start", "end"} <= set(dag.params)
    assert dag.max_active_runs == 1


def test_madlake_run_gold_metrics_computes_the_day_then_a_backfill_replaces_it(lakehouse: Path) -> None:
    from madlake.orchestration.runner import run_dag
    from madlake.pipelines.tools import init_lakehouse, load_dim_tools
    from madlake.sql.engine import LocalEngine

    from bench.synth.gold_sources import write_sample_sources

    init_lakehouse()
    load_dim_tools()
    write_sample_sources(DAY - timedelta(days=35), DAY)

    run_dag(Dag.GOLD_METRICS, DAY)
    count = "select count(*) as n, count(distinct metric_date) as days, min(metric_date) as d from tool_daily_metrics"
    first = LocalEngine().query(count).to_pylist()[0]
    assert first["days"] == 1 and first["d"] == DAY and first["n"] > 100

    # A backfill over a range that includes the day already computed: that day is replaced, not duplicated.
    run_dag(Dag.GOLD_METRICS, None, conf={"start": "2026-03-29", "end": DAY.isoformat()})
    again = LocalEngine().query(count).to_pylist()[0]
    assert again == {"n": first["n"] * 3, "days": 3, "d": date(2026, 3, 29)}
    dupes = (
        LocalEngine()
        .query(
            "select count(*) as n from (select metric_date, category, signal, tool_id "
            "from category_daily_rankings group by all having count(*) > 1)"
        )
        .to_pylist()
    )
    assert dupes == [{"n": 0}]
    from madlake.pipelines.gold import snapshot_ids_at

    assert set(snapshot_ids_at("monthly-2026-03")) == {
        Table.TOOL_DAILY_METRICS,
        Table.CATEGORY_DAILY_RANKINGS,
        Table.TOOL_BREAKOUTS,
        Table.POPULARITY_INDEX,
        Table.TOOL_MONTHLY_METRICS,
    }
