"""Turn stargazer pages (newest first) into daily rows, with a state small enough to checkpoint after every page.

Definitions (documented in ``docs/github.md``):

* ``new_stars(d)``: current stargazers whose ``starred_at`` falls on day ``d`` (UTC).
* ``cumulative_stars(d)``: current stargazers who had starred by the end of ``d`` = the star count when the backfill
  started minus the stars given after ``d``. GitHub's list omits people who later unstarred, so this can be slightly
  below the count GitHub showed on day ``d``; it never double counts.

Pages arrive newest first, so once a page reaches back to day ``X`` every day after ``X`` is final and can be written;
day ``X`` itself may continue on the next page, so its partial count travels in the checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any


@dataclass
class StarBackfillState:
    """Where a repository's backfill stands; serialised as its checkpoint after each page's rows are merged.

    Attributes:
        repo: the canonical ``owner/name``; ``requested`` what the caller asked for (differs after a rename).
        since, until: the window of days to produce (inclusive).
        total: ``stargazerCount`` when the backfill started (fixed for the whole backfill, across resumes).
        cursor: the ``endCursor`` of the last page whose rows were merged (``None``: start from the newest star).
        boundary: the newest day not yet written; ``partial`` stars seen so far on it; ``newer`` stars after it.
        pages: pages processed; ``done``: the window is complete.
    """

    repo: str
    requested: str
    since: date
    until: date
    total: int
    cursor: str | None = None
    boundary: date | None = None
    partial: int = 0
    newer: int = 0
    pages: int = 0
    done: bool = False

    def __post_init__(self) -> None:
        if self.boundary is None:
            self.boundary = self.until

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("since", "until", "boundary"):
            out[key] = out[key].isoformat() if out[key] else None
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StarBackfillState:
        values = dict(data)
        for key in ("since", "until", "boundary"):
            values[key] = date.fromisoformat(values[key]) if values.get(key) else None
        return cls(**values)

    def _emit(self) -> dict[str, Any]:
        assert self.boundary is not None
        row = {
            "repo": self.repo,
            "star_date": self.boundary,
            "new_stars": self.partial,
            "cumulative_stars": max(0, self.total - self.newer),
        }
        self.newer += self.partial
        self.partial = 0
        self.boundary -= timedelta(days=1)
        return row

    def consume(self, starred_at: Iterable[datetime], end_cursor: str | None, has_next: bool) -> list[dict[str, Any]]:
        """Account for one page (newest first) and return the days it completed (newest first).

        The page is the one that followed :attr:`cursor`; afterwards :attr:`cursor` is ``end_cursor``. When the page
        reaches past ``since`` or the history ends, the remaining days down to ``since`` are emitted and
        :attr:`done` is set.
        """
        rows: list[dict[str, Any]] = []
        for ts in starred_at:
            day = (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(UTC).date()
            if day > self.until:
                self.newer += 1
                continue
            while self.boundary is not None and day < self.boundary and self.boundary >= self.since:
                rows.append(self._emit())
            if self.boundary is None or self.boundary < self.since:
                self.done = True
                break
            self.partial += 1
        self.pages += 1
        self.cursor = end_cursor
        if not has_next and not self.done:
            while self.boundary is not None and self.boundary >= self.since:
                rows.append(self._emit())
            self.done = True
        if self.boundary is not None and self.boundary < self.since:
            self.done = True
        return rows
