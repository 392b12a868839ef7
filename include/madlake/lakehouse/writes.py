"""The three write modes every pipeline uses. Each is idempotent by construction and tags its commits.

Failure semantics, shared by all three:

* Every commit carries ``madlake.dag-id``, ``madlake.run-id`` and ``madlake.source`` snapshot properties.
* Data files are written before the metadata commit. A process killed in between leaves unreferenced files and no
  visible change; ``lakehouse_maintenance`` removes such orphans.
* A commit that loses a race (another writer committed first) raises one of the errors :func:`is_commit_conflict`
  recognises (``CommitFailedException``, ``ValidationException``, a stale-sequence-number ``ValueError``); the
  helpers reload
  the table and redo the *whole* operation (re-reading what a merge depends on), up to ``attempts`` times. Redoing is
  safe because each operation is a pure function of its input and the table state it read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.exceptions import CommitFailedException, ValidationException
from pyiceberg.expressions import (
    AlwaysFalse,
    AlwaysTrue,
    And,
    BooleanExpression,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    Or,
)
from pyiceberg.expressions.visitors import bind
from pyiceberg.io.pyarrow import expression_to_pyarrow
from pyiceberg.table import Table as IcebergTable
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random_exponential,
)

from madlake.names import PROP_DAG_ID, PROP_RUN_ID, PROP_SOURCE
from madlake.sql.files import quote_ident

log = logging.getLogger(__name__)

T = TypeVar("T")


# --------------------------------------------------------------------------------------------------------------------
# Commit context
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitContext:
    """Who is writing: recorded on every snapshot so any table version can be traced to a DAG run."""

    dag_id: str
    run_id: str
    source: str

    def properties(self) -> dict[str, str]:
        return {PROP_DAG_ID: self.dag_id, PROP_RUN_ID: self.run_id, PROP_SOURCE: self.source}

    @classmethod
    def current(cls, source: str, *, default_dag_id: str = "cli") -> CommitContext:
        """The context of the running Airflow task, or a ``cli`` context (with a unique run id) outside Airflow."""
        try:
            from airflow.sdk import get_current_context  # noqa: PLC0415 - optional: outside a task a cli context

            ctx = get_current_context()
            return cls(dag_id=ctx["dag"].dag_id, run_id=str(ctx["run_id"]), source=source)
        except Exception:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
            return cls(dag_id=default_dag_id, run_id=f"{default_dag_id}__{stamp}__{os.getpid()}", source=source)


# --------------------------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------------------------


class RowsOutsideFilterError(ValueError):
    """Rows handed to a partition replace fall outside the partition being replaced (they would duplicate on rerun)."""


class AuditFailedError(RuntimeError):
    """The audit on the branch failed: main is untouched and the branch is kept for inspection."""

    def __init__(self, table: str, branch: str, report: AuditReport) -> None:
        failed = [r for r in report.results if not r.success]
        detail = "; ".join(f"{r.expectation}: {r.observed}" for r in failed[:10])
        super().__init__(
            f"audit of {table} failed on branch {branch!r} ({len(failed)} of {len(report.results)} expectations): "
            f"{detail}. Main was not changed."
        )
        self.table = table
        self.branch = branch
        self.report = report


class PublishRefusedError(RuntimeError):
    """Main moved after the audit branch was cut; publishing would silently drop the other writer's commit."""


# --------------------------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------------------------


def conform(table: IcebergTable, df: pa.Table) -> pa.Table:
    """Return ``df`` with exactly the table's columns, order, types and nullability (pyiceberg 0.12 needs this).

    Raises:
        ValueError: naming the table and the missing column, or a null in a required column.
    """
    target = table.schema().as_arrow()
    columns = []
    for f in target:
        if f.name not in df.column_names:
            if not f.nullable:
                raise ValueError(f"{table.name()}: required column {f.name!r} is missing from the rows to write")
            columns.append(pa.nulls(df.num_rows, type=f.type))
            continue
        col = df.column(f.name)
        if not f.nullable and col.null_count:
            raise ValueError(f"{table.name()}: required column {f.name!r} has {col.null_count} null value(s)")
        columns.append(col.cast(f.type) if col.type != f.type else col)
    return pa.Table.from_arrays(columns, schema=target)


