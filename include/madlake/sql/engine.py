"""Run SQL over the lakehouse tables with one interface on both profiles.

* Local: an in-process DuckDB. Each Iceberg table a query names is registered as a view over its current data files
  (``read_parquet`` of the scan plan, which pyiceberg keeps free of delete files), or over ``scan().to_arrow()`` when
  a file needs merge-on-read. DuckDB's own Iceberg extension cannot be installed offline, and this path needs none.
* AWS: Athena through boto3; results are paged, and a failed query raises with Athena's own reason.

Values are always bound as parameters (``?`` placeholders), never formatted into the SQL text.

Read-only mode (``read_only=True``: the default of :func:`get_engine` and :class:`LocalEngine`, i.e. wherever a
service or the dashboard runs SQL; ``madlake sql --read-only`` for people): only queries are accepted (``SELECT``,
``WITH``, set operations; no ``COPY``, ``INSERT``, ``CREATE``, ``ATTACH``, ``SET``, ``PRAGMA``, ``SELECT ... INTO``),
and the local DuckDB session has external access disabled, reading files only inside the warehouse folder (no
``read_csv('/etc/passwd')``, no ``httpfs``, no extension install). Plain ``madlake sql`` is for trusted analysts: it can
read any local file DuckDB can and write with ``COPY``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import boto3
import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from madlake.config import Settings, get_settings
from madlake.lakehouse.catalog import get_catalog
from madlake.redaction import RedactedError
from madlake.sql.files import quote_ident, quote_literal

log = logging.getLogger(__name__)


class QueryError(RedactedError, RuntimeError):
    """A query failed; the message carries the engine's reason and the start of the query."""


class SqlSyntaxError(QueryError):
    """The SQL text does not parse (bad input from the caller, not a failure of the engine)."""


class ReadOnlyError(QueryError):
    """A statement other than a query was sent to a read-only engine."""


#: Statements and clauses a read-only engine refuses wherever they appear in the tree.
def _forbidden_nodes() -> tuple[type, ...]:
    names = (
        "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Copy", "Command", "Set", "Pragma",
        "Attach", "Detach", "Use", "Into", "Install", "Load", "Export", "TruncateTable", "Transaction", "Commit",
        "Rollback", "Summarize", "Describe", "Show",
    )  # fmt: skip
    return tuple(getattr(exp, n) for n in names if hasattr(exp, n))


