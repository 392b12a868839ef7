"""The ``reddit_load`` pipeline: raw Reddit landings merged into ``reddit_submissions`` and ``reddit_comments``.

Loads are pure functions of the landings and the table (:func:`madlake.pipelines.reddit_merge.merge_rows`): loading
the same landings again commits nothing, so Airflow may retry any number of times.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from madlake.config import get_settings
from madlake.lakehouse.deadletter import Rejection, payload_text, write_dead_letters
from madlake.names import Table
from madlake.orchestration.request import RunRequest
from madlake.pipelines.reddit_ingest import ingest
from madlake.pipelines.reddit_merge import SOURCE, merge_rows
from madlake.sources.reddit.landing import list_landings, read_landing
from madlake.sources.reddit.parse import Parsed, parse_response

log = logging.getLogger(__name__)


def parse_landings(landing_uris: Sequence[str]) -> tuple[Parsed, int, int]:
    """Parse every line of the landings. Returns ``(Parsed, responses, failed_requests)``."""
    out = Parsed()
    responses = failed = 0
    for uri in landing_uris:
        for line in read_landing(uri):
            if "body" not in line:
                if line.get("endpoint") == "unreadable":
                    out.rejected_submissions.append(Rejection(line["error"], line.get("raw", ""), None))
                failed += 1
                continue
            responses += 1
            try:
                at = datetime.fromisoformat(line["fetched_at"])
            except (KeyError, TypeError, ValueError):
                out.rejected_submissions.append(Rejection("landed response without a valid fetched_at", line))
                continue
            out.extend(parse_response(line.get("endpoint", ""), line["body"], observed_at=at))
    return out, responses, failed


def load(
    day: date,
    request: RunRequest | None = None,
    *,
    landings: Sequence[str] | None = None,
    missing_ok: bool = False,
) -> dict[str, Any]:
    """Merge every complete landing of ``day`` (or just ``landings``) into the Reddit tables.

    ``request``: the run (its DAG and run id tag the commits; ``None``: a standalone run).

    Loading the same landings again changes nothing (no commit). Dead letters of the day are replaced in
    ``rejected_records`` (entities ``submission`` and ``comment``).

    With ``missing_ok`` a day without a landing (a replayed day without a recorded listing) loads nothing and
    says so instead of failing (range loads).

    Raises:
        FileNotFoundError: no complete landing exists for ``day`` (run ``reddit_ingest`` for it first).
    """
    settings = get_settings()
    if landings is None:
        found = list_landings(settings.raw_uri, day)
        if not found and missing_ok:
            log.info("No Reddit landing for %s (nothing was landed that day): nothing to load", day)
            return {"day": day.isoformat(), "landings": 0, "failed_requests": 0, "rejected": 0}
        if not found:
            raise FileNotFoundError(
                f"no complete Reddit landing under {settings.raw_uri}/reddit/{day.isoformat()}/: run reddit_ingest "
                f"for {day} first"
            )
        landings = [landing.uri for landing in found]
    parsed, responses, failed = parse_landings(landings)
    log.info(
        "Parsed %d landing(s) of %s: %d responses (%d failed requests): %d submission and %d comment "
        "observations, %d + %d rejected",
        len(landings),
        day,
        responses,
        failed,
        len(parsed.submissions),
        len(parsed.comments),
        len(parsed.rejected_submissions),
        len(parsed.rejected_comments),
    )
    ctx = (request or RunRequest.for_cli(day=day)).commit(SOURCE)
    # The same bad record seen in two responses (two landings, an overlapping page) is one dead letter.
    rejected_submissions = _unique(parsed.rejected_submissions)
    rejected_comments = _unique(parsed.rejected_comments)
    subs = merge_rows(Table.REDDIT_SUBMISSIONS, parsed.submissions, ctx)
    coms = merge_rows(Table.REDDIT_COMMENTS, parsed.comments, ctx)
    write_dead_letters(SOURCE, "submission", day, rejected_submissions, ctx)
    write_dead_letters(SOURCE, "comment", day, rejected_comments, ctx)
    return {
        "day": day.isoformat(),
        "landings": len(landings),
        "failed_requests": failed,
        "submissions": subs.as_dict(),
        "comments": coms.as_dict(),
        "rejected": len(rejected_submissions) + len(rejected_comments),
    }


def load_days(days: Sequence[date], request: RunRequest | None = None) -> dict[str, Any]:
    """Merge the landings of several days in ONE merge per table (a range load: the demo, a manual ``start``/``end``).

    The result equals loading the days one by one (the newest observation wins either way), but each month partition
    is rewritten once instead of once per day. Days without a landing load nothing; dead letters are still replaced
    per day, as a per-day load does.
    """
    settings = get_settings()
    submissions: list[Any] = []
    comments: list[Any] = []
    rejected: dict[date, tuple[list[Rejection], list[Rejection]]] = {}
    landed = responses = failed = 0
    for day in days:
        found = list_landings(settings.raw_uri, day)
        if not found:
            log.info("No Reddit landing for %s (nothing was landed that day): nothing to load", day)
            continue
        parsed, n_responses, n_failed = parse_landings([landing.uri for landing in found])
        landed, responses, failed = landed + len(found), responses + n_responses, failed + n_failed
        submissions += parsed.submissions
        comments += parsed.comments
        rejected[day] = (_unique(parsed.rejected_submissions), _unique(parsed.rejected_comments))
    log.info(
        "Parsed %d landing(s) of %d day(s) %s .. %s: %d responses (%d failed requests): %d submission and %d comment "
        "observations",
        landed,
        len(rejected),
        min(days, default=None),
        max(days, default=None),
        responses,
        failed,
        len(submissions),
        len(comments),
    )
    ctx = (request or RunRequest.for_cli()).commit(SOURCE)
    subs = merge_rows(Table.REDDIT_SUBMISSIONS, submissions, ctx)
    coms = merge_rows(Table.REDDIT_COMMENTS, comments, ctx)
    for day, (bad_submissions, bad_comments) in rejected.items():
        write_dead_letters(SOURCE, "submission", day, bad_submissions, ctx)
        write_dead_letters(SOURCE, "comment", day, bad_comments, ctx)
    return {
        "days": len(rejected),
        "landings": landed,
        "failed_requests": failed,
        "submissions": subs.as_dict(),
        "comments": coms.as_dict(),
        "rejected": sum(len(a) + len(b) for a, b in rejected.values()),
    }


def _unique(rejections: Sequence[Rejection]) -> list[Rejection]:

    seen: dict[tuple[str, str | None, str], Rejection] = {}
    for r in rejections:
        seen.setdefault((r.reason, r.record_id, payload_text(r.raw)), r)
    return list(seen.values())


def days_to_load(request: RunRequest) -> list[date]:
    """The days a load run covers: an explicit ``date``; else the days of the triggering ingest events; else
    the run's day (:attr:`~madlake.orchestration.request.RunRequest.day`)."""
    if request.param("date"):
        return [request.day]
    days: set[date] = set()
    empty: set[date] = set()
    try:
        for event in request.triggering_events:
            extra = getattr(event, "extra", None) or {}
            if extra.get("day"):
                day = date.fromisoformat(str(extra["day"])[:10])
                # An ingest that landed nothing (a replayed day without a recorded listing) says landing=None.
                (days if extra.get("landing", "") is not None else empty).add(day)
    except Exception:
        log.warning("Could not read triggering asset events; loading the run day instead", exc_info=True)
    if not days and empty:
        log.info("Ingest(s) of %s landed nothing: nothing to load", ", ".join(str(d) for d in sorted(empty)))
        return []
    return sorted(days) or [request.day]


