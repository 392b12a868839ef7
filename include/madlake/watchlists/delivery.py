"""Send each watchlist's new events once, through Airflow's HTTP notifier, and log every attempt.

Contract:

* **Once per event**: an event is sent to a destination only if ``watchlist_deliveries`` has no ``sent`` row for
  (watchlist, event id, destination). Event ids are stable across reruns and backfills
  (:func:`madlake.watchlists.events.event_id`), so a rerun, a cleared task or a history backfill sends nothing twice.
* **Only recent news**: only events of the newest :attr:`~madlake.watchlists.rules.Thresholds.deliver_months` months
  of data are candidates, so loading 8 years of history (or defining a connection later) does not flood a channel.
* **Retries, recorded**: a failed send is retried :attr:`~madlake.watchlists.rules.Thresholds.deliver_attempts`
  times with exponential backoff in the run; if it still fails it is recorded ``failed`` (attempts, last error,
  redacted) and retried on the next run. The task does not fail for a failed delivery (the others still go out,
  and the log is the place to look); it returns the counts.
* **At least once**: the log is merged after each destination's batch; a crash between a send and that merge sends
  that batch's events again on the next run (a duplicate is better than a lost alert).
* **Secrets only from connections**: a destination is an Airflow HTTP connection id (``AIRFLOW_CONN_<ID>``, or the
  Airflow database); its URL is registered with :mod:`madlake.redaction` and never logged or recorded. A destination
  whose connection does not exist is skipped with a warning and nothing recorded.

The message is Slack-compatible (``text``) and carries the event as JSON (``event``), so it suits a Slack incoming
webhook, a Mattermost/Teams-style hook or any JSON endpoint.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from madlake.lakehouse.tables import ensure_tables, load_table
from madlake.lakehouse.writes import merge, rows_to_arrow
from madlake.names import Table
from madlake.orchestration.notify import connection_secret_parts, post_json
from madlake.orchestration.request import RunRequest
from madlake.redaction import redact
from madlake.watchlists.models import Destination, Watchlist, WatchlistFile
from madlake.watchlists.rules import THRESHOLDS, Thresholds

log = logging.getLogger(__name__)

#: Public base URL of the published dashboard, to make event links absolute in messages (optional).
BASE_URL_ENV = "MADLAKE_DASHBOARD_BASE_URL"


def _add_months(month: date, k: int) -> date:
    i = month.year * 12 + month.month - 1 + k
    return date(i // 12, i % 12 + 1, 1)


def wanted(events: Sequence[Mapping[str, Any]], watchlist: Watchlist, t: Thresholds = THRESHOLDS) -> list[dict]:
    """The events of ``watchlist`` that are candidates for delivery: its kinds and tools/categories, newest months."""
    if not events:
        return []
    newest = max(e["month"] for e in events)
    since = _add_months(newest, -(t.deliver_months - 1))
    return [
        dict(e)
        for e in events
        if e["month"] >= since and e["kind"] in watchlist.events and watchlist.covers(e["tool_id"], e["category"])
    ]


def message(event: Mapping[str, Any], watchlist: Watchlist) -> dict[str, Any]:
    """The JSON body sent for one event (Slack's ``text`` plus the event's fields and numbers)."""
    base = os.environ.get(BASE_URL_ENV, "").rstrip("/")
    link = f"{base}/{event['link']}" if base else event["link"]
    details = json.loads(event["details"]) if isinstance(event.get("details"), str) else event.get("details")
    return {
        "text": f"[{watchlist.title}] {event['headline']} ({link})",
        "watchlist": watchlist.name,
        "event": {
            "id": event["event_id"],
            "month": f"{event['month']:%Y-%m}",
            "tool_id": event["tool_id"],
            "category": event["category"],
            "kind": event["kind"],
            "is_news": event["is_news"],
            "headline": event["headline"],
            "link": link,
            "details": details,
        },
    }


def send(
    event: Mapping[str, Any],
    watchlist: Watchlist,
    destination: Destination,
    *,
    context: Mapping[str, Any] | None = None,
    t: Thresholds = THRESHOLDS,
    sleep: Callable[[float], None] = time.sleep,
    hide: Sequence[str] = (),
) -> tuple[int, str | None]:
    """POST one event through Airflow's ``HttpNotifier`` (:func:`madlake.orchestration.notify.post_json`), with backoff.

    Returns:
        ``(attempts, error)``: ``error`` is None when the endpoint accepted it (2xx), else the last failure, redacted
        (``hide``: the connection's URL parts, replaced before the generic redaction).
    """
    payload = message(event, watchlist)
    error: str | None = None
    delay = t.deliver_backoff_seconds
    for attempt in range(1, t.deliver_attempts + 1):
        try:
            # The hook logs the URL at debug only, and an error body at error: both pass the redaction, which knows
            # the connection's URL parts (connection_secret_parts registered them).
            post_json(
                destination.conn_id,
                destination.endpoint,
                payload,
                timeout=t.deliver_timeout_seconds,
                context=context or {},
            )
            return attempt, None
        except Exception as exc:  # HTTP >= 400 (AirflowException), connection errors, timeouts
            text = f"{type(exc).__name__}: {exc}"
            for part in sorted(hide, key=len, reverse=True):
                text = text.replace(part, "<redacted>")
            error = redact(text)[:1000]
            log.warning(
                "watchlist %s -> %s: event %s attempt %d/%d failed: %s",
                watchlist.name,
                destination.conn_id,
                event["event_id"],
                attempt,
                t.deliver_attempts,
                error,
            )
            if attempt < t.deliver_attempts:
                sleep(delay)
                delay *= 2
    return t.deliver_attempts, error


def read_events() -> list[dict[str, Any]]:
    ensure_tables([Table.TOOL_EVENTS])
    return load_table(Table.TOOL_EVENTS).scan().to_arrow().to_pylist()


def read_deliveries() -> dict[tuple[str, str, str], dict[str, Any]]:
    ensure_tables([Table.WATCHLIST_DELIVERIES])
    rows = load_table(Table.WATCHLIST_DELIVERIES).scan().to_arrow().to_pylist()
    return {(r["watchlist"], r["event_id"], r["destination"]): r for r in rows}


def deliver(
    watchlists: WatchlistFile,
    *,
    context: Mapping[str, Any] | None = None,
    t: Thresholds = THRESHOLDS,
    sleep: Callable[[float], None] = time.sleep,
    request: RunRequest | None = None,
) -> dict[str, Any]:
    """Send every watchlist's undelivered recent events to its destinations (see the module docstring).

    ``context``: the task context handed to the notifier; ``request``: the run (its DAG and run id tag the
    delivery log's commits; ``None``: a standalone run).

    Returns:
        Counts for XCom: ``{"sent": n, "failed": n, "already_sent": n, "skipped_destinations": [...]}``.
    """
    events = read_events()
    log_rows = read_deliveries()
    ctx = (request or RunRequest.for_cli()).commit("watchlists")
    counts: dict[str, Any] = {"sent": 0, "failed": 0, "already_sent": 0, "skipped_destinations": []}
    for watchlist in watchlists.watchlists:
        candidates = wanted(events, watchlist, t)
        for destination in watchlist.notify:
            hide = connection_secret_parts(destination.conn_id)
            if hide is None:
                log.warning(
                    "watchlist %s: connection %r is not defined; %d event(s) not sent (they will be once it is)",
                    watchlist.name,
                    destination.conn_id,
                    len(candidates),
                )
                counts["skipped_destinations"].append(f"{watchlist.name}:{destination.conn_id}")
                continue
            batch = []
            for event in sorted(candidates, key=lambda e: (e["month"], e["category"], e["tool_id"], e["kind"])):
                key = (watchlist.name, event["event_id"], destination.conn_id)
                previous = log_rows.get(key)
                if previous is not None and previous["status"] == "sent":
                    counts["already_sent"] += 1
                    continue
                started = datetime.now(UTC)
                attempts, error = send(event, watchlist, destination, context=context, t=t, sleep=sleep, hide=hide)
                finished = datetime.now(UTC)
                row = {
                    "watchlist": watchlist.name,
                    "event_id": event["event_id"],
                    "destination": destination.conn_id,
                    "month": event["month"],
                    "tool_id": event["tool_id"],
                    "kind": event["kind"],
                    "status": "sent" if error is None else "failed",
                    "attempts": attempts + (int(previous["attempts"]) if previous else 0),
                    "first_attempt_at": previous["first_attempt_at"] if previous else started,
                    "last_attempt_at": finished,
                    "sent_at": finished if error is None else None,
                    "error": error,
                    "run_id": ctx.run_id,
                }
                log_rows[key] = row
                batch.append(row)
                counts["sent" if error is None else "failed"] += 1
            if batch:
                table = load_table(Table.WATCHLIST_DELIVERIES)
                merge(table, rows_to_arrow(table, batch), ("watchlist", "event_id", "destination"), ctx)
            log.info(
                "watchlist %s -> %s: %d sent, %d failed, %d candidates",
                watchlist.name,
                destination.conn_id,
                sum(1 for r in batch if r["status"] == "sent"),
                sum(1 for r in batch if r["status"] == "failed"),
                len(candidates),
            )
    return counts
