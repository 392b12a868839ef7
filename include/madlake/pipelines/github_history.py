"""The GitHub history pipeline: real daily and monthly repository figures into ``github_repo_history``.

Sources (see :mod:`madlake.sources.github_history`): EvanLi/Github-Ranking's daily top-100 lists (``github-ranking``,
from 2018-12-18: stars, forks, open issues, last commit of every tracked repo inside some top-100 list that day) and
the monthly best-of snapshots (``best-of-ml-python``, ``best-of-python``: stars, forks, open/closed issues,
contributors, commits, releases).

Contract of :func:`load_range` (the task body of the ``github_history`` DAG and of ``madlake github-history load``):

* **A run replaces exactly its days.** Every row of ``github_repo_history`` dated ``start..end`` (all three sources)
  is replaced by what the files say about those days, in one ``overwrite`` with that filter (a delete and an append
  snapshot); rows outside the range are never touched. Rerunning gives the same rows (only ``loaded_at`` differs), so
  an Airflow backfill, a rerun or a range run over the same days never duplicates anything. A range run commits once
  (replay) or once per calendar month (live, so a failure after months of downloads keeps the months done).
* **A day with no file** (the ranking skipped it, no best-of snapshot is dated that day) succeeds: its rows are
  simply none, and the run logs which sources had no file.
* **Bad input**: a bad row (bad number, bad date, not a GitHub URL, a DERIVED row of a repo not in the catalog) goes
  to ``rejected_records`` (source ``github_history``, entity = the history source, ``run_date`` = the row's day) and
  the rest loads. A bad *file* (corrupt gzip, missing columns, a best-of name without a date) is dead-lettered once
  with its reason and its days are left out of the replace: what was stored for them stays (never replaced by
  nothing). Dead letters of the run's days are replaced in one commit, so reruns never duplicate them.
* **Untracked repositories** in a live daily ranking file or a best-of snapshot (most rows: those lists cover all of
  GitHub or all of the Python ecosystem) are skipped and counted, not dead-lettered.
* **Nothing half-written**: every file of a commit is fetched and parsed before that commit; a fetch that still fails
  after its retries (:class:`~madlake.sources.github_history.live.RawFileError`) fails the run before writing.

Source modes: ``replay`` (local default) reads ``$MADLAKE_REPLAY_DIR/github/{github-ranking,best-of-ml-python,
best-of-python}`` (the bundled trimmed copy, or a folder laid out like the history folder for the full files);
``live`` fetches ``raw.githubusercontent.com`` (``MADLAKE_GITHUB_HISTORY_RAW_URL`` to point elsewhere).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.expressions import And, EqualTo, GreaterThanOrEqual, LessThanOrEqual, Not, Or
from tqdm import tqdm

from madlake.catalog import load_catalog
from madlake.config import get_settings
from madlake.lakehouse.deadletter import payload_text
from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import replace_partition, rows_to_arrow
from madlake.names import Table
from madlake.orchestration.request import RunRequest
from madlake.orchestration.schedule import GITHUB_HISTORY_START
from madlake.redaction import redact
from madlake.sources.github_history.live import RawFilesClient
from madlake.sources.github_history.parse import (
    BEST_OF_REPOS,
    RANKING,
    HistoryFileError,
    best_of_day,
    decode,
    parse_best_of,
    parse_ranking,
)
from madlake.sources.github_history.replay import ReplayFiles

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression

    from madlake.lakehouse.writes import CommitContext
    from madlake.sources.github_history.parse import Names, Parsed, Rejected

log = logging.getLogger(__name__)

SOURCE = "github_history"
#: The first day of EvanLi/Github-Ranking's daily files: the DAG's start date.
FIRST_DAY = GITHUB_HISTORY_START
#: How many days without a file a range run names in its log line (the rest are counted).
MISSING_SHOWN = 10


@dataclass(frozen=True)
class BadFile:
    """A file that could not be used: dead-lettered, and its days of its source keep their stored rows."""

    source: str
    file: str
    reason: str
    first: date | None  # the days it would have covered (None: undatable, covers nothing)
    last: date | None


@dataclass
class Collected:
    """Everything one commit needs: the rows, the rejections, and what was missing, skipped or unusable."""

    start: date
    end: date
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    bad_files: list[BadFile] = field(default_factory=list)
    untracked: Counter[str] = field(default_factory=Counter)  # source -> skipped rows
    files: Counter[str] = field(default_factory=Counter)  # source -> files read
    missing: dict[str, list[date]] = field(default_factory=dict)  # source -> days without a file

    def add(self, parsed: Parsed) -> None:
        self.rows += parsed.rows
        self.rejected += parsed.rejected
        self.untracked[parsed.source] += sum(parsed.untracked.values())
        self.files[parsed.source] += 1

    def bad(self, source: str, error: HistoryFileError, first: date | None, last: date | None) -> None:
        log.warning("Unusable %s file %s: %s (its days keep their stored rows)", source, error.file, error.problem)
        self.bad_files.append(BadFile(source, error.file, error.problem, first, last))


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def github_names() -> Names:
    """``{lower-cased owner/name (current or former): (tool_id, tracked repo)}`` from the tools catalog."""
    return load_catalog().github_names()


# --------------------------------------------------------------------------------------------------------------------
# Collect: replay folder or live files
# --------------------------------------------------------------------------------------------------------------------


def collect_replay(root: Path, start: date, end: date, names: Names, *, progress: bool = False) -> Collected:
    """Parse the replay files covering ``start..end`` (each DERIVED year file once, every best-of file dated within)."""
    if not any((root / folder).is_dir() for folder in (RANKING, *BEST_OF_REPOS)):
        # A mistyped MADLAKE_REPLAY_DIR must not replace the range with nothing.
        raise FileNotFoundError(
            f"{root}: no {RANKING}/, {'/, '.join(BEST_OF_REPOS)}/ folder: not a GitHub history replay folder"
        )
    files = ReplayFiles(root)
    out = Collected(start, end)
    ranking = files.ranking_files(start, end)
    best_of = {}
    for source in BEST_OF_REPOS:
        found, undatable = files.best_of_files(source, start, end)
        best_of[source] = found
        for error in undatable:
            out.bad(source, error, None, None)
    todo = [*ranking, *(f for found in best_of.values() for f in found)]
    with tqdm(total=len(todo), desc="github_history", unit="file", disable=not progress) as bar:
        for item in todo:
            bar.set_postfix_str(item.name)
            first: date | None
            last: date | None
            if item.source == RANKING:
                assert item.year is not None
                first = max(start, date(item.year, 1, 1))
                last = min(end, date(item.year, 12, 31))
            else:
                first = last = item.day
            try:
                text = decode(item.path.read_bytes(), item.name)
                if item.source == RANKING:
                    parsed = parse_ranking(text, item.name, names, untracked="reject", start=start, end=end)
                else:
                    day = best_of_day(item.path.name)
                    parsed = parse_best_of(text, item.name, names, item.source, day)
            except HistoryFileError as exc:
                out.bad(item.source, exc, first, last)
            else:
                out.add(parsed)
            bar.update()
    ranked = {r["day"] for r in out.rows if r["source"] == RANKING}
    unusable = {d for b in out.bad_files if b.source == RANKING and b.first for d in _days(b.first, b.last or b.first)}
    out.missing[RANKING] = [d for d in _days(start, end) if d not in ranked and d not in unusable]
    for source, found in best_of.items():
        dated = {f.day for f in found}
        out.missing[source] = [d for d in _days(start, end) if d not in dated]
    return out


def collect_live(client: RawFilesClient, start: date, end: date, names: Names, *, progress: bool = False) -> Collected:
    """Fetch and parse each day's files (the ranking file and any best-of snapshot dated that day).

    Raises:
        RawFileError: a file still failing after its retries (nothing of this range is written).
    """
    out = Collected(start, end)
    out.missing = {s: [] for s in (RANKING, *BEST_OF_REPOS)}
    days = _days(start, end)
    with tqdm(total=len(days), desc="github_history", unit="day", disable=not progress) as bar:
        for day in days:
            bar.set_postfix_str(day.isoformat())
            for source in (RANKING, *BEST_OF_REPOS):
                path = client.path(source, day)
                name = f"{source}/{path.rsplit('/', 1)[-1]}"
                data = client.fetch(path)
                if data is None:
                    out.missing[source].append(day)
                    continue
                try:
                    text = decode(data, name)
                    if source == RANKING:
                        parsed = parse_ranking(text, name, names, day=day, untracked="skip")
                    else:
                        parsed = parse_best_of(text, name, names, source, day)
                except HistoryFileError as exc:
                    out.bad(source, exc, day, day)
                else:
                    out.add(parsed)
            bar.update()
    return out


# --------------------------------------------------------------------------------------------------------------------
# Write
# --------------------------------------------------------------------------------------------------------------------


def replace_filter(start: date, end: date, bad_files: Sequence[BadFile] = ()) -> BooleanExpression:
    """Rows dated ``start..end``, except the days of each unusable file's source (their stored rows are kept)."""
    expr: BooleanExpression = And(GreaterThanOrEqual("day", start.isoformat()), LessThanOrEqual("day", end.isoformat()))
    kept: BooleanExpression | None = None
    for bad in bad_files:
        if bad.first is None:
            continue
        one = And(
            EqualTo("source", bad.source),
            And(
                GreaterThanOrEqual("day", bad.first.isoformat()),
                LessThanOrEqual("day", (bad.last or bad.first).isoformat()),
            ),
        )
        kept = one if kept is None else Or(kept, one)
    return expr if kept is None else And(expr, Not(kept))


