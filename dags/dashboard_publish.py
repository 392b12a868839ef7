"""
### dashboard_publish: the MAD dashboard, rebuilt whenever the gold tables change

Runs when `gold_metrics` publishes its four gold tables. First measures `source_freshness` (per table and source: the
last successful load from Iceberg snapshot metadata, rows, newest data date, lags), then builds the dashboard as a
static site from the gold tables (overview with the answers to the MAD questions, one page per category and per tool,
compare, freshness) and publishes it to `<MADLAKE_HOME>/dashboard/` locally or `s3://<warehouse>/dashboard/` on aws
(`MADLAKE_DASHBOARD_URI` overrides). The site works offline: no CDN, charts drawn by a script shipped with it.

Idempotent: a rerun for the same day replaces that day's freshness rows and republishes the same site. With no gold
data the build fails and the previous site stays. Sample data shows a "sample data" banner (driven by the data).
"""

from __future__ import annotations

from airflow.sdk import Asset, Param, dag, task
from madlake.names import Dag, Table, asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, START_DATE, default_args
from madlake.orchestration.failures import guarded

GOLD = (
    Table.TOOL_DAILY_METRICS,
    Table.CATEGORY_DAILY_RANKINGS,
    Table.POPULARITY_INDEX,
    Table.TOOL_BREAKOUTS,
    Table.TOOL_EVENTS,  # the "what changed" page and the watchlist feeds
)


@dag(
    dag_id=Dag.DASHBOARD_PUBLISH,
    schedule=[Asset(asset_uri(t)) for t in GOLD],  # gold_metrics emits all of them in each run
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(),
    params={
        "date": Param(None, type=["null", "string"], format="date", description="run day (default: yesterday)"),
        "target": Param(None, type=["null", "string"], description="publish here instead (path or s3:// URI)"),
    },
    tags=["dashboard", "gold", "ops"],
    doc_md=__doc__,
)
def dashboard_publish() -> None:
    @task(outlets=[Asset(asset_uri(Table.SOURCE_FRESHNESS))])
    @guarded
    def refresh_freshness() -> dict:
        """Replace the run day's source_freshness rows (metadata only; cheap)."""
        from madlake.orchestration.tasks import dashboard_freshness

        return dashboard_freshness()

    @task
    @guarded
    def build_and_publish() -> dict:
        """Build the static site from the gold tables and publish it."""
        from madlake.orchestration.tasks import dashboard_publish

        return dashboard_publish()

    refresh_freshness() >> build_and_publish()


dashboard_publish()
