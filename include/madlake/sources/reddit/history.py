"""Replay of the recorded r/LocalLLaMA history, day by day: what a daily ``reddit_ingest`` saw 2025-07-02 → 2025-08-08.

Layout under the Reddit replay folder (``$MADLAKE_REPLAY_DIR/reddit``, exactly as in the shared history)::

    localllama/listings/new_<UTC yyyymmddThhmm>_<sha>.json.gz   a genuine /r/LocalLLaMA/new?limit=100 answer, captured
                                                               at that minute (1-4 captures a day, 34 days in all)
    localllama/comments/<post id>.json.gz                      a genuine /comments/<id> answer, captured 2025-08-08

For logical day ``D`` the replay serves, in one *round* per capture of ``D`` (oldest first), that capture as the
``/r/LocalLLaMA/new`` answer; ``/comments/<id>`` answers the recorded tree **limited to the comments created by the
end of D** (a comment created later is cut with its replies: a reply is never older than its parent). Every answer
carries :data:`CAPTURED_HEADER`, the time it was captured, which the client takes as the observation time (so a
replayed day observes the listing at its capture time and the trees at their capture time, whatever the wall clock:
days replayed in any order fold to the same rows). The trees' capture time is not in the files; the end of the day of
the newest listing (2025-08-08 23:59:59 UTC) is used, an upper bound that is later than every recorded comment.

A day without a capture has no round: the ingest says so and lands nothing. Paths the history does not hold (other
subreddits, trees not recorded, ``/api/morechildren``) fall through to the flat replay files (``r/<sub>/new.json``,
``comments/<id>.json``) or 404. Trees are read one at a time, per request: memory is one tree (≤ ~1 MB of JSON).
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: The recorded subreddit and where its history lives under the Reddit replay folder.
HISTORY_SUBREDDIT = "LocalLLaMA"
HISTORY_DIR = "localllama"
#: Response header telling the client when the served response was captured (ISO 8601, UTC).
CAPTURED_HEADER = "X-Replay-Captured-At"

_LISTING = re.compile(r"^new_(\d{8}T\d{4})_[0-9a-f]+\.json\.gz$")
_LISTING_PATH = re.compile(r"^/r/([A-Za-z0-9_]+)/new(?:\.json)?/?$")
_COMMENTS_PATH = re.compile(r"^(?:/r/[A-Za-z0-9_]+)?/comments/([0-9a-z]{1,16})(?:/[^/]*)?(?:\.json)?/?$")


def has_history(replay_root: Path) -> bool:
    """Whether ``replay_root`` (the Reddit replay folder) holds the day-by-day history layout."""
    return (replay_root / HISTORY_DIR / "listings").is_dir()


@dataclass(frozen=True)
class Capture:
    at: datetime
    path: Path


def list_captures(replay_root: Path) -> list[Capture]:
    """Every recorded listing, oldest first (the capture time is the file name's UTC minute)."""
    folder = replay_root / HISTORY_DIR / "listings"
    out = []
    for f in sorted(folder.glob("new_*.json.gz")) if folder.is_dir() else []:
        m = _LISTING.match(f.name)
        if m:
            out.append(Capture(datetime.strptime(m.group(1), "%Y%m%dT%H%M").replace(tzinfo=UTC), f))
        else:
            log.warning("Ignoring %s: not named new_<yyyymmddThhmm>_<sha>.json.gz", f)
    return out


def prune_tree(body: Any, cutoff: float) -> tuple[Any, int, int]:
    """``[Listing(t3), Listing(t1)]`` with the comments created after ``cutoff`` (epoch s) cut, replies included.

    Returns ``(body, kept, cut)`` (``body`` modified in place). ``more`` stubs under a kept comment stay (they say
    that more comments existed on the capture day; the replay cannot expand them).
    """
    kept = cut = 0
    if not (isinstance(body, list) and len(body) == 2 and isinstance(body[1], dict)):
        return body, 0, 0

    def prune(listing: Any) -> None:
        nonlocal kept, cut
        data = listing.get("data") if isinstance(listing, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("children"), list):
            return
        children = []
        for node in data["children"]:
            if isinstance(node, dict) and node.get("kind") == "t1" and isinstance(node.get("data"), dict):
                created = node["data"].get("created_utc")
                if isinstance(created, int | float) and not isinstance(created, bool) and created > cutoff:
                    cut += 1 + _count(node["data"].get("replies"))
                    continue
                kept += 1
                prune(node["data"].get("replies"))
            children.append(node)
        data["children"] = children

    prune(body[1])
    return body, kept, cut


def _count(listing: Any) -> int:
    n = 0
    stack = [listing]
    while stack:
        cur = stack.pop()
        data = cur.get("data") if isinstance(cur, dict) else None
        for node in (data.get("children") or []) if isinstance(data, dict) else []:
            if isinstance(node, dict) and node.get("kind") == "t1" and isinstance(node.get("data"), dict):
                n += 1
                stack.append(node["data"].get("replies"))
    return n


@dataclass
class RedditHistory:
    """The replay of one logical day. Plugged into a :class:`ReplayServer` as its ``responder``.

    Attributes:
        rounds: the captures of ``day``, oldest first; the ingest runs one listing round per capture and sets
            :attr:`current` before each.
    """

    root: Path
    day: date
    rounds: list[Capture] = field(init=False)
    current: Capture | None = field(default=None, init=False)
    trees_captured_at: datetime = field(init=False)
    served_trees: int = field(default=0, init=False)
    kept_comments: int = field(default=0, init=False)
    cut_comments: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        captures = list_captures(self.root)
        self.rounds = [c for c in captures if c.at.date() == self.day]
        newest = captures[-1].at.date() if captures else self.day
        self.trees_captured_at = datetime.combine(newest, time(23, 59, 59), tzinfo=UTC)
        self.cutoff = datetime.combine(self.day, time(0), tzinfo=UTC) + timedelta(days=1)

    def respond(self, path: str, query: dict[str, str]) -> tuple[int, bytes, dict[str, str]] | None:
        """``(status, body, headers)`` answering ``path``, or ``None`` to let the flat files answer."""
        m = _LISTING_PATH.match(path)
        if m and m.group(1).lower() == HISTORY_SUBREDDIT.lower():
            if self.current is None or query.get("after"):
                # No capture this round / a later page: nothing was recorded. 404 (never the flat file of another day).
                return 404, json.dumps({"message": "Not Found", "error": 404}).encode(), {}
            headers = {CAPTURED_HEADER: self.current.at.isoformat()}
            return 200, gzip.decompress(self.current.path.read_bytes()), headers
        m = _COMMENTS_PATH.match(path)
        if m:
            tree = self.root / HISTORY_DIR / "comments" / f"{m.group(1)}.json.gz"
            if not tree.is_file():
                return None
            body, kept, cut = prune_tree(json.loads(gzip.decompress(tree.read_bytes())), self.cutoff.timestamp())
            self.served_trees += 1
            self.kept_comments += kept
            self.cut_comments += cut
            text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            headers = {CAPTURED_HEADER: self.trees_captured_at.isoformat()}
            return 200, text.encode("utf-8", errors="backslashreplace"), headers
        return None
