"""Lakehouse initialisation and the ``dim_tools`` load."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pyiceberg.expressions import AlwaysTrue

from madlake.catalog import load_catalog
from madlake.catalog.io import dim_tools_arrow
from madlake.lakehouse.tables import ensure_tables, load_table
from madlake.lakehouse.writes import replace_partition
from madlake.names import Table
from madlake.orchestration.request import RunRequest

log = logging.getLogger(__name__)


def init_lakehouse() -> list[str]:
    """Create the namespace and every registered table that is missing (idempotent)."""
    created = ensure_tables()
    log.info("Lakehouse ready: %d tables (%s)", len(created), ", ".join(created))
    return created


def load_dim_tools(request: RunRequest | None = None) -> int:
    """Replace ``dim_tools`` with the packaged catalog. The same catalog replaces; a changed one replaces too.

    ``request``: the run (its DAG and run id tag the commit; ``None``: a standalone run).
    """
    catalog = load_catalog()
    table = load_table(Table.DIM_TOOLS)
    rows = dim_tools_arrow(catalog, loaded_at=datetime.now(UTC))
    replace_partition(table, rows, AlwaysTrue(), (request or RunRequest.for_cli()).commit("catalog"))
    log.info("dim_tools loaded: %d tools in %d categories", rows.num_rows, len(catalog.categories))
    return rows.num_rows
