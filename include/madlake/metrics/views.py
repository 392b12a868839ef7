"""Analyst views: one Trino ``select`` per file in ``madlake/sql/views``, created in Athena or in a DuckDB session.

* aws: ``create or replace view <name> as <select>`` in the Glue database, run by Athena (the view text is Trino).
* local: the same text transpiled to DuckDB and created in a :class:`~madlake.sql.engine.LocalEngine` session, over
  the registered Iceberg tables (optionally pinned to old snapshots, for "as of" answers).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from madlake.config import Settings
    from madlake.sql.engine import LocalEngine

log = logging.getLogger(__name__)

VIEWS_DIR = Path(__file__).resolve().parents[1] / "sql" / "views"


def view_sql() -> dict[str, str]:
    """Every view's Trino ``select`` by view name (file stem), in name order."""
    return {p.stem: p.read_text(encoding="utf-8").strip().rstrip(";") for p in sorted(VIEWS_DIR.glob("*.sql"))}


def athena_view_statement(name: str) -> str:
    """The Athena DDL creating (or replacing) view ``name``."""
    return f"create or replace view {name} as\n{view_sql()[name]}"


def local_engine(settings: Settings | None = None, snapshot_ids: dict[str, int] | None = None) -> LocalEngine:
    """A DuckDB session over the local lakehouse with every analyst view created in it.

    ``snapshot_ids`` pins tables (by name) to old snapshots, e.g. the gold tables at a ``monthly-YYYY-MM`` tag.
    """
    from madlake.metrics.runner import transpile
    from madlake.sql.engine import LocalEngine, referenced_tables

    engine = LocalEngine(settings, snapshot_ids=snapshot_ids)
    engine.con.execute("set timezone = 'UTC'")
    known = set(engine.available_tables())
    for name, sql in view_sql().items():
        duck = transpile(sql)
        for table in referenced_tables(duck) & known:
            if table not in engine._registered:
                engine.register(table, snapshot_id=(snapshot_ids or {}).get(table))
        engine.con.execute(f'create or replace view "{name}" as {duck}')
    return engine


def create_views(settings: Settings | None = None) -> list[str]:
    """Create every analyst view (aws: in Athena; local: check each runs on DuckDB). Returns the view names.

    Raises:
        madlake.sql.engine.QueryError: a view fails (Athena's reason, or DuckDB's); earlier views stay created.
    """
    from madlake.config import get_settings
    from madlake.sql.engine import AthenaEngine, QueryError

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
            rows = engine.con.execute(f'select count(*) from "{name}"').fetchone()
        except Exception as exc:
            raise QueryError(f"view {name} does not run on DuckDB: {exc}") from exc
        log.info("view %s: %s rows", name, rows[0] if rows else 0)
    return names
