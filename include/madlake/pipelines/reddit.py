"""Reddit task bodies: ingest (API → raw landing), load (landing → Iceberg merge), archive backfill (dumps → merge).

The merge contract (:func:`merge_rows`), shared by the load and the backfill:

* rows are keyed on ``id``; of all observations of an id (incoming and stored), the newest by ``last_seen_at`` (the
  fetch time of its landing, or the archive's retrieval time) wins for stats and text — an older landing replayed
  after a newer one cannot roll stats back or resurrect text;
* text damaged in transit (U+FFFD where the source sent bytes that were not UTF-8) never overwrites an undamaged
  version of the same column: the newest undamaged observation's text is kept (the stats still refresh);
* deletion and removal are sticky: once any observation says deleted/removed, the row keeps its stats but its
  author, text and raw JSON are cleared, whatever order observations arrive in;
* ``first_seen_at``/``last_seen_at`` are the min/max over observations; ``loaded_at`` is the wall-clock time the row
  was inserted or its content last changed (a reload that changes nothing keeps it, and commits nothing);
* only the month partitions the incoming rows fall into are read and rewritten.

Retry semantics: the ingest writes a new immutable landing per attempt (an interrupted attempt leaves no manifest and
is ignored); the load and the backfill are pure functions of the landings/dumps and the table, so Airflow may retry
them any number of times. The read-reconcile-merge is not atomic against a *concurrent* writer of the same ids
(the merge retries lost commit races, but on a table state read before the race): each Reddit DAG runs with
``max_active_runs=1``; do not backfill a month while a load of the same month runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from madlake.names import Table
from madlake.sql.files import quote_ident as _q

if TYPE_CHECKING:
    import pyarrow as pa

    from madlake.lakehouse.deadletter import Rejection
    from madlake.lakehouse.writes import CommitContext

log = logging.getLogger(__name__)

SOURCE = "reddit"

#: Columns cleared when an item is deleted or removed (its text and who wrote it).
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    Table.REDDIT_SUBMISSIONS: ("author", "title", "selftext", "raw_json"),
    Table.REDDIT_COMMENTS: ("author", "body", "flair", "raw_json"),
}
#: Bookkeeping columns: a change in these alone is not a content change (``loaded_at`` is not bumped).
_BOOKKEEPING = ("first_seen_at", "last_seen_at", "loaded_at", "source", "raw_json")


# --------------------------------------------------------------------------------------------------------------------
# Merge into Iceberg
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergeSummary:
    table: str
    incoming: int
    inserted: int
    changed: int
    committed: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "incoming": self.incoming,
            "inserted": self.inserted,
            "changed": self.changed,
            "committed": self.committed,
        }


def reconcile_sql(columns: Sequence[str], text_columns: Sequence[str]) -> str:
    """The DuckDB query folding observations into one row per id (see the module docstring for the rules).

    Reads ``obs`` (incoming rows with ``__src = 1`` and a running ``__ord``, plus the stored versions of the same
    ids with ``__src = 0``) and ``stored``; binds ``?`` = the wall-clock time for ``loaded_at``. The newest
    observation is the highest ``(last_seen_at, __src, __ord)``: a tie between a stored and an incoming row goes to
    the incoming one, and within one batch the later row wins.
    """
    special = {"id", "is_deleted", "is_removed", "first_seen_at", "last_seen_at", "loaded_at"}
    gone = "(bool_or(is_deleted) or bool_or(is_removed))"
    aggs = []
    for c in columns:
        if c in special:
            continue
        if c in text_columns:
            # A version whose text carries U+FFFD (bytes that were not UTF-8, replaced on decoding) never overwrites
            # one without: the newest undamaged version wins when there is one.
            clean = f"({_q(c)} is null or strpos({_q(c)}, '\ufffd') = 0)"
            newest = (
                f"case when bool_or({clean}) then arg_max_null({_q(c)}, __rank) filter (where {clean}) "
                f"else arg_max_null({_q(c)}, __rank) end"
            )
            aggs.append(f"case when {gone} then null else {newest} end as {_q(c)}")
        else:
            aggs.append(f"arg_max({_q(c)}, __rank) as {_q(c)}")  # newest non-null: an archive gap erases nothing
    content = [c for c in columns if c not in _BOOKKEEPING]
    changed = " or ".join(f"a.{_q(c)} is distinct from e.{_q(c)}" for c in content)
    differs = " or ".join(f"a.{_q(c)} is distinct from e.{_q(c)}" for c in columns if c != "loaded_at")
    select = ", ".join(
        "case when e.id is null or (" + changed + ") then ?::timestamptz else e.loaded_at end as loaded_at"
        if c == "loaded_at"
        else f"a.{_q(c)}"
        for c in columns
    )
    return f"""
        with ranked as (
            select *, row_number() over (order by last_seen_at, __src, __ord) as __rank from obs
        ), agg as (
            select id, {", ".join(aggs)},
                   bool_or(is_deleted) as is_deleted, bool_or(is_removed) as is_removed,
                   min(first_seen_at) as first_seen_at, max(last_seen_at) as last_seen_at
            from ranked group by id
        )
        select {select}, e.id is null as __new, e.id is not null and ({changed}) as __changed,
               e.id is null or ({differs}) as __differs
        from agg a left join stored e on a.id = e.id
    """


def _columns_to_arrow(schema: pa.Schema, rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Dict rows → Arrow through one struct array (about 2x faster than ``Table.from_pylist`` at 100k rows)."""
    import pyarrow as pa

    return pa.Table.from_struct_array(pa.array(rows, type=pa.struct(list(schema)))).cast(schema)