def _write_dead_letters(collected: Collected, ctx: CommitContext) -> int:
    """Replace the dead letters of ``github_history`` dated within the range (rows and bad files) in one commit."""
    start, end = collected.start, collected.end
    now = datetime.now(UTC)

    def run_date(day: date | None) -> str:
        return (day if day is not None and start <= day <= end else start).isoformat()

    rows = [
        {
            "source": SOURCE,
            "entity": r.source,
            "run_id": ctx.run_id,
            "record_id": None if r.record_id is None else str(r.record_id)[:512],
            "reason": redact(r.reason)[:4000],
            "raw_payload": redact(payload_text(r.raw)),
            "rejected_at": now,
            "run_date": run_date(r.day),
        }
        for r in collected.rejected
    ]
    rows += [
        {
            "source": SOURCE,
            "entity": b.source,
            "run_id": ctx.run_id,
            "record_id": b.file,
            "reason": redact(f"unusable file: {b.reason}")[:4000],
            "raw_payload": payload_text({"file": b.file, "days": [str(b.first), str(b.last)]}),
            "rejected_at": now,
            "run_date": run_date(b.first),
        }
        for b in collected.bad_files
    ]
    table = load_table(Table.REJECTED_RECORDS)
    scope = And(
        EqualTo("source", SOURCE),
        And(GreaterThanOrEqual("run_date", start.isoformat()), LessThanOrEqual("run_date", end.isoformat())),
    )
    replace_partition(table, rows_to_arrow(table, rows), scope, ctx)
    if rows:
        log.warning("github_history %s..%s: %d record(s) rejected to %s", start, end, len(rows), Table.REJECTED_RECORDS)
    return len(rows)


