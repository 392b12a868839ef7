"""
### reddit_ingest: the newest posts and comment trees of the tracked subreddits, landed raw

For each tracked subreddit (`madlake.sources.reddit.DEFAULT_SUBREDDITS`, or `MADLAKE_SUBREDDITS`, or the `subreddits`
param) fetches the newest `limit` submissions through praw with read-only OAuth (connection `reddit_default`), then
each one's comment tree, expanding "more comments" stubs within `more_budget` calls per thread.

Every response is landed **raw first** (gzip JSON lines) under `<warehouse>/raw/reddit/<run date>/<fetch time>/`, with
a manifest listing what was skipped; nothing is parsed here. `reddit_load` runs on the landing's asset event.

**Failures**: praw's rate limiter paces requests; 429 and 5xx back off and retry, then the request is skipped and
reported (the run finishes what it can). A 404 (removed post, unknown subreddit) is recorded and skipped at once.
The task fails only if no request at all succeeded. A rerun writes a new landing: loads are idempotent, so it only
adds fresher observations.

**Live only knows now**: a live run for a day other than today/yesterday (UTC), e.g. an Airflow backfill, fails at
once (no retries) rather than file today's listings under a past date.

Local profile: praw talks to a replay server on 127.0.0.1 serving the recorded responses in
`$MADLAKE_REPLAY_DIR/reddit/`. With the recorded r/LocalLLaMA history there, a run for day D replays D's captured
listings and the comment trees as of the end of D; a day without a recorded listing lands nothing and succeeds, so a
backfill over 2025-07-02 → 2025-08-08 lands the 34 recorded days.
"""

from __future__ import annotations

from airflow.sdk import Asset, Param, dag, task
from madlake.names import Dag, Pool, raw_asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, START_DATE, default_args
from madlake.orchestration.failures import guarded


@dag(
    dag_id=Dag.REDDIT_INGEST,
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(),
    tags=["reddit", "ingest"],
    doc_md=__doc__,
    params={
        "subreddits": Param("", type="string", description="comma-separated; empty = the tracked list"),
        "limit": Param(100, type="integer", minimum=1, maximum=1000, description="newest submissions per subreddit"),
        "more_budget": Param(32, type="integer", minimum=0, description="/api/morechildren calls per thread"),
        "threads": Param("", type="string", description="extra submission ids whose comment trees to fetch"),
    },
)
def reddit_ingest() -> None:
    @task(pool=Pool.REDDIT, outlets=[Asset(raw_asset_uri("reddit"))])
    @guarded
    def ingest() -> dict:
        """Fetch listings and comment trees into a new raw landing (see madlake.pipelines.reddit_ingest)."""
        from madlake.orchestration.tasks import reddit_ingest

        return reddit_ingest()

    ingest()


reddit_ingest()
