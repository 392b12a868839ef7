"""The PyPI downloads pipeline: one day from the configured source into ``pypi_downloads`` via write-audit-publish.

Contract of :func:`load_day` (the task body of the ``pypi_downloads`` DAG and of ``madlake pypi load``):

* Idempotent by day: the day's rows are staged on branch ``audit_pypi_downloads_<day>``, audited there, and published
  by moving main to the branch snapshot, which *replaces* that day (rerun = same rows, never duplicates).
* A failed audit raises :class:`~madlake.lakehouse.writes.AuditFailedError`: main is untouched, the branch is kept
  for inspection, the failing expectations are in ``audit_results``. Retrying the task re-fetches and re-audits.
* Malformed source rows go to ``rejected_records`` (source ``pypi``, entity ``download_aggregate``) with the reason;
  the rest of the day is still audited (and the audit decides whether what is left is a credible day).
* Concurrent runs for different days do not interfere: each stages its own branch, and the loser of a publish race
  rebases onto the new main and re-audits.
* Nothing is written when the source fails (missing replay file, BigQuery over the byte cap, HTTP errors): retry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from pyiceberg.expressions import EqualTo
from tqdm import tqdm

from madlake.catalog import load_catalog
from madlake.config import get_settings
from madlake.lakehouse.deadletter import Rejection, write_dead_letters
from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import rows_to_arrow, write_audit_publish
from madlake.names import Table
from madlake.orchestration.request import RunRequest
from madlake.quality.log import audit_recorder
from madlake.quality.pypi_suite import build_audit
from madlake.sources.pypi import fetch_day, get_pypi_settings, parse_rows

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table as IcebergTable

    from madlake.lakehouse.writes import CommitContext, PublishResult
    from madlake.sources.pypi.settings import PypiSettings

log = logging.getLogger(__name__)

SOURCE = "pypi"
ENTITY = "download_aggregate"


def tracked_projects() -> list[str]:
    """The tracked PyPI projects (PEP 503-normalized), from the tools catalog."""
    return sorted(load_catalog().pypi_projects())


def day_filter(day: date) -> BooleanExpression:

    return EqualTo("download_date", day.isoformat())


def publish_day(
    day: date,
    rows: list[dict[str, Any]],
    projects: list[str],
    *,
    ctx: CommitContext,
    pypi_settings: PypiSettings | None = None,
    table: IcebergTable | None = None,
    record: bool = True,
    on_published: Callable[[PublishResult], object] | None = None,
) -> PublishResult:
    """Write-audit-publish ``rows`` (already validated) as the content of ``day``. Returns the ``PublishResult``.

    Raises:
        AuditFailedError: the audit failed (main untouched, branch kept, failures recorded).
    """
    table = table if table is not None else load_table(Table.PYPI_DOWNLOADS)
    data = rows_to_arrow(table, rows)
    if data.num_rows:
        data = data.sort_by([("project", "ascending"), ("version", "ascending")])
    audit = build_audit(day, projects, pypi_settings or get_pypi_settings())
    return write_audit_publish(
        table,
        data,
        day_filter(day),
        day.isoformat(),
        audit,
        ctx,
        recorder=audit_recorder(ctx) if record else None,
        on_published=on_published,
    )


def load_day(day: date, request: RunRequest | None = None, *, source_mode: str | None = None) -> dict[str, Any]:
    """Fetch, validate, audit and publish one day of PyPI downloads. Returns a small summary for XCom.

    ``request``: the run (its DAG and run id tag the commits; ``None``: a standalone run). ``source_mode`` overrides
    ``MADLAKE_SOURCE_MODE`` (``replay`` or ``live``) for this call only.
    See the module docstring for failure and retry semantics.
    """
    settings = get_settings()
    if source_mode:
        settings = settings.model_copy(update={"source_mode": source_mode})
    pypi_settings = get_pypi_settings()
    projects = tracked_projects()
    ctx = (request or RunRequest.for_cli()).commit(SOURCE)
    started = time.perf_counter()
    fetched = fetch_day(day, projects, settings=settings, pypi_settings=pypi_settings)
    fetch_s = time.perf_counter() - started
    parsed = parse_rows(fetched.records, day, default_source=fetched.source)
    # A well-formed row for a project nobody tracks (a hand-edited replay file, a catalog change mid-backfill) is
    # bad input, not a bad day: dead-letter it so the day's good rows still publish.
    tracked = set(projects)
    untracked = [r for r in parsed.rows if r["project"] not in tracked]
    if untracked:
        parsed.rows[:] = [r for r in parsed.rows if r["project"] in tracked]
        parsed.rejections.extend(
            (
                f"project {r['project']!r} is not a tracked PyPI package (no tool in the catalog lists it)",
                r,
                f"{r['project']}/{r.get('version')}",
            )
            for r in untracked
        )
    log.info(
        "PyPI %s from %s (%s): %d records, %d valid, %d rejected, fetched in %.1fs",
        day,
        fetched.source,
        fetched.origin,
        len(fetched.records),
        len(parsed.rows),
        len(parsed.rejections),
        fetch_s,
    )
    rejections = [Rejection(reason, raw, rid) for reason, raw, rid in parsed.rejections]
    # The dead letters go in only once the day is published: a failed audit keeps the published day's own ones.
    result = publish_day(
        day,
        parsed.rows,
        projects,
        ctx=ctx,
        pypi_settings=pypi_settings,
        on_published=lambda _published: write_dead_letters(SOURCE, ENTITY, day, rejections, ctx),
    )
    summary = {
        "day": day.isoformat(),
        "source": sorted({r["source"] for r in parsed.rows}) or [fetched.source],
        "rows": result.rows,
        "downloads": int(result.report.extra.get("day_total", 0)),
        "rejected": len(parsed.rejections),
        "absent_packages": len(result.report.extra.get("absent_packages", [])),
        "bytes_scanned": fetched.bytes_scanned,
        "snapshot_id": result.snapshot_id,
        "attempts": result.attempts,
        "seconds": {k: round(v, 3) for k, v in {"fetch": fetch_s, **result.timings}.items()},
    }
    log.info("PyPI %s published: %s", day, summary)
    return summary


def load_range(
    start: date,
    end: date,
    request: RunRequest | None = None,
    *,
    source_mode: str | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """:func:`load_day` for each day from ``start`` to ``end`` inclusive, in order (a fast local backfill).

    Stops at the first failing day (raising its error); the days before it are published and stay so.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]

    request = request or RunRequest.for_cli(start=start, end=end)
    summaries = []
    with tqdm(total=len(days), desc="pypi_downloads", unit="day", disable=not progress) as bar:
        for day in days:
            bar.set_postfix_str(day.isoformat())
            summaries.append(load_day(day, request, source_mode=source_mode))
            bar.update()
    log.info("PyPI backfill %s..%s: %d days, %d rows", start, end, len(days), sum(s["rows"] for s in summaries))
    return summaries
