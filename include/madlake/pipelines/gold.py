"""Gold metrics: recompute the days a run affects, audit, publish, tag monthly publishes.

Contract (idempotent by day): a run over ``[start, end]`` replaces exactly those days of ``tool_daily_metrics``,
``category_daily_rankings`` and ``tool_breakouts``, and the months those days fall in of ``popularity_index``.
Rerunning the same range yields the same rows (only ``computed_at`` moves); it never appends beside old rows.

Which days: the run day, plus the earlier days whose trailing windows include inputs that changed since the last
gold commit (Reddit mentions processed late), at most :data:`MAX_LATE_DAYS` back. A backfill passes ``start``/``end``
explicitly. Cost is bounded by the range and the window sizes (28/90/365 days), not by the length of history.

Failure semantics: the rows of each stage (1: ``tool_daily_metrics``; 2: rankings, breakouts, index) are audited
before anything of that stage is written; a failed audit raises :class:`~madlake.lakehouse.writes.AuditFailedError`,
publishes nothing of the stage and records the failure in ``audit_results``. A stage written before the failure stays
published (it passed its audit); the Airflow retry recomputes the whole range, which is safe because every write is a
replace of the range (one commit per table; a commit race is retried by reloading and redoing the replace).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import And, GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual

from madlake.config import get_settings
from madlake.lakehouse.catalog import get_catalog
from madlake.lakehouse.tables import ensure_tables, identifier, load_table
from madlake.lakehouse.writes import AuditFailedError, AuditReport, ExpectationResult, conform, replace_partition
from madlake.metrics.runner import MARTS, MONTHLY_READ_WINDOWS, MONTHLY_STAGES, STAGES, LocalSession, athena_merge
from madlake.names import Table
from madlake.orchestration.request import RunRequest
from madlake.quality.log import record_audits
from madlake.sql.engine import AthenaEngine, QueryError
from madlake.tables import get_spec

if TYPE_CHECKING:
    from pyiceberg.table import Table as IcebergTable

    from madlake.lakehouse.writes import CommitContext

log = logging.getLogger(__name__)

#: How far back a daily run follows late-arriving inputs (one 28-day window).
MAX_LATE_DAYS = 27

GOLD_TABLES = (
    Table.TOOL_DAILY_METRICS,
    Table.CATEGORY_DAILY_RANKINGS,
    Table.TOOL_BREAKOUTS,
    Table.POPULARITY_INDEX,
    Table.TOOL_MONTHLY_METRICS,
)

#: Tables keyed by month (the rest by metric_date).
MONTHLY_TABLES = (Table.POPULARITY_INDEX, Table.TOOL_MONTHLY_METRICS)

#: Months before the run's month that a daily run also rebuilds: the monthly PyPI snapshot of month M is published in
#: the first days of M+1, so the daily run of M+1 rebuilds M too.
DAILY_MONTHS_BACK = 1


def monthly_tag(month: date) -> str:
    """The tag marking the monthly publish of ``month``'s gold data, e.g. ``monthly-2026-03``."""
    return f"monthly-{month:%Y-%m}"


def _month_ends(start: date, end: date) -> list[date]:
    """Last days of months within ``[start, end]``."""
    out = []
    d = start
    while d <= end:
        nxt = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
        last = nxt - timedelta(days=1)
        if last <= end:
            out.append(last)
        d = nxt
    return out


def late_start(day: date) -> date | None:
    """The earliest day in ``[day - MAX_LATE_DAYS, day)`` whose inputs changed after the last gold commit, if any.

    Looks at Reddit mentions processed (``processed_at``) after ``tool_daily_metrics``' last commit. Sources
    without a load timestamp are not followed: backfill them with an explicit range.
    """
    catalog = get_catalog()
    try:
        gold = catalog.load_table(identifier(Table.TOOL_DAILY_METRICS))
        mentions = catalog.load_table(identifier(Table.REDDIT_MENTIONS))
    except NoSuchTableError:
        return None
    snap = gold.current_snapshot()
    if snap is None or "processed_at" not in {f.name for f in mentions.schema().fields}:
        return None
    watermark = datetime.fromtimestamp(snap.timestamp_ms / 1000, tz=UTC)
    lo = datetime.combine(day - timedelta(days=MAX_LATE_DAYS), datetime.min.time(), tzinfo=UTC)
    hi = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    rows = mentions.scan(
        row_filter=And(
            And(GreaterThanOrEqual("created_at", lo.isoformat()), LessThan("created_at", hi.isoformat())),
            GreaterThan("processed_at", watermark.isoformat()),
        ),
        selected_fields=("created_at",),
    ).to_arrow()
    if rows.num_rows == 0:
        return None

    earliest: datetime = pc.min(rows.column("created_at")).as_py()
    log.info(
        "%d Reddit mentions before %s were processed after the last gold run; recomputing from %s",
        rows.num_rows,
        day,
        earliest.date(),
    )
    return earliest.astimezone(UTC).date()


