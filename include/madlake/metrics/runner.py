"""The gold model runner: SQL models in one dialect (Trino/Athena), executed by DuckDB locally or by Athena in AWS.

A model is one ``madlake/sql/models/<name>.sql`` file holding one lowercase ``select``. It names its inputs by bare
name: source tables (``pypi_downloads``), other models (``stg_pypi__downloads``) and ``run_params``, a one-row relation
with the ``start_date`` and ``end_date`` of the days being recomputed. Dependencies are read from the SQL
itself (sqlglot).

* Local: each model is transpiled with ``sqlglot.transpile(read="trino", write="duckdb")`` and materialized as a DuckDB
  temp table, upstream first. Source tables are registered from pyiceberg scans *filtered to the rows the run reads*
  (:data:`READ_WINDOWS`), so reading cost follows the window sizes, never the length of history.
* AWS: :func:`athena_merge` composes a mart and everything upstream into one statement (``with run_params as (...),
  stg_... as (...) select ...``) inside ``merge into <table>``: the computation runs in Athena and scales with it.

Both paths run the same SQL text; ``tests/unit/test_gold_models.py`` runs the composed Athena ``select`` through
DuckDB and checks that it matches the local path, and that every Athena statement parses as Trino.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa
import sqlglot
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import (
    AlwaysFalse,
    AlwaysTrue,
    And,
    BooleanExpression,
    GreaterThanOrEqual,
    In,
    LessThan,
    Or,
)
from sqlglot import exp

from madlake.config import Settings, get_settings
from madlake.lakehouse.catalog import get_catalog
from madlake.names import Table
from madlake.sql.files import SOURCE_DIALECT, layer_dir, quote_ident, read_layer, transpile
from madlake.tables import get_spec

log = logging.getLogger(__name__)

MODELS_DIR = layer_dir("models")

#: Mart model -> the gold table it fills.
MARTS: dict[str, str] = {
    "fct_tool_daily_metrics": Table.TOOL_DAILY_METRICS,
    "fct_category_daily_rankings": Table.CATEGORY_DAILY_RANKINGS,
    "fct_tool_breakouts": Table.TOOL_BREAKOUTS,
    "fct_popularity_index": Table.POPULARITY_INDEX,
    "fct_tool_monthly_metrics": Table.TOOL_MONTHLY_METRICS,
}

#: Daily marts in the order they must be written: the later ones read ``tool_daily_metrics`` as the first one left it.
STAGES: tuple[tuple[str, ...], ...] = (
    ("fct_tool_daily_metrics",),
    ("fct_category_daily_rankings", "fct_tool_breakouts"),
)

#: Monthly marts (one stage: the index reads the monthly metrics model itself, not the stored table).
MONTHLY_STAGES: tuple[tuple[str, ...], ...] = (("fct_tool_monthly_metrics", "fct_popularity_index"),)

#: What a run over ``[start, end]`` reads of each table: (date column, [(days before start, days after end), ...]).
#: These bound the pyiceberg scans (partition and file pruning); the models filter exactly the same ranges in SQL.
#: Tables not listed (dim_tools) are read whole.
READ_WINDOWS: dict[str, tuple[str, tuple[tuple[int, int], ...]]] = {
    Table.PYPI_DOWNLOADS: ("download_date", ((-27, 0),)),
    Table.REDDIT_MENTIONS: ("created_at", ((-27, 0),)),
    Table.GITHUB_REPO_SNAPSHOTS: ("snapshot_date", ((-89, 0),)),
    Table.GITHUB_STARS_DAILY: ("star_date", ((-27, 0),)),
    # monthly sources (a monthly run starts on a month's first day; -31 days reaches the previous month's first day)
    Table.PYPI_DOWNLOADS_MONTHLY: ("month", ((0, 0),)),
    Table.GITHUB_REPO_HISTORY: ("day", ((-31, 0),)),
    Table.REDDIT_SUBMISSIONS: ("created_at", ((0, 0),)),
    Table.REDDIT_COMMENTS: ("created_at", ((0, 0),)),
    # rankings: the run days and the days 28 and 365 before; breakouts: 90 days of history; the index: month ends.
    Table.TOOL_DAILY_METRICS: ("metric_date", ((-365, -365), (-90, 0))),
    # popularity_index: the months 1, 3 and 12 before each month of the run (see read_filter).
}

#: What a run of the monthly marts reads (its start is a month's first day): the months themselves, plus the month
#: before for GitHub snapshots (new stars by difference). The staging SQL filters wider ranges (it is shared with the
#: daily marts), which only the rows registered here reach: the monthly marts' results are the same.
MONTHLY_READ_WINDOWS: dict[str, tuple[str, tuple[tuple[int, int], ...]]] = {
    **READ_WINDOWS,
    Table.PYPI_DOWNLOADS: ("download_date", ((0, 0),)),
    Table.REDDIT_MENTIONS: ("created_at", ((0, 0),)),
    Table.GITHUB_REPO_SNAPSHOTS: ("snapshot_date", ((-31, 0),)),
    Table.GITHUB_STARS_DAILY: ("star_date", ((0, 0),)),
}

#: The columns the models use from each source table, in the Trino types they need. A source table that does not
#: exist yet (its pipeline has not landed or never ran) is read as an empty relation with these columns, so gold can
#: start on whatever sources exist and grow with them.
SOURCE_CONTRACTS: dict[str, dict[str, str]] = {
    Table.PYPI_DOWNLOADS: {
        "download_date": "date",
        "project": "varchar",
        "installer": "varchar",
        "ci": "boolean",
        "downloads": "bigint",
        "source": "varchar",
    },
    Table.REDDIT_MENTIONS: {
        "created_at": "timestamp with time zone",
        "tool_id": "varchar",
        "mention_count": "bigint",
        "sentiment_score": "double",
        "sentiment_label": "varchar",
        "method": "varchar",
    },
    Table.GITHUB_REPO_SNAPSHOTS: {
        "snapshot_date": "date",
        "repo": "varchar",
        "tool_id": "varchar",
        "stars": "bigint",
        "forks": "bigint",
        "open_issues": "bigint",
        "contributors": "integer",
        "latest_release_tag": "varchar",
        "latest_release_at": "timestamp with time zone",
        "origin": "varchar",
    },
    Table.GITHUB_STARS_DAILY: {
        "repo": "varchar",
        "star_date": "date",
        "new_stars": "bigint",
        "cumulative_stars": "bigint",
        "tool_id": "varchar",
        "origin": "varchar",
    },
    Table.PYPI_DOWNLOADS_MONTHLY: {
        "month": "date",
        "project": "varchar",
        "downloads": "bigint",
        "list_min_downloads": "bigint",
        "below_list": "boolean",
        "window_days": "integer",
        "method": "varchar",
        "snapshot_date": "date",
        "source": "varchar",
    },
    Table.GITHUB_REPO_HISTORY: {
        "day": "date",
        "repo": "varchar",
        "tool_id": "varchar",
        "stars": "bigint",
        "forks": "bigint",
        "open_issues": "bigint",
        "contributors": "bigint",
        "source": "varchar",
    },
    Table.REDDIT_SUBMISSIONS: {"created_at": "timestamp with time zone"},
    Table.REDDIT_COMMENTS: {"created_at": "timestamp with time zone"},
}

RUN_PARAMS = "run_params"


class ModelError(RuntimeError):
    """A model cannot be loaded or run; the message names the model (and the engine's reason)."""


@dataclass(frozen=True)
class Model:
    """One SQL model: its name, its Trino text, and what it reads."""

    name: str
    sql: str
    models: tuple[str, ...]
    tables: tuple[str, ...]

    @property
    def path(self) -> Path:
        return MODELS_DIR / f"{self.name}.sql"


@lru_cache(maxsize=1)
def load_models() -> dict[str, Model]:
    """Every model in :data:`MODELS_DIR`, with its dependencies parsed from the SQL.

    Raises:
        ModelError: a model does not parse as Trino SQL, or references a model that forms a cycle.
    """
    texts = read_layer("models")
    models: dict[str, Model] = {}
    for name, sql in texts.items():
        try:
            tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
        except sqlglot.errors.ParseError as exc:
            raise ModelError(f"model {name} ({MODELS_DIR / name}.sql) is not valid Trino SQL: {exc}") from exc
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        refs = {t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}
        models[name] = Model(
            name=name,
            sql=sql,
            models=tuple(sorted(r for r in refs if r in texts)),
            tables=tuple(sorted(r for r in refs if r not in texts and r != RUN_PARAMS)),
        )
    for name in models:
        upstream(name, models)  # raises on cycles
    return models


def upstream(name: str, models: Mapping[str, Model] | None = None) -> list[str]:
    """``name`` and every model it depends on, dependencies first (a topological order)."""
    models = models if models is not None else load_models()
    order: list[str] = []
    visiting: set[str] = set()

    def visit(n: str) -> None:
        if n in order:
            return
        if n in visiting:
            raise ModelError(f"models form a cycle through {n}")
        visiting.add(n)
        for dep in models[n].models:
            visit(dep)
        visiting.discard(n)
        order.append(n)

    visit(name)
    return order


def _date_literal(value: date) -> str:
    # Only ``date`` objects reach the SQL text (isoformat of a validated date): no data is formatted into SQL.
    if not isinstance(value, date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return f"date '{value.isoformat()}'"


def composed_select(mart: str, start: date, end: date) -> str:
    """One Trino ``select`` computing ``mart`` for ``[start, end]`` with every upstream model inlined as a CTE."""
    models = load_models()
    parts = [f"{RUN_PARAMS} as (select {_date_literal(start)} as start_date, {_date_literal(end)} as end_date)"]
    parts += [f"{name} as (\n{models[name].sql}\n)" for name in upstream(mart, models)]
    return "with " + ",\n".join(parts) + f"\nselect * from {mart}"


def athena_merge(mart: str, start: date, end: date) -> str:
    """The Athena statement that upserts ``mart``'s rows for ``[start, end]`` into its Iceberg table.

    ``merge into`` on the table's key is one Iceberg commit: a rerun of the same days updates the same keys in place
    (never duplicates). Rows of an earlier run whose key no longer appears (a tool removed from the catalog) are left.
    """
    table = MARTS[mart]
    spec = get_spec(table)
    columns = [f.name for f in spec.schema.fields]
    on = " and ".join(f"t.{k} = s.{k}" for k in spec.key)
    sets = ", ".join(f"{c} = s.{c}" for c in columns if c not in spec.key)
    cols = ", ".join(columns)
    vals = ", ".join(f"s.{c}" for c in columns)
    return (
        f"merge into {table} as t\nusing (\n{composed_select(mart, start, end)}\n) as s\non {on}\n"
        f"when matched then update set {sets}\nwhen not matched then insert ({cols}) values ({vals})"
    )


# --------------------------------------------------------------------------------------------------------------------
# Local execution
# --------------------------------------------------------------------------------------------------------------------


def read_filter(
    table: str,
    start: date,
    end: date,
    windows: Mapping[str, tuple[str, tuple[tuple[int, int], ...]]] | None = None,
) -> BooleanExpression:
    """The pyiceberg row filter of what a run over ``[start, end]`` reads of ``table`` (``AlwaysTrue`` if unbounded)."""
    if table == Table.POPULARITY_INDEX:
        # Growth compares with exactly 1, 3 and 12 months earlier: read those months, nothing in between.
        return In("month", sorted({_add_months(m, -k).isoformat() for m in _months(start, end) for k in (1, 3, 12)}))
    windows = READ_WINDOWS if windows is None else windows
    if table not in windows:
        return AlwaysTrue()
    column, ranges = windows[table]
    is_ts = table in SOURCE_CONTRACTS and SOURCE_CONTRACTS[table].get(column, "").startswith("timestamp")
    expr: BooleanExpression = AlwaysFalse()
    for before, after in ranges:
        lo = start + timedelta(days=before)
        hi = end + timedelta(days=after + 1)  # exclusive
        if is_ts:
            lo_v = datetime.combine(lo, datetime.min.time(), tzinfo=UTC).isoformat()
            hi_v = datetime.combine(hi, datetime.min.time(), tzinfo=UTC).isoformat()
        else:
            lo_v, hi_v = lo.isoformat(), hi.isoformat()
        expr = Or(expr, And(GreaterThanOrEqual(column, lo_v), LessThan(column, hi_v)))
    return expr


def _months(start: date, end: date) -> list[date]:
    out, m = [], start.replace(day=1)
    while m <= end:
        out.append(m)
        m = _add_months(m, 1)
    return out


def _add_months(month: date, k: int) -> date:
    index = month.year * 12 + month.month - 1 + k
    return date(index // 12, index % 12 + 1, 1)


@cache
def used_columns(table: str) -> frozenset[str]:
    """Every column name the models mention that could belong to ``table`` (scans read only these)."""
    names: set[str] = set()
    for model in load_models().values():
        if table in model.tables:
            names |= {c.name for c in sqlglot.parse_one(model.sql, read=SOURCE_DIALECT).find_all(exp.Column)}
    return frozenset(names)


class LocalSession:
    """A DuckDB session computing models for the days ``[start, end]`` over the local Iceberg tables.

    Tables are registered on first use from a filtered pyiceberg scan (``snapshot_ids`` pins a table to an old
    snapshot, for "as of" recomputation); models are materialized once as temp tables. :meth:`invalidate` forgets a
    table after it was written (the marts of stage two read the ``tool_daily_metrics`` stage one wrote).
    """

    def __init__(
        self,
        start: date,
        end: date,
        *,
        settings: Settings | None = None,
        snapshot_ids: dict[str, int] | None = None,
        read_windows: Mapping[str, tuple[str, tuple[tuple[int, int], ...]]] | None = None,
    ) -> None:
        if end < start:
            raise ValueError(f"empty day range: start {start} is after end {end}")
        self.start, self.end = start, end
        self.settings = settings or get_settings()
        self.snapshot_ids = snapshot_ids or {}
        self.read_windows = read_windows
        self.con: duckdb.DuckDBPyConnection = duckdb.connect()
        self.con.execute("set threads to 2")
        self.con.execute("set timezone = 'UTC'")
        self.con.execute(
            "create temp table run_params as select ?::date as start_date, ?::date as end_date", [start, end]
        )
        self._tables: set[str] = set()
        self._models: set[str] = set()
        self.rows_read: dict[str, int] = {}
        #: Seconds spent reading tables (scans) and computing models (DuckDB), for the run summary.
        self.seconds: dict[str, float] = {"read": 0.0, "compute": 0.0}

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> LocalSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _register_table(self, name: str) -> None:
        catalog = get_catalog(self.settings)
        try:
            table = catalog.load_table(f"{self.settings.namespace}.{name}")
        except NoSuchTableError:
            if name not in SOURCE_CONTRACTS:
                raise ModelError(f"table {name} does not exist; run tools_catalog (lakehouse init) first") from None
            cols = ", ".join(
                f"cast(null as {typ}) as {quote_ident(col)}" for col, typ in SOURCE_CONTRACTS[name].items()
            )
            self.con.execute(
                f"create or replace temp view {quote_ident(name)} as " + transpile(f"select {cols} limit 0")
            )
            log.warning("Source table %s does not exist yet: read as empty", name)
            self.rows_read[name] = 0
            self._tables.add(name)
            return
        started = time.perf_counter()
        snapshot_id = self.snapshot_ids.get(name)
        columns = tuple(f.name for f in table.schema().fields if f.name in used_columns(name))
        scan = table.scan(
            row_filter=read_filter(name, self.start, self.end, self.read_windows),
            snapshot_id=snapshot_id,
            selected_fields=columns or ("*",),
        )
        data = scan.to_arrow()
        data = self._with_contract_columns(name, data)
        self.con.register(f"__arrow_{name}", data)
        self.con.execute(
            f"create or replace temp view {quote_ident(name)} as select * from {quote_ident('__arrow_' + name)}"
        )
        self.rows_read[name] = data.num_rows
        self._tables.add(name)
        self.seconds["read"] += time.perf_counter() - started

    def _with_contract_columns(self, name: str, data: pa.Table) -> pa.Table:
        """Add contract columns a source table lacks (as nulls) so the models still run; log which ones."""
        contract = SOURCE_CONTRACTS.get(name, {})
        # Only columns some model reads: the scan selects just those, so a contract column no model uses (e.g.
        # github_stars_daily.repo) is absent on purpose, not missing from the table.
        used = used_columns(name)
        missing = [c for c in contract if c not in data.column_names and c in used]
        if not missing:
            return data
        log.warning("Source table %s lacks columns %s; they are read as null", name, ", ".join(missing))
        types = {
            "date": pa.date32(),
            "varchar": pa.string(),
            "boolean": pa.bool_(),
            "bigint": pa.int64(),
            "integer": pa.int32(),
            "double": pa.float64(),
            "timestamp with time zone": pa.timestamp("us", tz="UTC"),
        }
        for c in missing:
            data = data.append_column(c, pa.nulls(data.num_rows, type=types[contract[c]]))
        return data

    def _ensure(self, name: str) -> None:
        models = load_models()
        for model_name in upstream(name, models):
            if model_name in self._models:
                continue
            model = models[model_name]
            for table in model.tables:
                if table not in self._tables:
                    self._register_table(table)
            sql = transpile(model.sql)
            started = time.perf_counter()
            try:
                self.con.execute(f"create or replace temp table {quote_ident(model_name)} as {sql}")
            except Exception as exc:
                raise ModelError(f"model {model_name} failed in DuckDB: {exc}") from exc
            self.seconds["compute"] += time.perf_counter() - started
            log.debug("model %s built in %.3fs", model_name, time.perf_counter() - started)
            self._models.add(model_name)

    def run(self, mart: str) -> pa.Table:
        """Compute model ``mart`` (and whatever it needs) and return its rows as Arrow."""
        self._ensure(mart)
        return self.con.sql(f"select * from {quote_ident(mart)}").to_arrow_table()

    def invalidate(self, names: Iterable[str]) -> None:
        """Forget the given tables and every model built on them, so the next :meth:`run` re-reads them."""
        names = set(names)
        self._tables -= names
        models = load_models()
        for model_name in list(self._models):
            if any(t in names for t in _all_tables(model_name, models)):
                self._models.discard(model_name)


def _all_tables(name: str, models: Mapping[str, Model]) -> set[str]:
    return {t for m in upstream(name, models) for t in models[m].tables}
