"""
### github_star_history: daily star history of GitHub repositories (manual backfill)

Pages each repository's stargazers through the GraphQL API (with `starredAt`, newest first) and merges
`github_stars_daily` (repo, star_date, new_stars, cumulative_stars) for the days from `since` to the run's day.

- **Resumable**: the GraphQL cursor is checkpointed after the rows of each batch of pages are merged; a killed
  or failed run resumes where it stopped. A window already completed is skipped (set `restart` to redo it).
- **Idempotent**: rows are merged on (repo, star_date); rerunning never duplicates a day.
- GraphQL cursors have no page cap, unlike REST `/stargazers`, which stops at 40,000 stars (400 pages).
- `cumulative_stars` counts *current* stargazers: people who unstarred later are not in GitHub's list.

Params: `repos` (owner/name list; empty = every tracked repository), `since` (first day; default 90 days
back), `date` (last day; default yesterday), `restart`.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, Param, dag, task
from madlake.names import Dag, Pool, Table, asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, START_DATE, default_args
from madlake.orchestration.failures import guarded
from madlake.orchestration.schedule import STAR_HISTORY_DAYS


@dag(
    dag_id=Dag.GITHUB_STAR_HISTORY,
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(),
    tags=["github", "backfill"],
    doc_md=__doc__,
    params={
        "repos": Param([], type="array", items={"type": "string"}, description="owner/name; empty = all tracked"),
        "since": Param(
            None, type=["null", "string"], description=f"first day (YYYY-MM-DD); default {STAR_HISTORY_DAYS} days back"
        ),
        "date": Param(None, type=["null", "string"], description="last day (YYYY-MM-DD); default yesterday"),
        "restart": Param(False, type="boolean", description="ignore checkpoints and redo the window"),
    },
)
def github_star_history() -> None:
    @task(pool=Pool.GITHUB, outlets=[Asset(asset_uri(Table.GITHUB_STARS_DAILY))])
    @guarded
    def backfill_stars() -> dict[str, Any]:
        from madlake.orchestration.tasks import github_star_history

        return github_star_history()

    backfill_stars()


github_star_history()