def gold_range(
    day: date, start: date | None = None, end: date | None = None, follow_late: bool = True
) -> tuple[date, date]:
    """The days a run recomputes: the explicit ``[start, end]`` (backfills), else ``day`` extended back to late data."""
    if start or end:
        s, e = start or day, end or day
        if e < s:
            raise ValueError(f"gold range is empty: start {s} is after end {e}")
        return s, e
    first = late_start(day) if follow_late else None
    return (min(first, day) if first else day), day


# --------------------------------------------------------------------------------------------------------------------
# Audits
# --------------------------------------------------------------------------------------------------------------------

#: Per gold table: (expectation name, DuckDB SQL over ``staged`` returning the number of violations).
CHECKS: dict[str, list[tuple[str, str]]] = {
    Table.TOOL_DAILY_METRICS: [
        ("downloads_excl_ci <= downloads", "select count(*) from staged where downloads_excl_ci > downloads"),
        ("downloads_7d <= downloads_28d", "select count(*) from staged where downloads_7d > downloads_28d"),
        (
            "counts are non-negative",
            "select count(*) from staged where least(downloads, downloads_28d, mentions, "
            "mentions_28d, new_stars_28d) < 0",
        ),
        ("sentiment_28d in [-1, 1]", "select count(*) from staged where abs(sentiment_28d) > 1.000001"),
        (
            "shares in [0, 1]",
            "select count(*) from staged where positive_share_28d + negative_share_28d > 1.000001 "
            "or least(positive_share_28d, negative_share_28d) < 0",
        ),
    ],
    Table.CATEGORY_DAILY_RANKINGS: [
        ("share in [0, 1]", "select count(*) from staged where share < 0 or share > 1.000001"),
        (
            "ranks are 1..n per category and signal",
            "select count(*) from (select metric_date, category, signal, "
            "count(*) n, max(rank) r, min(rank) m from staged group by metric_date, category, signal) "
            "where r <> n or m <> 1",
        ),
    ],
    Table.TOOL_BREAKOUTS: [
        ("n_signals >= 2", "select count(*) from staged where n_signals < 2"),
    ],
    Table.POPULARITY_INDEX: [
        (
            "score = sum of components",
            "select count(*) from staged where abs(score - (coalesce(downloads_component, 0) + "
            "coalesce(mentions_component, 0) + coalesce(stars_component, 0))) > 1e-4",
        ),
        ("score >= 0", "select count(*) from staged where score < 0"),
        ("coverage in (0, 1]", "select count(*) from staged where not (coverage > 0 and coverage <= 1.000001)"),
        ("1 to 3 signals", "select count(*) from staged where n_signals not between 1 and 3"),
        (
            "leader index is 100",
            "select count(*) from (select month, category, max(downloads_index) d, "
            "max(stars_index) s, max(mentions_index) m from staged group by month, category) "
            "where abs(coalesce(d, 100) - 100) > 1e-6 or abs(coalesce(s, 100) - 100) > 1e-6 "
            "or abs(coalesce(m, 100) - 100) > 1e-6",
        ),
        (
            "downloads_share in [0, 1]",
            "select count(*) from staged where downloads_share < 0 or downloads_share > 1.000001",
        ),
    ],
    Table.TOOL_MONTHLY_METRICS: [
        ("counts are non-negative", "select count(*) from staged where least(downloads, mentions, stars) < 0"),
        (
            "below the list: no downloads",
            "select count(*) from staged where downloads_below_list and downloads is not null",
        ),
        ("sentiment in [-1, 1]", "select count(*) from staged where abs(sentiment) > 1.000001"),
        (
            "a value names its source",
            "select count(*) from staged where (downloads is not null and downloads_source is null) "
            "or (stars is not null and stars_source is null) or (mentions is not null and mentions_source is null)",
        ),
    ],
}


