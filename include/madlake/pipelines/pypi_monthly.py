"""The monthly PyPI pipeline: every top-pypi-packages snapshot dated in a range into ``pypi_downloads_monthly``.

Contract of :func:`load_range` (the task body of the ``pypi_monthly`` DAG and of ``madlake pypi monthly``):

* A run loads every snapshot whose ``snapshot_date`` (the file's commit date) lies in ``start`` .. ``end``
  (inclusive) and *replaces exactly those snapshot dates* (one overwrite whose filter is ``snapshot_date in (...)``),
  through write-audit-publish: rerun = the same rows, never duplicates; other dates are untouched.
* Several commits of the file on one day (2018-02-25 has 5, 2024-12-01 has 2) share a snapshot date: the one with the
  latest ``last_update`` is that day's snapshot (ties: the larger sha, so the choice is deterministic); the others
  are counted as ``superseded`` in the summary and logged by name.
* A file that cannot be read as a snapshot (unknown shape, undatable name, missing fields, a malformed row, no
  counting method for its date) is a dead letter in ``rejected_records`` (source ``pypi_monthly``, entity
  ``snapshot_file``, run date = ``start``, record id = the file name) and yields no row; the other files still load.
  A run's dead letters replace those of an earlier run with the same ``start``.
* A range with no snapshot succeeds, logs ``no top-pypi-packages snapshot dated ...; nothing landed`` and writes no
  row. A failing source (missing replay folder, GitHub errors, rate limits longer than allowed) raises before
  anything is written: retry.
* A failed audit (duplicate key, a count <= 0, downloads null without below_list or the reverse, list_size <= 0)
  raises :class:`~madlake.lakehouse.writes.AuditFailedError`; main is untouched.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pyiceberg.expressions import In
from tqdm import tqdm

from madlake.config import get_settings
from madlake.lakehouse.deadletter import Rejection, write_dead_letters
from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import AuditReport, ExpectationResult, rows_to_arrow, write_audit_publish
from madlake.names import Table
from madlake.orchestration.request import RunRequest
from madlake.pipelines.pypi import tracked_projects as pypi_tracked
from madlake.quality.log import audit_recorder
from madlake.sources.github.client import resolve_token
from madlake.sources.pypi_monthly.fetch import LiveSource, SnapshotFile, replay_files, replay_root, same
from madlake.sources.pypi_monthly.parse import SnapshotRejectedError, parse_snapshot
from madlake.tables.pypi import MONTHLY_METHODS

if TYPE_CHECKING:
    import pyarrow as pa
    from pyiceberg.table import Table as IcebergTable

log = logging.getLogger(__name__)

SOURCE = "pypi_monthly"
ENTITY = "snapshot_file"
#: ``source`` column values: the GitHub history / published file, or a replay folder.
LIVE_SOURCE = "top-pypi-packages"
REPLAY_SOURCE = "replay"


@dataclass
class Collected:
    """The parsed snapshots of a range (one per snapshot date), what was superseded, and what was rejected."""

    snapshots: list[Any]
    superseded: list[str]
    rejections: list[Any]
    files: int


def tracked_projects() -> list[str]:

    return pypi_tracked()


def list_files(start: date, end: date, *, source_mode: str | None = None) -> tuple[list[Any], str]:
    """The snapshot files dated ``start`` .. ``end`` and the ``source`` label of their rows."""
    settings = get_settings()
    mode = source_mode or settings.effective_source_mode
    if mode == "replay":
        return replay_files(replay_root(settings.replay_dir.expanduser().resolve()), start, end), REPLAY_SOURCE

    source = LiveSource(token=resolve_token())
    try:
        # Reading happens inside collect(): keep the clients open by materializing the content here.
        files = source.files(start, end)
        docs = [(f, f.read()) for f in files]
    finally:
        source.close()

    return [SnapshotFile(f.name, f.origin, functools.partial(same, doc)) for f, doc in docs], LIVE_SOURCE


def collect(
    files: list[Any], tracked: list[str], source: str, *, loaded_at: datetime, progress: bool = False
) -> Collected:
    """Parse ``files``; keep one snapshot per date (latest ``last_update``); dead-letter the unreadable ones."""
    by_date: dict[date, list[Any]] = {}
    rejections = []
    with tqdm(total=len(files), desc="pypi_monthly", unit="file", disable=not progress) as bar:
        for f in files:
            bar.set_postfix_str(f.name[:10])
            try:
                parsed = parse_snapshot(f.read(), f.name, tracked, source=source, loaded_at=loaded_at)
            except SnapshotRejectedError as exc:
                log.warning("Rejected %s (%s): %s", f.name, f.origin, exc.reason)
                rejections.append(Rejection(exc.reason, {"file": f.name, "origin": f.origin}, f.name))
            else:
                if parsed.unknown:
                    log.warning(
                        "%s is a trimmed copy that does not cover %d tracked project(s) (%s): no row for them",
                        f.name,
                        len(parsed.unknown),
                        ", ".join(parsed.unknown[:10]),
                    )
                by_date.setdefault(parsed.meta.snapshot_date, []).append(parsed)
            bar.update()
    snapshots, superseded = [], []
    for day in sorted(by_date):
        ranked = sorted(
            by_date[day],
            key=lambda p: (p.meta.last_update or datetime.min.replace(tzinfo=UTC), p.meta.snapshot_id),
        )
        snapshots.append(ranked[-1])
        if len(ranked) > 1:
            names = [p.meta.name for p in ranked[:-1]]
            log.info("%s: %d same-day file(s) superseded by %s: %s", day, len(names), ranked[-1].meta.name, names)
            superseded.extend(names)
    return Collected(snapshots, superseded, rejections, len(files))


def audit_rows(rows: pa.Table, table: IcebergTable, snapshot_id: int) -> AuditReport:
    """The light audit run on the staged rows before they are published (see the module docstring)."""
    data = rows.to_pylist()
    keys = Counter((r["snapshot_date"], r["project"]) for r in data)
    dup = [k for k, n in keys.items() if n > 1]
    bad_downloads = [r for r in data if r["downloads"] is not None and r["downloads"] <= 0]
    censoring = [
        r
        for r in data
        if (r["downloads"] is None) != bool(r["below_list"]) or (r["rank"] is None) != bool(r["below_list"])
    ]
    under_min = [r for r in data if r["downloads"] is not None and r["downloads"] < r["list_min_downloads"]]
    bad_list = [r for r in data if r["list_size"] <= 0 or r["list_min_downloads"] <= 0]
    bad_rank = [r for r in data if r["rank"] is not None and not 1 <= r["rank"] <= r["list_size"]]
    bad_method = [r for r in data if r["method"] not in MONTHLY_METHODS or r["installers"] not in ("pip", "all")]

    def first(bad: list[Any]) -> str:
        return "" if not bad else f"{len(bad)} row(s), e.g. {bad[0].get('snapshot_date')} {bad[0].get('project')}"

    results = (
        ExpectationResult("key (snapshot_date, project) unique", not dup, f"{len(dup)} duplicate key(s) {dup[:3]}"),
        ExpectationResult("downloads > 0 when present", not bad_downloads, first(bad_downloads)),
        ExpectationResult("downloads and rank null exactly when below_list", not censoring, first(censoring)),
        ExpectationResult("downloads >= list_min_downloads", not under_min, first(under_min)),
        ExpectationResult("list_size > 0 and list_min_downloads > 0", not bad_list, first(bad_list)),
        ExpectationResult("1 <= rank <= list_size", not bad_rank, first(bad_rank)),
        ExpectationResult("method and installers known", not bad_method, first(bad_method)),
    )
    return AuditReport(results, rows=len(data))


def load_range(
    start: date,
    end: date,
    request: RunRequest | None = None,
    *,
    source_mode: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Load every snapshot dated ``start`` .. ``end`` (inclusive). Returns the run summary (see module docstring).

    ``request``: the run (its DAG and run id tag the commits; ``None``: a standalone run).
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    started = time.perf_counter()
    ctx = (request or RunRequest.for_cli(start=start, end=end)).commit(SOURCE)
    tracked = tracked_projects()
    files, source = list_files(start, end, source_mode=source_mode)
    fetched_s = time.perf_counter() - started
    got = collect(files, tracked, source, loaded_at=datetime.now(UTC), progress=progress)
    rows = [row for s in got.snapshots for row in s.rows]
    dates = [s.meta.snapshot_date for s in got.snapshots]
    months = sorted({s.meta.month for s in got.snapshots})
    summary: dict[str, Any] = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "source": source,
        "files": got.files,
        "snapshots": len(got.snapshots),
        "superseded": len(got.superseded),
        "rejected": len(got.rejections),
        "rows": 0,
        "below_list": sum(1 for r in rows if r["below_list"]),
        "months": [m.isoformat() for m in months],
        "snapshot_dates": [d.isoformat() for d in dates],
        "snapshot_id": None,
    }
    if not rows:
        log.info(
            "no top-pypi-packages snapshot dated %s..%s (%d file(s) read, %d rejected); nothing landed",
            start,
            end,
            got.files,
            len(got.rejections),
        )
        summary["seconds"] = round(time.perf_counter() - started, 3)
        write_dead_letters(SOURCE, ENTITY, start, got.rejections, ctx)  # nothing to publish: the rejections stand
        return summary
    table = load_table(Table.PYPI_DOWNLOADS_MONTHLY)
    data = rows_to_arrow(table, rows).sort_by([("snapshot_date", "ascending"), ("project", "ascending")])
    row_filter = In("snapshot_date", [d.isoformat() for d in dates])
    # The dead letters go in with the publish they belong to: a failed audit keeps those of the published run.
    result = write_audit_publish(
        table,
        data,
        row_filter,
        f"{start.isoformat()}_{end.isoformat()}",
        audit_rows,
        ctx,
        recorder=audit_recorder(ctx),
        on_published=lambda _published: write_dead_letters(SOURCE, ENTITY, start, got.rejections, ctx),
    )
    summary.update(
        rows=result.rows,
        snapshot_id=result.snapshot_id,
        seconds={"fetch": round(fetched_s, 3), "total": round(time.perf_counter() - started, 3)},
    )
    log.info(
        "pypi_downloads_monthly %s..%s: %d snapshots (%d files, %d superseded, %d rejected), %d rows (%d below list), "
        "months %s..%s",
        start,
        end,
        summary["snapshots"],
        got.files,
        summary["superseded"],
        summary["rejected"],
        result.rows,
        summary["below_list"],
        months[0],
        months[-1],
    )
    return summary


def run_range(request: RunRequest) -> tuple[date, date]:
    """The snapshot dates a DAG run covers, inclusive.

    In order: ``start``/``end`` (a manual range); an explicit ``date`` (``madlake run pypi_monthly --date D``):
    the calendar month holding it, as the scheduled run whose logical date is that month's first day would; the data
    interval (scheduled runs and backfills: one calendar month, end exclusive). A manual run with none of these
    covers the previous calendar month (the newest complete interval).
    """
    first = request.date_param("start")
    if first:
        return first, request.date_param("end") or first
    explicit = request.date_param("date")
    if explicit:
        first = explicit.replace(day=1)
        return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    lo, hi = request.data_interval_start, request.data_interval_end
    if lo is not None and hi is not None:
        return lo.date(), hi.date() - timedelta(days=1)
    this_month = datetime.now(UTC).date().replace(day=1)
    last = this_month - timedelta(days=1)
    return last.replace(day=1), last


def asset_extra(summary: dict[str, Any]) -> dict[str, Any]:
    """The ``extra`` of the ``pypi_downloads_monthly`` asset event: the months and snapshot dates replaced, rows."""
    return {
        "table": Table.PYPI_DOWNLOADS_MONTHLY,
        "months": summary["months"],
        "snapshot_dates": summary["snapshot_dates"],
        "rows": summary["rows"],
    }
