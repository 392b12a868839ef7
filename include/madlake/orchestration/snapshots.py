"""Snapshot DAGs (their source only knows *now*) refuse backfills and past days instead of misfiling today's data.

Two layers, both with a message that says why and where history comes from:

1. at the API: the DAG declares ``allowed_run_types=SNAPSHOT_RUN_TYPES`` (no ``backfill``), so Airflow answers
   ``POST /api/v2/backfills`` with HTTP 400 "does not allow backfill runs" and the UI's backfill dialog fails;
2. in the task: :func:`refuse_past_snapshot` fails a run (no retries) that is a backfill, or that asks for a day
   before yesterday (UTC) while the source is live. In replay mode the recorded figures have a date of their own,
   so a manual run for a past day is allowed (the demo replays a recorded day); a backfill is still refused.

Shared by ``github_metrics`` and, in live mode, ``reddit_ingest`` (the Reddit API lists only the newest posts).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from madlake.orchestration.failures import RefusedDateError
from madlake.orchestration.request import RunRequest
from madlake.orchestration.schedule import source_mode

#: Run types a snapshot DAG accepts: its schedule and manual triggers, never an Airflow backfill.
SNAPSHOT_RUN_TYPES = ("scheduled", "manual")


def refuse_past_snapshot(
    dag_id: str,
    *,
    history: str,
    request: RunRequest,
    live: bool | None = None,
    today: date | None = None,
) -> date:
    """Check that this run may take a snapshot; return the day to file it under.

    Args:
        dag_id: the snapshot DAG (named in the message).
        history: where history comes from instead (named in the message), e.g. ``"github_history"``.
        request: the run.
        live: whether the source is live (default: from ``MADLAKE_SOURCE_MODE`` / the profile).
        today: for tests.

    Raises:
        RefusedDateError: a backfill run, or (live) a day before yesterday.
    """
    live = (source_mode() == "live") if live is None else live
    today = today or datetime.now(UTC).date()
    day = request.day
    if request.run_type == "backfill":
        raise RefusedDateError(
            f"{dag_id} takes snapshots of now and cannot be backfilled: a run for {day} would file today's "
            f"figures under {day}. History comes from {history}."
        )
    if live and day < today - timedelta(days=1):
        raise RefusedDateError(
            f"{dag_id} takes snapshots of now: refusing to file {today}'s figures under the past day {day}. "
            f"Trigger it without a date (or for {today}); history comes from {history}."
        )
    return day
