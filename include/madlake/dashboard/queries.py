"""The dashboard's queries: one ``.sql`` file each in ``madlake/sql/dashboard``, values bound as ``?`` parameters.

They are written in Trino, like every other read-side query (:mod:`madlake.sql.files`): Athena runs them as they are,
DuckDB (the dashboard's in-memory copies) runs them transpiled with sqlglot, once per text. :data:`QUERIES` lists
every query with the parameters a typical page passes; the benchmark and the tests run exactly that list, so a query
the site uses cannot escape them.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from madlake.metrics.ask import run_query
from madlake.sql.files import for_engine, layer_dir, read_sql

if TYPE_CHECKING:
    import pyarrow as pa

    from madlake.sql.engine import SqlEngine

log = logging.getLogger(__name__)

QUERY_DIR = layer_dir("dashboard")


@dataclass(frozen=True)
class DashboardQuery:
    """A named query, the tables it needs, and example parameters (those the benchmark uses)."""

    name: str
    tables: tuple[str, ...]
    example_params: tuple[Any, ...] = ()
    #: a large result (thousands of rows): fetched through Arrow, cheaper than row by row at that size
    bulk: bool = False

    @property
    def sql(self) -> str:
        return load_sql(self.name)


#: Every query the site runs. ``tables``: when one of them is missing the page section says "no data yet". The
#: answers to the MAD questions are not here: they are the analyst questions of ``madlake/sql/questions`` (see
#: :meth:`QueryRunner.ask`), so the dashboard and ``madlake ask`` give the same answer from the same SQL.
QUERIES: dict[str, DashboardQuery] = {
    q.name: q
    for q in (
        DashboardQuery("data_status", ("tool_monthly_metrics", "popularity_index")),
        DashboardQuery("tools", ("dim_tools",)),
        DashboardQuery("method_breaks", ("tool_monthly_metrics",)),
        DashboardQuery("recent_breakouts", ("tool_breakouts", "dim_tools"), (28,)),
        DashboardQuery("category_history", ("popularity_index",), ("orchestration",)),
        DashboardQuery(
            "category_latest", ("popularity_index", "dim_tools", "tool_monthly_metrics"), ("orchestration",)
        ),
        DashboardQuery("category_movers", ("popularity_index",), ("orchestration",)),
        DashboardQuery("index_basis", ("popularity_index", "dim_tools"), ("orchestration", "__month__")),
        DashboardQuery("tool_monthly", ("tool_monthly_metrics",), ("duckdb",)),
        DashboardQuery("tool_index", ("popularity_index",), ("duckdb",)),
        DashboardQuery("tool_breakouts", ("tool_breakouts",), ("duckdb",)),
        DashboardQuery("tool_mentions", ("reddit_mentions", "reddit_submissions", "reddit_comments"), ("duckdb",)),
        DashboardQuery("compare_series", ("popularity_index", "dim_tools"), bulk=True),
        DashboardQuery("tool_first_release", ("tool_monthly_metrics",)),
        DashboardQuery("freshness", ("source_freshness",)),
        DashboardQuery("tool_events", ("tool_events",), ("duckdb",)),
        DashboardQuery("changes", ("tool_events", "dim_tools"), bulk=True),
    )
}


@functools.cache
def load_sql(name: str) -> str:
    """The Trino text of ``madlake/sql/dashboard/<name>.sql``; ``FileNotFoundError`` names the file."""
    return read_sql("dashboard", name)


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
        if not self.can_run(name):
            return []
        if hasattr(self.engine, "records") and not QUERIES[name].bulk:  # snapshot engine: rows without Arrow
            start = time.perf_counter()
            sql = for_engine(load_sql(name), self.engine.dialect)
            rows: list[dict[str, Any]] = self.engine.records(sql, list(params) or None)
            self.timings.setdefault(name, []).append(time.perf_counter() - start)
            return rows
        return self.run_arrow(name, params).to_pylist()

    def run_arrow(self, name: str, params: Sequence[Any] = ()) -> pa.Table:
        sql = for_engine(load_sql(name), self.engine.dialect)
        start = time.perf_counter()
        result = self.engine.query(sql, list(params) or None)
        self.timings.setdefault(name, []).append(time.perf_counter() - start)
        return result

    def ask(self, name: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Rows of the analyst question ``name`` (``madlake/sql/questions/<name>.sql``, run by
        :mod:`madlake.metrics.ask` on this engine), timed as ``ask:<name>``.

        Raises:
            KeyError: unknown question or parameter.
            madlake.sql.engine.QueryError: the engine failed (the message names the question's SQL).
        """
        start = time.perf_counter()
        rows = run_query(name, params, engine=self.engine).to_pylist()
        self.timings.setdefault(f"ask:{name}", []).append(time.perf_counter() - start)
        return rows
