"""
### github_metrics: a daily snapshot of every tracked GitHub repository

For each repository of each tool in the catalog: stars, forks, watchers, open issues and open pull requests
(separately), latest release, last push, default-branch commits in the last 28 days, contributors, archived flag,
license and topics, into `github_repo_snapshots` (one row per repository per day, partitioned by month).

**Not backfillable, on purpose**: the GitHub API only knows *now*, so a run for a past day could only write today's
figures under that date. Catch-up is off, Airflow refuses a backfill (`allowed_run_types`: scheduled and manual), and
the task refuses (fails at once, no retries) a backfill run or, in live mode, a `date` before yesterday. History comes
from `github_history` (daily figures since 2018) and `github_star_history` (stars by day). The `date` param names the
day a replayed snapshot is filed under (local profile).

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
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, START_DATE, day_params, default_args
from madlake.orchestration.failures import guarded
from madlake.orchestration.snapshots import SNAPSHOT_RUN_TYPES


@dag(
    dag_id=Dag.GITHUB_METRICS,
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    allowed_run_types=SNAPSHOT_RUN_TYPES,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(),
    params=day_params(ranges=False, date_help="file the snapshot under this day (replay only; live: today)"),
    tags=["github", "ingest"],
    doc_md=__doc__,
)
def github_metrics() -> None:
    @task(pool=Pool.GITHUB, outlets=[Asset(asset_uri(Table.GITHUB_REPO_SNAPSHOTS))])
    @guarded
    def snapshot_repositories() -> dict[str, Any]:
        from madlake.orchestration.tasks import github_snapshot

        return github_snapshot()

    snapshot_repositories()


github_metrics()