def rows_to_arrow(table: IcebergTable, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Build an Arrow table in ``table``'s exact schema from plain dicts (unknown keys are ignored)."""
    target = table.schema().as_arrow()
    return pa.Table.from_pylist([{f.name: r.get(f.name) for f in target} for r in rows], schema=target)


def _name(table: IcebergTable) -> str:
    return ".".join(table.name())


def is_commit_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` means "another writer committed first", so reloading the table and redoing is safe.

    pyiceberg 0.12 signals this three ways: ``CommitFailedException`` (a requirement failed), ``ValidationException``
    (its own rebase found the other commit touched the same rows), and a plain ``ValueError`` when the catalog
    re-applies a snapshot whose sequence number a concurrent commit (e.g. to another branch) has already used.
    """
    if isinstance(exc, CommitFailedException | ValidationException):
        return True
    return isinstance(exc, ValueError) and "older than last sequence number" in str(exc)


def commit_retrying(
    what: str,
    table: IcebergTable,
    attempts: int,
    *,
    retry_on: Callable[[BaseException], bool] = is_commit_conflict,
    reload: bool = True,
) -> Retrying:
    """The retry policy of every commit: redo on a lost commit race only, up to ``attempts`` attempts in all.

    Waits grow exponentially with jitter (50-150 % of ``min(2 s, 0.1 s * 2**(n-1))`` before retry ``n``); each retry
    logs one warning with its count and, with ``reload``, reloads ``table`` after the wait, right before the redo.
    Any other error, and the last conflict, is raised as is (``reraise``).
    """

    def before(state: RetryCallState) -> None:
        if reload and state.attempt_number > 1:
            table.refresh()

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "%s on %s lost a commit race (%s); retry %d of %d in %.2fs",
            what,
            _name(table),
            exc,
            state.attempt_number,
            attempts - 1,
            delay,
        )

    return Retrying(
        stop=stop_after_attempt(attempts),
        retry=retry_if_exception(retry_on),
        # 0.5 x + uniform(0, x) with x = min(2, 0.1 * 2**(n-1)): the same jitter band as 50-150 % of x.
        wait=wait_exponential(multiplier=0.05, max=1.0) + wait_random_exponential(multiplier=0.1, max=2.0),
        before=before,
        before_sleep=before_sleep,
        reraise=True,
    )


def retry_commits(operation: Callable[[], T], table: IcebergTable, what: str, attempts: int = 8) -> T:
    """Run ``operation`` under :func:`commit_retrying`: redone (after a table reload) when it loses a commit race."""
    return commit_retrying(what, table, attempts)(operation)


def check_rows_in_filter(table: IcebergTable, df: pa.Table, row_filter: BooleanExpression) -> None:
    """Raise :class:`RowsOutsideFilterError` if any row of ``df`` does not satisfy ``row_filter``."""
    bound = bind(table.schema(), row_filter, case_sensitive=True)
    inside = df.filter(expression_to_pyarrow(bound, table.schema())).num_rows
    if inside != df.num_rows:
        raise RowsOutsideFilterError(
            f"{table.name()}: {df.num_rows - inside} of {df.num_rows} rows fall outside the partition being replaced "
            f"({row_filter}); they would survive a rerun and duplicate"
        )


def _partition_ranges(transform: str, values: Sequence[Any]) -> list[tuple[Any, Any]]:
    """Half-open ``[start, end)`` ranges (as ISO strings) covering the transform buckets of ``values``."""
    buckets: set[date] = set()
    for v in values:
        d = v.date() if isinstance(v, datetime) else v
        if transform == "day":
            buckets.add(d)
        elif transform == "month":
            buckets.add(d.replace(day=1))
        elif transform == "year":
            buckets.add(d.replace(month=1, day=1))
    ranges = []
    for start in sorted(buckets):
        if transform == "day":
            end = start + timedelta(days=1)
        elif transform == "month":
            end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            end = start.replace(year=start.year + 1)
        ranges.append((start, end))
    return ranges


def touched_partitions_filter(table: IcebergTable, df: pa.Table) -> BooleanExpression:
    """A filter selecting exactly the partitions that ``df``'s rows fall into (all rows for unpartitioned tables).

    Supports identity, day, month and year transforms on date and timestamp(tz) columns. With several partition
    fields the result is the AND of each field's selection: a superset of the touched partitions, which is still
    correct for a merge (every row read is rewritten).
    """
    spec = table.spec()
    schema = table.schema()
    if not spec.fields:
        return AlwaysTrue()
    result: BooleanExpression = AlwaysTrue()
    for pf in spec.fields:
        column = schema.find_column_name(pf.source_id)
        assert column is not None
        values = pc.unique(df.column(column)).to_pylist()
        has_null = any(v is None for v in values)
        values = [v for v in values if v is not None]
        transform = str(pf.transform)
        field_filter: BooleanExpression = AlwaysFalse()
        if transform == "identity":
            if values:
                field_filter = In(column, values)
        elif transform in ("day", "month", "year"):
            is_ts = pa.types.is_timestamp(df.schema.field(column).type)
            for start, end in _partition_ranges(transform, values):
                lo: Any = start
                hi: Any = end
                if is_ts:
                    lo = datetime.combine(start, datetime.min.time(), tzinfo=UTC).isoformat()
                    hi = datetime.combine(end, datetime.min.time(), tzinfo=UTC).isoformat()
                else:
                    lo, hi = start.isoformat(), end.isoformat()
                field_filter = Or(field_filter, And(GreaterThanOrEqual(column, lo), LessThan(column, hi)))
        else:
            raise NotImplementedError(f"{table.name()}: partition transform {transform} is not supported by merges")
        if has_null:
            field_filter = Or(field_filter, IsNull(column))
        result = And(result, field_filter)
    return result


# --------------------------------------------------------------------------------------------------------------------
# Mode 1: replace a partition
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteResult:
    table: str
    rows_written: int
    snapshot_id: int | None
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: bool = False


def replace_partition(
    table: IcebergTable,
    df: pa.Table,
    row_filter: BooleanExpression,
    ctx: CommitContext,
    *,
    attempts: int = 8,
) -> WriteResult:
    """Atomically replace every row matching ``row_filter`` with ``df`` (one delete+append commit).

    The contract: the same input replaces, a new one replaces; it never appends beside old rows. Rows of ``df``
    outside ``row_filter`` are refused (they would be left behind by the next replace and duplicate).
    """
    df = conform(table, df)
    check_rows_in_filter(table, df, row_filter)

    def op() -> WriteResult:
        table.overwrite(df, overwrite_filter=row_filter, snapshot_properties=ctx.properties())
        snap = table.current_snapshot()
        return WriteResult(_name(table), df.num_rows, snap.snapshot_id if snap else None, inserted=df.num_rows)

    result = retry_commits(op, table, "replace_partition", attempts)
    log.info("Replaced %s where %s with %d rows", table.name(), row_filter, df.num_rows)
    return result


# --------------------------------------------------------------------------------------------------------------------
# Mode 2: merge on a key, limited to touched partitions
# --------------------------------------------------------------------------------------------------------------------


def merge(
    table: IcebergTable,
    df: pa.Table,
    key: Sequence[str],
    ctx: CommitContext,
    *,
    preserve: Sequence[str] = (),
    row_filter: BooleanExpression | None = None,
    attempts: int = 8,
) -> WriteResult:
    """Upsert ``df`` into ``table`` on ``key``, reading and rewriting only the partitions ``df`` touches.

    * A key already present is replaced by the incoming row, except the ``preserve`` columns, which keep their
      existing value (e.g. ``first_seen_at``).
    * Within ``df`` the last row of a key wins.
    * If the merged partitions come out identical to what is stored, nothing is committed (re-loading the same
      input changes nothing, not even the snapshot list).
    * The partition source columns of a key must never change (a row is looked up only in the partitions its new
      version falls into).

    This replaces pyiceberg's ``upsert`` (correct but ~100 s per 1,000 rows here): read the partitions, anti-join and
    union in DuckDB, ``overwrite`` with the partitions' filter.
    """
    if df.num_rows == 0:
        return WriteResult(_name(table), 0, None, skipped=True)
    df = conform(table, df)
    columns = [f.name for f in table.schema().fields]
    missing = [k for k in key if k not in columns]
    if missing:
        raise ValueError(f"{table.name()}: merge key columns {missing} are not in the table")
    scope = row_filter if row_filter is not None else touched_partitions_filter(table, df)

    q = quote_ident

    key_sql = ", ".join(q(k) for k in key)
    join_on = " and ".join(f"n.{q(k)} is not distinct from e.{q(k)}" for k in key)
    select_new = ", ".join(f"coalesce(e.{q(c)}, n.{q(c)}) as {q(c)}" if c in preserve else f"n.{q(c)}" for c in columns)
    col_list = ", ".join(q(c) for c in columns)

    def op() -> WriteResult:
        existing = table.scan(row_filter=scope).to_arrow()
        con = duckdb.connect()
        try:
            con.register("incoming_raw", df)
            con.register("existing", existing)
            con.execute(
                f"create temp table incoming as select {col_list} from "
                f"(select *, row_number() over (partition by {key_sql} order by __ord desc) as __rn "
                f" from (select *, row_number() over () as __ord from incoming_raw)) where __rn = 1"
            )
            # The incoming keys' new versions (preserved columns taken from the stored row).
            con.execute(
                f"create temp table upserts as select {select_new} from incoming n left join existing e on {join_on}"
            )
            # Nothing changes when every new version already exists verbatim (a hash set difference, no sorting).
            changed = con.sql(
                f"select count(*) from (select {col_list} from upserts except all select {col_list} from existing)"
            ).fetchall()[0][0]
            matched = con.sql(f"select count(*) from incoming n join existing e on {join_on}").fetchall()[0][0]
            merged = None
            if changed:
                merged = con.sql(
                    f"select {col_list} from upserts union all select {col_list} from existing e "
                    f"where not exists (select 1 from incoming n where {join_on}) order by {key_sql}"
                ).to_arrow_table()
        finally:
            con.close()
        n_matched = int(matched)
        if merged is None:
            log.info("Merge into %s: %d incoming rows change nothing; no commit", table.name(), df.num_rows)
            snap = table.current_snapshot()
            return WriteResult(_name(table), 0, snap.snapshot_id if snap else None, updated=0, inserted=0, skipped=True)
        out = conform(table, merged)
        table.overwrite(out, overwrite_filter=scope, snapshot_properties=ctx.properties())
        snap = table.current_snapshot()
        return WriteResult(
            _name(table),
            out.num_rows,
            snap.snapshot_id if snap else None,
            inserted=out.num_rows - existing.num_rows,
            updated=n_matched,
        )

    result = retry_commits(op, table, "merge", attempts)
    log.info(
        "Merged %d rows into %s: %d inserted, %d updated (partitions: %s)",
        df.num_rows,
        table.name(),
        result.inserted,
        result.updated,
        scope,
    )
    return result


# --------------------------------------------------------------------------------------------------------------------
# Mode 3: write-audit-publish
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectationResult:
    expectation: str
    success: bool
    observed: str = ""


@dataclass(frozen=True)
class AuditReport:
    results: tuple[ExpectationResult, ...]
    rows: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)


#: ``audit(staged_rows, table, branch_snapshot_id) -> AuditReport``
Audit = Callable[["pa.Table", "IcebergTable", int], AuditReport]
#: ``record(table, partition_key, branch, snapshot_id, report, published)``: keeps the audit log.
AuditRecorder = Callable[[str, str, str, int, AuditReport, bool], None]


@dataclass(frozen=True)
class PublishResult:
    table: str
    branch: str
    snapshot_id: int
    rows: int
    report: AuditReport
    attempts: int = 1
    timings: dict[str, float] = field(default_factory=dict)


def branch_name(table_name: str, partition_key: str) -> str:
    """The audit branch of one partition: deterministic, so a rerun replaces the branch a failed run kept."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in partition_key)
    return f"audit_{table_name}_{safe}"


@contextlib.contextmanager
def _timed(timings: dict[str, float], phase: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - start


def write_audit_publish_once(
    table: IcebergTable,
    df: pa.Table,
    row_filter: BooleanExpression,
    partition_key: str,
    audit: Audit,
    ctx: CommitContext,
    *,
    recorder: AuditRecorder | None = None,
    timings: dict[str, float] | None = None,
) -> PublishResult:
    """Stage ``df`` as the new content of ``row_filter`` on a branch, audit it there, and publish it to main.

    Steps: cut branch ``audit_<table>_<partition>`` from main's current snapshot (replacing a branch an earlier
    failed run kept); overwrite the partition on the branch; run ``audit`` on the branch's rows of that partition;
    record the outcome; if it passed and main still points at the snapshot the branch was cut from, move main to the
    branch's snapshot in one commit that asserts main's snapshot id (so a writer sneaking in between is caught by the
    catalog, not by luck), then drop the branch.

    Raises:
        AuditFailedError: the audit failed; main is untouched and the branch is kept for inspection.
        PublishRefusedError: main moved since the branch was cut (another run published); redo from the start,
            which :func:`write_audit_publish` does.
    """

    timings = timings if timings is not None else {}
    df = conform(table, df)
    check_rows_in_filter(table, df, row_filter)
    branch = branch_name(table.name()[-1], partition_key)
    props = ctx.properties()

    with _timed(timings, "write"):
        table.refresh()
        main_ref = table.metadata.refs.get("main")
        base = main_ref.snapshot_id if main_ref else None
        if branch in table.metadata.refs:
            with table.manage_snapshots() as ms:
                ms.remove_branch(branch)
        if base is None:
            # Iceberg cannot branch from nothing: give a brand-new table an empty first snapshot on main. A racing
            # writer doing the same makes one of us retry (the commit asserts main does not exist yet).
            empty = table.schema().as_arrow().empty_table()
            table.append(empty, snapshot_properties={**props, "madlake.operation": "genesis"})
            base = table.metadata.refs["main"].snapshot_id
        with table.manage_snapshots() as ms:
            ms.create_branch(snapshot_id=base, branch_name=branch)
        table.overwrite(df, overwrite_filter=row_filter, snapshot_properties=props, branch=branch)
        staged = table.metadata.refs[branch].snapshot_id

    with _timed(timings, "audit"):
        rows = table.scan(row_filter=row_filter, snapshot_id=staged).to_arrow()
        report = audit(rows, table, staged)

    table_name = _name(table)
    if not report.success:
        if recorder:
            recorder(table_name, partition_key, branch, staged, report, False)
        raise AuditFailedError(table_name, branch, report)

    with _timed(timings, "publish"):
        table.refresh()
        main_ref = table.metadata.refs.get("main")
        now = main_ref.snapshot_id if main_ref else None
        if now != base:
            raise PublishRefusedError(
                f"{table_name}: main moved from {base} to {now} while {partition_key} was being audited; not publishing"
            )
        try:
            # set_current_snapshot asserts main == the snapshot we just read; the catalog enforces it atomically.
            with table.manage_snapshots() as ms:
                ms.set_current_snapshot(snapshot_id=staged)
        except Exception as exc:
            if not is_commit_conflict(exc):
                raise
            raise PublishRefusedError(f"{table_name}: main moved during publish of {partition_key}: {exc}") from exc
        with table.manage_snapshots() as ms:
            ms.remove_branch(branch)
    if recorder:
        recorder(table_name, partition_key, branch, staged, report, True)
    log.info(
        "Published %s %s: %d rows audited and published (snapshot %s)", table_name, partition_key, rows.num_rows, staged
    )
    return PublishResult(table_name, branch, staged, rows.num_rows, report, timings=timings)


def write_audit_publish(
    table: IcebergTable,
    df: pa.Table,
    row_filter: BooleanExpression,
    partition_key: str,
    audit: Audit,
    ctx: CommitContext,
    *,
    recorder: AuditRecorder | None = None,
    attempts: int = 8,
    on_published: Callable[[PublishResult], Any] | None = None,
) -> PublishResult:
    """:func:`write_audit_publish_once`, redone from a fresh branch when another run published first.

    Concurrent runs for different partitions therefore both land: the loser of the publish race rebases (re-stages
    and re-audits against the new main) instead of overwriting the winner's publish.

    ``on_published`` runs once, right after main moved to the audited snapshot, and only then: this is where a
    pipeline writes the run's dead letters (:func:`madlake.lakehouse.deadletter.write_dead_letters`), so a failed
    audit leaves both the published rows and the rejections of the publish they belong to. Iceberg has no
    multi-table commit: if the process dies between the publish and ``on_published``, the retry publishes the same
    rows again and then writes the dead letters.
    """
    timings: dict[str, float] = {}

    def rebase_on(exc: BaseException) -> bool:
        return isinstance(exc, PublishRefusedError) or is_commit_conflict(exc)

    # Each attempt re-reads main itself (it cuts a fresh branch), so no reload between attempts.
    retrying = commit_retrying(f"WAP of {partition_key}", table, attempts, retry_on=rebase_on, reload=False)

    def once() -> PublishResult:
        result = write_audit_publish_once(
            table, df, row_filter, partition_key, audit, ctx, recorder=recorder, timings=timings
        )
        result = PublishResult(**{**result.__dict__, "attempts": retrying.statistics["attempt_number"]})
        if on_published is not None:
            on_published(result)
        return result

    return retrying(once)
