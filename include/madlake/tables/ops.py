"""Operational tables: how fresh every source and table is (what the dashboard's freshness page shows)."""

from __future__ import annotations

from pyiceberg.schema import Schema
from pyiceberg.types import DateType, DoubleType, IntegerType, LongType, NestedField, StringType, TimestamptzType

from madlake.names import Table
from madlake.tables.spec import TableSpec

SOURCE_FRESHNESS = TableSpec(
    name=Table.SOURCE_FRESHNESS,
    schema=Schema(
        NestedField(1, "check_date", DateType(), required=True, doc="the logical day of the run that measured it"),
        NestedField(2, "table_name", StringType(), required=True),
        NestedField(3, "source", StringType(), required=True, doc="madlake.source of the commits, or unknown"),
        NestedField(
            4, "last_load_at", TimestamptzType(), required=True, doc="commit time of the newest snapshot on main"
        ),
        NestedField(5, "last_snapshot_id", LongType(), required=True),
        NestedField(6, "last_dag_id", StringType(), required=False, doc="the DAG whose run committed it"),
        NestedField(7, "last_run_id", StringType(), required=False),
        NestedField(8, "loads", IntegerType(), required=True, doc="runs of this source with a commit on main"),
        NestedField(9, "table_rows", LongType(), required=False, doc="rows in the table now (all sources)"),
        NestedField(10, "data_column", StringType(), required=False, doc="column the newest data date comes from"),
        NestedField(11, "newest_data_date", DateType(), required=False, doc="newest value of data_column (metadata)"),
        NestedField(12, "load_lag_hours", DoubleType(), required=True, doc="checked_at - last_load_at, in hours"),
        NestedField(13, "data_lag_days", IntegerType(), required=False, doc="check_date - newest_data_date, in days"),
        NestedField(14, "checked_at", TimestamptzType(), required=True),
        NestedField(
            15,
            "oldest_data_date",
            DateType(),
            required=False,
            doc="oldest value of data_column (metadata lower bounds)",
        ),
        NestedField(
            16,
            "data_periods",
            IntegerType(),
            required=False,
            doc="distinct values of data_column (days, snapshots or months with data): the coverage period's size",
        ),
    ),
    partition=(("check_date", "month"),),
    sort=("check_date", "table_name", "source"),
    key=("check_date", "table_name", "source"),
    doc="Per table and source, as measured on check_date from Iceberg metadata only: the last successful load (the "
    "newest snapshot on main committed by that source), rows, the newest data date, and the lags behind now and "
    "behind the newest data, and the period the data covers (oldest to newest data date, number of distinct dates). "
    "A rerun for the same day replaces that day's rows.",
)

TABLES = [SOURCE_FRESHNESS]
