"""The engine the dashboard build queries: an in-memory DuckDB copy of the tables it reads, taken once per build.

Why not :class:`madlake.sql.engine.LocalEngine` (views over the Parquet files) or Athena: a build runs about ten
queries per page and hundreds of pages. Re-reading Parquet for every query costs 25-50 ms each, and an Athena round trip
about a second each; loading the few tables once (only the columns the pages use, sorted by the columns the pages
filter on) makes every query a few milliseconds, on both profiles (pyiceberg reads the tables from the local warehouse
or from S3 alike). It also makes the site consistent: every page is built from the same snapshot of every table, even
if ``gold_metrics`` commits while the site is being built; the snapshot ids are kept in :attr:`snapshots`.

A table that does not exist yet is created empty with its registered schema, so pages say "no data yet".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from madlake.names import Table

if TYPE_CHECKING:
    import pyarrow as pa

    from madlake.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableLoad:
    """How to copy one table: which columns, an optional row filter (pyiceberg syntax), and the sort order."""

    name: str
    columns: tuple[str, ...] = ()
    row_filter: str | None = None
    order_by: tuple[str, ...] = ()
    #: ``(table, column, own column)``: copy only rows whose own column is among that (already copied) table's values
    #: (the Reddit items the mentions point at, not every item ever loaded); up to :data:`MAX_KEYS` values.
    keys_from: tuple[str, str, str] | None = None


#: Above this many keys a ``keys_from`` table is copied whole (a huge IN list costs more than it saves).
MAX_KEYS = 50_000


#: The tables the dashboard reads. Only the columns it uses are copied (Reddit's raw JSON stays behind).
DASHBOARD_TABLES: tuple[TableLoad, ...] = (
    TableLoad(Table.DIM_TOOLS, order_by=("tool_id",)),
    TableLoad(Table.TOOL_DAILY_METRICS, order_by=("tool_id", "metric_date")),
    TableLoad(Table.CATEGORY_DAILY_RANKINGS, order_by=("category", "signal", "metric_date")),
    TableLoad(Table.POPULARITY_INDEX, order_by=("category", "month")),
    TableLoad(Table.TOOL_BREAKOUTS, order_by=("tool_id", "metric_date")),
    TableLoad(Table.SOURCE_FRESHNESS),
    TableLoad(
        Table.REDDIT_MENTIONS,
        columns=(
            "content_id",
            "content_type",
            "subreddit",
            "tool_id",
            "sentiment_score",
            "sentiment_label",
            "summary",
            "created_at",
        ),
        order_by=("tool_id", "created_at"),
    ),
    TableLoad(
        Table.REDDIT_SUBMISSIONS,
        columns=("fullname", "permalink"),
        order_by=("fullname",),
        keys_from=(Table.REDDIT_MENTIONS, "content_id", "fullname"),
    ),
    TableLoad(
        Table.REDDIT_COMMENTS,
        columns=("fullname", "permalink"),
        order_by=("fullname",),
        keys_from=(Table.REDDIT_MENTIONS, "content_id", "fullname"),
    ),
    # Only the sample rows matter (the banner): never copy the real download history.
    TableLoad(Table.PYPI_DOWNLOADS, columns=("source",), row_filter="source = 'replay-sample'"),
)


class DashboardEngine:
    """DuckDB over in-memory copies of :data:`DASHBOARD_TABLES` (see the module docstring)."""

    dialect = "duckdb"

    def __init__(self, settings: Settings | None = None, tables: Sequence[TableLoad] = DASHBOARD_TABLES) -> None:
        import duckdb

        from madlake.lakehouse.catalog import get_catalog
        from madlake.lakehouse.tables import ensure_table, identifier
        from madlake.tables import all_specs

        start = time.perf_counter()
        self.con = duckdb.connect()
        self.con.execute("set threads to 2")
        self.snapshots: dict[str, int | None] = {}
        self.rows: dict[str, int] = {}
        catalog = get_catalog(settings)
        specs = all_specs()
        for load in tables:
            if load.name not in specs:
                continue  # a source not registered in this deployment: its queries read nothing
            ident = identifier(load.name)
            table = catalog.load_table(ident) if catalog.table_exists(ident) else ensure_table(specs[load.name])
            snapshot = table.current_snapshot()
            self.snapshots[load.name] = snapshot.snapshot_id if snapshot else None
            kwargs: dict[str, Any] = {}
            if load.columns:
                kwargs["selected_fields"] = load.columns
            if load.row_filter:
                kwargs["row_filter"] = load.row_filter
            if load.keys_from and load.keys_from[0] in self.rows:
                source, column, own = load.keys_from
                keys = [r[0] for r in self.con.execute(f'select distinct "{column}" from "{source}"').fetchall()]
                if len(keys) <= MAX_KEYS:
                    from pyiceberg.expressions import AlwaysFalse, In

                    kwargs["row_filter"] = In(own, keys) if keys else AlwaysFalse()
            data: pa.Table = (
                table.scan(**kwargs).to_arrow()
                if snapshot
                else table.schema().as_arrow().empty_table().select(list(load.columns) or None)
                if load.columns
                else table.schema().as_arrow().empty_table()
            )
            self._create(load, data)
            self.rows[load.name] = data.num_rows
        log.info(
            "Dashboard engine: copied %d tables (%s rows) in %.1fs",
            len(self.rows),
            sum(self.rows.values()),
            time.perf_counter() - start,
        )

    def _create(self, load: TableLoad, data: pa.Table) -> None:
        quoted = '"' + load.name.replace('"', '""') + '"'
        self.con.register("__incoming", data)
        order = f" order by {', '.join(load.order_by)}" if load.order_by else ""
        self.con.execute(f"create or replace table {quoted} as select * from __incoming{order}")
        self.con.unregister("__incoming")

    def available_tables(self) -> list[str]:
        return sorted(self.rows)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run ``sql`` (DuckDB dialect) on the copies. Raises :class:`madlake.sql.engine.QueryError`."""
        from madlake.sql.engine import QueryError

        try:
            return self.con.sql(sql, params=list(params) if params else None).to_arrow_table()
        except Exception as exc:
            raise QueryError(f"DuckDB could not run the query ({exc}); query starts: {sql[:200]!r}") from exc