def merge_rows(
    table_name: str,
    rows: Sequence[dict[str, Any]] | pa.Table,
    ctx: CommitContext,
    now: datetime | None = None,
) -> MergeSummary:
    """Merge observations ``rows`` (table-shaped dicts or Arrow) into ``table_name`` under this module's contract.

    Reads the month partitions the rows fall into, folds incoming and stored observations per id in DuckDB
    (:func:`reconcile_sql`), and hands the result to :func:`madlake.lakehouse.writes.merge` scoped to those
    partitions, which commits nothing when nothing changed.
    """
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyiceberg.expressions import And, In

    from madlake.lakehouse.tables import load_table
    from madlake.lakehouse.writes import conform, merge, touched_partitions_filter

    now = now or datetime.now(UTC)
    table = load_table(table_name)
    incoming = rows if isinstance(rows, pa.Table) else _columns_to_arrow(table.schema().as_arrow(), rows)
    if incoming.num_rows == 0:
        return MergeSummary(table_name, 0, 0, 0, False)
    incoming = conform(table, incoming)
    columns = [f.name for f in table.schema().fields]
    scope = touched_partitions_filter(table, incoming)
    # Only the stored versions of the incoming ids take part in the fold: read just those (not the whole partitions).
    ids = pc.unique(incoming.column("id")).to_pylist()
    stored = table.scan(row_filter=And(scope, In("id", ids))).to_arrow()
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("incoming_rows", incoming)
        con.register("stored", stored)
        con.execute(
            "create temp table obs as "
            "select *, 1 as __src, row_number() over () as __ord from incoming_rows "
            "union all by name "
            "select *, 0 as __src, 0 as __ord from stored where id in (select id from incoming_rows)"
        )
        folded = con.sql(reconcile_sql(columns, TEXT_COLUMNS[table_name]), params=[now]).to_arrow_table()
    finally:
        con.close()
    assert folded is not None
    new = int(pc.sum(folded.column("__new")).as_py() or 0)
    changed = int(pc.sum(folded.column("__changed")).as_py() or 0)
    # Rows identical to their stored version (bookkeeping included) need no rewrite; if that is all of them, the
    # partitions are not even rewritten (a reload of the same landing costs one read).
    differing = folded.filter(folded.column("__differs")).drop(["__new", "__changed", "__differs"])
    if differing.num_rows:
        committed = not merge(table, conform(table, differing), ("id",), ctx, row_filter=scope).skipped
    else:
        committed = False
    log.info(
        "%s: %d incoming row(s), %d id(s): %d new, %d changed, %d unchanged; %s",
        table_name, incoming.num_rows, folded.num_rows, new, changed, folded.num_rows - new - changed,
        "committed" if committed else "nothing to commit",
    )  # fmt: skip
    return MergeSummary(table_name, folded.num_rows, new, changed, committed)


