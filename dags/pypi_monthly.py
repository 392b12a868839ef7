"""
### pypi_monthly: monthly PyPI downloads of the tracked projects from every top-pypi-packages snapshot, 2018 onward

Loads the snapshots of [hugovk/top-pypi-packages](https://github.com/hugovk/top-pypi-packages)
(`top-pypi-packages-30-days.json`: the most downloaded PyPI projects, weekly in 2018-2019, then monthly) into the
Iceberg table `pypi_downloads_monthly`: one row per (snapshot, tracked project), with the list's size and smallest
count; a tracked project absent from a list is `below_list` with null downloads (never 0). The counting method
changed over time (pip-only 30 days, all installers, shrinking windows, calendar months): see `docs/pypi.md`.

**Each run loads the snapshots dated inside its data interval** (a calendar month) and replaces exactly those
snapshot dates, after a light audit; a month without a snapshot succeeds and lands nothing. Live: GitHub's commits
API for the file plus the raw file at each commit (and the published JSON for the newest one), in the `github_api`
pool; local: the replay folder. A manual run with conf `{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}` loads that
range in one run (`madlake pypi monthly --start D1 --end D2` does the same without Airflow).

**Backfill**: catchup is off (a new deployment does not start 99 runs by itself), but the monthly data interval makes
it backfillable: an Airflow backfill from 2018-02-01 loads the whole history, one month per run, `max_active_runs`
1. Emits the `pypi_downloads_monthly` asset with `extra` = {table, months, snapshot_dates, rows}.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task
from madlake.names import Dag, Pool, Table, asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, default_args
from madlake.orchestration.failures import guarded


@dag(
    dag_id=Dag.PYPI_MONTHLY,
    # A data-interval timetable: the run for month M starts once M has ended; its data interval is exactly M.
    schedule=CronDataIntervalTimetable("@monthly", timezone="UTC"),
    start_date=datetime(2018, 2, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(execution_timeout=timedelta(hours=1)),
    tags=["pypi", "ingest", "history"],
    doc_md=__doc__,
)
def pypi_monthly() -> None:
    @task(pool=Pool.GITHUB, outlets=[Asset(asset_uri(Table.PYPI_DOWNLOADS_MONTHLY))])
    @guarded
    def load_pypi_snapshots() -> dict:
        """Load, audit and publish the snapshots dated in the run's interval (see madlake.pipelines.pypi_monthly)."""
        from madlake.orchestration.tasks import pypi_monthly

        return pypi_monthly()

    load_pypi_snapshots()


pypi_monthly()
