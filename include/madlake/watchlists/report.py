"""What ``madlake demo`` and ``madlake watchlists events`` print: a watchlist's newest events, from ``tool_events``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from madlake.dashboard.publish import dashboard_uri
from madlake.watchlists.delivery import read_deliveries, read_events
from madlake.watchlists.feed import feed_entries
from madlake.watchlists.io import current_watchlists


def newest_events(
    events: Sequence[Mapping[str, Any]], watchlist: Any, limit: int = 10, news_only: bool = True
) -> list[Mapping[str, Any]]:
    """The watchlist's events (its kinds, tools and categories), newest first."""
    rows = [e for e in feed_entries(events, watchlist) if e["is_news"] or not news_only]
    return rows[:limit]


def event_lines(events: Sequence[Mapping[str, Any]]) -> list[str]:
    return [f"  {e['month']:%Y-%m}  {e['kind']:<17} {e['headline']}" for e in events]


def demo_report() -> list[str]:
    """The default watchlist's newest news events and where its feed is (the dashboard build writes it)."""
    watchlists = current_watchlists()
    w = watchlists.default_watchlist
    events = read_events()
    news = sum(1 for e in events if e["is_news"])
    lines = [
        "",
        f"Watchlist {w.name!r} ({w.title}): newest events of {len(events):,} in tool_events "
        f"({news:,} news, {len(events) - news:,} method/coverage artefacts never reported as news):",
    ]
    rows = newest_events(events, w)
    lines += event_lines(rows) if rows else ["  (no events yet: run gold_metrics)"]
    target = dashboard_uri()
    feed = f"{target}/feeds/{w.name}.atom" if target.startswith("s3://") else Path(target) / "feeds" / f"{w.name}.atom"
    if isinstance(feed, Path):
        where = f"{feed.resolve()}" if feed.is_file() else f"not written yet (expected {feed})"
    else:
        where = feed
    sent = [r for r in read_deliveries().values() if r["watchlist"] == w.name]
    lines.append(f"  feed (Atom): {where}; what changed: {Path(target) / 'changes.html'}")
    lines.append(
        f"  delivered: {sum(1 for r in sent if r['status'] == 'sent')} sent, "
        f"{sum(1 for r in sent if r['status'] == 'failed')} failed "
        f"(destinations: {', '.join(d.conn_id for d in w.notify) or 'none'}; an undefined connection is skipped)"
    )
    return lines
