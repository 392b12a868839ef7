"""The dashboard's "what changed" page, each tool's events, and the Atom feeds of the watchlists.

Hooked into :class:`madlake.dashboard.site.SiteBuilder` (two calls): :func:`render_watch_pages` renders
``changes.html`` and writes ``feeds/<watchlist>.atom`` into the build (so they are published, and removed, with the
site); :func:`event_marks` gives the chart marks of a tool's news events. The events come from the build's own
snapshot of ``tool_events`` (the dashboard engine), so the page, the feeds and the tool pages agree.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from madlake.watchlists.feed import render_feed
from madlake.watchlists.io import current_watchlists

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).with_name("templates")
#: Periods shown on the page (newest first); older ones stay in the table and the feeds.
MAX_PERIODS = 36


def event_marks(events: Sequence[Mapping[str, Any]], category: str) -> list[dict[str, str]]:
    """Chart marks (``{"x", "label"}``) for a tool's news events in ``category``, oldest first, one per month."""
    by_month: dict[str, list[str]] = {}
    for e in events:
        if e["is_news"] and e["category"] == category:
            by_month.setdefault(e["month"].isoformat(), []).append(str(e["kind"]).replace("_", " "))
    return [{"x": m, "label": ", ".join(sorted(set(k)))} for m, k in sorted(by_month.items())]


def periods(events: Sequence[Mapping[str, Any]], limit: int = MAX_PERIODS) -> tuple[list[dict[str, Any]], int]:
    """Events grouped by month, newest first: ``[{"month", "news", "artefacts"}]`` and how many periods were cut."""
    grouped: dict[Any, dict[str, Any]] = {}
    for e in events:
        p = grouped.setdefault(e["month"], {"month": e["month"], "news": [], "artefacts": []})
        p["news" if e["is_news"] else "artefacts"].append(e)
    ordered = [grouped[m] for m in sorted(grouped, reverse=True)]
    return ordered[:limit], max(0, len(ordered) - limit)


def render_watch_pages(builder: Any, ctx: Mapping[str, Any]) -> dict[str, int]:
    """Render ``changes.html`` and the watchlists' feeds into the build folder of ``builder`` (a SiteBuilder)."""
    events = builder.q.run("changes")
    watchlists = current_watchlists()
    feeds = []
    (builder.out / "feeds").mkdir(parents=True, exist_ok=True)
    for w in watchlists.watchlists:
        if not w.feed:
            continue
        path = builder.out / "feeds" / f"{w.name}.atom"
        path.write_bytes(render_feed(events, w))
        feeds.append({"href": f"feeds/{w.name}.atom", "title": w.title})
    loader = builder.env.loader
    if not isinstance(loader, jinja2.ChoiceLoader):
        builder.env.loader = jinja2.ChoiceLoader([loader, jinja2.FileSystemLoader(str(TEMPLATE_DIR))])
    shown, older = periods(events)
    builder.render(
        "changes.html",
        "changes.html",
        title="What changed",
        page_kind="changes",
        periods=shown,
        older=older,
        feeds=feeds,
        **ctx,
    )
    log.info("What changed: %d events over %d periods; %d feeds", len(events), len(shown) + older, len(feeds))
    return {"events": len(events), "feeds": len(feeds)}
