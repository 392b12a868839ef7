"""
### reddit_archive_backfill: history from Pushshift / Arctic Shift dumps

Manual. Streams `<archive>/<subreddit>_submissions.zst` and `<subreddit>_comments.zst` (zstandard NDJSON, 2 GiB
window, bounded memory; a local path, `file://` or `s3://` URI), keeps the records of `subreddit` created between
`start` and `end` (inclusive, UTC), validates them with the same models as the API (the archive schema differs:
both are handled) and merges them into `reddit_submissions` / `reddit_comments` in batches, under the same rules as
`reddit_load` (an archive copy never overrides a fresher API observation; deletions stick). Progress (MB read, MB/s,
rows merged) is in the task log.

With `recorded_threads`, the recorded r/dataengineering salary threads of the replay folder (`/comments` answers) are
first flattened into dumps of the same format (one JSON object per line, zstd), then read the same way.

Invalid lines go to `rejected_records` (source `reddit_archive`). Rerunning the same range changes nothing; a failure
mid-dump keeps the batches already merged and a retry redoes them as no-ops.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, Param, dag, task
from madlake.names import Dag, Table, asset_uri
from madlake.orchestration.defaults import START_DATE, default_args
from madlake.orchestration.failures import guarded


@dag(
    dag_id=Dag.REDDIT_ARCHIVE_BACKFILL,
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=24),
    default_args=default_args(execution_timeout=timedelta(hours=6)),
    tags=["reddit", "backfill", "iceberg"],
    doc_md=__doc__,
    params={
        "subreddit": Param("dataengineering", type="string", minLength=2, description="subreddit name"),
        "start": Param("2021-01-01", type="string", format="date", description="first day (UTC, inclusive)"),
        "end": Param("2021-12-31", type="string", format="date", description="last day (UTC, inclusive)"),
        "archive": Param("", type="string", description="folder or s3:// prefix holding the .zst dumps"),
        "kinds": Param("submissions,comments", type="string", description="which dumps to read"),
        "recorded_threads": Param(
            False,
            type="boolean",
            description="read the replay's recorded salary threads (flattened to dumps first) instead of `archive`",
        ),
    },
)
def reddit_archive_backfill() -> None:
    @task(outlets=[Asset(asset_uri(Table.REDDIT_SUBMISSIONS)), Asset(asset_uri(Table.REDDIT_COMMENTS))])
    @guarded
    def backfill() -> dict:
        """Stream the dumps and merge the range (see madlake.pipelines.reddit_archive)."""
        from madlake.orchestration.tasks import reddit_archive_backfill

        return reddit_archive_backfill()

    backfill()


reddit_archive_backfill()
