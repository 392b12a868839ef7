"""Task bodies of the watchlist steps (``gold_metrics``: compute the events, then deliver them). Small JSON out."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import get_current_context

from madlake.watchlists.delivery import deliver
from madlake.watchlists.events import build_events
from madlake.watchlists.io import current_watchlists

log = logging.getLogger(__name__)


def compute_tool_events() -> dict[str, Any]:
    """``gold_metrics.build_tool_events``: recompute ``tool_events`` from the monthly gold tables (idempotent)."""
    return build_events()


def deliver_watchlist_events() -> dict[str, Any]:
    """``gold_metrics.deliver_watchlist_events``: send each watchlist's new events once (see ``delivery``)."""
    context: dict[str, Any] = {}
    try:
        context = dict(get_current_context())
    except Exception:  # outside a task (CLI): the notifier gets an empty context
        context = {}
    summary = deliver(current_watchlists(), context=context)
    log.info("Watchlist delivery: %s", summary)
    return summary
