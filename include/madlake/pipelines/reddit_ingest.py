"""The ``reddit_ingest`` pipeline: the newest posts and comment trees of the tracked subreddits, landed raw.

Retry semantics: each attempt writes a new immutable landing (an interrupted attempt leaves no manifest and is
ignored by the load), so Airflow may retry it any number of times.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from madlake.config import get_settings
from madlake.orchestration.request import RunRequest
from madlake.sources.reddit import tracked_subreddits
from madlake.sources.reddit.client import RedditFetcher, reddit_session
from madlake.sources.reddit.history import HISTORY_SUBREDDIT
from madlake.sources.reddit.landing import LandingWriter

log = logging.getLogger(__name__)


def _fetch_round(
    fetcher: RedditFetcher, names: Sequence[str], limit: int, more_budget: int, *, fetch_comments: bool
) -> None:
    """One listing round: each subreddit's newest ``limit`` posts, then (``fetch_comments``) their comment trees."""
    for i, name in enumerate(names, start=1):
        ids = fetcher.fetch_new(name, limit)
        if fetch_comments:
            for n, sid in enumerate(ids, start=1):
                fetcher.fetch_thread(sid, f"r_{name}", more_budget)
                if n % 25 == 0:
                    log.info("r/%s: %d/%d comment trees fetched", name, n, len(ids))
        log.info(
            "Subreddit %d/%d r/%s done: %d posts, %d requests so far, %d skipped",
            i, len(names), name, len(ids), fetcher.stats.requests, len(fetcher.stats.skipped),
        )  # fmt: skip


def ingest(
    day: date,
    *,
    subreddits: Sequence[str] | None = None,
    limit: int = 100,
    more_budget: int = 32,
    threads: Sequence[str] = (),
    fetch_comments: bool = True,
    mode: str | None = None,
    replay_dir: Path | None = None,
    request: RunRequest | None = None,
    max_attempts: int = 4,
) -> dict[str, Any]:
    """Fetch the newest ``limit`` submissions of each subreddit and their comment trees into a new raw landing.

    ``threads`` adds submission ids whose comment trees are fetched whatever the listings say (e.g. a megathread
    being backfilled). Failed requests are skipped, landed with their error and listed in the summary and the
    manifest. The landing is always completed (it records what failed); the task fails only if no request at all
    was answered, so that Airflow retries it (a landing of errors alone loads nothing).

    Live mode only knows *now*: a day other than today/yesterday (UTC) is refused. In replay, a folder with the
    recorded history (:mod:`madlake.sources.reddit.history`) serves ``day`` as it was recorded: one listing round per
    capture of that day, trees as of the day's end; a day without a capture lands nothing (``landing`` is ``None``).

    ``request``: the run (its run id names the landing; ``None``: a standalone run).

    Returns a JSON-able summary: ``landing`` URI (or ``None``), counts, ``skipped`` requests, listing ``rounds``.

    Raises:
        LivePastDayError: live mode asked for a past (or future) day.
        RuntimeError: every request failed (Reddit down, bad credentials): retrying the task is the right move.
    """
    settings = get_settings()
    mode = mode or settings.effective_source_mode
    # Names and ids from params become URL paths and landing file names: refuse anything but plain names.
    names = tracked_subreddits(",".join(subreddits)) if subreddits else tracked_subreddits()
    bad_threads = [t for t in threads if not re.fullmatch(r"[0-9a-z]{1,16}", str(t))]
    if bad_threads:
        raise ValueError(f"invalid Reddit submission id(s) in threads: {bad_threads!r} (base36, e.g. 1mkowrw)")
    if mode == "live":
        refuse_live_past_day(day)
    with reddit_session(mode, replay_dir, day) as session:
        history = session.history
        # Live: one round, "now". Replay of the recorded history: one round per listing captured on the day.
        rounds: list[Any] = [None] if history is None else list(history.rounds)
        if not rounds:
            log.info(
                "Reddit ingest for %s (replay of the recorded history in %s): no r/%s listing was captured that "
                "day; nothing landed",
                day, history.root if history else replay_dir, HISTORY_SUBREDDIT,
            )  # fmt: skip
            return {"day": day.isoformat(), "landing": None, "submissions_listed": 0, "threads": 0, "comments": 0,
                    "skipped": 0, "rounds": 0}  # fmt: skip
        if history is not None and more_budget:
            log.info("Replay of recorded trees: 'more comments' stubs were not recorded, so they are not expanded")
            more_budget = 0
        run_id = request.run_id if request is not None else "manual"
        writer = LandingWriter(settings.raw_uri, day, datetime.now(UTC), run_id=run_id)
        log.info(
            "Reddit ingest for %s (%s mode%s): %d subreddit(s), limit %d, landing %s",
            day, mode, f", recorded history, {len(rounds)} listing capture(s)" if history else "", len(names), limit,
            writer.uri,
        )  # fmt: skip
        fetcher = RedditFetcher(session.reddit, writer, max_attempts=max_attempts)
        for r, capture in enumerate(rounds, start=1):
            if history is not None:
                history.current = capture
                log.info("Round %d/%d: listing captured %s", r, len(rounds), capture.at.isoformat())
            _fetch_round(fetcher, names, limit, more_budget, fetch_comments=fetch_comments)
        for sid in threads:
            fetcher.fetch_thread(sid, "threads", more_budget)
        if history is not None:
            log.info(
                "Replayed %d recorded tree(s) as of the end of %s: %d comment(s) served, %d created later cut",
                history.served_trees, day, history.kept_comments, history.cut_comments,
            )  # fmt: skip
    stats = fetcher.stats.summary()
    summary = {"mode": mode, "subreddits": names, "limit": limit, "rounds": len(rounds), **stats}
    landing = writer.finish(summary)
    skipped = stats["skipped"]
    log.info(
        "Reddit ingest %s: %d submissions listed, %d threads, %d comments, %d request(s) skipped",
        day,
        stats["submissions_listed"],
        stats["threads_fetched"],
        stats["comments_fetched"],
        len(skipped),
    )
    for s in skipped[:20]:
        log.info("  skipped %s /%s: %s", s["endpoint"], s["path"], s["reason"])
    if stats["answered"] == 0:
        raise RuntimeError(f"Reddit ingest for {day}: every request failed ({len(skipped)} skipped); see {landing}")
    return {
        "day": day.isoformat(),
        "landing": landing,
        "submissions_listed": stats["submissions_listed"],
        "threads": stats["threads_fetched"],
        "comments": stats["comments_fetched"],
        "skipped": len(skipped),
        "rounds": len(rounds),
    }


class LivePastDayError(ValueError):
    """A live ingest asked for a day other than "now": the live API cannot answer as of a past day."""


def refuse_live_past_day(day: date, today: date | None = None) -> None:
    """Live Reddit only knows *now*: accept ``day`` only if it is today or yesterday (UTC; a scheduled run of
    yesterday's interval starts just after midnight).

    Raises:
        LivePastDayError: for any other day, instead of filing today's listing under a past (or future) date.
    """
    today = today or datetime.now(UTC).date()
    if day in (today, today - timedelta(days=1)):
        return
    raise LivePastDayError(
        f"reddit_ingest live mode only knows now: it cannot fetch Reddit as of {day} (today is {today} UTC), and "
        "filing today's listings under that date would be wrong. Replay recorded days with "
        "MADLAKE_SOURCE_MODE=replay (MADLAKE_REPLAY_DIR), or load history with reddit_archive_backfill."
    )