def audit_gold(rows: pa.Table, table: IcebergTable, snapshot_id: int, expected_rows: int | None = None) -> AuditReport:
    """Audit staged gold rows: the key is unique and not null, plus the table's :data:`CHECKS`."""
    name = table.name()[-1]
    spec = get_spec(name)
    key = ", ".join(spec.key)
    con = duckdb.connect()
    try:
        con.register("staged", rows)
        results = []
        dupes = con.execute(f"select count(*) from (select {key} from staged group by all having count(*) > 1)")
        n = dupes.fetchone()[0]  # type: ignore[index]
        results.append(ExpectationResult(f"key ({key}) unique", n == 0, f"{n} duplicated keys"))
        nulls = " or ".join(f"{k} is null" for k in spec.key)
        n = con.execute(f"select count(*) from staged where {nulls}").fetchone()[0]  # type: ignore[index]
        results.append(ExpectationResult(f"key ({key}) not null", n == 0, f"{n} rows"))
        for expectation, sql in CHECKS.get(name, []):
            n = con.execute(sql).fetchone()[0]  # type: ignore[index]
            results.append(ExpectationResult(expectation, n == 0, f"{n} violating rows"))
        if expected_rows is not None:
            results.append(
                ExpectationResult(
                    "one row per tool per month" if name == Table.TOOL_MONTHLY_METRICS else "one row per tool per day",
                    rows.num_rows == expected_rows,
                    f"{rows.num_rows} rows, expected {expected_rows}",
                )
            )
    finally:
        con.close()
    return AuditReport(tuple(results), rows=rows.num_rows)


# --------------------------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------------------------


def _row_filter(table: str, start: date, end: date) -> Any:

    if table in MONTHLY_TABLES:
        first, last = start.replace(day=1), end.replace(day=1)
        return And(GreaterThanOrEqual("month", first.isoformat()), LessThanOrEqual("month", last.isoformat()))
    return And(GreaterThanOrEqual("metric_date", start.isoformat()), LessThanOrEqual("metric_date", end.isoformat()))