# --------------------------------------------------------------------------------------------------------------------
# Ingest
# --------------------------------------------------------------------------------------------------------------------


def _fetch_round(fetcher: Any, names: Sequence[str], limit: int, more_budget: int, *, fetch_comments: bool) -> None:
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
    run_id: str = "manual",
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

    Returns a JSON-able summary: ``landing`` URI (or ``None``), counts, ``skipped`` requests, listing ``rounds``.

    Raises:
        LivePastDayError: live mode asked for a past (or future) day.
        RuntimeError: every request failed (Reddit down, bad credentials): retrying the task is the right move.
    """
    from madlake.config import get_settings
    from madlake.sources.reddit import tracked_subreddits
    from madlake.sources.reddit.client import RedditFetcher, reddit_session
    from madlake.sources.reddit.history import HISTORY_SUBREDDIT
    from madlake.sources.reddit.landing import LandingWriter

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


# --------------------------------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------------------------------


def parse_landings(landing_uris: Sequence[str]) -> tuple[Any, int, int]:
    """Parse every line of the landings. Returns ``(Parsed, responses, failed_requests)``."""
    from madlake.lakehouse.deadletter import Rejection
    from madlake.sources.reddit.landing import read_landing
    from madlake.sources.reddit.parse import Parsed, parse_response

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


def load(day: date, *, landings: Sequence[str] | None = None, missing_ok: bool = False) -> dict[str, Any]:
    """Merge every complete landing of ``day`` (or just ``landings``) into the Reddit tables.

    Loading the same landings again changes nothing (no commit). Dead letters of the day are replaced in
    ``rejected_records`` (entities ``submission`` and ``comment``).

    With ``missing_ok`` a day without a landing (a replayed day without a recorded listing) loads nothing and
    says so instead of failing (range loads).

    Raises:
        FileNotFoundError: no complete landing exists for ``day`` (run ``reddit_ingest`` for it first).
    """
    from madlake.config import get_settings
    from madlake.lakehouse.deadletter import write_dead_letters
    from madlake.lakehouse.writes import CommitContext
    from madlake.sources.reddit.landing import list_landings

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
    ctx = CommitContext.current(source=SOURCE)
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


def load_days(days: Sequence[date]) -> dict[str, Any]:
    """Merge the landings of several days in ONE merge per table (a range load: the demo, a manual ``start``/``end``).

    The result equals loading the days one by one (the newest observation wins either way), but each month partition
    is rewritten once instead of once per day. Days without a landing load nothing; dead letters are still replaced
    per day, as a per-day load does.
    """
    from madlake.config import get_settings
    from madlake.lakehouse.deadletter import write_dead_letters
    from madlake.lakehouse.writes import CommitContext
    from madlake.sources.reddit.landing import list_landings

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
    ctx = CommitContext.current(source=SOURCE)
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
    from madlake.lakehouse.deadletter import payload_text

    seen: dict[tuple[str, str | None, str], Rejection] = {}
    for r in rejections:
        seen.setdefault((r.reason, r.record_id, payload_text(r.raw)), r)
    return list(seen.values())


def days_to_load(context: dict[str, Any]) -> list[date]:
    """The days a load run covers: an explicit ``date``; else the days of the triggering ingest events; else
    :func:`~madlake.orchestration.runtime.run_day`."""
    from madlake.orchestration.runtime import run_day

    conf = getattr(context.get("dag_run"), "conf", None) or {}
    if conf.get("date") or (context.get("params") or {}).get("date"):
        return [run_day(context)]
    days: set[date] = set()
    empty: set[date] = set()
    events = context.get("triggering_asset_events") or {}
    try:
        for asset in events:
            for event in events[asset]:
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
    return sorted(days) or [run_day(context)]


# --------------------------------------------------------------------------------------------------------------------
# Archive backfill
# --------------------------------------------------------------------------------------------------------------------


def archive_backfill(
    subreddit: str,
    start: date,
    end: date,
    *,
    archive: str,
    kinds: Sequence[str] = ("submissions", "comments"),
    batch_size: int = 100_000,
    max_dead_letters: int = 10_000,
) -> dict[str, Any]:
    """Merge the records of ``subreddit`` created in ``[start, end]`` from its dumps under ``archive`` (path/URI).

    Each dump is streamed; records outside the date range or of another subreddit are skipped; valid ones are
    merged in batches of ``batch_size`` (each batch one merge, so a failure mid-dump leaves earlier batches loaded
    and a retry redoes them as no-ops). Invalid lines/records become dead letters (source ``reddit_archive``, entity
    ``<subreddit>_<kind>``, run day ``start``), at most ``max_dead_letters`` kept, all counted.

    Raises:
        FileNotFoundError: a requested dump does not exist (the message names it).
        ValueError: ``start`` after ``end``, or an unknown kind.
    """
    from madlake.lakehouse.writes import CommitContext
    from madlake.models.reddit import subreddit_name

    subreddit = subreddit_name(subreddit)  # it becomes part of the dump's path
    if start > end:
        raise ValueError(f"archive backfill: start {start} is after end {end}")
    unknown = [k for k in kinds if k not in ("submissions", "comments")]
    if unknown:
        raise ValueError(f"archive backfill: unknown kinds {unknown} (submissions, comments)")
    ctx = CommitContext.current(source="reddit_archive")
    summary: dict[str, Any] = {"subreddit": subreddit, "start": start.isoformat(), "end": end.isoformat()}
    for kind in kinds:
        summary[kind] = _backfill_dump(subreddit, kind, start, end, archive, ctx, batch_size, max_dead_letters)
    return summary


def _backfill_dump(
    subreddit: str,
    kind: str,
    start: date,
    end: date,
    archive: str,
    ctx: CommitContext,
    batch_size: int,
    max_dead_letters: int,
) -> dict[str, Any]:
    from pydantic import ValidationError

    from madlake.lakehouse.deadletter import Rejection, write_dead_letters
    from madlake.models.reddit import comment_row, rejection_reason, submission_row
    from madlake.sources.reddit.archive import ReadStats, created_epoch, dump_uri, iter_records, observed_at, source_of

    lo = datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()
    hi = (datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)).timestamp()
    uri = dump_uri(archive, subreddit, kind)
    table_name = Table.REDDIT_SUBMISSIONS if kind == "submissions" else Table.REDDIT_COMMENTS
    to_row = submission_row if kind == "submissions" else comment_row
    stats = ReadStats()
    rejections: list[Rejection] = []
    counts = {"lines": 0, "in_range": 0, "rejected": 0, "merged": 0, "inserted": 0, "changed": 0}
    batch: list[dict[str, Any]] = []

    def reject(reason: str, raw: Any, record_id: str | None = None) -> None:
        counts["rejected"] += 1
        if len(rejections) < max_dead_letters:
            rejections.append(Rejection(reason, raw, record_id))

    def flush() -> None:
        result = merge_rows(table_name, batch, ctx)
        counts["merged"] += result.incoming
        counts["inserted"] += result.inserted
        counts["changed"] += result.changed
        log.info(
            "%s: merged a batch of %d (%d so far; %.0f MB read at %.0f MB/s)",
            uri,
            len(batch),
            counts["merged"],
            stats.bytes_decompressed / 1e6,
            stats.mb_per_s,
        )
        batch.clear()

    for n, record, raw in iter_records(uri, stats):
        if record is None:
            reject(f"line {n}: not a JSON object", raw)
            continue
        created = created_epoch(record)
        if created is not None and not lo <= created < hi:
            continue
        if str(record.get("subreddit", "")).lower() != subreddit.lower():
            continue
        counts["in_range"] += 1
        try:
            batch.append(to_row(record, source=source_of(record), observed_at=observed_at(record)))
        except ValidationError as exc:
            reject(f"line {n}: {rejection_reason(exc)}", record, str(record["id"]) if record.get("id") else None)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    counts["lines"] = stats.lines
    write_dead_letters("reddit_archive", f"{subreddit}_{kind}", start, rejections, ctx)
    log.info(
        "%s: %d lines, %d MB decompressed at %.0f MB/s; %d record(s) in range, %d merged (%d new, %d changed), "
        "%d rejected",
        uri,
        stats.lines,
        stats.bytes_decompressed >> 20,
        stats.mb_per_s,
        counts["in_range"],
        counts["merged"],
        counts["inserted"],
        counts["changed"],
        counts["rejected"],
    )
    return counts


# --------------------------------------------------------------------------------------------------------------------
# Airflow task glue (called from dags/reddit_*.py with the task context)
# --------------------------------------------------------------------------------------------------------------------


def _csv(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return [str(v).strip() for v in items if str(v).strip()]


def ingest_task(context: dict[str, Any]) -> dict[str, Any]:
    """``reddit_ingest.ingest``: run :func:`ingest` for the run's day with the DAG params; annotate the raw asset."""
    from madlake.names import raw_asset_uri
    from madlake.orchestration.runtime import run_day, run_id

    params = context.get("params") or {}
    day = run_day(context)
    try:
        summary = ingest(
            day,
            subreddits=_csv(params.get("subreddits")) or None,
            limit=int(params.get("limit") or 100),
            more_budget=int(params.get("more_budget", 32) or 0),
            threads=_csv(params.get("threads")),
            run_id=run_id(context),
        )
    except LivePastDayError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc  # retrying cannot help
    events = context.get("outlet_events")
    if events is not None:
        from airflow.sdk import Asset

        events[Asset(raw_asset_uri(SOURCE))].extra = {"day": summary["day"], "landing": summary["landing"]}
    return summary


