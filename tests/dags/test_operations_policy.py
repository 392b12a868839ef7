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


# ------------------------------------------------------------------------------------------------ failure semantics
def test_every_task_body_is_guarded(dagbag) -> None:
    """Deterministic failures must fail without retries: every task body goes through ``failures.guarded``."""
    unguarded = [
        f"{dag_id}.{task.task_id}"
        for dag_id, dag in dagbag.dags.items()
        for task in dag.tasks
        if getattr(task, "python_callable", None) is not None
        and not getattr(task.python_callable, "__madlake_guarded__", False)
    ]
    assert not unguarded, f"decorate these task bodies with @guarded (madlake.orchestration.failures): {unguarded}"


def test_deterministic_errors_fail_without_retries_and_transient_ones_retry() -> None:
    from airflow.sdk.exceptions import AirflowFailException
    from madlake.lakehouse.writes import AuditFailedError, AuditReport, ExpectationResult
    from madlake.orchestration.failures import RefusedDateError, guarded

    report = AuditReport((ExpectationResult("downloads > 0", False, "3 rows"),), rows=10)

    @guarded
    def audit_fails() -> None:
        raise AuditFailedError("madlake.pypi_downloads", "audit_x", report)

    @guarded
    def refused() -> None:
        raise RefusedDateError("github_metrics cannot be backfilled")

    @guarded
    def missing_replay() -> None:
        raise FileNotFoundError("no PyPI replay file for 2026-04-02")

    for fn in (audit_fails, refused, missing_replay):
        with pytest.raises(AirflowFailException) as failed:
            fn()
        assert failed.value.__cause__ is not None  # the original error is kept for the log

    class Throttled(RuntimeError):  # e.g. a 429 after the client's own retries
        pass

    @guarded
    def transient() -> None:
        raise Throttled("HTTP 429 Too Many Requests")

    @guarded
    def timeout() -> None:
        raise TimeoutError("read timed out")

    with pytest.raises(Throttled):
        transient()
    with pytest.raises(TimeoutError):
        timeout()


# ------------------------------------------------------------------------------------------------ dates
def _request(**kw):
    from types import SimpleNamespace

    from madlake.orchestration.request import RunRequest

    conf = kw.pop("conf", {})
    run_type = kw.pop("run_type", "manual")
    context = {"params": kw.pop("params", {}), "dag_run": SimpleNamespace(conf=conf, run_type=run_type), **kw}
    return RunRequest.from_airflow(context)


def test_the_logical_date_rule() -> None:
    from datetime import UTC, date, datetime

    d = lambda s: datetime.fromisoformat(s).replace(tzinfo=UTC)  # noqa: E731
    # A manual trigger for 2026-03-10 loads 2026-03-10, although its inferred data interval is the day before.
    request = _request(logical_date=d("2026-03-10"), data_interval_start=d("2026-03-09"))
    assert request.day == date(2026, 3, 10)
    # The date param wins over the logical date.
    assert _request(params={"date": "2026-03-12"}, logical_date=d("2026-03-10")).day == date(2026, 3, 12)
    assert _request(conf={"date": "2026-03-13"}, params={"date": None}).day == date(2026, 3, 13)
    # A backfill/scheduled run of a data-interval DAG: logical date = the day's first instant = the interval start.
    assert _request(run_type="backfill", logical_date=d("2026-03-05"), data_interval_start=d("2026-03-05")).day == (
        date(2026, 3, 5)
    )
    assert _request(params={"start": "2026-03-01", "end": "2026-03-03"}).days == [
        date(2026, 3, 1),
        date(2026, 3, 2),
        date(2026, 3, 3),
    ]


def test_the_cli_builds_the_same_request() -> None:
    from datetime import date

    from madlake.orchestration.request import RunRequest

    request = RunRequest.for_cli("pypi", start=date(2026, 3, 1), end=date(2026, 3, 3))
    assert request.days == _request(params={"start": "2026-03-01", "end": "2026-03-03"}).days
    assert request.run_type == "cli" and request.run_id.startswith("pypi__")
    ctx = request.commit("pypi")
    assert (ctx.dag_id, ctx.run_id, ctx.source) == ("pypi", request.run_id, "pypi")


def test_bad_dates_are_refused_without_retries() -> None:
    from madlake.orchestration.failures import RefusedDateError
    from madlake.orchestration.runtime import refuse_future

    with pytest.raises(RefusedDateError, match="not a date"):
        _request(params={"date": "10/03/2026"}).day  # noqa: B018
    with pytest.raises(RefusedDateError, match="before start"):
        _request(params={"start": "2026-03-05", "end": "2026-03-01"}).days  # noqa: B018
    from datetime import UTC, datetime

    with pytest.raises(RefusedDateError, match="has not ended"):
        refuse_future(datetime.now(UTC).date(), what="pypi_downloads")


