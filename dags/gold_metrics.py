"""
### gold_metrics: per-tool metrics, category rankings, the popularity index and breakouts

Runs whenever a source table changes (PyPI downloads, Reddit mentions, GitHub snapshots or star history, the tools
catalog) and recomputes **exactly the days that change affects**: each source's asset event says in its `extra` which
days or months it changed; the run recomputes the union of those periods over every event that triggered it (several
upstream runs coalesced into one gold run lose nothing), plus the later days whose trailing windows read them (up to
the last day gold already holds). Airflow can leave queued events unconsumed (apache/airflow#56050, with
`max_active_runs=1`), so each event-driven run also reads its sources' events after a watermark (the table property
`madlake.gold.events-through` of `tool_daily_metrics`) through its inlets, and recomputes those periods too.
Events that name no day (a catalog change) recompute the run's day plus earlier days whose trailing windows include
late-arriving inputs (at most 27 days back). See
`madlake.orchestration.events`. The SQL models live in `include/madlake/sql/models`
(Trino dialect): on the aws profile they run inside Athena as `MERGE INTO` the Iceberg tables; locally the same SQL is
transpiled to DuckDB and the result is written with pyiceberg through write-audit-publish (a failed audit publishes
nothing and keeps the branch; see `audit_results`).

Every value is as of its day: windows are trailing and nothing dated after the day is read. When a month ends, the
gold tables' snapshots are tagged `monthly-YYYY-MM` so an old answer can be reproduced exactly
(`madlake ask NAME --as-of monthly-2026-03`).

**By hand**: trigger with params `start` and `end` (YYYY-MM-DD) to recompute a range; `date` recomputes one day
(params win over events). A PyPI backfill needs no manual step: its events drive the gold runs.
Reruns replace the same days (idempotent). Then the analyst views are (re)created: Athena views on aws, checked on
DuckDB locally. Emits the four gold assets, which `dashboard_publish` consumes.

**Watchlists** (docs/watchlists.md): after gold, `tool_events` is recomputed from the monthly tables (rank changes,
breakouts, highs, declines, first mentions; method breaks and coverage changes as artefacts, never news), then each
watchlist's new events are sent once through its HTTP notifier connection (`watchlist_deliveries` logs every
attempt: reruns and backfills never resend, a failed send is retried on the next run).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, Param, dag, task
from madlake.names import Dag, Table, asset_uri
from madlake.orchestration.defaults import START_DATE, day_params, default_args
from madlake.orchestration.failures import guarded

SOURCES = (
    Table.PYPI_DOWNLOADS,
    Table.REDDIT_MENTIONS,
    Table.GITHUB_REPO_SNAPSHOTS,
    Table.GITHUB_STARS_DAILY,
    Table.DIM_TOOLS,
    Table.PYPI_DOWNLOADS_MONTHLY,
    Table.GITHUB_REPO_HISTORY,
)
GOLD = (
    Table.TOOL_DAILY_METRICS,
    Table.CATEGORY_DAILY_RANKINGS,
    Table.POPULARITY_INDEX,
    Table.TOOL_BREAKOUTS,
    Table.TOOL_MONTHLY_METRICS,
)

_schedule = Asset(asset_uri(SOURCES[0]))
for _name in SOURCES[1:]:
    _schedule = _schedule | Asset(asset_uri(_name))  # any source change triggers a run


@dag(
    dag_id=Dag.GOLD_METRICS,
    schedule=_schedule,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args=default_args(execution_timeout=timedelta(hours=2)),
    params={
        **day_params(date_help="recompute this day (default: the days the triggering events name, else yesterday)"),
        "monthly_start": Param(
            None,
            type=["null", "string"],
            format="date",
            description="also rebuild the monthly tables from this month (e.g. 2018-02-01 after a history load)",
        ),
    },
    tags=["gold", "metrics", "athena"],
    doc_md=__doc__,
)
def gold_metrics() -> None:
    # inlets: the run also reads source events no gold run covered yet (Airflow can leave queued events unconsumed).
    @task(outlets=[Asset(asset_uri(t)) for t in GOLD], inlets=[Asset(asset_uri(t)) for t in SOURCES])
    @guarded
    def build_gold_metrics() -> dict:
        """Recompute, audit and publish the affected days (see madlake.orchestration.tasks.gold_metrics)."""
        from madlake.orchestration.tasks import gold_metrics

        return gold_metrics(GOLD, SOURCES)

    @task
    @guarded
    def create_analyst_views() -> list[str]:
        """Create the analyst views in Athena (aws) or check every view runs on DuckDB (local)."""
        from madlake.metrics.views import create_views

        return create_views()

    @task(outlets=[Asset(asset_uri(Table.TOOL_EVENTS))])
    @guarded
    def build_tool_events() -> dict:
        """Recompute tool_events from the monthly gold tables (madlake.watchlists.events; replaces the months)."""
        from madlake.orchestration.tasks import tool_events

        return tool_events()

    @task
    @guarded
    def deliver_watchlist_events() -> dict:
        """Send each watchlist's new events once through its HTTP notifier; log them in watchlist_deliveries."""
        from madlake.orchestration.tasks import deliver_watchlist_events

        return deliver_watchlist_events()

    gold = build_gold_metrics()
    gold >> create_analyst_views()
    gold >> build_tool_events() >> deliver_watchlist_events()


gold_metrics()