def load_task(context: dict[str, Any]) -> list[dict[str, Any]]:
    """``reddit_load.load``: load every day this run covers (see :func:`days_to_load`)."""
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    params = context.get("params") or {}
    start, end = conf.get("start") or params.get("start"), conf.get("end") or params.get("end")
    if start and end:
        first, last = date.fromisoformat(str(start)[:10]), date.fromisoformat(str(end)[:10])
        if last < first:
            raise ValueError(f"reddit_load: end {last} is before start {first}")
        return [load_days([first + timedelta(days=i) for i in range((last - first).days + 1)])]
    days = days_to_load(context)
    if not days:
        log.info("The triggering ingest(s) landed nothing (no recorded listing that day): nothing to load")
    return [load(day) for day in days]


def archive_backfill_task(context: dict[str, Any]) -> dict[str, Any]:
    """``reddit_archive_backfill.backfill``: :func:`archive_backfill` with the DAG params.

    Raises:
        ValueError: a missing or malformed param (named in the message).
    """
    params = context.get("params") or {}
    recorded = bool(params.get("recorded_threads"))
    missing = [
        p for p in ("subreddit", "start", "end", "archive") if not params.get(p) and not (recorded and p == "archive")
    ]
    if missing:
        raise ValueError(f"reddit_archive_backfill needs params {missing}")
    days = {}
    for key in ("start", "end"):
        try:
            days[key] = date.fromisoformat(str(params[key])[:10])
        except ValueError as exc:
            raise ValueError(
                f"reddit_archive_backfill: param {key}={params[key]!r} is not a YYYY-MM-DD day ({exc})"
            ) from None
    from madlake.models.reddit import subreddit_name

    args = (
        subreddit_name(params["subreddit"]),  # it becomes part of file paths: refuse anything but a subreddit
        days["start"],
        days["end"],
    )
    kinds = _csv(params.get("kinds")) or ("submissions", "comments")
    if not recorded:
        return archive_backfill(*args, archive=str(params["archive"]), kinds=kinds)
    return recorded_threads_backfill(*args, kinds=kinds)


