"""Run a DAG in-process through Airflow (``dag.test``): the scheduler's code path, without a scheduler.

Used by ``madlake run``, ``make demo`` and the integration tests. Airflow's metadata database for these runs lives
in ``$AIRFLOW_HOME`` (default ``<MADLAKE_HOME>/airflow``, SQLite), created on first use.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from madlake.config import get_settings

if TYPE_CHECKING:
    from airflow.sdk import DAG

log = logging.getLogger(__name__)

#: The repository's ``dags/`` folder (the package is installed editable from ``include/``).
DAGS_FOLDER = Path(__file__).resolve().parents[3] / "dags"


class DagRunFailedError(RuntimeError):
    """A DAG run ended in a state other than success; the message names the failed tasks."""


def prepare_environment(airflow_home: Path | None = None) -> Path:
    """Point Airflow at madlake's DAGs and a private home before Airflow is imported. Returns ``AIRFLOW_HOME``."""
    if "AIRFLOW_HOME" not in os.environ or airflow_home is not None:
        home = airflow_home or get_settings().home_dir / "airflow"
        os.environ["AIRFLOW_HOME"] = str(home)
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(os.environ.get("MADLAKE_DAGS_FOLDER", DAGS_FOLDER)))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
    return home


def ensure_metadata_db() -> None:
    """Create Airflow's metadata database on first use (idempotent, ~2 s the first time)."""
    home = prepare_environment()
    marker = home / ".madlake-db-initialized"
    if marker.exists():
        return
    from airflow.utils import db

    log.info("Creating Airflow metadata database in %s", home)
    db.resetdb(skip_init=False)
    marker.write_text(datetime.now(UTC).isoformat())


def load_dag(dag_id: str) -> DAG:
    """Parse the DAGs folder and return DAG ``dag_id``; unknown ids raise ``KeyError`` listing the known ones."""
    prepare_environment()
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    if dag_id not in bag.dags:
        raise KeyError(f"unknown DAG {dag_id!r}; DAGs: {', '.join(sorted(bag.dags))}")
    return bag.dags[dag_id]


def _forget_previous_run(dag_id: str, logical_date: datetime | None) -> None:
    """Delete an earlier test run of the same logical date so ``dag.test`` runs it again instead of skipping it.

    Bulk ``DELETE`` statements, not ``session.delete``: the ORM cascade would lazily load ``DagRun.serialized_dag``,
    which Airflow joins on ``dag_id`` alone and which warns once a DAG has more than one serialized version.
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    if logical_date is None:
        return
    with create_session() as session:
        run_ids = session.scalars(
            select(DagRun.run_id).where(DagRun.dag_id == dag_id, DagRun.logical_date == logical_date)
        ).all()
        if run_ids:
            session.execute(
                delete(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id.in_(run_ids)),
                execution_options={"synchronize_session": False},
            )
            session.execute(
                delete(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id.in_(run_ids)),
                execution_options={"synchronize_session": False},
            )


def run_dag(
    dag_id: str,
    day: date | None = None,
    *,
    conf: dict[str, Any] | None = None,
    retries: bool = False,
) -> str:
    """Run ``dag_id`` once for ``day`` (its logical date; ``None`` = a manual run with no logical date).

    ``retries=False`` (the default) runs each task once so a failure surfaces at once; the scheduler retries.
    Returns the run id. Raises :class:`DagRunFailedError` naming failed tasks.
    """
    ensure_metadata_db()
    dag = load_dag(dag_id)
    if not retries:
        for task in dag.tasks:
            task.retries = 0
    logical_date = datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None
    start = getattr(dag, "start_date", None)
    if logical_date is not None and start is not None and logical_date < start:
        # Airflow would create the run and mark it successful without running a single task.
        raise ValueError(
            f"{dag_id} starts on {start.date().isoformat()}: a run for {day} would do nothing; pick a later date"
        )
    run_conf = dict(conf or {})
    if day and "date" not in run_conf:
        run_conf["date"] = day.isoformat()
    _forget_previous_run(dag_id, logical_date)
    log.info("Running DAG %s for %s", dag_id, day or "(no logical date)")
    dr = dag.test(logical_date=logical_date, run_conf=run_conf)
    state = str(getattr(dr, "state", "unknown"))
    if state != "success":
        from airflow.utils.session import create_session

        with create_session() as session:
            failed = [
                f"{ti.task_id}={ti.state}"
                for ti in dr.get_task_instances(session=session)
                if str(ti.state) not in ("success", "skipped")
            ]
        raise DagRunFailedError(f"DAG {dag_id} run {dr.run_id} ended {state}; tasks not successful: {failed}")
    return str(dr.run_id)
