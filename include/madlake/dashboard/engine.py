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
from typing import Any

import duckdb
import pyarrow as pa
from pyiceberg.expressions import AlwaysFalse, In

from madlake.config import Settings
from madlake.lakehouse.catalog import get_catalog
from madlake.lakehouse.tables import ensure_table, identifier
from madlake.metrics.ask import list_queries
from madlake.metrics.views import duckdb_views, view_tables
from madlake.names import Table
from madlake.sql.engine import QueryError, referenced_tables
from madlake.sql.files import quote_ident, transpile
from madlake.tables import all_specs

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


#: The tables the dashboard reads. Only the columns it uses are copied (Reddit's raw JSON stays behind). The tables the
#: analyst questions (``madlake/sql/questions``, through ``madlake/sql/views``) read are added by :func:`answer_tables`.
DASHBOARD_TABLES: tuple[TableLoad, ...] = (
    TableLoad(Table.DIM_TOOLS, order_by=("tool_id",)),
    TableLoad(Table.TOOL_MONTHLY_METRICS, order_by=("tool_id", "month")),
    TableLoad(Table.POPULARITY_INDEX, order_by=("category", "month")),
    TableLoad(Table.TOOL_BREAKOUTS, order_by=("tool_id", "metric_date")),
    TableLoad(Table.SOURCE_FRESHNESS),
    TableLoad(Table.TOOL_EVENTS, order_by=("tool_id", "month")),
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
        columns=("id", "fullname", "subreddit", "permalink"),
        order_by=("fullname",),
        keys_from=(Table.REDDIT_MENTIONS, "content_id", "fullname"),
    ),
    TableLoad(
        Table.REDDIT_COMMENTS,
        columns=("id", "fullname", "subreddit", "submission_id", "permalink"),
        order_by=("fullname",),
        keys_from=(Table.REDDIT_MENTIONS, "content_id", "fullname"),
    ),
)


def answer_tables() -> set[str]:
    """Tables the analyst questions read, directly or through the analyst views they select from."""
    views = view_tables()
    out: set[str] = set()
    for q in list_queries():
        for name in referenced_tables(transpile(q.sql)):
            out |= views.get(name, {name})
    return out - set(views)


def default_tables() -> tuple[TableLoad, ...]:
    """:data:`DASHBOARD_TABLES` plus every other table the analyst questions read (copied whole)."""
    known = {t.name for t in DASHBOARD_TABLES}
    try:
        extra = sorted(answer_tables() - known)
    except Exception:  # a question that does not parse fails when it runs, with its name; the pages still build
        log.exception("Could not list the tables the analyst questions read")
        extra = []
    return DASHBOARD_TABLES + tuple(TableLoad(name) for name in extra)


class DashboardEngine:
    """DuckDB over in-memory copies of :data:`DASHBOARD_TABLES` (see the module docstring)."""

    dialect = "duckdb"

    def __init__(self, settings: Settings | None = None, tables: Sequence[TableLoad] | None = None) -> None:
        start = time.perf_counter()
        self.con = duckdb.connect()
        self.con.execute("set threads to 1")  # small tables: one thread beats two contending
        self.snapshots: dict[str, int | None] = {}
        self.rows: dict[str, int] = {}
        catalog = get_catalog(settings)
        specs = all_specs()
        for load in default_tables() if tables is None else tables:
            ident = identifier(load.name)
            if catalog.table_exists(ident):
                table = catalog.load_table(ident)
            elif load.name in specs:
                table = ensure_table(specs[load.name])
            else:
                continue  # not registered in this deployment and never written: its queries read nothing
            snapshot = table.current_snapshot()
            self.snapshots[load.name] = snapshot.snapshot_id if snapshot else None
            kwargs: dict[str, Any] = {}
            names = {f.name for f in table.schema().fields}
            # an older layout may lack a column: copy the ones it has (the queries needing it say which is missing)
            columns = [c for c in load.columns if c in names]
            if columns:
                kwargs["selected_fields"] = tuple(columns)
            if load.row_filter:
                kwargs["row_filter"] = load.row_filter
            if load.keys_from and load.keys_from[0] in self.rows:
                source, column, own = load.keys_from
                distinct = f"select distinct {quote_ident(column)} from {quote_ident(source)}"
                keys = [r[0] for r in self.con.execute(distinct).fetchall()]
                if len(keys) <= MAX_KEYS:
                    kwargs["row_filter"] = In(own, keys) if keys else AlwaysFalse()
            data: pa.Table = (
                table.scan(**kwargs).to_arrow()
                if snapshot
                else table.schema().as_arrow().empty_table().select(columns)
                if columns
                else table.schema().as_arrow().empty_table()
            )
            self._create(load, data)
            self.rows[load.name] = data.num_rows
        self.views = self._create_views()
        log.info(
            "Dashboard engine: copied %d tables (%s rows) in %.1fs",
            len(self.rows),
            sum(self.rows.values()),
            time.perf_counter() - start,
        )

    def _create(self, load: TableLoad, data: pa.Table) -> None:
        quoted = quote_ident(load.name)
        self.con.register("__incoming", data)
        order = f" order by {', '.join(load.order_by)}" if load.order_by else ""
        self.con.execute(f"create or replace table {quoted} as select * from __incoming{order}")
        self.con.unregister("__incoming")

    def _create_views(self) -> list[str]:
        """The analyst views (``madlake/sql/views``) over the copies, for the questions of ``madlake/sql/questions``."""
        self.con.execute("set timezone = 'UTC'")
        created: list[str] = []
        for view in duckdb_views():
            missing = view.reads - set(self.rows) - set(created)
            if missing:
                log.info("Dashboard engine: view %s not created (no table %s)", view.name, ", ".join(sorted(missing)))
                continue
            try:
                self.con.execute(view.create)
            except Exception as exc:  # a view over an older table layout: the questions that need it say so
                log.warning("Dashboard engine: view %s does not run on these tables: %s", view.name, exc)
                continue
            created.append(view.name)
        return created

    def available_tables(self) -> list[str]:
        return sorted(set(self.rows) | set(self.views))

    def records(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of ``sql`` as dicts, without the Arrow round trip (which costs ~10x a small query's run time).

        Raises :class:`madlake.sql.engine.QueryError`.
        """
        try:
            cursor = self.con.execute(sql, list(params) if params else None)
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except Exception as exc:
            raise QueryError(f"DuckDB could not run the query ({exc}); query starts: {sql[:200]!r}") from exc

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run ``sql`` (DuckDB dialect) on the copies. Raises :class:`madlake.sql.engine.QueryError`."""
        try:
            return self.con.sql(sql, params=list(params) if params else None).to_arrow_table()
        except Exception as exc:
            raise QueryError(f"DuckDB could not run the query ({exc}); query starts: {sql[:200]!r}") from exc
