"""
### reddit_mentions: which tracked tools each Reddit post and comment talks about, and what people think of them

Runs whenever `reddit_load` changes `reddit_submissions` or `reddit_comments`, or manually. Processes every item
**loaded or changed since the last successful run** (by load time, so late and edited items are not missed):

- finds the tracked tools in title + body in one Aho-Corasick pass over the batch, driven by the tools catalog
  (aliases, case rules, context rules, excludes);
- adds a one-sentence summary, a sentiment score/label and the usage kind per (item, tool): with the LLM of the
  `madlake_llm` connection (cached, budgeted, retried) or, on the local profile and without a connection, the offline
  AFINN lexicon on the mention's sentence; column `method` says which;
- replaces all rows of each processed item in `reddit_mentions` (idempotent: a rerun changes nothing; an edited item
  that dropped a tool loses that row).

Params: `since` (ISO instant) reprocesses items loaded after it; `reprocess_all` reprocesses everything (e.g. after
a catalog change); `method` = auto | llm | lexicon. Safe to retry: each chunk of 5,000 items is one atomic commit
that carries its watermark.
"""

from __future__ import annotations

from airflow.sdk import Asset, Param, dag, task
from madlake.names import Dag, Pool, Table, asset_uri
from madlake.orchestration.defaults import DAGRUN_TIMEOUT, START_DATE, default_args
from madlake.orchestration.failures import guarded


@dag(
    dag_id=Dag.REDDIT_MENTIONS,
    schedule=[Asset(asset_uri(Table.REDDIT_SUBMISSIONS)) | Asset(asset_uri(Table.REDDIT_COMMENTS))],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAGRUN_TIMEOUT,
    default_args=default_args(),
    params={
        "since": Param(None, type=["null", "string"], description="reprocess items loaded after this ISO instant"),
        "reprocess_all": Param(False, type="boolean", description="reprocess every item (after a catalog change)"),
        "method": Param("auto", enum=["auto", "llm", "lexicon"], description="enrichment method"),
    },
    tags=["reddit", "mentions", "llm", "iceberg"],
    doc_md=__doc__,
)
def reddit_mentions() -> None:
    @task(pool=Pool.LLM, outlets=[Asset(asset_uri(Table.REDDIT_MENTIONS))])
    @guarded
    def extract_and_enrich() -> dict:
        """Extract, enrich and replace the processed items' rows (see madlake.pipelines.mentions)."""
        from madlake.orchestration.tasks import reddit_mentions

        return reddit_mentions()

    extract_and_enrich()


reddit_mentions()
