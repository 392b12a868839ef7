"""Task bodies: the seam between Airflow and the pipelines. One function per DAG task that needs its run.

Each function builds the run's :class:`~madlake.orchestration.request.RunRequest` once from the Airflow context
(:func:`~madlake.orchestration.runtime.current_request`), adds madlake's run policy (which day(s), may it run at all),
calls the pipeline in ``madlake.pipelines`` with the request, and attaches what it changed to its outlet asset event
(:func:`events.announce`). The pipelines never see Airflow. ``context`` (default: the running task's) lets a test
hand in a context of its own.

Each function imports its pipeline when it runs: this module holds every task body, and a task should load only the
pipeline (and its pyiceberg/great-expectations stack) it runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from madlake.names import Dag, Table
from madlake.orchestration.request import RunRequest
from madlake.orchestration.runtime import current_request

log = logging.getLogger(__name__)


def _set_outlet_extra(context: Mapping[str, Any], uri: str, extra: dict[str, Any]) -> None:
    """Attach ``extra`` to the running task's outlet event of asset ``uri`` (no-op outside a task)."""
    events = context.get("outlet_events")
    if events is not None:
        from airflow.sdk import Asset

        events[Asset(uri)].extra = extra


@contextlib.contextmanager
def _catchup_byte_cap(request: RunRequest, days: Sequence[date]) -> Iterator[None]:
    """Live BigQuery catch-up/backfill days run under ``MADLAKE_PYPI_CATCHUP_MAX_BYTES`` (the lower of the two caps)."""
    from madlake.orchestration.schedule import catchup_byte_cap, source_mode

    old_day = min(days) < datetime.now(UTC).date() - timedelta(days=2)
    catching_up = request.run_type == "backfill" or (request.run_type == "scheduled" and old_day)
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


# --------------------------------------------------------------------------------------------------------------------
# PyPI
# --------------------------------------------------------------------------------------------------------------------


