"""Table fingerprints (test and benchmark machinery): a row count plus an order-free hash of the rows.

They prove reruns change nothing.

Two table versions have the same fingerprint when they hold the same multiset of rows, in any order and any file
layout: the hash is the *sum* (not the XOR, which would cancel a duplicated row) of DuckDB's per-row ``hash()`` over
the fingerprinted columns. Compaction, which rewrites files without changing rows, keeps the fingerprint; a rerun that
appended a duplicate row, or changed one value, changes it.

Load-time bookkeeping columns (``loaded_at``, ``processed_at``, the run id of a dead letter, ...) are *expected* to
change on a rerun and are left out by default (:data:`VOLATILE_COLUMNS`); the fingerprint says which columns it left
out, so a report never hides it. The duplicate-key count is computed on the table's declared key
(:attr:`madlake.tables.spec.TableSpec.key`) when it has one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
from madlake.config import get_settings
from madlake.lakehouse.catalog import get_catalog
from madlake.sql.files import quote_ident as _quote
from madlake.tables import all_specs
from pyiceberg.table import Table as IcebergTable

log = logging.getLogger(__name__)

#: Columns that record *when* or *by which run* a row was written, not what it says. A rerun rewrites them.
VOLATILE_COLUMNS: frozenset[str] = frozenset(
    {
        "loaded_at",
        "updated_at",
        "computed_at",
        "processed_at",
        "rejected_at",
        "audited_at",
        "last_seen_at",
        "fetched_at",
        "ingested_at",
        "published_at_run",
        "run_id",
        "snapshot_id",
        # how a row was fetched, not what it says: the API answered 304 (ETag) on a rerun (github_repo_snapshots)
        "not_modified",
        # measured against the clock at run time (source_freshness)
        "checked_at",
        "load_lag_hours",
    }
)


@dataclass(frozen=True)
class Fingerprint:
    """What a table holds, independent of row order and file layout."""

    table: str
    rows: int
    row_hash: str
    columns: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    duplicate_keys: int | None = None
    snapshot_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def same_content(self, other: Fingerprint) -> bool:
        """Same rows (count and hash) over the same columns; snapshot ids may differ."""
        return (self.rows, self.row_hash, self.columns) == (other.rows, other.row_hash, other.columns)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fingerprint_arrow(
    name: str,
    data: pa.Table,
    *,
    exclude: Iterable[str] = VOLATILE_COLUMNS,
    key: Sequence[str] = (),
    snapshot_id: int | None = None,
) -> Fingerprint:
    """Fingerprint an Arrow table (the rows of one table version)."""
    excluded = tuple(c for c in data.column_names if c in set(exclude))
    columns = tuple(c for c in data.column_names if c not in excluded)
    con = duckdb.connect()
    try:
        con.execute("set threads to 2")
        con.register("rows_in", data)
        row_hash_sql = f"coalesce(sum(hash({', '.join(_quote(c) for c in columns)})), 0)" if columns else "0"
        # hash() is deterministic for a DuckDB version; the sum is order-free and counts duplicates (XOR would not).
        rows, total = con.execute(f"select count(*), cast({row_hash_sql} as varchar) from rows_in").fetchone()  # type: ignore[misc]
        duplicates: int | None = None
        usable_key = [k for k in key if k in data.column_names]
        if usable_key and len(usable_key) == len(key):
            key_sql = ", ".join(_quote(k) for k in usable_key)
            duplicates = int(
                con.execute(
                    f"select coalesce(sum(n - 1), 0) from (select count(*) as n from rows_in group by {key_sql}) "
                    "where n > 1"
                ).fetchone()[0]  # type: ignore[index]
            )
    finally:
        con.close()
    return Fingerprint(
        table=name,
        rows=int(rows),
        row_hash=str(total),
        columns=columns,
        excluded=excluded,
        duplicate_keys=duplicates,
        snapshot_id=snapshot_id,
    )


def fingerprint_table(
    table: IcebergTable,
    *,
    snapshot_id: int | None = None,
    exclude: Iterable[str] = VOLATILE_COLUMNS,
    key: Sequence[str] | None = None,
) -> Fingerprint:
    """Fingerprint an Iceberg table as of ``snapshot_id`` (default: main's current snapshot).

    ``key`` defaults to the registered :class:`~madlake.tables.spec.TableSpec` key of a table with that name.
    """
    name = table.name()[-1]
    if key is None:
        key = _registered_key(name)
    snap = table.snapshot_by_id(snapshot_id) if snapshot_id is not None else table.current_snapshot()
    if snap is None:
        data = table.schema().as_arrow().empty_table()
    else:
        data = table.scan(snapshot_id=snap.snapshot_id).to_arrow()
    return fingerprint_arrow(
        name, data, exclude=exclude, key=key, snapshot_id=snap.snapshot_id if snap is not None else None
    )


def _registered_key(name: str) -> Sequence[str]:
    spec = all_specs().get(name)
    return tuple(spec.key) if spec is not None else ()


def fingerprint_lakehouse(names: Iterable[str] | None = None, *, skip: Iterable[str] = ()) -> dict[str, Fingerprint]:
    """Fingerprints of every existing table of the active lakehouse (or just ``names``), by table name."""
    catalog = get_catalog()
    ns = get_settings().namespace
    if ns not in {n[0] for n in catalog.list_namespaces()}:
        return {}
    existing = sorted(ident[-1] for ident in catalog.list_tables(ns))
    wanted = [n for n in (names if names is not None else existing) if n in existing and n not in set(skip)]
    prints = {}
    for name in wanted:
        prints[name] = fingerprint_table(catalog.load_table(f"{ns}.{name}"))
        log.info("Fingerprint %s: %d rows, hash %s", name, prints[name].rows, prints[name].row_hash)
    return prints


def diff(before: dict[str, Fingerprint], after: dict[str, Fingerprint]) -> list[str]:
    """Human-readable differences between two sets of fingerprints (empty when identical)."""
    problems = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is None or b is None:
            problems.append(f"{name}: {'appeared' if a is None else 'disappeared'}")
        elif not a.same_content(b):
            problems.append(f"{name}: {a.rows} rows (hash {a.row_hash}) -> {b.rows} rows (hash {b.row_hash})")
        elif b.duplicate_keys:
            problems.append(f"{name}: {b.duplicate_keys} duplicate key(s)")
    return problems
