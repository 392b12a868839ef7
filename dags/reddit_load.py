"""
### reddit_load: raw Reddit landings merged into `reddit_submissions` and `reddit_comments`

Runs on every new raw Reddit landing (the `reddit_ingest` asset event says which day) or manually for a `date`, or
for a range `start`..`end` in one merge per table (each month partition rewritten once; same result as day by day).
Parses every complete landing of the day, validates each record with pydantic and **merges on id** into the two
Iceberg tables, rewriting only the month partitions it touches:

- a post or comment seen again refreshes its stats and `last_seen_at`; rows never duplicate;
- the newest observation (by fetch time) wins, so replaying an old landing rolls nothing back;
- deleted or removed items keep their row and stats but lose author, text and raw JSON, for good;
- `loaded_at` marks rows inserted or changed (incremental readers filter on it).

Invalid records go to `rejected_records` (source `reddit`, entity `submission`/`comment`) with the reason and the raw
JSON; the good ones load. **Idempotent**: loading the same landings again commits nothing. Safe to retry.
"""

from __future__ import annotations

from airflow.sdk import Asset, Param, dag, task
from madlake.names import Dag, Table, asset_uri, raw_asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, START_DATE, default_args
from madlake.orchestration.failures import guarded


@dag(
    dag_id=Dag.REDDIT_LOAD,
    schedule=[Asset(raw_asset_uri("reddit"))],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(),
    tags=["reddit", "load", "iceberg"],
    doc_md=__doc__,
    params={
        "date": Param(
            None, type=["null", "string"], format="date", description="load this day's landings (manual runs)"
        ),
        "start": Param(None, type=["null", "string"], format="date", description="range load: first day"),
        "end": Param(None, type=["null", "string"], format="date", description="range load: last day (one merge)"),
    },
)
def reddit_load() -> None:
    @task(outlets=[Asset(asset_uri(Table.REDDIT_SUBMISSIONS)), Asset(asset_uri(Table.REDDIT_COMMENTS))])
    @guarded
    def load() -> list:
        """Merge the day's landings (see madlake.pipelines.reddit_load)."""
        from madlake.orchestration.tasks import reddit_load

        return reddit_load()

    load()


reddit_load()
