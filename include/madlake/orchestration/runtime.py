"""What a running task needs to know about its run: the day(s) it covers, its run id, whether it may run at all.

**The logical-date rule** (one rule for every date-driven DAG, documented in ``docs/operations.md``):

1. the ``date`` param (the trigger form's field, or conf ``{"date": "YYYY-MM-DD"}``) wins;
2. else the run's logical date: a manual trigger for 2026-03-10 covers 2026-03-10, and scheduled runs and backfills
   of the daily data-interval DAGs have the first instant of the day they cover as their logical date;
3. else the start of the data interval;
4. else (manual runs without a logical date, asset-triggered runs) yesterday (UTC), the last complete day.

DAGs that take a range also accept ``start``/``end`` params (inclusive), see :func:`run_days`.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)


def _context(context: dict[str, Any] | None) -> dict[str, Any]:
    if context is not None:
        return context
    from airflow.sdk import get_current_context

    return dict(get_current_context())


def _explicit(context: dict[str, Any], key: str) -> date | None:
    params = context.get("params") or {}
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    value = conf.get(key) or params.get(key)
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        from madlake.orchestration.failures import RefusedDateError

        raise RefusedDateError(f"param {key}={value!r} is not a date (YYYY-MM-DD)") from None


def _as_date(value: Any) -> date:
    return value.astimezone(UTC).date() if isinstance(value, datetime) and value.tzinfo else value.date()


def run_day(context: dict[str, Any] | None = None) -> date:
    """The day a run covers, by the logical-date rule of the module docstring."""
    context = _context(context)
    explicit = _explicit(context, "date")
    if explicit:
        return explicit
    logical = context.get("logical_date")
    if logical is not None:
        return _as_date(logical)
    start = context.get("data_interval_start")
    if start is not None:
        return _as_date(start) if isinstance(start, datetime) else start
    return (datetime.now(UTC) - timedelta(days=1)).date()


def run_days(context: dict[str, Any] | None = None) -> list[date]:
    """The days a run covers: ``start``..``end`` (inclusive) when given, else ``[run_day()]``.

    Raises:
        RefusedDateError: ``end`` before ``start``, or a param that is not a date.
    """
    from madlake.orchestration.failures import RefusedDateError

    context = _context(context)
    start = _explicit(context, "start")
    if start is None:
        return [run_day(context)]
    end = _explicit(context, "end") or _explicit(context, "date") or start
    if end < start:
        raise RefusedDateError(f"end {end} is before start {start}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def run_type(context: dict[str, Any] | None = None) -> str:
    """``scheduled``, ``manual``, ``backfill``, ``asset_triggered`` (or ``unknown``)."""
    context = _context(context)
    value = getattr(context.get("dag_run"), "run_type", None)
    return str(getattr(value, "value", value) or "unknown")


def run_id(context: dict[str, Any] | None = None) -> str:
    context = _context(context)
    return str(context.get("run_id") or "manual")


def require_replay_day(source: str, day: date) -> None:
    """In replay mode, skip (not fail) a run for a day the replay has no file for, naming the coverage.

    Raises:
        AirflowSkipException: replay mode and no ``<replay>/<source>/<day>.jsonl[.gz]``.
    """
    from madlake.orchestration.schedule import replay_days, source_mode

    if source_mode() != "replay":
        return
    days = replay_days(source)
    if day in set(days):
        return
    from airflow.sdk.exceptions import AirflowSkipException

    span = f"{days[0]}..{days[-1]} ({len(days)} days)" if days else "nothing"
    message = f"no {source} replay data for {day}: the replay covers {span}; nothing to load, skipped"
    log.warning(message)
    raise AirflowSkipException(message)


def refuse_future(day: date, *, what: str) -> None:
    """Refuse a day that has not ended yet (UTC): its data is incomplete."""
    from madlake.orchestration.failures import RefusedDateError

    today = datetime.now(UTC).date()
    if day >= today:
        raise RefusedDateError(
            f"{what}: {day} has not ended yet (today is {today} UTC); pick a day up to {today - timedelta(days=1)}"
        )


def announce_day(summary: dict[str, Any], days: list[date]) -> None:
    """The one log line a person reads first: which day(s) the run loaded, and the counts."""
    span = days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]} ({len(days)} days)"
    counts = {k: v for k, v in summary.items() if k in ("rows", "rejected", "downloads", "repos", "landed")}
    log.info("Loaded %s: %s", span, counts)