def write_collected(collected: Collected, ctx: CommitContext) -> dict[str, Any]:
    """Replace the range's rows (minus unusable files' days) and its dead letters. Returns the chunk's figures."""
    table = load_table(Table.GITHUB_REPO_HISTORY)
    now = datetime.now(UTC)
    target = table.schema().as_arrow()
    rows = collected.rows
    keys = Counter((r["day"], r["repo"], r["source"]) for r in rows)
    dups = [k for k, n in keys.items() if n > 1]
    if dups:  # the parsers key rows once per (day, repo); two files of one source for a day would break that
        raise ValueError(f"{Table.GITHUB_REPO_HISTORY}: {len(dups)} duplicate (day, repo, source) keys: {dups[:3]}")
    rows.sort(key=lambda r: (r["day"], r["repo"], r["source"]))
    columns = {f.name: [r.get(f.name) for r in rows] for f in target if f.name != "loaded_at"}
    columns["loaded_at"] = [now] * len(rows)
    data = pa.Table.from_pydict({f.name: columns[f.name] for f in target}, schema=target)
    with warnings.catch_warnings():
        # pyiceberg warns when the delete half of an overwrite finds nothing (a first load): expected, not news.
        warnings.filterwarnings("ignore", message="Delete operation did not match any records")
        scope = replace_filter(collected.start, collected.end, collected.bad_files)
        result = replace_partition(table, data, scope, ctx)
        rejected = _write_dead_letters(collected, ctx)
    return {"rows": result.rows_written, "rejected": rejected, "snapshot_id": result.snapshot_id}


# --------------------------------------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------------------------------------


def _months(start: date, end: date) -> Iterator[tuple[date, date]]:
    first = start
    while first <= end:
        next_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        last = min(end, next_month - timedelta(days=1))
        yield first, last
        first = last + timedelta(days=1)


def _log_missing(collected: Collected) -> None:
    single = collected.start == collected.end
    for source, days in collected.missing.items():
        if not days:
            continue
        if single:
            log.info("%s: no file for %s: nothing to load from it for that day", source, days[0])
        elif source == "github-ranking":
            shown = ", ".join(d.isoformat() for d in days[:MISSING_SHOWN])
            more = f" and {len(days) - MISSING_SHOWN} more" if len(days) > MISSING_SHOWN else ""
            log.info("%s: %d of %d days have no file (or no tracked repo): %s%s", source, len(days),
                     (collected.end - collected.start).days + 1, shown, more)  # fmt: skip


