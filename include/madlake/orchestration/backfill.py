"""``madlake backfill DAG_ID --start YYYY-MM-DD --end YYYY-MM-DD``: an Airflow backfill without a scheduler.

Honest about what it is: the logical dates are the ones Airflow's own backfill creates for that range (the scheduler's
``airflow.models.backfill`` date list over the DAG's timetable), and each date runs through ``dag.test`` - the same
DAG, tasks, data interval and logical date as a backfill run, in-process, one date after the other, no scheduler
and no executor. The run type recorded is ``manual`` (``dag.test``); the backfill policy Airflow enforces at the API
is enforced here too: a DAG whose ``allowed_run_types`` excludes backfills (snapshot DAGs) or that has no time
schedule is refused before anything runs.

A failed date is reported by date with its error and the next dates still run; the exit code is 1 if any failed.
Tasks run once (``--retries`` honours the DAG's retries). ``--downstream`` then runs ``gold_metrics`` over the
loaded days and ``dashboard_publish`` (what the asset chain does under a scheduler).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DateResult:
    day: date
    ok: bool
    seconds: float
    detail: str = ""


class BackfillRefusedError(ValueError):
    """The DAG cannot be backfilled (snapshot DAG, no time schedule, empty range); nothing ran."""


def backfill_dates(dag: Any, start: date, end: date) -> list[datetime]:
    """The logical dates Airflow's backfill would create for ``[start, end]`` (inclusive), in order."""
    from airflow.models.backfill import _get_info_list
    from airflow.serialization.serialized_objects import DagSerialization

    if end < start:
        raise BackfillRefusedError(f"end {end} is before start {start}")
    serialized = DagSerialization.from_dict(DagSerialization.to_dict(dag))
    if not serialized.timetable.periodic:
        raise BackfillRefusedError(
            f"{dag.dag_id} has no time schedule (asset-triggered or manual): Airflow backfills need one. "
            "Trigger it with its date/start/end params instead."
        )
    allowed = getattr(dag, "allowed_run_types", None)
    if allowed is not None and "backfill" not in {str(getattr(t, "value", t)) for t in allowed}:
        raise BackfillRefusedError(
            f"{dag.dag_id} does not allow backfill runs (a snapshot of now: see its documentation for history)"
        )
    lo = datetime(start.year, start.month, start.day, tzinfo=UTC)
    hi = datetime(end.year, end.month, end.day, tzinfo=UTC)
    infos = _get_info_list(from_date=lo, to_date=hi, reverse=False, dag=serialized)
    dates = [i.logical_date for i in infos if i.logical_date is not None]
    if not dates:
        raise BackfillRefusedError(f"no runs to create for {dag.dag_id} in {start}..{end}")
    return dates


def run_backfill(
    dag_id: str,
    start: date,
    end: date,
    *,
    conf: dict[str, Any] | None = None,
    retries: bool = False,
    progress: bool = True,
) -> list[DateResult]:
    """Run ``dag_id`` for every logical date of ``[start, end]``; a failing date is recorded and the rest go on."""
    from tqdm import tqdm

    from madlake.orchestration.runner import ensure_metadata_db, load_dag, run_dag

    ensure_metadata_db()
    dag = load_dag(dag_id)
    dates = backfill_dates(dag, start, end)
    results: list[DateResult] = []
    with tqdm(total=len(dates), desc=dag_id, unit="run", disable=not progress) as bar:
        for logical in dates:
            day = logical.astimezone(UTC).date()
            bar.set_postfix_str(day.isoformat())
            started = time.perf_counter()
            try:
                run_dag(dag_id, day, conf=conf, retries=retries)
                results.append(DateResult(day, True, time.perf_counter() - started))
            except Exception as exc:  # one bad date must not stop the others
                log.debug("backfill %s %s failed", dag_id, day, exc_info=True)
                results.append(DateResult(day, False, time.perf_counter() - started, f"{type(exc).__name__}: {exc}"))
            bar.update()
    return results


def summary_lines(dag_id: str, results: list[DateResult]) -> list[str]:
    ok = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    total = sum(r.seconds for r in results)
    lines = [
        f"{dag_id}: {len(results)} dates, {len(ok)} succeeded, {len(failed)} failed "
        f"({results[0].day}..{results[-1].day}, {total:.1f}s)"
    ]
    lines += [f"  FAILED {r.day}: {r.detail[:500]}" for r in failed]
    return lines


def _cmd_backfill(args: Any) -> int:
    from madlake.names import Dag
    from madlake.orchestration.runner import run_dag

    start = date.fromisoformat(args.start)
    end = date.fromisoformat(args.end) if args.end else start
    conf = json.loads(args.conf) if args.conf else None
    results = run_backfill(args.dag_id, start, end, conf=conf, retries=args.retries, progress=not args.no_progress)
    for line in summary_lines(args.dag_id, results):
        print(line)  # noqa: T201 - a command's output
    ok_days = [r.day for r in results if r.ok]
    if args.downstream and ok_days:
        gold_conf = {"start": min(ok_days).isoformat(), "end": max(ok_days).isoformat()}
        print(f"downstream: {Dag.GOLD_METRICS} {gold_conf['start']}..{gold_conf['end']}, then {Dag.DASHBOARD_PUBLISH}")  # noqa: T201
        run_dag(Dag.GOLD_METRICS, None, conf=gold_conf)
        run_dag(Dag.DASHBOARD_PUBLISH, None)
    return 1 if any(not r.ok for r in results) else 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "backfill",
        help="run a DAG for every logical date of a range (Airflow's backfill dates, each through dag.test)",
    )
    p.add_argument("dag_id")
    p.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", help="last day, YYYY-MM-DD (inclusive; default: START)")
    p.add_argument("--conf", help="JSON object of run params for every run")
    p.add_argument("--retries", action="store_true", help="honour task retries (default: each task runs once)")
    p.add_argument("--downstream", action="store_true", help="then recompute gold over the days and republish")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_cmd_backfill)