def parse_sql(sql: str, dialect: str = "duckdb") -> list[exp.Expr]:
    """The statements of ``sql`` (sqlglot). Raises :class:`SqlSyntaxError` with one line naming the problem."""
    try:
        return [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SqlSyntaxError(f"the query is not valid SQL ({first}); query starts: {sql[:120]!r}") from None


def check_read_only(statements: Sequence[exp.Expr], sql: str) -> None:
    """Refuse anything but queries (see the module docstring). Raises :class:`ReadOnlyError`."""
    forbidden = _forbidden_nodes()
    if not statements:
        raise ReadOnlyError(f"read-only: no query to run in {sql[:120]!r}")
    for statement in statements:
        bad = statement if not isinstance(statement, exp.Query) else next(statement.find_all(*forbidden), None)
        if bad is not None:
            kind = type(bad).__name__.upper()
            raise ReadOnlyError(
                f"read-only: only queries (SELECT/WITH) may run here, not {kind}; query starts: {sql[:120]!r}"
            )


class SqlEngine(Protocol):
    dialect: str

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table: ...


def referenced_tables(sql: str | list[exp.Expr], dialect: str = "duckdb") -> set[str]:
    """Unqualified names of the tables a query (SQL text, or statements from :func:`parse_sql`) reads.

    CTE names are excluded. Raises :class:`SqlSyntaxError` when the text does not parse.
    """
    names: set[str] = set()
    for statement in parse_sql(sql, dialect) if isinstance(sql, str) else sql:
        ctes = {c.alias_or_name for c in statement.find_all(exp.CTE)}
        for tbl in statement.find_all(exp.Table):
            if tbl.name and tbl.name not in ctes:
                names.add(tbl.name)
    return names


class LocalEngine:
    """DuckDB over the local Iceberg tables, registered by name on first use."""

    dialect = "duckdb"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        snapshot_ids: dict[str, int] | None = None,
        read_only: bool = True,
    ) -> None:
        self.settings = settings or get_settings()
        self.read_only = read_only
        self.con: duckdb.DuckDBPyConnection = duckdb.connect()
        self.con.execute("set threads to 2")
        self._allowed: list[str] = []
        if read_only:
            # Files only inside the warehouse (the tables' Parquet), nothing else on disk or the network.
            if self.settings.warehouse_uri.startswith("file://"):
                warehouse = Path(self.settings.warehouse_uri.removeprefix("file://"))
                self._allowed = sorted({f"{warehouse}/", f"{warehouse.resolve()}/"})
                self.con.execute("set allowed_directories = ?", [self._allowed])
            self.con.execute("set enable_external_access = false")
        self._registered: set[str] = set()
        self._snapshot_ids = snapshot_ids or {}

    def available_tables(self) -> list[str]:
        catalog = get_catalog(self.settings)
        ns = self.settings.namespace
        if ns not in {n[0] for n in catalog.list_namespaces()}:
            return []
        return sorted(ident[-1] for ident in catalog.list_tables(ns))

    def register(self, name: str, *, snapshot_id: int | None = None) -> None:
        """(Re)register table ``name`` as a DuckDB view (optionally as of ``snapshot_id``)."""

        catalog = get_catalog(self.settings)
        table = catalog.load_table(f"{self.settings.namespace}.{name}")
        scan = table.scan(snapshot_id=snapshot_id) if snapshot_id else table.scan()
        tasks = list(scan.plan_files())
        files = [t.file.file_path for t in tasks]
        quoted = quote_ident(name)
        paths = [f.removeprefix("file://") for f in files]
        cols = [f.name for f in table.schema().fields]
        local_files = all(f.startswith(("file://", "/")) for f in files)
        if self.read_only:  # a table stored outside the warehouse is read through pyiceberg instead
            local_files = local_files and all(p.startswith(tuple(self._allowed)) and ".." not in p for p in paths)
        if tasks and local_files and not any(t.delete_files for t in tasks) and self._has_columns(paths, cols):
            select = ", ".join(quote_ident(c) for c in cols)
            # DDL cannot take bound parameters; the paths come from table metadata and are quoted as literals.
            files_sql = "[" + ", ".join(quote_literal(p) for p in paths) + "]"
            # hive_partitioning off: DuckDB would otherwise take identity-partition columns from the (URL-encoded)
            # directory names instead of the files, turning a value's spaces into '+'.
            self.con.execute(
                f"create or replace view {quoted} as select {select} "
                f"from read_parquet({files_sql}, union_by_name = true, hive_partitioning = false)"
            )
        else:
            # Object-store files (no httpfs offline), merge-on-read files, or columns added after every file was
            # written: let pyiceberg assemble the rows.
            data: pa.Table = scan.to_arrow() if tasks else table.schema().as_arrow().empty_table()
            self.con.register(f"__arrow_{name}", data)
            self.con.execute(f"create or replace view {quoted} as select * from {quote_ident('__arrow_' + name)}")
        self._registered.add(name)

    def _has_columns(self, paths: list[str], cols: list[str]) -> bool:
        present = {r[0] for r in self.con.execute("select name from parquet_schema(?)", [paths]).fetchall()}
        return all(c in present for c in cols)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run ``sql`` (DuckDB dialect) and return the result as Arrow.

        Raises:
            SqlSyntaxError: the text does not parse. ReadOnlyError: a non-query on a read-only engine.
            QueryError: DuckDB refused or failed the query (its reason, and the start of the query).
        """
        statements = parse_sql(sql, "duckdb")
        if self.read_only:
            check_read_only(statements, sql)
        known = set(self.available_tables())
        for name in referenced_tables(statements) & known:
            if name not in self._registered:
                self.register(name, snapshot_id=self._snapshot_ids.get(name))
        try:
            return self.con.sql(sql, params=list(params) if params else None).to_arrow_table()
        except Exception as exc:
            raise QueryError(f"DuckDB could not run the query ({exc}); query starts: {sql[:200]!r}") from exc


class AthenaEngine:
    """Athena (Trino dialect) over the Glue database; results come back as Arrow (typed from Athena's metadata)."""

    dialect = "trino"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        poll_seconds: float = 0.5,
        timeout_s: float = 900,
        read_only: bool = False,
    ) -> None:
        self.settings = settings or get_settings()
        #: When set, :meth:`query` accepts only queries (the pipelines' own DDL goes through :meth:`execute`).
        self.read_only = read_only
        kwargs: dict[str, Any] = {"region_name": self.settings.aws_region}
        if self.settings.athena_endpoint:
            kwargs["endpoint_url"] = self.settings.athena_endpoint
        self.client = boto3.client("athena", **kwargs)
        self.poll_seconds = poll_seconds
        self.timeout_s = timeout_s

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> str:
        """Start ``sql`` and wait for it; return the execution id. Raises :class:`QueryError` with Athena's reason."""
        request: dict[str, Any] = {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": self.settings.namespace},
            "WorkGroup": self.settings.athena_workgroup,
        }
        if self.settings.athena_output:
            request["ResultConfiguration"] = {"OutputLocation": self.settings.athena_output}
        if params:
            request["ExecutionParameters"] = [_athena_literal(p) for p in params]
        qid: str = self.client.start_query_execution(**request)["QueryExecutionId"]
        deadline = time.monotonic() + self.timeout_s
        while True:
            status = self.client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return qid
            if state in ("FAILED", "CANCELLED"):
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage", "")
                raise QueryError(f"Athena query {qid} {state.lower()}: {reason}; query starts: {sql[:200]!r}")
            if time.monotonic() > deadline:
                self.client.stop_query_execution(QueryExecutionId=qid)
                raise QueryError(f"Athena query {qid} still {state} after {self.timeout_s:.0f}s; stopped it")
            time.sleep(self.poll_seconds)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        if self.read_only:
            check_read_only(parse_sql(sql, "trino"), sql)
        qid = self.execute(sql, params)
        columns: list[tuple[str, str]] = []
        rows: list[list[str | None]] = []
        first = True
        for page in self.client.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
            result_set = page["ResultSet"]
            if not columns:
                columns = [
                    (c["Name"], c["Type"]) for c in result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                ]
            data = result_set.get("Rows", [])
            if (
                first
                and data
                and columns
                and [d.get("VarCharValue") for d in data[0]["Data"]] == [c[0] for c in columns]
            ):
                data = data[1:]  # the header row Athena returns for SELECTs
            first = False
            rows.extend([d.get("VarCharValue") for d in r["Data"]] for r in data)
        arrays = []
        for i, (_name, typ) in enumerate(columns):
            arrays.append(pa.array([r[i] for r in rows], type=pa.string()).cast(_arrow_type(typ), safe=False))
        return pa.Table.from_arrays(arrays, names=[c[0] for c in columns])


