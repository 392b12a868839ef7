"""``source_freshness``: when each source last loaded each table, and how far behind the data is.

Everything is read from Iceberg metadata, never from the data files: for each registered table, the snapshots on
main's ancestry (so a failed audit's branch never counts as a load) are grouped by their ``madlake.source``
property; the newest one per source is that source's last successful load. The newest data date comes from the data
files' column upper bounds of the table's date column (the source column of its first day/month/year partition), so
it costs a manifest read even on tables of billions of rows. The coverage period goes with it: the oldest data date
from the lower bounds, and the number of distinct data dates (from the partition values when the table is partitioned
by day of that column, else by reading that one column: the monthly and history tables are small).

Idempotent by logical date: a run for day D replaces D's rows of ``source_freshness`` (a rerun never duplicates).
A table that cannot be opened is logged and skipped (it will be measured on the next run); a failed write raises and
Airflow retries the task.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.conversions import from_bytes
from pyiceberg.expressions import EqualTo
from pyiceberg.table import Table as IcebergTable
from pyiceberg.table.snapshots import Snapshot, ancestors_of
from pyiceberg.types import DateType, IcebergType, TimestampType, TimestamptzType

from madlake.lakehouse import writes
from madlake.lakehouse.catalog import get_catalog
from madlake.lakehouse.tables import identifier, load_table
from madlake.names import PROP_DAG_ID, PROP_RUN_ID, PROP_SOURCE, Table
from madlake.tables import all_specs
from madlake.tables.spec import TableSpec

log = logging.getLogger(__name__)

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class FreshnessRow:
    check_date: date
    table_name: str
    source: str
    last_load_at: datetime
    last_snapshot_id: int
    last_dag_id: str | None
    last_run_id: str | None
    loads: int
    table_rows: int | None
    data_column: str | None
    newest_data_date: date | None
    load_lag_hours: float
    data_lag_days: int | None
    checked_at: datetime
    oldest_data_date: date | None = None
    data_periods: int | None = None


def data_column(spec: TableSpec) -> str | None:
    """The column whose newest value is a table's newest data date: the source of its first time partition."""
    for column, transform in spec.partition:
        if transform in ("day", "month", "year"):
            return column
    return None


def _summary_props(snapshot: Snapshot) -> dict[str, str]:
    summary = snapshot.summary
    if summary is None:
        return {}
    props = dict(getattr(summary, "additional_properties", {}) or {})
    return {str(k): str(v) for k, v in props.items()}


def _to_date(field_type: IcebergType, value: int) -> date | None:
    if isinstance(field_type, DateType):
        return _EPOCH + timedelta(days=value)
    if isinstance(field_type, TimestampType | TimestamptzType):
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)).date()
    return None


def value_date_bounds(table: IcebergTable, column: str) -> tuple[date | None, date | None]:
    """The oldest and newest value of a date/timestamp ``column`` from the data files' bounds (metadata only)."""
    field = table.schema().find_field(column)
    oldest: int | None = None
    newest: int | None = None
    for task in table.scan(selected_fields=(column,)).plan_files():
        raw_hi = (task.file.upper_bounds or {}).get(field.field_id)
        raw_lo = (task.file.lower_bounds or {}).get(field.field_id)
        if raw_hi is not None:
            hi = from_bytes(field.field_type, raw_hi)
            if isinstance(hi, int) and (newest is None or hi > newest):
                newest = hi
        if raw_lo is not None:
            lo = from_bytes(field.field_type, raw_lo)
            if isinstance(lo, int) and (oldest is None or lo < oldest):
                oldest = lo
    return (
        _to_date(field.field_type, oldest) if oldest is not None else None,
        _to_date(field.field_type, newest) if newest is not None else None,
    )


def newest_value_date(table: IcebergTable, column: str) -> date | None:
    """The newest value of a date/timestamp ``column`` from the data files' upper bounds (metadata only)."""
    return value_date_bounds(table, column)[1]


