"""Create and open the registered tables (idempotently, on either profile).

This module depends on the registry (:mod:`madlake.tables`), never the other way round.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table as IcebergTable

from madlake.config import get_settings
from madlake.lakehouse.catalog import get_catalog
from madlake.tables import all_specs, get_spec
from madlake.tables.spec import TableSpec

log = logging.getLogger(__name__)


def identifier(name: str) -> str:
    """``<namespace>.<name>`` for a registered table name."""
    return f"{get_settings().namespace}.{name}"


def ensure_table(spec: TableSpec, catalog: Catalog | None = None) -> IcebergTable:
    """Create ``spec``'s table if missing; add columns the spec gained since (never drops or retypes a column)."""
    catalog = catalog or get_catalog()
    ident = identifier(spec.name)
    catalog.create_namespace_if_not_exists(get_settings().namespace)
    if not catalog.table_exists(ident):
        log.info("Creating table %s", ident)
        return catalog.create_table_if_not_exists(
            ident,
            schema=spec.schema,
            partition_spec=spec.partition_spec(),
            sort_order=spec.sort_order(),
            properties=spec.table_properties(),
        )
    table = catalog.load_table(ident)
    existing = {f.name for f in table.schema().fields}
    if any(f.name not in existing for f in spec.schema.fields):
        log.info("Evolving table %s: adding %s", ident, [f.name for f in spec.schema.fields if f.name not in existing])
        with table.update_schema() as update:
            update.union_by_name(spec.schema)
        table = catalog.load_table(ident)
    return table


def ensure_tables(names: Iterable[str] | None = None) -> list[str]:
    """Create every registered table (or just ``names``); returns the identifiers. Safe to run any number of times."""
    specs = all_specs()
    wanted = list(names) if names is not None else list(specs)
    unknown = [n for n in wanted if n not in specs]
    if unknown:
        raise KeyError(f"unknown tables {unknown}; known tables: {', '.join(sorted(specs))}")
    catalog = get_catalog()
    return [".".join(ensure_table(specs[n], catalog).name()) for n in wanted]


def load_table(name: str) -> IcebergTable:
    """Open a registered table, creating it first if this lakehouse has never seen it."""
    catalog = get_catalog()
    ident = identifier(name)
    if catalog.table_exists(ident):
        return catalog.load_table(ident)
    return ensure_table(get_spec(name), catalog)
