"""One source of truth for names: tables, assets, connections, pools, DAG ids.

DAG files import this module, so it must stay free of I/O and heavy imports. An asset's URI is derived from the table it
announces, so a producer and its consumers can never disagree on a string.
"""

from __future__ import annotations

from typing import Final

NAMESPACE: Final = "madlake"


class Table:
    """Iceberg table names (in namespace :data:`NAMESPACE`)."""

    DIM_TOOLS: Final = "dim_tools"
    PYPI_DOWNLOADS: Final = "pypi_downloads"
    PYPI_DOWNLOADS_MONTHLY: Final = "pypi_downloads_monthly"
    REDDIT_SUBMISSIONS: Final = "reddit_submissions"
    REDDIT_COMMENTS: Final = "reddit_comments"
    REDDIT_MENTIONS: Final = "reddit_mentions"
    GITHUB_REPO_SNAPSHOTS: Final = "github_repo_snapshots"
    GITHUB_STARS_DAILY: Final = "github_stars_daily"
    GITHUB_REPO_HISTORY: Final = "github_repo_history"
    REJECTED_RECORDS: Final = "rejected_records"
    AUDIT_RESULTS: Final = "audit_results"
    TOOL_DAILY_METRICS: Final = "tool_daily_metrics"
    TOOL_MONTHLY_METRICS: Final = "tool_monthly_metrics"
    CATEGORY_DAILY_RANKINGS: Final = "category_daily_rankings"
    POPULARITY_INDEX: Final = "popularity_index"
    TOOL_BREAKOUTS: Final = "tool_breakouts"
    SOURCE_FRESHNESS: Final = "source_freshness"
    TOOL_EVENTS: Final = "tool_events"
    WATCHLIST_DELIVERIES: Final = "watchlist_deliveries"


def asset_uri(table: str) -> str:
    """The Airflow Asset URI announcing that ``table`` changed."""
    return f"iceberg://{NAMESPACE}/{table}"


def raw_asset_uri(source: str) -> str:
    """The Airflow Asset URI announcing a new complete raw landing of ``source`` (e.g. ``reddit``)."""
    return f"raw://{NAMESPACE}/{source}"


class Conn:
    """Airflow connection ids; the only way credentials reach the code (besides client-library env vars)."""

    AWS: Final = "aws_default"
    BIGQUERY: Final = "madlake_bigquery"
    CLICKPY: Final = "madlake_clickpy"
    REDDIT: Final = "reddit_default"
    GITHUB: Final = "github_default"
    LLM: Final = "madlake_llm"


class Pool:
    """Airflow pools, one per external API, so a backfill cannot stampede a provider."""

    BIGQUERY: Final = "bigquery"
    REDDIT: Final = "reddit_api"
    GITHUB: Final = "github_api"
    LLM: Final = "llm_api"


class Dag:
    """DAG ids."""

    TOOLS_CATALOG: Final = "tools_catalog"
    PYPI_DOWNLOADS: Final = "pypi_downloads"
    PYPI_MONTHLY: Final = "pypi_monthly"
    REDDIT_INGEST: Final = "reddit_ingest"
    REDDIT_LOAD: Final = "reddit_load"
    REDDIT_ARCHIVE_BACKFILL: Final = "reddit_archive_backfill"
    REDDIT_MENTIONS: Final = "reddit_mentions"
    GITHUB_METRICS: Final = "github_metrics"
    GITHUB_STAR_HISTORY: Final = "github_star_history"
    GITHUB_HISTORY: Final = "github_history"
    GOLD_METRICS: Final = "gold_metrics"
    DASHBOARD_PUBLISH: Final = "dashboard_publish"
    LAKEHOUSE_MAINTENANCE: Final = "lakehouse_maintenance"


#: Snapshot-property keys every Iceberg commit carries.
PROP_DAG_ID: Final = "madlake.dag-id"
PROP_RUN_ID: Final = "madlake.run-id"
PROP_SOURCE: Final = "madlake.source"
