"""What a running task needs to know about its run: the day it covers, its run id."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any


def run_day(context: dict[str, Any] | None = None) -> date:
    """The day a run covers.

    In order: an explicit ``date`` param/conf (manual runs and ``madlake run --date``); the start of the data
    interval (scheduled runs and backfills, whose interval is that day); the logical date. Airflow 3 gives manual and
    asset-triggered runs no logical date, so with none of these the run covers yesterday (UTC), the last full day.
    """
    if context is None:
        from airflow.sdk import get_current_context

        context = dict(get_current_context())
    params = context.get("params") or {}
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    explicit = conf.get("date") or params.get("date")
    if explicit:
        try:
            return date.fromisoformat(str(explicit)[:10])
        except ValueError as exc:
            raise ValueError(f"param date={explicit!r} is not a YYYY-MM-DD day ({exc})") from None
    start = context.get("data_interval_start")
    if start is not None:
        return start.date() if isinstance(start, datetime) else start
    logical = context.get("logical_date")
    if logical is not None:
        return logical.date()
    return (datetime.now(UTC) - timedelta(days=1)).date()


def run_id(context: dict[str, Any] | None = None) -> str:
    if context is None:
        from airflow.sdk import get_current_context

        context = dict(get_current_context())
    return str(context.get("run_id") or "manual")
