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

import argparse
import logging
import time
from datetime import date, timedelta
from typing import Any

from madlake.names import Table

log = logging.getLogger(__name__)

SOURCE = "pypi"
ENTITY = "download_aggregate"


def tracked_projects() -> list[str]:
    """The tracked PyPI projects (PEP 503-normalized), from the tools catalog."""
    from madlake.catalog import load_catalog

    return sorted(load_catalog().pypi_projects())


def day_filter(day: date) -> Any:
    from pyiceberg.expressions import EqualTo

    return EqualTo("download_date", day.isoformat())


def publish_day(
    day: date,
    rows: list[dict[str, Any]],
    projects: list[str],
    *,
    ctx: Any = None,
    pypi_settings: Any = None,
    table: Any = None,
    record: bool = True,
) -> Any:
    """Write-audit-publish ``rows`` (already validated) as the content of ``day``. Returns the ``PublishResult``.

    Raises:
        AuditFailedError: the audit failed (main untouched, branch kept, failures recorded).
    """
    from madlake.lakehouse.tables import load_table
    from madlake.lakehouse.writes import CommitContext, rows_to_arrow, write_audit_publish
    from madlake.quality.log import audit_recorder
    from madlake.quality.pypi_suite import build_audit
    from madlake.sources.pypi import get_pypi_settings

    ctx = ctx or CommitContext.current(source=SOURCE)
    table = table if table is not None else load_table(Table.PYPI_DOWNLOADS)
    data = rows_to_arrow(table, rows)
    if data.num_rows:
        data = data.sort_by([("project", "ascending"), ("version", "ascending")])
    audit = build_audit(day, projects, pypi_settings or get_pypi_settings())
    return write_audit_publish(
        table, data, day_filter(day), day.isoformat(), audit, ctx, recorder=audit_recorder(ctx) if record else None
    )


def load_day(day: date, *, source_mode: str | None = None) -> dict[str, Any]:
    """Fetch, validate, audit and publish one day of PyPI downloads. Returns a small summary for XCom.

    ``source_mode`` overrides ``MADLAKE_SOURCE_MODE`` (``replay`` or ``live``) for this call only.
    See the module docstring for failure and retry semantics.
    """
    from madlake.config import get_settings
    from madlake.lakehouse.deadletter import Rejection, write_dead_letters
    from madlake.lakehouse.writes import CommitContext
    from madlake.sources.pypi import fetch_day, get_pypi_settings, parse_rows

    settings = get_settings()
    if source_mode:
        settings = settings.model_copy(update={"source_mode": source_mode})
    pypi_settings = get_pypi_settings()
    projects = tracked_projects()
    ctx = CommitContext.current(source=SOURCE)
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
    write_dead_letters(
        SOURCE, ENTITY, day, [Rejection(reason, raw, rid) for reason, raw, rid in parsed.rejections], ctx
    )
    result = publish_day(day, parsed.rows, projects, ctx=ctx, pypi_settings=pypi_settings)
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
    start: date, end: date, *, source_mode: str | None = None, progress: bool = True
) -> list[dict[str, Any]]:
    """:func:`load_day` for each day from ``start`` to ``end`` inclusive, in order (a fast local backfill).

    Stops at the first failing day (raising its error); the days before it are published and stay so.
    """
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    from tqdm import tqdm

    summaries = []
    with tqdm(total=len(days), desc="pypi_downloads", unit="day", disable=not progress) as bar:
        for day in days:
            bar.set_postfix_str(day.isoformat())
            summaries.append(load_day(day, source_mode=source_mode))
            bar.update()
    log.info("PyPI backfill %s..%s: %d days, %d rows", start, end, len(days), sum(s["rows"] for s in summaries))
    return summaries


def run_task() -> dict[str, Any]:
    """The DAG task body: the run's day, or an inclusive ``start``..``end`` range when the run's conf names one.

    Scheduled runs and Airflow backfills load exactly their day (one run per day). A manual run with conf
    ``{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}`` loads that range day by day in one task (the demo's catch-up; each
    day is still its own write-audit-publish, and a failing day stops the range with the earlier days published).
    """
    from airflow.sdk import get_current_context

    from madlake.orchestration.runtime import run_day

    context = dict(get_current_context())
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    if conf.get("start"):
        start = date.fromisoformat(str(conf["start"])[:10])
        end = date.fromisoformat(str(conf.get("end") or conf.get("date") or start.isoformat())[:10])
        summaries = load_range(start, end, progress=False)
        return {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "days": len(summaries),
            "rows": sum(s["rows"] for s in summaries),
            "rejected": sum(s["rejected"] for s in summaries),
        }
    return load_day(run_day(context))


def demo_report() -> list[str]:
    """Lines for ``madlake demo``: the loaded range and the top packages of the last day (labelled sample data)."""
    from madlake.sql.engine import LocalEngine

    engine = LocalEngine()
    if Table.PYPI_DOWNLOADS not in engine.available_tables():
        return []
    span = engine.query(
        "select min(download_date) as first, max(download_date) as last, count(distinct download_date) as days, "
        "bool_or(source = 'replay-sample') as sample from pypi_downloads"
    ).to_pylist()[0]
    if not span["days"]:
        return []
    top = engine.query(
        "select project, sum(downloads) as downloads from pypi_downloads where download_date = ? "
        "group by project order by downloads desc limit 5",
        [span["last"]],
    ).to_pylist()
    label = " (sample data)" if span["sample"] else ""
    lines = [f"\nPyPI downloads{label}: {span['days']} days, {span['first']} .. {span['last']}; top on {span['last']}:"]
    lines += [f"  {r['project']:<28} {r['downloads']:>12,}" for r in top]
    return lines


# --------------------------------------------------------------------------------------------------------------------
# CLI: madlake pypi load --start D1 --end D2
# --------------------------------------------------------------------------------------------------------------------


def _cmd_load(args: argparse.Namespace) -> int:
    from madlake.pipelines.tools import init_lakehouse

    init_lakehouse()
    start = date.fromisoformat(args.start)
    end = date.fromisoformat(args.end) if args.end else start
    summaries = load_range(start, end, source_mode=args.source_mode)
    for s in summaries:
        print(  # noqa: T201 - a command's output
            f"{s['day']}: {s['rows']} rows, {s['downloads']} downloads, {s['rejected']} rejected, "
            f"{s['absent_packages']} tracked packages absent ({', '.join(s['source'])})"
        )
    return 0


def _cmd_days(args: argparse.Namespace) -> int:
    from madlake.config import get_settings
    from madlake.sources.pypi.replay import available_days

    days = available_days(get_settings().replay_path("pypi"))
    span = f": {days[0]} .. {days[-1]}" if days else ""
    print(f"{len(days)} replay days{span}")  # noqa: T201 - a command's output
    return 0


def register(sub: Any) -> None:
    """Add ``madlake pypi ...`` (cheap: no heavy imports until a command runs)."""
    group = sub.add_parser("pypi", help="PyPI downloads: backfill days without Airflow, list replay days")
    cmds = group.add_subparsers(dest="pypi_command", required=True)
    p = cmds.add_parser("load", help="load days START..END (inclusive) through the same WAP path as the DAG")
    p.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", help="last day, YYYY-MM-DD (default: START)")
    p.add_argument("--source-mode", choices=["replay", "live"], help="override MADLAKE_SOURCE_MODE")
    p.set_defaults(handler=_cmd_load)
    p = cmds.add_parser("replay-days", help="which days the replay folder covers")
    p.set_defaults(handler=_cmd_days)
    from madlake.pipelines.pypi_monthly import register_commands as register_monthly

    register_monthly(cmds)