def build_gold(
    day: date,
    start: date | None = None,
    end: date | None = None,
    follow_late: bool = True,
    *,
    daily: bool = True,
    monthly: bool = True,
    monthly_start: date | None = None,
    request: RunRequest | None = None,
) -> dict[str, Any]:
    """Recompute the gold tables for the days the run affects and publish them (see the module docstring).

    The daily tables are rebuilt for the days of :func:`gold_range`, month by month; after each month's daily tables,
    the monthly tables (``tool_monthly_metrics``, ``popularity_index`` v2) of that month (the first month also gets
    the earlier months of :func:`gold_months`), then each month end is tagged ``monthly-YYYY-MM``. ``daily=False``
    rebuilds the monthly tables only, for every month of the range in one pass (:func:`build_gold_months`);
    ``monthly=False`` the daily tables only. ``monthly_start`` extends the monthly rebuild back to that month (in the
    first chunk's one pass), e.g. ``build_gold(day, start=..., end=..., monthly_start=date(2018, 2, 1))`` rebuilds the
    last year of daily tables and every month of history, without 8 years of daily chunks. ``request``: the run (its
    DAG and run id tag the commits; ``None``: a standalone run).

    Returns:
        A summary for XCom: the range, the months, rows written per table, and the monthly tags created.
    """
    s, e = gold_range(day, start, end, follow_late)
    first_month, last_month = gold_months(day, start, end, s, e)
    if monthly_start is not None:
        first_month = min(first_month, monthly_start.replace(day=1))
    settings = get_settings()
    ctx = (request or RunRequest.for_cli(day=day, start=start, end=end)).commit("gold")
    written: dict[str, int] = {}
    seconds: dict[str, float] = {}
    tags: list[str] = []

    def add(part: dict[str, int]) -> None:
        for name, n in part.items():
            written[name] = written.get(name, 0) + n

    def build_months(ms: date, me: date) -> None:
        log.info("Gold monthly tables for %s..%s on the %s profile", f"{ms:%Y-%m}", f"{me:%Y-%m}", settings.profile)
        if settings.profile == "aws":
            add(_build_athena(ms, me, MONTHLY_STAGES))
        else:
            add(_build_local(ms, me, ctx, seconds, stages=MONTHLY_STAGES))

    if not daily:
        # One pass over every month (one session, one commit per table): an 8-year rebuild costs one run. Only the
        # last month is tagged (an earlier month's tag would point at a state holding later months).
        build_months(first_month, e)
        tags += tag_monthly_publish(max(s, last_month), e)
    else:
        log.info("Gold daily tables for %s..%s (%d days) on the %s profile", s, e, (e - s).days + 1, settings.profile)
        chunks = month_chunks(s, e)
        for i, (cs, ce) in enumerate(chunks, 1):
            # Month by month, tagging each month end as it is published: a backfill leaves the same tags (each
            # pointing at a state holding nothing after its month) as the daily runs would have. The first chunk
            # also rebuilds the months before it that the run covers (a daily run: last month, whose PyPI snapshot
            # lands early this month).
            add(_build_athena(cs, ce) if settings.profile == "aws" else _build_local(cs, ce, ctx, seconds))
            if monthly:
                build_months(first_month if i == 1 else cs.replace(day=1), ce)
            tags += tag_monthly_publish(cs, ce)
            if len(chunks) > 1:
                log.info("Gold backfill: %d of %d months done (%s..%s)", i, len(chunks), cs, ce)
    summary = {
        "start": s.isoformat(),
        "end": e.isoformat(),
        "months": [f"{first_month:%Y-%m}", f"{last_month:%Y-%m}"] if monthly else [],
        "rows": written,
        "tags": tags,
    }
    return summary | {"seconds": {k: round(v, 3) for k, v in seconds.items()}}


def build_gold_months(
    first_month: date, last_month: date, newest_day: date | None = None, request: RunRequest | None = None
) -> dict[str, Any]:
    """Rebuild only the monthly tables (``tool_monthly_metrics``, ``popularity_index``) for a range of months.

    The entry point for runs driven by monthly sources (``pypi_downloads_monthly``, ``github_repo_history``) and for
    history backfills: ``build_gold_months(date(2018, 2, 1), date(2026, 8, 1))`` rebuilds every month in one pass.
    ``newest_day`` bounds the last month (a month in progress); default: its last day.
    """
    first, last = first_month.replace(day=1), last_month.replace(day=1)
    if last < first:
        raise ValueError(f"gold month range is empty: {first:%Y-%m} is after {last:%Y-%m}")
    end = newest_day or _month_end(last)
    return build_gold(end, start=first, end=end, daily=False, monthly=True, request=request)


def gold_months(
    day: date, start: date | None, end: date | None, s: date | None = None, e: date | None = None
) -> tuple[date, date]:
    """The months a run rebuilds: those of an explicit range, else the run day's month and :data:`DAILY_MONTHS_BACK`
    months before it (a monthly snapshot describing last month lands early this month)."""
    if s is None or e is None:
        s, e = gold_range(day, start, end, follow_late=False)
    last = e.replace(day=1)
    first = s.replace(day=1)
    if not (start or end):
        first = min(first, _add_months(last, -DAILY_MONTHS_BACK))
    return first, last


