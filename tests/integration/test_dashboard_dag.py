"""``dashboard_publish`` through Airflow (``dag.test``): freshness, then the site published under ``MADLAKE_HOME``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from madlake.names import Dag

pytestmark = pytest.mark.integration


def test_dashboard_publish_dag_builds_and_republishes_idempotently(lakehouse: Path) -> None:
    from madlake.dashboard.tasks import demo_report
    from madlake.orchestration.runner import DagRunFailedError, run_dag
    from madlake.sql.engine import LocalEngine

    from bench.synth import dashboard as synth

    # No gold data yet: the run fails and nothing is published.
    with pytest.raises(DagRunFailedError, match="build_and_publish"):
        run_dag(Dag.DASHBOARD_PUBLISH, date(2026, 9, 1))
    assert not (lakehouse / "dashboard").exists()

    tools = synth.pick_tools(8)
    synth.write_gold(synth.generate(tools, date(2026, 8, 31)))
    for _ in range(2):
        run_dag(Dag.DASHBOARD_PUBLISH, date(2026, 9, 1))
        manifest = json.loads((lakehouse / "dashboard" / "site.json").read_text())
        assert manifest["data_date"] == "2026-08-01" and manifest["is_sample"]
        assert {f"tool/{t.id}.html" for t in tools} <= set(manifest["pages"])
        assert (lakehouse / "dashboard" / "index.html").is_file()
        freshness = (
            LocalEngine()
            .query("select table_name, source, count(*) as n from source_freshness group by all order by all")
            .to_pylist()
        )
        assert {"table_name": "popularity_index", "source": "sample", "n": 1} in freshness
        assert all(r["n"] == 1 for r in freshness)  # the rerun replaced the day's rows
    assert sorted(p.name for p in lakehouse.iterdir() if p.name.startswith(".dashboard")) == []
    report = "\n".join(demo_report())
    assert str(lakehouse / "dashboard" / "index.html") in report and "SAMPLE DATA" in report
