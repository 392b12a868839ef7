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

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from madlake.orchestration.runner import ensure_metadata_db, load_dag, run_dag

if TYPE_CHECKING:
    from airflow.sdk import DAG

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DateResult:
    day: date
    ok: bool
    seconds: float
    detail: str = ""


class BackfillRefusedError(ValueError):
    """The DAG cannot be backfilled (snapshot DAG, no time schedule, empty range); nothing ran."""


def backfill_dates(dag: DAG, start: date, end: date) -> list[datetime]:
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
    dates: list[datetime] = [i.logical_date for i in infos if i.logical_date is not None]
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