def _add_months(month: date, k: int) -> date:
    index = month.year * 12 + month.month - 1 + k
    return date(index // 12, index % 12 + 1, 1)


def _month_end(month: date) -> date:
    return _add_months(month.replace(day=1), 1) - timedelta(days=1)


def month_chunks(start: date, end: date) -> list[tuple[date, date]]:
    """``[start, end]`` split at month ends: ``[(start, first month end), ..., (last month start, end)]``."""
    chunks = []
    s = start
    while s <= end:
        month_end = (s.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        e = min(month_end, end)
        chunks.append((s, e))
        s = e + timedelta(days=1)
    return chunks


def _build_local(
    start: date,
    end: date,
    ctx: CommitContext,
    seconds: dict[str, float] | None = None,
    stages: tuple[tuple[str, ...], ...] | None = None,
) -> dict[str, int]:
    """Compute, audit and publish stage by stage; a stage is published only if all of its tables passed their audit.

    The audit runs on the exact rows about to be written (conformed to the table schema), before any commit, so a
    failed audit publishes nothing of its stage. Each table is then replaced for the range in one commit, and the
    audit outcomes of the run go to ``audit_results`` in one append. (Fewer commits than a branch per table: commit
    cost grows with table metadata, and the daily run must not get slower as history accumulates.)
    """
    windows = MONTHLY_READ_WINDOWS if stages == MONTHLY_STAGES else None
    stages = stages or STAGES
    ensure_tables(GOLD_TABLES)
    key = f"{start}_{end}"
    timing = {"read": 0.0, "compute": 0.0, "audit": 0.0, "write": 0.0}
    outcomes: list[tuple[str, int, AuditReport, bool]] = []
    written: dict[str, int] = {}
    try:
        with LocalSession(start, end, read_windows=windows) as session:
            for stage in stages:
                staged: list[tuple[str, IcebergTable, pa.Table]] = []
                for mart in stage:
                    name, table, rows, expected = _mart_rows(session, mart, start, end)
                    snap = table.current_snapshot()
                    audit_started = time.perf_counter()
                    report = audit_gold(rows, table, snap.snapshot_id if snap else 0, expected)
                    timing["audit"] += time.perf_counter() - audit_started
                    outcomes.append((name, snap.snapshot_id if snap else 0, report, False))
                    staged.append((name, table, rows))
                failed = [(n, r) for n, _, r, _ in outcomes if not r.success]
                if failed:
                    name, report = failed[0]
                    raise AuditFailedError(f"madlake.{name}", "(not written)", report)
                write_started = time.perf_counter()
                for name, table, rows in staged:
                    row_filter = _row_filter(name, start, end)
                    if rows.num_rows == 0 and table.scan(row_filter=row_filter, limit=1).to_arrow().num_rows == 0:
                        log.info("%s: nothing for %s..%s before or after; no commit", name, start, end)
                        written[name] = 0
                        continue
                    result = replace_partition(table, rows, row_filter, ctx)
                    written[name] = rows.num_rows
                    i = next(i for i, o in enumerate(outcomes) if o[0] == name)
                    outcomes[i] = (name, result.snapshot_id or 0, outcomes[i][2], True)
                    log.info("%s: %d rows for %s..%s published", name, rows.num_rows, start, end)
                timing["write"] += time.perf_counter() - write_started
                log.info("Rows read by the models so far: %s", session.rows_read)
                # The next stage reads what this one wrote.
                session.invalidate([MARTS[m] for m in stage])
            timing["read"], timing["compute"] = session.seconds["read"], session.seconds["compute"]
    finally:
        log_started = time.perf_counter()
        _record_audits(ctx, key, outcomes)
        timing["audit_log"] = time.perf_counter() - log_started
        if seconds is not None:
            for k, v in timing.items():
                seconds[k] = seconds.get(k, 0.0) + v
    return written


def _mart_rows(
    session: LocalSession, mart: str, start: date, end: date
) -> tuple[str, IcebergTable, pa.Table, int | None]:
    """Compute one mart's rows in the table's schema (``computed_at`` = now) and the row count it must have."""
    name = MARTS[mart]
    table = load_table(name)
    rows = session.run(mart)
    now = pa.array([datetime.now(UTC)] * rows.num_rows, type=pa.timestamp("us", tz="UTC"))
    rows = conform(table, rows.set_column(rows.column_names.index("computed_at"), "computed_at", now))
    expected = None
    if name in (Table.TOOL_DAILY_METRICS, Table.TOOL_MONTHLY_METRICS):
        tools = session.con.execute("select count(distinct tool_id) from stg_catalog__tools").fetchone()
        assert tools is not None  # an aggregate without GROUP BY always returns one row
        if name == Table.TOOL_DAILY_METRICS:
            expected = int(tools[0]) * ((end - start).days + 1)
        else:
            expected = int(tools[0]) * len(month_chunks(start.replace(day=1), end))
    return name, table, rows, expected


def _record_audits(ctx: CommitContext, partition_key: str, outcomes: list[tuple[str, int, AuditReport, bool]]) -> None:
    """Append the run's audit outcomes to ``audit_results`` in one commit (and log failures)."""
    if not outcomes:
        return
    for name, _snapshot_id, report, _published in outcomes:
        for r in report.results:
            if not r.success:
                log.error("audit %s %s: %s FAILED (%s)", name, partition_key, r.expectation, r.observed)
    recorded = record_audits(
        ctx,
        [
            (f"madlake.{name}", partition_key, "main", snapshot_id, report, published)
            for name, snapshot_id, report, published in outcomes
        ],
    )
    log.info("audit_results: %d expectations recorded for %d gold tables", recorded, len(outcomes))


def _build_athena(start: date, end: date, stages: tuple[tuple[str, ...], ...] | None = None) -> dict[str, int]:
    """Run each mart inside Athena as one ``merge into`` (stage by stage), then audit the merged range there.

    Athena commits the merge before the checks run, so on this profile the audit detects and fails the task (and
    the dashboard publish downstream does not run) rather than preventing the write.
    """
    engine = AthenaEngine()
    written: dict[str, int] = {}
    for stage in stages or STAGES:
        for mart in stage:
            name = MARTS[mart]
            engine.execute(athena_merge(mart, start, end))
            column = "month" if name in MONTHLY_TABLES else "metric_date"
            lo = start.replace(day=1) if name in MONTHLY_TABLES else start
            count = engine.query(
                f"select count(*) from {name} where {column} between cast(? as date) and cast(? as date)", [lo, end]
            )
            written[name] = int(count.column(0)[0].as_py() or 0) if count.num_rows else 0
            scoped = f"(select * from {name} where {column} between cast(? as date) and cast(? as date)) as staged"
            for expectation, sql in CHECKS.get(name, []):
                res = engine.query(sql.replace("from staged", f"from {scoped}"), [lo, end] * sql.count("from staged"))
                bad = int(res.column(0)[0].as_py() or 0) if res.num_rows else 0
                if bad:
                    raise QueryError(f"{name} {start}..{end}: audit {expectation!r} failed ({bad} rows)")
    return written


def tag_monthly_publish(start: date, end: date) -> list[str]:
    """Tag each gold table's current snapshot ``monthly-YYYY-MM`` for every month ending in ``[start, end]``.

    A tag is created once and never moved: it reproduces the answer as first published. A later recomputation of
    that month (a backfill) is visible on main, and the old answer stays readable through the tag.
    """
    created: list[str] = []
    for month_end in _month_ends(start, end):
        tag = monthly_tag(month_end)
        for name in GOLD_TABLES:
            table = load_table(name)
            if tag in table.metadata.refs:
                continue
            if table.current_snapshot() is None:
                # Never written (e.g. no breakout yet): tag an empty snapshot, so "as of" reads see the empty table
                # rather than whatever is written later.
                table.append(
                    table.schema().as_arrow().empty_table(), snapshot_properties={"madlake.operation": "genesis"}
                )
            snap = table.current_snapshot()
            if snap is None:
                continue
            with table.manage_snapshots() as ms:
                ms.create_tag(snapshot_id=snap.snapshot_id, tag_name=tag)
            created.append(f"{name}@{tag}")
    if created:
        log.info("Tagged the monthly publish: %s", ", ".join(created))
    return created


def snapshot_ids_at(tag: str) -> dict[str, int]:
    """The gold tables' snapshot ids under ``tag`` (for ``LocalEngine(snapshot_ids=...)`` "as of" reads).

    Raises:
        KeyError: no gold table has the tag (naming it and the tags that exist).
    """
    ids: dict[str, int] = {}
    known: set[str] = set()
    for name in GOLD_TABLES:
        refs = load_table(name).metadata.refs
        known |= {r for r in refs if r.startswith("monthly-")}
        if tag in refs:
            ids[name] = refs[tag].snapshot_id
    if not ids:
        raise KeyError(f"no gold table has tag {tag!r}; known: {', '.join(sorted(known)) or 'none'}")
    return ids
