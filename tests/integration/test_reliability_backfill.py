"""Airflow 3 backfills: Airflow's own backfill API creates one run per day for every backfillable DAG, each run covers
exactly its day, and DAGs documented as not backfillable are refused by Airflow for the reason documented.

Uses Airflow's metadata database (SQLite, the runner's) and the same code path as ``airflow backfill create`` and the
UI's *Backfill* dialog; the scheduler then runs the created runs like any other (``dag.test`` covers task bodies).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.dags.test_operations_policy import OPERATIONS
from tests.integration._reliability import record

pytestmark = pytest.mark.integration


def _sync_dags() -> None:
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.utils.session import create_session
    from madlake.orchestration.runner import DAGS_FOLDER, ensure_metadata_db

    ensure_metadata_db()
    manager = DagBundlesManager()
    with create_session() as session:
        manager.sync_bundles_to_db(session=session)
    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert not bag.import_errors, bag.import_errors
    bundle = next(iter(manager.get_all_dag_bundles())).name
    with create_session() as session:
        sync_bag_to_db(bag, bundle, None, session=session)


def test_backfillable_dags_get_one_run_per_day_and_the_others_are_refused() -> None:
    from airflow.models.backfill import Backfill, _create_backfill
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from madlake.orchestration.request import RunRequest
    from sqlalchemy import delete, select

    _sync_dags()
    start, end = date(2026, 3, 2), date(2026, 3, 4)
    created: dict[str, list[date]] = {}
    refused: dict[str, str] = {}
    for dag_id, ops in OPERATIONS.items():
        with create_session() as session:  # a rerun of the test starts clean
            session.execute(delete(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_type == "backfill"))
            session.execute(delete(Backfill).where(Backfill.dag_id == dag_id))
        try:
            backfill = _create_backfill(
                dag_id=dag_id,
                from_date=datetime(start.year, start.month, start.day, tzinfo=UTC),
                to_date=datetime(end.year, end.month, end.day, tzinfo=UTC),
                max_active_runs=2,
                reverse=False,
                dag_run_conf={},
                triggering_user_name="reliability-test",
            )
        except Exception as exc:
            refused[dag_id] = f"{type(exc).__name__}: {exc}"
            continue
        with create_session() as session:
            runs = session.scalars(
                select(DagRun).where(DagRun.backfill_id == backfill.id).order_by(DagRun.logical_date)
            ).all()
            days = []
            for dr in runs:
                if (
                    ops.backfillable and ops.interval == "day"
                ):  # a one-day data interval (cron *trigger* schedules: none)
                    assert dr.data_interval_end - dr.data_interval_start == timedelta(days=1), dr
                context = {"dag_run": dr, "params": {}, "data_interval_start": dr.data_interval_start,
                           "logical_date": dr.logical_date}  # fmt: skip
                days.append(RunRequest.from_airflow(context).day)
            created[dag_id] = days

    with create_session() as session:  # leave no queued backfill runs behind for other tests' dag.test runs
        for dag_id in created:
            session.execute(delete(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_type == "backfill"))
            session.execute(delete(Backfill).where(Backfill.dag_id == dag_id))

    backfillable = sorted(d for d, o in OPERATIONS.items() if o.backfillable)
    record(
        "backfills",
        backfillable=backfillable,
        runs_created={d: [x.isoformat() for x in v] for d, v in created.items()},
        refused={d: r[:120] for d, r in refused.items()},
    )
    want_days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    for dag_id in backfillable:
        if OPERATIONS[dag_id].interval != "day":  # a monthly DAG has no complete month in a three-day range
            assert dag_id not in created or not created[dag_id], (dag_id, created.get(dag_id))
            continue
        assert created.get(dag_id) == want_days, (dag_id, created.get(dag_id), refused.get(dag_id))
    # Not backfillable and without a time schedule (asset-triggered or manual): Airflow itself refuses.
    for dag_id, ops in OPERATIONS.items():
        if not ops.backfillable and dag_id not in created:
            # (the weekly maintenance simply has no run in a three-day range)
            # (snapshot DAGs declare allowed_run_types without backfill: Airflow refuses them at creation)
            assert any(
                why in refused[dag_id] for why in ("non-periodic", "No runs to create", "does not allow backfill runs")
            ), refused[dag_id]
    # Not backfillable but on a time schedule (API snapshots, catalog, maintenance): Airflow would accept a backfill,
    # which would only repeat today's state under past dates; catchup is off and docs/operations.md says so.
    accepted_anyway = sorted(d for d in created if not OPERATIONS[d].backfillable)
    assert set(accepted_anyway) <= {"tools_catalog", "github_metrics", "reddit_ingest", "lakehouse_maintenance"}


def test_a_run_before_the_dag_start_is_refused_instead_of_succeeding_empty() -> None:
    from madlake.names import Dag
    from madlake.orchestration.runner import run_dag

    # (locally the DAG starts on the replay's first day: madlake.orchestration.schedule.daily_window)
    with pytest.raises(ValueError, match=r"starts on \d{4}-\d\d-\d\d: a run for 2019-06-01 would do nothing"):
        run_dag(Dag.PYPI_DOWNLOADS, date(2019, 6, 1))