def test_snapshot_dags_refuse_backfills_and_live_past_days() -> None:
    from datetime import UTC, date, datetime

    from madlake.orchestration.failures import RefusedDateError
    from madlake.orchestration.snapshots import refuse_past_snapshot

    today = date(2026, 12, 2)
    midnight = datetime(2026, 12, 2, tzinfo=UTC)
    with pytest.raises(RefusedDateError, match=r"cannot be backfilled.*History comes from github_history"):
        refuse_past_snapshot(
            "github_metrics", history="github_history", request=_request(run_type="backfill", logical_date=midnight)
        )
    with pytest.raises(RefusedDateError, match="past day 2026-11-01"):
        refuse_past_snapshot(
            "github_metrics", history="x", live=True, today=today, request=_request(params={"date": "2026-11-01"})
        )
    ok = refuse_past_snapshot(
        "github_metrics", history="x", live=True, today=today, request=_request(logical_date=midnight)
    )
    assert ok == today
    # Replay: the recorded figures have a date of their own; a manual run may name it.
    replayed = _request(params={"date": "2026-08-22"})
    assert refuse_past_snapshot("github_metrics", history="x", live=False, today=today, request=replayed) == date(
        2026, 8, 22
    )


def test_snapshot_dags_do_not_allow_backfill_runs(dagbag) -> None:
    for dag_id in (Dag.GITHUB_METRICS,):
        allowed = {str(getattr(t, "value", t)) for t in dagbag.dags[dag_id].allowed_run_types or ()}
        assert allowed and "backfill" not in allowed, (dag_id, allowed)


def test_date_driven_dags_take_a_date_param(dagbag) -> None:
    date_driven = [Dag.PYPI_DOWNLOADS, Dag.GOLD_METRICS, Dag.GITHUB_METRICS, Dag.GITHUB_STAR_HISTORY, Dag.REDDIT_LOAD]
    missing = [d for d in date_driven if d in dagbag.dags and "date" not in dagbag.dags[d].params]
    assert not missing, missing
    ranged = [d for d in (Dag.PYPI_DOWNLOADS, Dag.GOLD_METRICS) if not {"start", "end"} <= set(dagbag.dags[d].params)]
    assert not ranged, ranged


# ------------------------------------------------------------------------------------------------ start dates
def test_local_profile_schedules_no_run_bound_to_fail(dagbag) -> None:
    """Local: pypi_downloads starts on the replay's first day with catch-up off (yesterday's run is skipped)."""
    from madlake.orchestration.schedule import replay_days

    dag = dagbag.dags[Dag.PYPI_DOWNLOADS]
    days = replay_days("pypi")
    assert days, "the bundled replay has PyPI days"
    assert dag.start_date.date() == days[0]
    assert dag.catchup is False


def test_live_profile_has_a_documented_start_and_catchup(monkeypatch: pytest.MonkeyPatch) -> None:
    from madlake.orchestration.schedule import LIVE_START, daily_window

    monkeypatch.setenv("MADLAKE_PROFILE", "aws")
    window = daily_window("pypi")
    assert window.start_date.date() == LIVE_START.date() and window.catchup is True
    monkeypatch.setenv("MADLAKE_START_DATE", "2025-06-01")
    monkeypatch.setenv("MADLAKE_CATCHUP", "false")
    window = daily_window("pypi")
    assert str(window.start_date.date()) == "2025-06-01" and window.catchup is False
    assert (
        "2025-06-01" in (ROOT / "docs" / "operations.md").read_text()
        or LIVE_START.date().isoformat() in (ROOT / "docs" / "operations.md").read_text()
    )


# ------------------------------------------------------------------------------------------------ events
def test_events_name_what_changed_and_gold_takes_their_union() -> None:
    from datetime import date

    from madlake.orchestration.events import affected_periods, affected_range, changes_extra, with_trailing

    events = [
        changes_extra("pypi_downloads", days=[date(2026, 3, 2)], rows=776),
        changes_extra("pypi_downloads", days=["2026-03-01"], rows=753),  # coalesced: a second run's event
        changes_extra("pypi_downloads", days=["2026-03-04"], rows=700),
        changes_extra("pypi_downloads_monthly", months=["2026-01"], rows=90),  # another helper's monthly event
        {"extra": changes_extra("dim_tools", rows=120)},  # names no period
    ]
    assert events[0] == {"table": "pypi_downloads", "days": ["2026-03-02"], "rows": 776}
    assert affected_periods(events) == [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 3, 1), date(2026, 3, 2)),
        (date(2026, 3, 4), date(2026, 3, 4)),
    ]
    assert affected_range(events) == (date(2026, 1, 1), date(2026, 3, 4))
    assert affected_range([changes_extra("dim_tools", rows=1)]) is None
    # Trailing windows: only days gold already holds are added (28-day windows read 27 days back).
    held = {date(2026, 3, 10), date(2026, 4, 15), date(2026, 8, 22)}
    assert with_trailing([(date(2026, 3, 1), date(2026, 3, 4))], 27, held) == [
        (date(2026, 3, 1), date(2026, 3, 4)),
        (date(2026, 3, 10), date(2026, 3, 10)),
    ]
    assert with_trailing([(date(2026, 3, 1), date(2026, 3, 4))], 27, ()) == [(date(2026, 3, 1), date(2026, 3, 4))]


def test_airflow_settings_pools_match_names() -> None:
    from madlake.names import Pool
    from madlake.orchestration.setup import pool_specs, read_settings

    specs = pool_specs(read_settings())
    assert set(specs) == {v for k, v in vars(Pool).items() if not k.startswith("_")}
    with pytest.raises(ValueError, match="does not know"):
        pool_specs({"pools": [{"pool_name": "bigqeury", "pool_slot": 2}]})