def pypi_downloads(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``pypi_downloads.load_pypi_day``: the run's day (or ``start``..``end``), write-audit-publish per day.

    Replay mode: days without a replay file are skipped with a message (a run with none left is *skipped*).
    A day that has not ended is refused (no retries). Announces ``{table, days, rows}``.
    """
    from madlake.orchestration.events import announce
    from madlake.orchestration.runtime import refuse_future, require_replay_day
    from madlake.orchestration.schedule import replay_days, source_mode
    from madlake.pipelines.pypi import load_day

    request, context = current_request(context)
    days = request.days
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
    with _catchup_byte_cap(request, days):
        for day in days:
            summaries.append(load_day(day, request))
    rows = sum(int(s.get("rows") or 0) for s in summaries)
    announce(Table.PYPI_DOWNLOADS, days=days, rows=rows, context=context)
    result: dict[str, Any] = summaries[0] if len(summaries) == 1 else {"days": len(days), "rows": rows}
    result = {**result, "loaded_days": [d.isoformat() for d in days]}
    span = days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)} days)"
    log.info("pypi_downloads loaded %s: %d rows", span, rows)
    return result


def pypi_monthly(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``pypi_monthly.load_pypi_snapshots``: the snapshots dated in the run's range (its month, or ``start``..``end``).

    Annotates the ``pypi_downloads_monthly`` event with ``{table, months, snapshot_dates, rows}``.
    """
    from madlake.names import asset_uri
    from madlake.pipelines.pypi_monthly import asset_extra, load_range, run_range

    request, context = current_request(context)
    start, end = run_range(request)
    summary = load_range(start, end, request)
    _set_outlet_extra(context, asset_uri(Table.PYPI_DOWNLOADS_MONTHLY), asset_extra(summary))
    return summary


# --------------------------------------------------------------------------------------------------------------------
# GitHub
# --------------------------------------------------------------------------------------------------------------------


def github_history(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``github_history.load_github_history``: replace the run's day (or ``start``..``end``) of ``github_repo_history``.

    Annotates the ``github_repo_history`` event with ``{table, days: [first, last], rows}``.
    """
    from madlake.names import asset_uri
    from madlake.pipelines.github_history import asset_extra, load_range, run_range

    request, context = current_request(context)
    start, end = run_range(request)
    summary = load_range(start, end, request)
    _set_outlet_extra(context, asset_uri(Table.GITHUB_REPO_HISTORY), asset_extra(summary))
    return summary


def github_snapshot(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``github_metrics.snapshot_repositories``: refuse backfills/past days, snapshot, announce ``{table, days}``."""
    from madlake.orchestration.events import announce
    from madlake.orchestration.snapshots import refuse_past_snapshot
    from madlake.pipelines.github_snapshots import snapshot_repos

    request, context = current_request(context)
    day = refuse_past_snapshot(Dag.GITHUB_METRICS, history="github_history and github_star_history", request=request)
    summary = snapshot_repos(day, request)
    announce(Table.GITHUB_REPO_SNAPSHOTS, days=[day], rows=summary.get("rows"), context=context)
    log.info("github_metrics snapshot filed under %s: %s rows", day, summary.get("rows"))
    return summary


def github_star_history(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``github_star_history.backfill_stars``: ``since``..``date`` for ``repos``; announces the days of the window."""
    from madlake.orchestration.events import announce
    from madlake.orchestration.failures import RefusedDateError
    from madlake.orchestration.schedule import STAR_HISTORY_DAYS
    from madlake.pipelines.github_stars import backfill_star_history

    request, context = current_request(context)
    until = request.day
    since = request.date_param("since") or until - timedelta(days=STAR_HISTORY_DAYS - 1)
    if since > until:
        raise RefusedDateError(f"since {since} is after the last day {until}")
    log.info("github_star_history: stars from %s to %s", since, until)
    repos = request.param("repos") or None
    summary = backfill_star_history(repos, since, until, request, restart=bool(request.param("restart")))
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    announce(Table.GITHUB_STARS_DAILY, days=days, rows=summary.get("days"), context=context)
    return summary


# --------------------------------------------------------------------------------------------------------------------
# Reddit
# --------------------------------------------------------------------------------------------------------------------


def csv_list(value: object) -> list[str]:
    """A comma-separated param (or a list) as a list of non-empty, stripped strings."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(v).strip() for v in items if str(v).strip()]


def reddit_ingest(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``reddit_ingest.ingest``: land the run's day with the DAG params; annotate the raw asset with the landing."""
    from madlake.names import raw_asset_uri
    from madlake.pipelines.reddit_ingest import LivePastDayError, ingest

    request, context = current_request(context)
    try:
        summary = ingest(
            request.day,
            subreddits=csv_list(request.param("subreddits")) or None,
            limit=int(request.param("limit", 100)),
            more_budget=int(request.params.get("more_budget", 32) or 0),
            threads=csv_list(request.param("threads")),
            request=request,
        )
    except LivePastDayError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc  # retrying cannot help
    _set_outlet_extra(context, raw_asset_uri("reddit"), {"day": summary["day"], "landing": summary["landing"]})
    return summary


def reddit_load(context: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """``reddit_load.load``: ``start``..``end`` in one merge per table, else every day the triggering ingests name
    (:func:`~madlake.pipelines.reddit_load.days_to_load`)."""
    from madlake.pipelines.reddit_load import days_to_load, load, load_days

    request, _ = current_request(context)
    first, last = request.date_param("start"), request.date_param("end")
    if first and last:
        if last < first:
            raise ValueError(f"reddit_load: end {last} is before start {first}")
        return [load_days([first + timedelta(days=i) for i in range((last - first).days + 1)], request)]
    days = days_to_load(request)
    if not days:
        log.info("The triggering ingest(s) landed nothing (no recorded listing that day): nothing to load")
    return [load(day, request) for day in days]


def reddit_archive_backfill(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``reddit_archive_backfill.backfill``: the archive (or recorded threads) backfill with the DAG params.

    Raises:
        ValueError: a missing or malformed param (named in the message).
    """
    from madlake.models.reddit import subreddit_name
    from madlake.pipelines.reddit_archive import archive_backfill, recorded_threads_backfill

    request, _ = current_request(context)
    params = request.params
    recorded = bool(params.get("recorded_threads"))
    missing = [
        p for p in ("subreddit", "start", "end", "archive") if not params.get(p) and not (recorded and p == "archive")
    ]
    if missing:
        raise ValueError(f"reddit_archive_backfill needs params {missing}")
    days = {}
    for key in ("start", "end"):
        try:
            days[key] = date.fromisoformat(str(params[key])[:10])
        except ValueError as exc:
            raise ValueError(
                f"reddit_archive_backfill: param {key}={params[key]!r} is not a YYYY-MM-DD day ({exc})"
            ) from None
    # The subreddit becomes part of file paths: refuse anything but a subreddit name.
    subreddit = subreddit_name(params["subreddit"])
    kinds = csv_list(params.get("kinds")) or ("submissions", "comments")
    if not recorded:
        return archive_backfill(
            subreddit, days["start"], days["end"], archive=str(params["archive"]), kinds=kinds, request=request
        )
    return recorded_threads_backfill(subreddit, days["start"], days["end"], kinds=kinds, request=request)


def reddit_mentions(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``reddit_mentions.extract_and_enrich``: process with the run params ``since`` (ISO instant), ``reprocess_all``
    and ``method``, then announce the days of the items whose rows changed."""
    from madlake.orchestration.events import announce
    from madlake.pipelines.mentions import process

    request, context = current_request(context)
    since = request.param("since")
    started = datetime.now(UTC)
    summary = process(
        since=datetime.fromisoformat(str(since)).astimezone(UTC) if since else None,
        reprocess_all=bool(request.param("reprocess_all")),
        method=request.param("method", "auto"),
        request=request,
    )
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


# --------------------------------------------------------------------------------------------------------------------
# Catalog, gold, dashboard, maintenance
# --------------------------------------------------------------------------------------------------------------------


def tools_catalog(context: Mapping[str, Any] | None = None) -> int:
    """``tools_catalog.load_dim_tools``: load the catalog; the event names no day (the catalog has no date)."""
    from madlake.orchestration.events import announce
    from madlake.pipelines.tools import load_dim_tools

    request, context = current_request(context)
    n = load_dim_tools(request)
    announce(Table.DIM_TOOLS, rows=n, context=context)
    return n


def dashboard_freshness(context: Mapping[str, Any] | None = None) -> dict[str, int]:
    """``dashboard_publish.refresh_freshness``: replace the run day's ``source_freshness`` rows."""
    from madlake.dashboard.tasks import refresh_freshness

    request, _ = current_request(context)
    return refresh_freshness(request.day, request.commit("ops"))


def dashboard_publish(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``dashboard_publish.build_and_publish``: build the site and publish it (to the ``target`` param if given)."""
    from madlake.dashboard.tasks import build_and_publish

    request, _ = current_request(context)
    return build_and_publish(request.day, target=request.param("target"))


def maintain_table(table: str, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``lakehouse_maintenance.maintain_table``: compact, expire and clean ``table`` under the run's params."""
    from madlake.ops.maintenance import maintain_from_params

    request, _ = current_request(context)
    return maintain_from_params(table, request.params, request.commit("maintenance"))


def tool_events(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``gold_metrics.build_tool_events``: recompute ``tool_events`` from the monthly gold tables (idempotent)."""
    from madlake.watchlists.events import build_events

    request, _ = current_request(context)
    return build_events(request=request)


def deliver_watchlist_events(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``gold_metrics.deliver_watchlist_events``: send each watchlist's new events once (see ``watchlists.delivery``).

    The task context goes to the notifier; the request tags the delivery log's commits.
    """
    from madlake.watchlists.delivery import deliver
    from madlake.watchlists.io import current_watchlists

    request, context = current_request(context)
    summary = deliver(current_watchlists(), context=context, request=request)
    log.info("Watchlist delivery: %s", summary)
    return summary


def gold_metrics(
    gold_tables: Sequence[str], sources: Sequence[str] = (), context: Mapping[str, Any] | None = None
) -> dict[str, Any]:
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
        unconsumed_events,
    )
    from madlake.pipelines.gold import build_gold, build_gold_months

    request, context = current_request(context)
    day = request.day
    start, end = request.date_param("start"), request.date_param("end")
    monthly_start = request.date_param("monthly_start")
    periods: list[tuple[date, date]] = []
    summaries: list[dict[str, Any]] = []
    explicit = bool(start or end or request.date_param("date"))
    events = [] if explicit else list(request.triggering_events)
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
            summaries.append(build_gold_months(first, last, newest_day=last, request=request))
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
        summaries += [build_gold(day, start=s, end=e, request=request) for s, e in periods]
    elif not summaries:
        summaries.append(build_gold(day, start=start, end=end, monthly_start=monthly_start, request=request))
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
