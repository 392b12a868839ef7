"""Pydantic models of the watchlists file, and the rules a watchlist must satisfy against the tools catalog.

A watchlist names tools and/or categories of the catalog, the event kinds wanted, and where to send them (Airflow
connection ids: the URL and any token live in the connection, never here). An unknown tool, category or kind is an
error naming the watchlist, as the catalog's own validation names the tool entry.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from madlake.watchlists.rules import EVENT_KINDS, NEWS_KINDS

SLUG_RE = re.compile(r"^[a-z0-9_]{1,64}$")
#: Airflow connection ids: letters, digits, underscores, dashes and dots.
CONN_ID_RE = r"^[A-Za-z0-9_.-]{1,250}$"
#: An endpoint path appended to the connection's URL (no scheme or host: those come from the connection).
ENDPOINT_RE = r"^/?[A-Za-z0-9_./~%-]{0,500}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Destination(_Frozen):
    """Where a watchlist's events go: an Airflow HTTP connection (a Slack incoming webhook or any JSON endpoint)."""

    conn_id: Annotated[str, StringConstraints(pattern=CONN_ID_RE)]
    #: a path under the connection's URL (most webhooks: none; the whole URL is the connection's host)
    endpoint: Annotated[str, StringConstraints(pattern=ENDPOINT_RE)] | None = None


class Watchlist(_Frozen):
    name: Annotated[str, StringConstraints(pattern=SLUG_RE.pattern)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    tools: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    #: the event kinds wanted; default: every news kind (artefacts are listed on the page, not sent)
    events: tuple[str, ...] = NEWS_KINDS
    notify: tuple[Destination, ...] = ()
    #: write an Atom feed ``feeds/<name>.atom`` next to the dashboard
    feed: bool = True

    @model_validator(mode="after")
    def _check(self) -> Watchlist:
        errors = []
        if not self.tools and not self.categories:
            errors.append("names no tool and no category")
        unknown = [k for k in self.events if k not in EVENT_KINDS]
        if unknown:
            errors.append(f"unknown event kind(s) {unknown}; known: {', '.join(EVENT_KINDS)}")
        for what, values in (("tool", self.tools), ("category", self.categories), ("event", self.events)):
            dup = sorted({v for v in values if values.count(v) > 1})
            if dup:
                errors.append(f"{what}(s) listed twice: {dup}")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def covers(self, tool_id: str, category: str) -> bool:
        """Whether an event about ``tool_id`` in ``category`` belongs to this watchlist."""
        return tool_id in self.tools or category in self.categories


class WatchlistFile(_Frozen):
    #: the watchlist ``make demo`` prints and the dashboard links first
    default: str | None = None
    watchlists: tuple[Watchlist, ...]

    @model_validator(mode="after")
    def _check(self) -> WatchlistFile:
        if not self.watchlists:
            raise ValueError("lists no watchlist")
        names = [w.name for w in self.watchlists]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"watchlist name(s) used twice: {dup}")
        if self.default is not None and self.default not in names:
            raise ValueError(f"default {self.default!r} is not a watchlist; known: {', '.join(names)}")
        return self

    @property
    def default_watchlist(self) -> Watchlist:
        return self.get(self.default) if self.default else self.watchlists[0]

    def get(self, name: str) -> Watchlist:
        """The watchlist ``name``; ``KeyError`` names the known ones."""
        for w in self.watchlists:
            if w.name == name:
                return w
        raise KeyError(f"unknown watchlist {name!r}; known: {', '.join(w.name for w in self.watchlists)}")


def catalog_errors(watchlists: WatchlistFile, tools: set[str], categories: set[str]) -> list[str]:
    """One line per watchlist entry naming a tool or category the catalog does not have."""
    lines = []
    for i, w in enumerate(watchlists.watchlists):
        where = f"watchlists[{i}] (name={w.name!r})"
        bad_tools = [t for t in w.tools if t not in tools]
        bad_cats = [c for c in w.categories if c not in categories]
        if bad_tools:
            lines.append(f"  {where}.tools: unknown tool(s) {bad_tools} (not in the tools catalog)")
        if bad_cats:
            lines.append(
                f"  {where}.categories: unknown category(ies) {bad_cats}; known: {', '.join(sorted(categories))}"
            )
    return lines
