"""Task bodies that add madlake's run policy around a pipeline call: which day(s), may it run, what it announces.

Each function is one DAG task's body (called from ``dags/``); the pipelines in ``madlake.pipelines`` stay free of
Airflow. Every function reads the day(s) with :mod:`madlake.orchestration.runtime` (the logical-date rule), logs the
day it loaded first, and attaches what it changed to its outlet asset event (:func:`events.announce`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from madlake.names import Dag, Table

log = logging.getLogger(__name__)


def _ctx() -> dict[str, Any]:
    from airflow.sdk import get_current_context

    return dict(get_current_context())


@contextlib.contextmanager
def _catchup_byte_cap(context: dict[str, Any], days: Sequence[date]) -> Iterator[None]:
    """Live BigQuery catch-up/backfill days run under ``MADLAKE_PYPI_CATCHUP_MAX_BYTES`` (the lower of the two caps)."""
    from madlake.orchestration.runtime import run_type
    from madlake.orchestration.schedule import catchup_byte_cap, source_mode

    old_day = min(days) < datetime.now(UTC).date() - timedelta(days=2)
    catching_up = run_type(context) == "backfill" or (run_type(context) == "scheduled" and old_day)
    key = "MADLAKE_PYPI_MAX_BYTES_BILLED"
    previous = os.environ.get(key)
    if source_mode() != "live" or not catching_up:
        yield
        return
    cap = catchup_byte_cap()
    if previous:
        cap = min(cap, int(previous))
    os.environ[key] = str(cap)
    log.info("Catch-up run: BigQuery byte cap %d bytes per day (MADLAKE_PYPI_CATCHUP_MAX_BYTES)", cap)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = previous


def pypi_downloads() -> dict[str, Any]:
    """``pypi_downloads.load_pypi_day``: the run's day (or ``start``..``end``), write-audit-publish per day.

    Replay mode: days without a replay file are skipped with a message (a run with none left is *skipped*).
    A day that has not ended is refused (no retries). Announces ``{table, days, rows}``.
    """
    from madlake.orchestration.events import announce
    from madlake.orchestration.runtime import refuse_future, require_replay_day, run_days
    from madlake.orchestration.schedule import replay_days, source_mode
    from madlake.pipelines.pypi import load_day

    context = _ctx()
    days = run_days(context)
    for day in days:
        refuse_future(day, what=Dag.PYPI_DOWNLOADS)
    if len(days) == 1:
        require_replay_day("pypi", days[0])
    elif source_mode() == "replay":
        covered = set(replay_days("pypi"))
        missing = [d for d in days if d not in covered]
        if missing:
            log.warning("No replay data for %d of %d days (skipped): %s", len(missing), len(days), missing[:10])
        days = [d for d in days if d in covered]
        if not days:
            require_replay_day("pypi", missing[0])  # raises the skip with the coverage message
    summaries = []
    with _catchup_byte_cap(context, days):
        for day in days:
            summaries.append(load_day(day))
    rows = sum(int(s.get("rows") or 0) for s in summaries)
    announce(Table.PYPI_DOWNLOADS, days=days, rows=rows, context=context)
    result: dict[str, Any] = summaries[0] if len(summaries) == 1 else {"days": len(days), "rows": rows}
    result = {**result, "loaded_days": [d.isoformat() for d in days]}
    span = days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)} days)"
    log.info("pypi_downloads loaded %s: %d rows", span, rows)
    return result


def github_snapshot() -> dict[str, Any]:
    """``github_metrics.snapshot_repositories``: refuse backfills/past days, snapshot, announce ``{table, days}``."""
    from madlake.orchestration.events import announce
    from madlake.orchestration.snapshots import refuse_past_snapshot
    from madlake.pipelines.github import snapshot_repos

    context = _ctx()
    day = refuse_past_snapshot(Dag.GITHUB_METRICS, history="github_history and github_star_history", context=context)
    summary = snapshot_repos(day)
    announce(Table.GITHUB_REPO_SNAPSHOTS, days=[day], rows=summary.get("rows"), context=context)
    log.info("github_metrics snapshot filed under %s: %s rows", day, summary.get("rows"))
    return summary


def github_star_history(params: dict[str, Any]) -> dict[str, Any]:
    """``github_star_history.backfill_stars``: ``since``..``date`` for ``repos``; announces the days of the window."""
    from madlake.orchestration.events import announce
    from madlake.orchestration.failures import RefusedDateError
    from madlake.orchestration.runtime import run_day
    from madlake.pipelines.github import DEFAULT_HISTORY_DAYS, backfill_star_history

    context = _ctx()
    until = run_day(context)
    try:
        since = (
            date.fromisoformat(str(params["since"])[:10])
            if params.get("since")
            else until - timedelta(days=DEFAULT_HISTORY_DAYS - 1)
        )
    except ValueError:
        raise RefusedDateError(f"param since={params.get('since')!r} is not a date (YYYY-MM-DD)") from None
    if since > until:
        raise RefusedDateError(f"since {since} is after the last day {until}")
    log.info("github_star_history: stars from %s to %s", since, until)
    summary = backfill_star_history(params.get("repos") or None, since, until, restart=bool(params.get("restart")))
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    announce(Table.GITHUB_STARS_DAILY, days=days, rows=summary.get("days"), context=context)
    return summary


def reddit_mentions(context: dict[str, Any]) -> dict[str, Any]:
    """``reddit_mentions.extract_and_enrich``: process, then announce the days of the items whose rows changed."""
    from madlake.orchestration.events import announce
    from madlake.pipelines.mentions import process_task

    started = datetime.now(UTC)
    summary = process_task(context)
    days = _mention_days_since(started) if summary.get("rows") or summary.get("items") else []
    announce(Table.REDDIT_MENTIONS, days=days, rows=summary.get("rows"), context=context)
    return summary


def _mention_days_since(started: datetime) -> list[date]:
    """The ``created_at`` days of mention rows written after ``started`` (this run's rows)."""
    from pyiceberg.expressions import GreaterThanOrEqual

    from madlake.lakehouse.tables import load_table

    table = load_table(Table.REDDIT_MENTIONS)
    if "processed_at" not in {f.name for f in table.schema().fields}:
        return []
    rows = table.scan(
        row_filter=GreaterThanOrEqual("processed_at", started.isoformat()), selected_fields=("created_at",)
    ).to_arrow()
    return sorted({ts.astimezone(UTC).date() for ts in rows.column("created_at").to_pylist() if ts is not None})


def tools_catalog() -> int:
    """``tools_catalog.load_dim_tools``: load the catalog; the event names no day (the catalog has no date)."""
    from madlake.orchestration.events import announce
    from madlake.pipelines.tools import load_dim_tools

    n = load_dim_tools()
    announce(Table.DIM_TOOLS, rows=n)
    return n


def gold_metrics(gold_tables: Sequence[str], sources: Sequence[str] = ()) -> dict[str, Any]:
    """``gold_metrics.build_gold_metrics``: recompute the periods the run's asset events name, or its params' days.

    In order: ``start``/``end`` or ``date`` (params/conf) recompute those days; else the union of the periods the
    triggering events name (plus trailing windows, :func:`events.gold_periods`), one ``build_gold`` per contiguous
    period; else the run's day (events that name no day, e.g. a catalog change). An event-driven run also recomputes
    the source events no gold run covered yet (:func:`events.unconsumed_events`: Airflow can leave queued events
    unconsumed) and then advances the watermark. Announces each gold table with the days recomputed, so
    ``dashboard_publish`` republishes.
    """
    from madlake.names import Table
    from madlake.orchestration.events import (
        _extra_of,
        advance_events_through,
        affected_periods,
        announce,
        gold_days,
        gold_periods,
        newest_timestamp,
        triggering_events,
        unconsumed_events,
    )
    from madlake.orchestration.runtime import _explicit, run_day
    from madlake.pipelines.gold import build_gold, build_gold_months

    context = _ctx()
    day = run_day(context)
    start, end = _explicit(context, "start"), _explicit(context, "end")
    monthly_start = _explicit(context, "monthly_start")
    periods: list[tuple[date, date]] = []
    summaries: list[dict[str, Any]] = []
    explicit = bool(start or end or _explicit(context, "date"))
    events = [] if explicit else triggering_events(context)
    events += unconsumed_events(context, sources, events) if events else []
    covered = newest_timestamp(events)
    # History sources feed only the monthly tables: rebuild the months they name in one pass, not years of days.
    monthly_tables = {Table.PYPI_DOWNLOADS_MONTHLY, Table.GITHUB_REPO_HISTORY}
    history = [ev for ev in events if str((_extra_of(ev) or {}).get("table")) in monthly_tables]
    if history:
        spans = affected_periods(history)
        if spans:
            first, last = min(s for s, _ in spans), max(e for _, e in spans)
            log.info("History events name %s..%s: rebuilding the monthly gold tables for those months", first, last)
            summaries.append(build_gold_months(first, last, newest_day=last))
        if len(history) == len(events):
            events = []
    if events:
        periods = gold_periods(context, events=events)
        if not periods and not summaries:  # only events that name no day (a catalog change): refresh gold's newest day
            held = gold_days()
            if not held:
                from airflow.sdk.exceptions import AirflowSkipException

                raise AirflowSkipException("the triggering events name no day and gold holds none yet: nothing to do")
            newest = max(held)
            log.info("Triggering events name no day (catalog change): recomputing gold's newest day %s", newest)
            periods = [(newest, newest)]
    if periods:
        summaries += [build_gold(day, start=s, end=e) for s, e in periods]
    elif not summaries:
        summaries.append(build_gold(day, start=start, end=end, monthly_start=monthly_start))
    rows: dict[str, int] = {}
    days: list[date] = []
    for s in summaries:
        for name, n in (s.get("rows") or {}).items():
            rows[name] = rows.get(name, 0) + int(n)
        first, last = date.fromisoformat(s["start"]), date.fromisoformat(s["end"])
        days += [first + timedelta(days=i) for i in range((last - first).days + 1)]
    for name in gold_tables:
        announce(name, days=days, rows=rows.get(name), context=context)
    if covered is not None:
        advance_events_through(covered)
    span = ", ".join(f"{s['start']}..{s['end']}" for s in summaries)
    log.info("gold_metrics recomputed %s: %s", span, rows)
    return {"periods": [[s["start"], s["end"]] for s in summaries], "rows": rows, "days": len(set(days))}
