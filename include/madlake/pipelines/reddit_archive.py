"""The ``reddit_archive_backfill`` pipeline: history from Pushshift / Arctic Shift dumps, merged like a load.

Rerunning the same range changes nothing (:func:`madlake.pipelines.reddit_merge.merge_rows`); a failure mid-dump
keeps the batches already merged and a retry redoes them as no-ops.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from madlake.config import get_settings
from madlake.lakehouse.deadletter import Rejection, write_dead_letters
from madlake.models.reddit import comment_row, rejection_reason, submission_row, subreddit_name
from madlake.names import Table
from madlake.orchestration.request import RunRequest
from madlake.pipelines.reddit_merge import merge_rows
from madlake.sources.reddit.archive import (
    ReadStats,
    created_epoch,
    dump_uri,
    iter_records,
    observed_at,
    source_of,
    threads_to_archive,
)

if TYPE_CHECKING:
    from madlake.lakehouse.writes import CommitContext

log = logging.getLogger(__name__)

#: The recorded r/dataengineering "Quarterly Salary Discussion" threads: the history folder's, and the two flat
#: recordings of June and September 2021.
SALARY_THREADS_DIR = "dataengineering_salary_threads"
FLAT_SALARY_THREADS = ("npxcqc", "pfwuyg")


def default_thread_files(replay_root: Path) -> list[str]:
    """The salary threads present under the Reddit replay folder (history layout, then the flat recordings)."""
    files = sorted(str(p) for p in (replay_root / SALARY_THREADS_DIR).glob("*.json*"))
    files += [str(replay_root / "comments" / f"{t}.json") for t in FLAT_SALARY_THREADS]
    return [f for f in files if Path(f).is_file()]


def archive_backfill(
    subreddit: str,
    start: date,
    end: date,
    *,
    archive: str,
    kinds: Sequence[str] = ("submissions", "comments"),
    batch_size: int = 100_000,
    max_dead_letters: int = 10_000,
    request: RunRequest | None = None,
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
    subreddit = subreddit_name(subreddit)  # it becomes part of the dump's path
    if start > end:
        raise ValueError(f"archive backfill: start {start} is after end {end}")
    unknown = [k for k in kinds if k not in ("submissions", "comments")]
    if unknown:
        raise ValueError(f"archive backfill: unknown kinds {unknown} (submissions, comments)")
    ctx = (request or RunRequest.for_cli(start=start, end=end)).commit("reddit_archive")
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


def recorded_threads_backfill(
    subreddit: str,
    start: date,
    end: date,
    *,
    kinds: Sequence[str] = ("submissions", "comments"),
    replay_dir: Path | None = None,
    request: RunRequest | None = None,
) -> dict[str, Any]:
    """:func:`archive_backfill` over the recorded salary threads of the Reddit replay folder.

    The threads (``/comments`` answers) are first flattened into archive dumps (one JSON object per line, zstd) in
    a temporary folder by :func:`madlake.sources.reddit.archive.threads_to_archive`, then read by the archive code
    path like any Pushshift / Arctic Shift dump.

    Raises:
        FileNotFoundError: the replay folder holds no recorded thread.
    """
    root = replay_dir or get_settings().replay_path("reddit")
    files = default_thread_files(root)
    if not files:
        raise FileNotFoundError(f"no recorded salary thread under {root} ({SALARY_THREADS_DIR}/, comments/)")
    with tempfile.TemporaryDirectory(prefix="madlake-threads-") as tmp:
        written = threads_to_archive(files, tmp)
        log.info("Flattened %d recorded thread(s) into archive dumps: %s", len(files), written)
        summary = archive_backfill(subreddit, start, end, archive=tmp, kinds=kinds, request=request)
    return {**summary, "threads": len(files), "dumps": written}
