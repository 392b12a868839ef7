"""The ``pypi_downloads`` DAG run by Airflow itself (``dag.test``) on the local profile from the bundled replay days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from madlake.names import Dag, Pool, Table, asset_uri

pytestmark = pytest.mark.integration


def test_dag_is_a_backfillable_daily_pool_limited_asset_producer() -> None:
    from madlake.orchestration.runner import load_dag

    dag = load_dag(Dag.PYPI_DOWNLOADS)
    # Local profile: no catch-up (unpausing schedules no run bound to fail); backfills load the replay's days.
    assert dag.catchup is False
    assert dag.max_active_runs <= 3
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"  # each run's data interval is exactly its day
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable

    scheduled = decode_timetable(encode_timetable(dag.timetable))  # the timetable the scheduler runs
    interval = scheduled.infer_manual_data_interval(run_after=datetime(2026, 3, 31, 12, tzinfo=UTC))
    assert (interval.start, interval.end) == (datetime(2026, 3, 30, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    (task,) = dag.tasks
    assert task.pool == Pool.BIGQUERY
    assert [o.uri for o in task.outlets] == [asset_uri(Table.PYPI_DOWNLOADS)]


def test_madlake_run_pypi_downloads_for_a_day_loads_that_day_and_reruns_idempotently(lakehouse: Path) -> None:
    from madlake.orchestration.runner import run_dag
    from madlake.sql.engine import LocalEngine

    day = date(2026, 3, 31)
    run_dag(Dag.PYPI_DOWNLOADS, day)
    query = "select count(*) as n, sum(downloads) as d, min(source) as s from pypi_downloads where download_date = ?"
    first = LocalEngine().query(query, [day]).to_pylist()[0]
    assert first["n"] > 500 and first["s"] == "replay-sample"
    run_dag(Dag.PYPI_DOWNLOADS, day)
    assert LocalEngine().query(query, [day]).to_pylist()[0] == first
    days = LocalEngine().query("select distinct download_date from pypi_downloads").column(0).to_pylist()
    assert days == [day]


def test_a_manual_run_with_a_range_conf_loads_each_day(lakehouse: Path) -> None:
    from madlake.orchestration.runner import run_dag
    from madlake.sql.engine import LocalEngine

    run_dag(Dag.PYPI_DOWNLOADS, None, conf={"start": "2026-03-27", "end": "2026-03-29"})
    days = (
        LocalEngine().query("select download_date, count(*) as n from pypi_downloads group by 1 order by 1").to_pylist()
    )
    assert [d["download_date"] for d in days] == [date(2026, 3, 27), date(2026, 3, 28), date(2026, 3, 29)]
    assert all(d["n"] > 500 for d in days)


def test_cli_pypi_load_backfills_a_range(lakehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from madlake.cli import main
    from madlake.sql.engine import LocalEngine

    assert main(["pypi", "load", "--start", "2026-03-30", "--end", "2026-03-31"]) == 0
    out = capsys.readouterr().out
    assert "2026-03-30:" in out and "2026-03-31:" in out and "8 tracked packages absent" in out
    n = LocalEngine().query("select count(distinct download_date) as n from pypi_downloads").column(0)[0].as_py()
    assert n == 2
    assert main(["pypi", "load", "--start", "2026-04-02"]) == 1  # no replay file: a clear error, exit 1
    assert "2026-04-02.jsonl" in capsys.readouterr().err
