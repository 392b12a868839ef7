"""
### github_history: eight years of real daily GitHub figures for the tracked repositories

Loads `github_repo_history` from public files that recorded GitHub figures day by day:
[EvanLi/Github-Ranking](https://github.com/EvanLi/Github-Ranking)'s daily top-100 lists (`Data/github-ranking-<D>.csv`,
from 2018-12-18: stars, forks, open issues, last commit of every tracked repo that was inside some top-100 list that
day, counted once however many lists) and the monthly `history/<D>_projects.csv` snapshots of ml-tooling's
best-of-ml-python and best-of-python (stars, forks, open/closed issues, contributors, commits, releases). Renamed
repositories (`hwchase17/langchain`, `antirez/redis`, ...) land under the tracked name through the catalog's
`github_renamed`; `listed_as` keeps the name in the file.

**Backfill**: the data-interval schedule gives each run one day and its file, so an Airflow backfill from
**2018-12-18** loads the whole history (one file per day, at most 2 runs at once in pool `github_api`). catchup is off
so unpausing does not start 2,800 runs by itself. Faster: one manual run with conf
`{"start": "2018-12-18", "end": "YYYY-MM-DD"}` loads a range in one commit (replay: the full history in seconds);
`madlake github-history load --start D1 --end D2` does the same without Airflow.

- A run replaces exactly its days (overwrite by filter): reruns and overlapping backfills never duplicate.
- A day with no file succeeds and logs it. Bad rows and unusable files go to `rejected_records` (source
  `github_history`); an unusable file's days keep their stored rows.
- Emits the `github_repo_history` asset with `extra` = `{table, days: [first, last], rows}`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, task
from madlake.names import Dag, Pool, Table, asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, default_args
from madlake.orchestration.failures import guarded
from madlake.orchestration.schedule import GITHUB_HISTORY_START

#: The first day of EvanLi/Github-Ranking's daily files.
HISTORY_START = datetime.combine(GITHUB_HISTORY_START, datetime.min.time())


@dag(
    dag_id=Dag.GITHUB_HISTORY,
    # A data-interval timetable: the run for day D starts once D has ended and its data interval is exactly D.
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=HISTORY_START,
    catchup=False,
    max_active_runs=2,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(execution_timeout=timedelta(hours=1)),
    params={
        "start": Param(None, type=["null", "string"], format="date", description="range load: first day"),
        "end": Param(None, type=["null", "string"], format="date", description="range load: last day"),
    },
    tags=["github", "ingest", "history"],
    doc_md=__doc__,
)
def github_history() -> None:
    @task(pool=Pool.GITHUB, outlets=[Asset(asset_uri(Table.GITHUB_REPO_HISTORY))])
    @guarded
    def load_github_history() -> dict[str, Any]:
        """Replace the run's day (or conf start..end) of github_repo_history (see madlake.pipelines.github_history)."""
        from madlake.orchestration.tasks import github_history

        return github_history()

    load_github_history()


github_history()
