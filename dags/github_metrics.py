"""
### github_metrics: a daily snapshot of every tracked GitHub repository

For each repository of each tool in the catalog: stars, forks, watchers, open issues and open pull requests
(separately), latest release, last push, default-branch commits in the last 28 days, contributors, archived flag,
license and topics, into `github_repo_snapshots` (one row per repository per day, partitioned by month).

**catchup is off on purpose**: the GitHub API only knows *now*, so a run for a past day could only write today's
figures under yesterday's date. History before the first run comes from `github_star_history` (stars by day).

- Rerunning a day replaces that day's rows (write-audit-publish: a failed audit publishes nothing).
- Renamed or transferred repositories are followed (HTTP 301) and stored once, under the current name, with
  `renamed_from`.
- Quota-aware: conditional requests (ETag) make unchanged repositories free; 403/429 secondary limits wait for
  `Retry-After`; calls used are logged at the end of the run. Runs in pool `github_api`.
- Repositories GitHub does not know go to `rejected_records` (source `github`).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, dag, task
from madlake.names import Dag, Pool, Table, asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, START_DATE, default_args


@dag(
    dag_id=Dag.GITHUB_METRICS,
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(),
    tags=["github", "ingest"],
    doc_md=__doc__,
)
def github_metrics() -> None:
    @task(pool=Pool.GITHUB, outlets=[Asset(asset_uri(Table.GITHUB_REPO_SNAPSHOTS))])
    def snapshot_repositories() -> dict[str, Any]:
        from madlake.orchestration.runtime import run_day
        from madlake.pipelines.github import snapshot_repos

        return snapshot_repos(run_day())

    snapshot_repositories()


github_metrics()