def load_range(
    start: date,
    end: date,
    request: RunRequest | None = None,
    *,
    source_mode: str | None = None,
    progress: bool = False,
    client: RawFilesClient | None = None,
    names: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Load every day ``start..end`` (inclusive) into ``github_repo_history``; see the module docstring.

    Args:
        request: the run (its DAG and run id tag the commits; ``None``: a standalone run).
        source_mode: ``replay`` or ``live`` (default: the profile's).
        progress: show a tqdm bar (files in replay, days live).
        client: a live client to use instead of one built from the settings (closed by the caller).
        names: catalog names to map with (default: the bundled catalog).

    Raises:
        ValueError: ``end`` before ``start``, or an unknown source mode.
        FileNotFoundError: replay mode, and the replay folder holds none of the history folders (nothing written).
        RawFileError: a live file could not be fetched (months already committed stay committed).
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    settings = get_settings()
    mode = source_mode or settings.effective_source_mode
    if mode not in ("replay", "live"):
        raise ValueError(f"source mode must be 'replay' or 'live', got {mode!r}")
    names = names if names is not None else github_names()
    ctx = (request or RunRequest.for_cli(start=start, end=end)).commit(SOURCE)
    started = time.perf_counter()
    timings: dict[str, float] = {"collect": 0.0, "write": 0.0}
    chunks: list[tuple[Collected, dict[str, Any]]] = []

    def run_chunk(collect: Callable[[], Collected]) -> None:
        t0 = time.perf_counter()
        collected = collect()
        t1 = time.perf_counter()
        written = write_collected(collected, ctx)
        timings["collect"] += t1 - t0
        timings["write"] += time.perf_counter() - t1
        _log_missing(collected)
        chunks.append((collected, written))

    if mode == "replay":
        root = settings.replay_path("github")
        run_chunk(lambda: collect_replay(root, start, end, names, progress=progress))
    else:
        own = client is None
        live = client or RawFilesClient()
        try:
            for first, last in _months(start, end):
                run_chunk(lambda f=first, la=last: collect_live(live, f, la, names, progress=progress))  # type: ignore[misc]
        finally:
            if own:
                live.close()
    summary = _summary(start, end, mode, chunks, timings, time.perf_counter() - started)
    log.info(
        "github_repo_history %s..%s (%s): %d rows %s from %s files; %d rejected, %d unusable files, untracked rows "
        "skipped %s; %.1fs",
        start,
        end,
        mode,
        summary["rows"],
        summary["rows_by_source"],
        summary["files"],
        summary["rejected"],
        len(summary["bad_files"]),
        summary["untracked"],
        summary["seconds"]["total"],
    )
    return summary


def _summary(
    start: date,
    end: date,
    mode: str,
    chunks: Sequence[tuple[Collected, dict[str, Any]]],
    timings: Mapping[str, float],
    total: float,
) -> dict[str, Any]:
    by_source: Counter[str] = Counter()
    untracked: Counter[str] = Counter()
    files: Counter[str] = Counter()
    missing: Counter[str] = Counter()
    bad: list[str] = []
    for collected, _ in chunks:
        by_source.update(r["source"] for r in collected.rows)
        untracked.update(collected.untracked)
        files.update(collected.files)
        missing.update({s: len(d) for s, d in collected.missing.items()})
        bad += [f"{b.file}: {b.reason}" for b in collected.bad_files]
    return {
        "table": Table.GITHUB_REPO_HISTORY,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": (end - start).days + 1,
        "mode": mode,
        "rows": sum(w["rows"] for _, w in chunks),
        "rows_by_source": dict(sorted(by_source.items())),
        "days_with_rows": len({r["day"] for c, _ in chunks for r in c.rows}),
        "files": sum(files.values()),
        "files_by_source": dict(sorted(files.items())),
        "days_without_file": dict(sorted(missing.items())),
        "rejected": sum(w["rejected"] for _, w in chunks) - len(bad),
        "bad_files": bad,
        "untracked": dict(sorted((k, v) for k, v in untracked.items() if v)),
        "commits": len(chunks),
        "snapshot_id": chunks[-1][1]["snapshot_id"] if chunks else None,
        "seconds": {**{k: round(v, 3) for k, v in timings.items()}, "total": round(total, 3)},
    }


def load_day(day: date, request: RunRequest | None = None, *, source_mode: str | None = None) -> dict[str, Any]:
    """:func:`load_range` of one day (the scheduled run and one run of an Airflow backfill)."""
    return load_range(day, day, request, source_mode=source_mode)


def asset_extra(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The ``extra`` of the ``github_repo_history`` asset event: the table, the days replaced, the rows written."""
    return {"table": Table.GITHUB_REPO_HISTORY, "days": [summary["start"], summary["end"]], "rows": summary["rows"]}


def run_range(request: RunRequest) -> tuple[date, date]:
    """The days a DAG run replaces: the inclusive ``start``..``end`` of its params/conf, else its day.

    Scheduled runs and Airflow backfills load exactly their data interval's day. A manual run with conf
    ``{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}`` loads the range in one run (the whole history from 2018-12-18 in
    under a minute on replay).
    """
    start = request.date_param("start")
    if start:
        return start, request.date_param("end") or start
    return request.day, request.day
