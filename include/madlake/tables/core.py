"""Tables every pipeline shares: the tools dimension, the dead-letter table and the audit log."""

from __future__ import annotations

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BooleanType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from madlake.catalog.io import dim_tools_schema
from madlake.names import Table
from madlake.tables.spec import TableSpec

DIM_TOOLS = TableSpec(
    name=Table.DIM_TOOLS,
    schema=dim_tools_schema(),
    sort=("tool_id",),
    key=("tool_id",),
    doc="One row per tracked tool, loaded from the YAML catalog in the package (replaced whole on each load).",
)


REJECTED_RECORDS = TableSpec(
    name=Table.REJECTED_RECORDS,
    schema=Schema(
        NestedField(1, "source", StringType(), required=True, doc="reddit, pypi, github, llm, ..."),
        NestedField(2, "entity", StringType(), required=True, doc="what the record was meant to be"),
        NestedField(3, "run_id", StringType(), required=True),
        NestedField(4, "record_id", StringType(), required=False, doc="the record's id when it could be read"),
        NestedField(5, "reason", StringType(), required=True, doc="why it was rejected (validation errors)"),
        NestedField(6, "raw_payload", StringType(), required=True, doc="the record as received, truncated to 64 KiB"),
        NestedField(7, "rejected_at", TimestamptzType(), required=True),
        NestedField(8, "run_date", StringType(), required=True, doc="the logical day of the run (YYYY-MM-DD)"),
    ),
    partition=(("source", "identity"),),
    key=("source", "entity", "run_id", "record_id", "reason"),
    doc="Dead letters: every record a pipeline could not accept, with the reason and the raw payload.",
)

AUDIT_RESULTS = TableSpec(
    name=Table.AUDIT_RESULTS,
    schema=Schema(
        NestedField(1, "table_name", StringType(), required=True),
        NestedField(2, "partition_key", StringType(), required=True, doc="what was audited, e.g. a day"),
        NestedField(3, "branch", StringType(), required=True, doc="the audit branch (kept when the audit failed)"),
        NestedField(4, "snapshot_id", LongType(), required=True, doc="the audited snapshot on the branch"),
        NestedField(5, "run_id", StringType(), required=True),
        NestedField(6, "expectation", StringType(), required=True),
        NestedField(7, "success", BooleanType(), required=True),
        NestedField(8, "observed", StringType(), required=False, doc="the observed value or failing examples"),
        NestedField(9, "audited_at", TimestamptzType(), required=True),
        NestedField(10, "published", BooleanType(), required=True, doc="whether the branch was published to main"),
        NestedField(11, "rows", IntegerType(), required=True),
    ),
    partition=(("table_name", "identity"),),
    doc="One row per expectation per write-audit-publish attempt; failures point at the kept branch.",
)

TABLES = [DIM_TOOLS, REJECTED_RECORDS, AUDIT_RESULTS]
