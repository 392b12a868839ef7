"""Atom 1.0 feeds (RFC 4287), one per watchlist, written next to the dashboard as ``feeds/<name>.atom``.

Deterministic: the same events give byte-identical feeds. An entry's ``id`` is ``urn:madlake:event:<event id>``
(stable across reruns, so a feed reader never shows an event twice) and its ``updated`` is the end of the event's
month (the day the numbers are as of), not the time of the build. Links are relative to the feed's own URL
(``../tool/<id>.html``), which readers resolve against the feed's address (RFC 3986), so the site can live anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from xml.etree import ElementTree as ET

from madlake.watchlists.models import Watchlist

ATOM_NS = "http://www.w3.org/2005/Atom"
#: Entries per feed (newest first).
MAX_ENTRIES = 100


def _month_end(month: date) -> date:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def rfc3339(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def feed_entries(events: Sequence[Mapping[str, Any]], watchlist: Watchlist) -> list[Mapping[str, Any]]:
    """The watchlist's events, newest first (kinds and tools/categories of the watchlist), at most MAX_ENTRIES."""
    mine = [e for e in events if e["kind"] in watchlist.events and watchlist.covers(e["tool_id"], e["category"])]
    mine.sort(key=lambda e: (e["month"], e["category"], e["tool_id"], e["kind"]), reverse=True)
    return mine[:MAX_ENTRIES]


def render_feed(events: Sequence[Mapping[str, Any]], watchlist: Watchlist, generated_for: date | None = None) -> bytes:
    """The Atom document of ``watchlist`` (UTF-8 bytes). ``generated_for``: ``updated`` when there is no entry."""
    ET.register_namespace("", ATOM_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            node.text = text
        return node

    entries = feed_entries(events, watchlist)
    newest = max((e["month"] for e in entries), default=None)
    updated = _month_end(newest) if newest else (generated_for or date(1970, 1, 1))
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    el(feed, "id", f"urn:madlake:watchlist:{watchlist.name}")
    el(feed, "title", f"madlake watchlist: {watchlist.title}")
    el(feed, "subtitle", _scope(watchlist))
    el(feed, "updated", rfc3339(updated))
    author = el(feed, "author")
    el(author, "name", "madlake")
    el(feed, "link", rel="self", href=f"{watchlist.name}.atom", type="application/atom+xml")
    el(feed, "link", rel="alternate", href="../changes.html", type="text/html")
    el(feed, "generator", "madlake")
    for e in entries:
        entry = el(feed, "entry")
        el(entry, "id", f"urn:madlake:event:{e['event_id']}")
        el(entry, "title", e["headline"])
        el(entry, "updated", rfc3339(_month_end(e["month"])))
        el(entry, "link", rel="alternate", href=f"../{e['link']}", type="text/html")
        el(entry, "category", term=e["kind"])
        el(entry, "category", term=e["category"])
        details = e["details"] if isinstance(e["details"], str) else json.dumps(e["details"], sort_keys=True)
        el(entry, "summary", f"{e['headline']}. Numbers: {details}", type="text")
    ET.indent(feed)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8") + b"\n"


def _scope(w: Watchlist) -> str:
    parts = []
    if w.categories:
        parts.append("categories " + ", ".join(w.categories))
    if w.tools:
        parts.append("tools " + ", ".join(w.tools))
    return f"{'; '.join(parts)}; events: {', '.join(w.events)}"
