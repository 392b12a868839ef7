"""What a running task may do beyond its request: skip a day the replay does not cover, refuse a day not ended yet.

The day(s) a run covers follow the logical-date rule of :mod:`madlake.orchestration.request` (one rule for every
date-driven DAG, documented in ``docs/operations.md``); :func:`current_request` builds the run's
:class:`~madlake.orchestration.request.RunRequest` from the Airflow context of the running task.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from madlake.orchestration.failures import RefusedDateError
from madlake.orchestration.request import RunRequest
from madlake.orchestration.schedule import replay_days, source_mode

log = logging.getLogger(__name__)


def airflow_context() -> dict[str, Any]:
    """The running task's Airflow context (a plain dict).

    Raises:
        RuntimeError: outside a running task.
    """
    from airflow.sdk import get_current_context

    return dict(get_current_context())


def current_request(context: Mapping[str, Any] | None = None) -> tuple[RunRequest, Mapping[str, Any]]:
    """The run request of ``context`` (default: the running task's), and the context itself (for outlet events)."""
    context = airflow_context() if context is None else context
    return RunRequest.from_airflow(context), context


def require_replay_day(source: str, day: date) -> None:
    """In replay mode, skip (not fail) a run for a day the replay has no file for, naming the coverage.

    Raises:
        AirflowSkipException: replay mode and no ``<replay>/<source>/<day>.jsonl[.gz]``.
    """
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
