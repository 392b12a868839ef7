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

**Backfill**: catchup is on and each run covers its data interval's day, so an Airflow 3 backfill from the UI (any
date range) runs one day per run; the `bigquery` pool and `max_active_runs` keep it from stampeding BigQuery.
Reruns replace the day exactly. A manual run with conf `{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}` loads that range
in one run (used by `make demo`; `madlake pypi load --start D1 --end D2` does the same without Airflow).
Emits the `pypi_downloads` asset.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task
from madlake.names import Dag, Pool, Table, asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, START_DATE, default_args


@dag(
    dag_id=Dag.PYPI_DOWNLOADS,
    # A data-interval timetable: the run for day D starts once D has ended and its data interval is exactly D.
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=START_DATE,
    catchup=True,
    max_active_runs=3,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(execution_timeout=timedelta(minutes=45)),
    tags=["pypi", "ingest", "wap"],
    doc_md=__doc__,
)
def pypi_downloads() -> None:
    @task(pool=Pool.BIGQUERY, outlets=[Asset(asset_uri(Table.PYPI_DOWNLOADS))])
    def load_pypi_day() -> dict:
        """Fetch, audit on a branch and publish the run's day (see madlake.pipelines.pypi)."""
        from madlake.pipelines.pypi import run_task

        return run_task()

    load_pypi_day()


pypi_downloads()
