"""The dashboard's queries: one ``.sql`` file each in ``queries/``, DuckDB dialect, values bound as ``?`` parameters.

On the aws profile the same text is transpiled to Trino (Athena) with sqlglot before it runs, so there is one source
of truth per query. :data:`QUERIES` lists every query with the parameters a typical page passes; the benchmark and the
tests run exactly that list, so a query the site uses cannot escape them.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from madlake.sql.engine import SqlEngine

log = logging.getLogger(__name__)

QUERY_DIR = Path(__file__).with_name("queries")


@dataclass(frozen=True)
class DashboardQuery:
    """A named query, the tables it needs, and example parameters (those the benchmark uses)."""

    name: str
    tables: tuple[str, ...]
    example_params: tuple[Any, ...] = ()

    @property
    def sql(self) -> str:
        return load_sql(self.name)


#: Every query the site runs. ``tables``: when one of them is missing the page section says "no data yet".
QUERIES: dict[str, DashboardQuery] = {
    q.name: q
    for q in (
        DashboardQuery("data_status", ("tool_daily_metrics", "popularity_index")),
        DashboardQuery("tools", ("dim_tools",)),
        DashboardQuery("answer_top_open_source", ("popularity_index", "dim_tools"), ("olap_database",)),
        DashboardQuery("answer_fastest_growing", ("popularity_index", "dim_tools"), ("nosql_database",)),
        DashboardQuery("answer_rising_falling", ("popularity_index", "dim_tools"), ("file_format",)),
        DashboardQuery("answer_top_then_now", ("popularity_index", "dim_tools"), ("mlops", 36)),
        DashboardQuery("answer_loved_criticised", ("tool_daily_metrics", "dim_tools"), ("orchestration", 5)),
        DashboardQuery("recent_breakouts", ("tool_breakouts", "tool_daily_metrics", "dim_tools"), (28,)),
        DashboardQuery("category_rank_history", ("popularity_index",), ("orchestration",)),
        DashboardQuery("category_share_history", ("category_daily_rankings",), ("orchestration", "downloads_28d")),
        DashboardQuery("category_latest", ("category_daily_rankings",), ("orchestration",)),
        DashboardQuery("category_movers", ("popularity_index",), ("orchestration",)),
        DashboardQuery("tool_signals", ("tool_daily_metrics",), ("duckdb",)),
        DashboardQuery("tool_index", ("popularity_index",), ("duckdb",)),
        DashboardQuery("tool_breakouts", ("tool_breakouts",), ("duckdb",)),
        DashboardQuery("tool_mentions", ("reddit_mentions", "reddit_submissions", "reddit_comments"), ("duckdb",)),
        DashboardQuery("compare_series", ("popularity_index", "dim_tools")),
        DashboardQuery("tool_first_release", ("popularity_index",)),
        DashboardQuery("freshness", ("source_freshness",)),
        DashboardQuery("sample_inputs", ("pypi_downloads",)),
    )
}


@functools.cache
def load_sql(name: str) -> str:
    """The text of ``queries/<name>.sql``; ``FileNotFoundError`` names the file."""
    path = QUERY_DIR / f"{name}.sql"
    return path.read_text(encoding="utf-8")


@functools.cache
def to_trino(sql: str) -> str:
    """The Athena (Trino) text of a DuckDB query."""
    import sqlglot

    return ";\n".join(sqlglot.transpile(sql, read="duckdb", write="trino"))


class QueryRunner:
    """Runs dashboard queries on an engine, timing each; knows which tables exist so pages can degrade gracefully."""

    def __init__(self, engine: SqlEngine, available: Sequence[str]) -> None:
        self.engine = engine
        self.available = set(available)
        self.timings: dict[str, list[float]] = {}

    def can_run(self, name: str) -> bool:
        return all(t in self.available for t in QUERIES[name].tables)

    def run(self, name: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of query ``name`` as dicts; ``[]`` when a table it needs does not exist yet.

        Raises:
            madlake.sql.engine.QueryError: the engine failed (the message names the query).
        """
        return self.run_arrow(name, params).to_pylist() if self.can_run(name) else []

    def run_arrow(self, name: str, params: Sequence[Any] = ()) -> pa.Table:
        sql = load_sql(name)
        if self.engine.dialect != "duckdb":
            sql = to_trino(sql)
        start = time.perf_counter()
        result = self.engine.query(sql, list(params) or None)
        self.timings.setdefault(name, []).append(time.perf_counter() - start)
        return result
