"""
### pypi_downloads: daily PyPI downloads of the tracked packages, audited before they are published

Loads one UTC day of download aggregates (project, version, installer, Python minor, OS, country, CI flag) for every
tracked package with a PyPI name into the Iceberg table `pypi_downloads`. The source is BigQuery's public
`bigquery-public-data.pypi.file_downloads` (connection `madlake_bigquery`; a dry run logs the bytes and
`MADLAKE_PYPI_MAX_BYTES_BILLED` caps them) or ClickPy (`MADLAKE_PYPI_SOURCE=clickpy`); the local profile replays
recorded days.

**Write-audit-publish**: the day is staged on branch `audit_pypi_downloads_<day>`, checked with great-expectations
(keys not null, unique grain, downloads > 0, country codes, tracked packages present or listed absent, day total within
a band of the trailing 7-day median) and only then published, replacing that day on main atomically. A failed audit
fails the task, leaves main untouched and keeps the branch; see `audit_results`.

**Which day**: the `date` param if given, else the run's logical date (a backfill or scheduled run's logical date is
the first instant of the day it covers; a manual trigger for 2026-03-10 loads 2026-03-10), else yesterday. `start` and
`end` load that inclusive range in one run (used by `make demo`). The task log's first line says which day was loaded.

**Backfill**: each run covers one day, so an Airflow 3 backfill from the UI (any date range) or
`madlake backfill pypi_downloads --start D1 --end D2` runs one day per run; the `bigquery` pool and `max_active_runs`
keep it from stampeding BigQuery. Reruns replace the day exactly. Start date and catch-up depend on the profile
(`madlake.orchestration.schedule`): local starts at the replay's first day with catch-up off (unpausing schedules only
yesterday, which the replay does not cover: that run is skipped, not failed); aws starts at a documented day with
catch-up on, under a tighter BigQuery byte cap for catch-up days. A failed audit or a refused day fails at once (no
retries); HTTP 429/5xx and timeouts retry with backoff.

Emits the `pypi_downloads` asset with `extra = {table, days, rows}`: `gold_metrics` recomputes exactly those days.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task
from madlake.names import Dag, Pool, Table, asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, day_params, default_args
from madlake.orchestration.failures import guarded
from madlake.orchestration.schedule import daily_window

WINDOW = daily_window("pypi")  # per profile: replay coverage (local) or the documented live start (aws)


@dag(
    dag_id=Dag.PYPI_DOWNLOADS,
    # A data-interval timetable: the run for day D starts once D has ended and its data interval is exactly D.
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=WINDOW.start_date,
    catchup=WINDOW.catchup,
    max_active_runs=3,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(execution_timeout=timedelta(minutes=45)),
    params=day_params(),
    tags=["pypi", "ingest", "wap"],
    doc_md=__doc__,
)
def pypi_downloads() -> None:
    @task(pool=Pool.BIGQUERY, outlets=[Asset(asset_uri(Table.PYPI_DOWNLOADS))])
    @guarded
    def load_pypi_day() -> dict:
        """Fetch, audit on a branch and publish the run's day (see madlake.pipelines.pypi)."""
        from madlake.orchestration.tasks import pypi_downloads

        return pypi_downloads()

    load_pypi_day()


pypi_downloads()