def _athena_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return quote_literal(str(value))


def _arrow_type(athena_type: str) -> pa.DataType:
    t = athena_type.lower()
    return {
        "boolean": pa.bool_(),
        "tinyint": pa.int8(),
        "smallint": pa.int16(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "double": pa.float64(),
        "float": pa.float32(),
        "real": pa.float32(),
        "date": pa.date32(),
    }.get(t, pa.float64() if t.startswith("decimal") else pa.string())


def get_engine(settings: Settings | None = None, *, read_only: bool = True) -> SqlEngine:
    """The SQL engine of the active profile; read-only unless asked otherwise (see the module docstring)."""
    settings = settings or get_settings()
    if settings.profile == "aws" and settings.effective_catalog == "glue":
        return AthenaEngine(settings, read_only=read_only)
    # Local profile, or a REST catalog (the compose stack, which has no Athena): DuckDB over pyiceberg scans.
    return LocalEngine(settings, read_only=read_only)


def format_result(table: pa.Table, fmt: str) -> str:
    """Render a result as an aligned text table, CSV (with a header line) or a JSON array of objects."""
    rows = table.to_pylist()
    cols = table.column_names
    if fmt == "json":
        return json.dumps(rows, default=str, indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(cols)
        writer.writerows([["" if r[c] is None else r[c] for c in cols] for r in rows])
        return buf.getvalue()
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}: use table, csv or json")
    cells = [[("NULL" if r[c] is None else str(r[c]))[:60] for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([line, sep, *body, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])