def data_periods(table: IcebergTable, spec: TableSpec, column: str) -> int | None:
    """Distinct dates of ``column`` with data: partition values when partitioned by day of it, else the column read."""
    if (column, "day") in tuple(spec.partition):
        position = [c for c, _ in spec.partition].index(column)
        return len({task.file.partition[position] for task in table.scan(selected_fields=(column,)).plan_files()})
    values = table.scan(selected_fields=(column,)).to_arrow().column(column)
    if pa.types.is_timestamp(values.type):
        values = pc.floor_temporal(values, unit="day")
    return int(pc.count_distinct(pc.cast(values, pa.date32())).as_py())


def measure_table(table: IcebergTable, spec: TableSpec, check_date: date, now: datetime) -> list[FreshnessRow]:
    """One row per source that has committed to ``table``'s main branch (none for a table never loaded)."""
    current = table.current_snapshot()
    if current is None:
        return []
    latest: dict[str, Any] = {}
    runs: dict[str, set[str]] = {}
    for snap in ancestors_of(current, table.metadata):
        props = _summary_props(snap)
        if props.get("madlake.operation") in ("genesis", "compaction"):
            # The empty first snapshot write-audit-publish gives a new table, and lakehouse_maintenance's rewrite of
            # a partition's files (same rows), are not loads.
            continue
        source = props.get(PROP_SOURCE) or "unknown"
        runs.setdefault(source, set()).add(props.get(PROP_RUN_ID) or str(snap.snapshot_id))
        if source not in latest or snap.timestamp_ms > latest[source].timestamp_ms:
            latest[source] = snap
    summary = _summary_props(current)
    rows_total = int(summary["total-records"]) if summary.get("total-records", "").isdigit() else None
    column = data_column(spec)
    oldest, newest = value_date_bounds(table, column) if column else (None, None)
    periods = data_periods(table, spec, column) if column else None
    out = []
    for source, snap in sorted(latest.items()):
        props = _summary_props(snap)
        loaded_at = datetime.fromtimestamp(snap.timestamp_ms / 1000, tz=UTC)
        out.append(
            FreshnessRow(
                check_date=check_date,
                table_name=spec.name,
                source=source,
                last_load_at=loaded_at,
                last_snapshot_id=snap.snapshot_id,
                last_dag_id=props.get(PROP_DAG_ID),
                last_run_id=props.get(PROP_RUN_ID),
                loads=len(runs[source]),
                table_rows=rows_total,
                data_column=column,
                newest_data_date=newest,
                load_lag_hours=round((now - loaded_at).total_seconds() / 3600, 3),
                data_lag_days=(check_date - newest).days if newest else None,
                checked_at=now,
                oldest_data_date=oldest,
                data_periods=periods,
            )
        )
    return out


def measure_freshness(check_date: date, *, now: datetime | None = None) -> list[FreshnessRow]:
    """Measure every registered table that exists in the catalog (``source_freshness`` itself excluded)."""
    now = now or datetime.now(UTC)
    catalog = get_catalog()
    rows: list[FreshnessRow] = []
    for name, spec in all_specs().items():
        if name == Table.SOURCE_FRESHNESS:
            continue
        ident = identifier(name)
        try:
            if not catalog.table_exists(ident):
                continue
            table = catalog.load_table(ident)
            rows.extend(measure_table(table, spec, check_date, now))
        except Exception:  # one unreadable table must not hide the freshness of the others
            log.exception("Could not measure the freshness of %s; skipping it this run", ident)
    log.info("Measured freshness of %d (table, source) pairs on %s", len(rows), check_date)
    return rows


def refresh_source_freshness(check_date: date, *, now: datetime | None = None) -> dict[str, int]:
    """Measure and write ``source_freshness`` for ``check_date`` (replacing that day's rows). Returns counts."""
    rows = measure_freshness(check_date, now=now)
    table = load_table(Table.SOURCE_FRESHNESS)
    ctx = writes.CommitContext.current(source="ops")
    df = writes.rows_to_arrow(table, [r.__dict__ for r in rows])
    writes.replace_partition(table, df, EqualTo("check_date", check_date.isoformat()), ctx)
    stale = sum(1 for r in rows if r.load_lag_hours > 48)
    log.info("source_freshness %s: %d rows (%d loads older than 48 h)", check_date, len(rows), stale)
    return {"rows": len(rows), "tables": len({r.table_name for r in rows}), "stale_over_48h": stale}
