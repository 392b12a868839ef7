"""Analyst views: one Trino ``select`` per file in ``madlake/sql/views``, created in Athena or in a DuckDB session.

* aws: ``create or replace view <name> as <select>`` in the Glue database, run by Athena (the view text is Trino).
* local: the same text transpiled to DuckDB and created in a :class:`~madlake.sql.engine.LocalEngine` session, over
  the registered Iceberg tables (optionally pinned to old snapshots, for "as of" answers), or in the dashboard's
  in-memory copies (:class:`~madlake.dashboard.engine.DashboardEngine`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from madlake.config import Settings, get_settings
from madlake.sql.engine import AthenaEngine, LocalEngine, QueryError, referenced_tables
from madlake.sql.files import layer_dir, quote_ident, read_layer, transpile

log = logging.getLogger(__name__)

VIEWS_DIR = layer_dir("views")


def view_sql() -> dict[str, str]:
    """Every view's Trino ``select`` by view name (file stem), in name order."""
    return read_layer("views")


@dataclass(frozen=True)
class DuckView:
    """A view in DuckDB's dialect: its ``create`` statement and the tables and views it reads."""

    name: str
    create: str
    reads: frozenset[str]


def duckdb_views() -> list[DuckView]:
    """Every view transpiled to DuckDB, in creation order: name order (a view reading another is named to sort after it,
    e.g. ``v_index_growth_yoy`` reads ``v_index_current``)."""
    out = []
    for name, sql in view_sql().items():
        duck = transpile(sql)
        out.append(
            DuckView(name, f"create or replace view {quote_ident(name)} as {duck}", frozenset(referenced_tables(duck)))
        )
    return out


def view_tables() -> dict[str, frozenset[str]]:
    """The tables each view reads, directly or through the views it reads, by view name."""
    out: dict[str, frozenset[str]] = {}
    for view in duckdb_views():  # a view reads only views before it (name order)
        out[view.name] = frozenset(t for name in view.reads for t in out.get(name, {name}))
    return out


def athena_view_statement(name: str) -> str:
    """The Athena DDL creating (or replacing) view ``name``."""
    return f"create or replace view {name} as\n{view_sql()[name]}"


def local_engine(settings: Settings | None = None, snapshot_ids: dict[str, int] | None = None) -> LocalEngine:
    """A DuckDB session over the local lakehouse with every analyst view created in it.

    ``snapshot_ids`` pins tables (by name) to old snapshots, e.g. the gold tables at a ``monthly-YYYY-MM`` tag.
    """
    engine = LocalEngine(settings, snapshot_ids=snapshot_ids)
    engine.con.execute("set timezone = 'UTC'")
    known = set(engine.available_tables())
    for view in duckdb_views():
        for table in view.reads & known:
            if table not in engine._registered:
                engine.register(table, snapshot_id=(snapshot_ids or {}).get(table))
        engine.con.execute(view.create)
    return engine


def create_views(settings: Settings | None = None) -> list[str]:
    """Create every analyst view (aws: in Athena; local: check each runs on DuckDB). Returns the view names.

    Raises:
        madlake.sql.engine.QueryError: a view fails (Athena's reason, or DuckDB's); earlier views stay created.
    """
    settings = settings or get_settings()
    names = list(view_sql())
    if settings.profile == "aws":
        athena = AthenaEngine(settings)
        for name in names:
            athena.execute(athena_view_statement(name))
            log.info("Athena view %s created", name)
        return names
    engine = local_engine(settings)
    for name in names:
        try:
            rows = engine.con.execute(f"select count(*) from {quote_ident(name)}").fetchone()
        except Exception as exc:
            raise QueryError(f"view {name} does not run on DuckDB: {exc}") from exc
        log.info("view %s: %s rows", name, rows[0] if rows else 0)
    return names