def recorded_threads_backfill(
    subreddit: str,
    start: date,
    end: date,
    *,
    kinds: Sequence[str] = ("submissions", "comments"),
    replay_dir: Path | None = None,
) -> dict[str, Any]:
    """:func:`archive_backfill` over the recorded salary threads of the Reddit replay folder.

    The threads (``/comments`` answers) are first flattened into archive dumps (one JSON object per line, zstd) in
    a temporary folder by :func:`madlake.sources.reddit.archive.threads_to_archive`, then read by the archive code
    path like any Pushshift / Arctic Shift dump.

    Raises:
        FileNotFoundError: the replay folder holds no recorded thread.
    """
    import tempfile

    from madlake.config import get_settings
    from madlake.sources.reddit.archive import threads_to_archive

    root = replay_dir or get_settings().replay_path("reddit")
    files = default_thread_files(root)
    if not files:
        raise FileNotFoundError(f"no recorded salary thread under {root} ({SALARY_THREADS_DIR}/, comments/)")
    with tempfile.TemporaryDirectory(prefix="madlake-threads-") as tmp:
        written = threads_to_archive(files, tmp)
        log.info("Flattened %d recorded thread(s) into archive dumps: %s", len(files), written)
        summary = archive_backfill(subreddit, start, end, archive=tmp, kinds=kinds)
    return {**summary, "threads": len(files), "dumps": written}


