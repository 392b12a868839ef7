"""Defaults every madlake DAG shares: owner, retries with exponential backoff, timeouts, failure alerts.

The DAG-policy test (``tests/dags``) fails any DAG that drifts from these.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from datetime import datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

OWNER = "madlake"

#: A DAG run that has not finished by then is failed (and alerts), instead of holding its slot forever.
DAGRUN_TIMEOUT = timedelta(hours=4)

#: Fixed start of the DAGs that are not backfilled by day (snapshots, asset-triggered, manual). Daily source DAGs
#: take theirs per profile from :func:`madlake.orchestration.schedule.daily_window`.
START_DATE = datetime(2024, 1, 1)

#: Help text of the ``date`` param, shown in the trigger form next to the field.
DATE_HELP = (
    "the day to load (YYYY-MM-DD). Empty: the run's logical date (a backfill's day), else yesterday (UTC). "
    "Wins over the logical date."
)


def day_params(ranges: bool = True, date_help: str = DATE_HELP) -> dict[str, Any]:
    """The trigger-form params of a date-driven DAG: ``date``, and ``start``/``end`` (inclusive) when ``ranges``.

    The rule they follow is :attr:`madlake.orchestration.request.RunRequest.day` (documented in docs/operations.md).
    """
    from airflow.sdk import Param

    params: dict[str, Any] = {
        "date": Param(None, type=["null", "string"], format="date", description=date_help),
    }
    if ranges:
        params["start"] = Param(
            None, type=["null", "string"], format="date", description="first day of a range (inclusive)"
        )
        params["end"] = Param(
            None, type=["null", "string"], format="date", description="last day of a range (inclusive; default: start)"
        )
    return params


def notify_failure(context: dict[str, Any]) -> None:
    """On-failure callback: log one clear summary line and, when a webhook is configured, POST it as JSON.

    The webhook is ``MADLAKE_ALERT_WEBHOOK`` from the environment, else the Airflow Variable ``madlake_alert_webhook``
    (read here, at failure time, never at DAG parse time).

    Never raises: an alerting problem must not mask the task failure it reports. The exception text is included,
    redacted (:mod:`madlake.redaction`): an endpoint that echoes a key in its error body does not leak it here.
    """
    from madlake.redaction import redact_obj

    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    run_id = context.get("run_id", getattr(ti, "run_id", "?"))
    exc = context.get("exception")
    summary = {
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "try_number": getattr(ti, "try_number", None),
        "error": f"{type(exc).__name__}: {exc}"[:2000] if exc else None,
    }
    summary = redact_obj(summary)
    log.error("madlake task failed: %s", json.dumps(summary, default=str))
    url = os.environ.get("MADLAKE_ALERT_WEBHOOK") or _webhook_variable()
    if not url:
        return
    if not url.startswith(("https://", "http://")):
        log.error("MADLAKE_ALERT_WEBHOOK is not an http(s) URL; alert not sent")
        return
    try:
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, data=json.dumps(summary, default=str).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass
    except Exception as err:
        log.error("Could not send failure alert to webhook: %s", redact_obj(str(err)))


def _webhook_variable() -> str | None:
    try:
        from airflow.sdk import Variable

        value = Variable.get("madlake_alert_webhook", default=None)
    except Exception:  # no Variable backend reachable (outside a task): no webhook
        return None
    return str(value) if value else None


def default_args(**overrides: Any) -> dict[str, Any]:
    """Task defaults: 2 retries with exponential backoff (1 min, then up to 30 min), 1 h timeout, failure alert."""
    args: dict[str, Any] = {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(hours=1),
        "on_failure_callback": notify_failure,
    }
    args.update(overrides)
    return args