def _days(start: date, end: date) -> list[date]:
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def backfill_range(
    start: date,
    end: date,
    *,
    ingest_days: bool = True,
    load_days: bool = True,
    subreddits: Sequence[str] | None = None,
    mode: str | None = None,
    progress: bool = True,
    request: RunRequest | None = None,
) -> list[dict[str, Any]]:
    """Ingest and/or load every day of ``[start, end]``, one day at a time (the daily DAGs' code path).

    ``request``: the run (default: one standalone request for the whole range).

    Days are processed in order and independently: memory is one day's responses. A day without a recorded
    listing (replay) lands and loads nothing. A failing day is reported with its error and the rest go on.
    """
    request = request or RunRequest.for_cli(start=start, end=end)
    out: list[dict[str, Any]] = []
    bar = tqdm(_days(start, end), unit="day", disable=not progress, desc="reddit")
    for day in bar:
        bar.set_postfix_str(day.isoformat())
        row: dict[str, Any] = {"day": day.isoformat()}
        try:
            if ingest_days:
                got = ingest(day, subreddits=subreddits, mode=mode, request=request)
                row.update(landing=got["landing"], listed=got["submissions_listed"], comments_fetched=got["comments"])
            if load_days and (not ingest_days or row.get("landing")):
                loaded = load(day, request, missing_ok=True)
                row.update(
                    submissions=(loaded.get("submissions") or {}).get("incoming", 0),
                    comments=(loaded.get("comments") or {}).get("incoming", 0),
                    rejected=loaded.get("rejected", 0),
                )
        except Exception as exc:
            log.warning("Reddit %s failed: %s", day, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            row["error"] = f"{type(exc).__name__}: {exc}"
        out.append(row)
        pa.default_memory_pool().release_unused()  # hand the day's Arrow buffers back before the next day
    return out