def demo_report() -> list[str]:
    """Lines ``madlake demo`` prints about Reddit: what loaded, per subreddit, and what was rejected."""
    from madlake.sql.engine import get_engine

    engine = get_engine()
    lines = ["Reddit (replayed real API responses):"]
    per_sub = engine.query(
        "select s.subreddit, count(distinct s.id) as posts, count(c.id) as comments "
        "from reddit_submissions s left join reddit_comments c on c.link_id = s.fullname "
        "group by s.subreddit order by s.subreddit"
    ).to_pylist()
    for r in per_sub:
        lines.append(f"  r/{r['subreddit']:<18} {r['posts']:>4} posts {r['comments']:>5} comments")
    dead = engine.query("select count(*) as n from rejected_records where source like 'reddit%'").to_pylist()[0]["n"]
    lines.append(
        f'  rejected records: {dead}   try: madlake sql "select title, score, num_comments from '
        'reddit_submissions order by score desc limit 5"'
    )
    return lines


# --------------------------------------------------------------------------------------------------------------------
# Ranges and the command line (``madlake reddit ...``)
# --------------------------------------------------------------------------------------------------------------------


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
) -> list[dict[str, Any]]:
    """Ingest and/or load every day of ``[start, end]``, one day at a time (the daily DAGs' code path).

    Days are processed in order and independently: memory is one day's responses. A day without a recorded
    listing (replay) lands and loads nothing. A failing day is reported with its error and the rest go on.
    """
    import pyarrow as pa
    from tqdm import tqdm

    out: list[dict[str, Any]] = []
    bar = tqdm(_days(start, end), unit="day", disable=not progress, desc="reddit")
    for day in bar:
        bar.set_postfix_str(day.isoformat())
        row: dict[str, Any] = {"day": day.isoformat()}
        try:
            if ingest_days:
                got = ingest(day, subreddits=subreddits, mode=mode)
                row.update(landing=got["landing"], listed=got["submissions_listed"], comments_fetched=got["comments"])
            if load_days and (not ingest_days or row.get("landing")):
                loaded = load(day, missing_ok=True)
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


