"""The watchlist steps of ``gold_metrics`` through Airflow (``dag.test``): events after gold, then delivery to a local
webhook; a second run of the DAG (a rerun of the same days) sends nothing again."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from madlake.names import Dag, Table, asset_uri

from tests.integration.test_watchlists_delivery import Endpoint

pytestmark = pytest.mark.integration

DAY = date(2026, 3, 31)


def test_the_dag_wires_events_after_gold_and_delivery_after_events() -> None:
    from madlake.orchestration.runner import load_dag

    dag = load_dag(Dag.GOLD_METRICS)
    events, deliver = dag.get_task("build_tool_events"), dag.get_task("deliver_watchlist_events")
    assert "build_gold_metrics" in events.upstream_task_ids
    assert "build_tool_events" in deliver.upstream_task_ids
    assert {o.uri for o in events.outlets} == {asset_uri(Table.TOOL_EVENTS)}
    publish = load_dag(Dag.DASHBOARD_PUBLISH)
    assert asset_uri(Table.TOOL_EVENTS) in {a.uri for a in publish.timetable.asset_condition.objects}


def test_gold_metrics_computes_events_and_a_rerun_sends_nothing_twice(
    lakehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madlake.catalog import load_catalog
    from madlake.orchestration.runner import run_dag
    from madlake.pipelines.tools import init_lakehouse, load_dim_tools
    from madlake.sql.engine import LocalEngine
    from madlake.watchlists.delivery import _add_months
    from madlake.watchlists.rules import EVENT_KINDS, THRESHOLDS

    from bench.synth.gold_sources import write_sample_sources

    endpoint = Endpoint()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_WATCH_DAG", json.dumps({"conn_type": "http", "host": endpoint.url}))
        every = {
            "name": "everything",
            "title": "Everything",
            "categories": sorted(load_catalog().categories),
            "events": list(EVENT_KINDS),
            "notify": [{"conn_id": "watch_dag"}],
        }
        monkeypatch.setenv("AIRFLOW_VAR_MADLAKE_WATCHLISTS", json.dumps({"watchlists": [every]}))
        init_lakehouse()
        load_dim_tools()
        write_sample_sources(DAY - timedelta(days=70), DAY)

        run_dag(Dag.GOLD_METRICS, None, conf={"start": (DAY - timedelta(days=70)).isoformat(), "end": DAY.isoformat()})
        engine = LocalEngine()
        events = engine.query("select event_id, month from tool_events").to_pylist()
        assert events, "the sample sources move some tool in two months"
        newest = max(e["month"] for e in events)
        since = _add_months(newest, -(THRESHOLDS.deliver_months - 1))
        recent = {e["event_id"] for e in events if e["month"] >= since}
        assert recent
        assert endpoint.delivered() == {i: 1 for i in recent}
        log = engine.query("select status, count(*) as n from watchlist_deliveries group by 1").to_pylist()
        assert log == [{"status": "sent", "n": len(recent)}]

        run_dag(Dag.GOLD_METRICS, None, conf={"start": (DAY - timedelta(days=70)).isoformat(), "end": DAY.isoformat()})
        assert endpoint.delivered() == {i: 1 for i in recent}  # recomputed, same ids: nothing sent again
        again = {r["event_id"] for r in LocalEngine().query("select event_id from tool_events").to_pylist()}
        assert again == {e["event_id"] for e in events}
    finally:
        endpoint.close()
