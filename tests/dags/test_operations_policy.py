"""Operations policy: every DAG is classified (backfillable or not, and why), external APIs run in their pools, every
run and task has a timeout, and every task alerts through :func:`madlake.orchestration.defaults.notify_failure`.

A new DAG fails :func:`test_every_dag_is_classified` until it is added to :data:`OPERATIONS` (and to the table in
``docs/operations.md``): deciding whether it can be backfilled, and which external API it calls, is part of adding it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from madlake.names import Dag, Pool

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Ops:
    """How a DAG is operated. ``pool``: the external API its fetching tasks call (None: lakehouse only)."""

    backfillable: bool
    why: str
    pool: str | None = None
    #: what one run's data interval covers: "day", or "month" (a calendar month) for monthly sources.
    interval: str = "day"


OPERATIONS: dict[str, Ops] = {
    Dag.TOOLS_CATALOG: Ops(False, "loads the catalog YAML as it is now; a past day has no other catalog"),
    Dag.PYPI_DOWNLOADS: Ops(True, "each run loads its data interval's day from BigQuery/ClickPy", Pool.BIGQUERY),
    Dag.PYPI_MONTHLY: Ops(
        True, "each run loads the snapshots dated in its month (GitHub commits API + raw files)", Pool.GITHUB, "month"
    ),
    Dag.REDDIT_INGEST: Ops(
        False, "the Reddit API lists only the newest posts; history: reddit_archive_backfill", Pool.REDDIT
    ),
    Dag.REDDIT_LOAD: Ops(False, "asset-triggered by each raw landing; loads what was landed"),
    Dag.REDDIT_ARCHIVE_BACKFILL: Ops(False, "manual: the backfill itself, over a start/end param range of dumps"),
    Dag.REDDIT_MENTIONS: Ops(False, "asset-triggered; reprocess with the since/reprocess_all params", Pool.LLM),
    Dag.GITHUB_METRICS: Ops(False, "the GitHub API only knows now; star history: github_star_history", Pool.GITHUB),
    Dag.GITHUB_STAR_HISTORY: Ops(False, "manual: the backfill itself, over a since/until param range", Pool.GITHUB),
    Dag.GITHUB_HISTORY: Ops(True, "each run loads its data interval's day: one dated file per day", Pool.GITHUB),
    Dag.GOLD_METRICS: Ops(False, "asset-triggered; recompute a range with the start/end params"),
    Dag.DASHBOARD_PUBLISH: Ops(False, "asset-triggered; publishes the current gold tables"),
    Dag.LAKEHOUSE_MAINTENANCE: Ops(False, "acts on the tables' current state, not on a day"),
}

#: Longest a single task attempt may run; longer work must be split (or checkpointed) to be retried sanely.
MAX_TASK_TIMEOUT = timedelta(hours=6)

#: Modules whose import inside a task body means the task talks to an external API.
EXTERNAL_CLIENT_MARKERS = ("praw", "openai", "google.cloud", "bigquery", "httpx", "requests", "urllib.request")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return bag


def _callable_source(task) -> str:
    fn = getattr(task, "python_callable", None)
    if fn is None:
        return ""
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


def test_every_dag_is_classified(dagbag) -> None:
    unclassified = sorted(set(dagbag.dags) - set(OPERATIONS))
    assert not unclassified, f"classify these DAGs in OPERATIONS (backfillable? which pool?): {unclassified}"
    docs = (ROOT / "docs" / "operations.md").read_text()
    missing = [dag_id for dag_id in dagbag.dags if f"`{dag_id}`" not in docs]
    assert not missing, f"docs/operations.md does not list {missing} in its backfill/pool table"


def test_backfillable_dags_have_a_time_schedule_and_bounded_runs(dagbag) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    problems = []
    for dag_id, dag in dagbag.dags.items():
        ops = OPERATIONS.get(dag_id)
        if ops is None:
            continue
        # The scheduler's view of the timetable (the SDK's DAG objects carry a definition-only timetable).
        timetable = DagSerialization.from_dict(DagSerialization.to_dict(dag)).timetable
        time_based = bool(timetable.periodic)
        if ops.backfillable:
            if not time_based:
                problems.append(f"{dag_id}: backfillable but has no time schedule (Airflow backfills need one)")
                continue
            if dag.start_date is None:
                problems.append(f"{dag_id}: backfillable but has no fixed start_date")
            if not dag.max_active_runs or dag.max_active_runs > 4:
                problems.append(f"{dag_id}: a backfill would start {dag.max_active_runs} runs at once (> 4)")
            # Each run must cover exactly one day (or one calendar month): its data interval.
            info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=_restriction(dag))
            if info is None or not _covers(info.data_interval.start, info.data_interval.end, ops.interval):
                problems.append(f"{dag_id}: runs do not cover one {ops.interval} each: {info}")
        elif time_based and dag.catchup:
            problems.append(f"{dag_id}: not backfillable ({ops.why}) but catchup=True would schedule past runs")
    assert not problems, "\n".join(problems)


def _covers(start, end, interval: str) -> bool:
    if interval == "month":
        return start.day == 1 and end == (start + timedelta(days=32)).replace(day=1)
    return end - start == timedelta(days=1)


def _restriction(dag):
    from airflow.timetables.base import TimeRestriction

    return TimeRestriction(earliest=dag.start_date, latest=None, catchup=True)


def test_external_api_tasks_run_in_their_pool(dagbag) -> None:
    registered = {v for k, v in vars(Pool).items() if not k.startswith("_")}
    problems = []
    for dag_id, dag in dagbag.dags.items():
        ops = OPERATIONS.get(dag_id)
        if ops is None:
            continue
        pooled = [t for t in dag.tasks if t.pool == ops.pool] if ops.pool else []
        if ops.pool and not pooled:
            problems.append(f"{dag_id}: calls {ops.pool} but no task runs in pool {ops.pool!r}")
        for task in dag.tasks:
            where = f"{dag_id}.{task.task_id}"
            if task.pool not in ("default_pool", None) and task.pool not in registered:
                problems.append(f"{where}: pool {task.pool!r} is not one of madlake.names.Pool")
            source = _callable_source(task)
            talks_out = any(f"import {m}" in source or f"from {m}" in source for m in EXTERNAL_CLIENT_MARKERS)
            if talks_out and task.pool in ("default_pool", None):
                problems.append(f"{where}: imports an external API client but runs in the default pool")
    assert not problems, "\n".join(problems)


def test_every_run_and_task_is_bounded_in_time(dagbag) -> None:
    problems = []
    for dag_id, dag in dagbag.dags.items():
        longest = max((t.execution_timeout or timedelta.max for t in dag.tasks), default=timedelta(0))
        if longest > MAX_TASK_TIMEOUT:
            problems.append(f"{dag_id}: a task may run {longest} (> {MAX_TASK_TIMEOUT})")
        if dag.dagrun_timeout is not None and dag.dagrun_timeout < longest:
            problems.append(f"{dag_id}: dagrun_timeout {dag.dagrun_timeout} is shorter than its longest task {longest}")
    assert not problems, "\n".join(problems)


def test_every_task_alerts_through_notify_failure(dagbag) -> None:
    from madlake.orchestration.defaults import notify_failure

    problems = []
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list | tuple) else [callbacks]
            if notify_failure not in callbacks:
                problems.append(f"{dag_id}.{task.task_id}: failures are not sent through notify_failure")
            if not task.retry_exponential_backoff or (task.max_retry_delay or timedelta(0)) <= task.retry_delay:
                problems.append(f"{dag_id}.{task.task_id}: retries do not back off exponentially")
    assert not problems, "\n".join(problems)