def _cmd_range(args: Any) -> int:
    from madlake.pipelines.tools import init_lakehouse

    init_lakehouse()
    start = date.fromisoformat(args.start)
    end = date.fromisoformat(args.end) if args.end else start
    rows = backfill_range(
        start,
        end,
        ingest_days=args.reddit_command in ("ingest", "backfill"),
        load_days=args.reddit_command in ("load", "backfill"),
        subreddits=_csv(args.subreddits) or None,
        mode=args.source_mode,
    )
    landed = [r for r in rows if r.get("landing") or r.get("submissions")]
    failed = [r for r in rows if r.get("error")]
    for r in rows:
        if r.get("error"):
            text = f"FAILED {r['error']}"
        elif args.reddit_command != "load" and not r.get("landing"):
            text = "nothing recorded: nothing landed"
        else:
            text = ", ".join(f"{k} {v}" for k, v in r.items() if k not in ("day", "landing"))
        print(f"{r['day']}: {text}")  # noqa: T201 - a command's output
    print(  # noqa: T201
        f"{len(rows)} day(s): {len(landed)} with data, {len(rows) - len(landed) - len(failed)} empty, "
        f"{len(failed)} failed"
    )
    return 1 if failed else 0


def _cmd_days(args: Any) -> int:
    from madlake.config import get_settings
    from madlake.sources.reddit.history import list_captures

    captures = list_captures(get_settings().replay_path("reddit"))
    days = sorted({c.at.date() for c in captures})
    span = f": {days[0]} .. {days[-1]}" if days else ""
    print(f"{len(days)} recorded days, {len(captures)} listing captures{span}")  # noqa: T201
    return 0


def _cmd_threads_to_archive(args: Any) -> int:
    from madlake.config import get_settings
    from madlake.sources.reddit.archive import threads_to_archive

    files = list(args.files) or default_thread_files(get_settings().replay_path("reddit"))
    if not files:
        raise FileNotFoundError("no recorded thread files given or found in the Reddit replay folder")
    for name, n in threads_to_archive(files, args.out).items():
        print(f"{args.out}/{name}: {n} record(s)")  # noqa: T201
    return 0


#: The recorded r/dataengineering "Quarterly Salary Discussion" threads: the history folder's, and the two flat
#: recordings of June and September 2021.
SALARY_THREADS_DIR = "dataengineering_salary_threads"
FLAT_SALARY_THREADS = ("npxcqc", "pfwuyg")


def default_thread_files(replay_root: Path) -> list[str]:
    """The salary threads present under the Reddit replay folder (history layout, then the flat recordings)."""
    files = sorted(str(p) for p in (replay_root / SALARY_THREADS_DIR).glob("*.json*"))
    files += [str(replay_root / "comments" / f"{t}.json") for t in FLAT_SALARY_THREADS]
    return [f for f in files if Path(f).is_file()]


def register(sub: Any) -> None:
    """Add ``madlake reddit ...`` (cheap: no heavy imports until a command runs)."""
    group = sub.add_parser("reddit", help="Reddit: ingest/load day ranges, recorded days, threads → archive dumps")
    cmds = group.add_subparsers(dest="reddit_command", required=True)
    for name, help_text in (
        ("ingest", "land days START..END (inclusive) through the reddit_ingest code path"),
        ("load", "merge the landings of days START..END through the reddit_load code path"),
        ("backfill", "ingest then load each day of START..END"),
    ):
        p = cmds.add_parser(name, help=help_text)
        p.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
        p.add_argument("--end", help="last day, YYYY-MM-DD (default: START)")
        p.add_argument("--subreddits", help="comma-separated (default: the tracked list)")
        p.add_argument("--source-mode", choices=["replay", "live"], help="override MADLAKE_SOURCE_MODE")
        p.set_defaults(handler=_cmd_range)
    p = cmds.add_parser("replay-days", help="which days the Reddit replay folder has recorded listings for")
    p.set_defaults(handler=_cmd_days)
    p = cmds.add_parser(
        "threads-to-archive", help="write recorded /comments threads as <subreddit>_{submissions,comments}.zst dumps"
    )
    p.add_argument("--out", required=True, help="folder for the dumps (then: reddit_archive_backfill archive=OUT)")
    p.add_argument("files", nargs="*", help="thread files (.json/.json.gz); default: the replay's salary threads")
    p.set_defaults(handler=_cmd_threads_to_archive)
