"""The three Reddit DAGs through Airflow (``dag.test``): the demo's ingest → load, and a manual archive backfill."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from madlake.names import Dag

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "reddit"


def count(sql: str) -> int:
    from madlake.sql.engine import get_engine

    return int(get_engine().query(sql).column(0)[0].as_py())


def test_one_day_ingest_with_threads_then_load_through_airflow(lakehouse: Path) -> None:
    from madlake.config import get_settings
    from madlake.orchestration.runner import run_dag
    from madlake.sources.reddit.landing import list_landings

    day = date(2025, 8, 8)
    run_dag(Dag.REDDIT_INGEST, day, conf={"threads": "1mkowrw"})
    run_dag(Dag.REDDIT_LOAD, day)
    (landing,) = list_landings(get_settings().raw_uri, day)
    assert landing.manifest["run_id"] != "manual" and landing.manifest["threads_fetched"] == 3
    assert count("select count(*) from reddit_submissions") == 103
    assert count("select count(*) from reddit_comments") == 166 + 168 + 24
    assert count("select count(*) from reddit_comments where link_id = 't3_pfwuyg'") == 166


def test_the_demo_loads_every_recorded_day_in_one_merge(lakehouse: Path) -> None:
    from madlake.demo import DEMO_STEPS, REDDIT_DAYS

    ingest = next(s for s in DEMO_STEPS if s.dag_id == Dag.REDDIT_INGEST)
    load = next(s for s in DEMO_STEPS if s.dag_id == Dag.REDDIT_LOAD)
    assert ingest.days == REDDIT_DAYS and len(REDDIT_DAYS) == 34
    assert load.conf == {"start": "2025-07-02", "end": "2025-08-08"}


def test_archive_backfill_dag_takes_its_params(lakehouse: Path) -> None:
    from madlake.orchestration.runner import DagRunFailedError, run_dag

    conf = {"subreddit": "dataengineering", "start": "2021-09-01", "end": "2021-09-30", "archive": str(FIXTURES)}
    run_dag(Dag.REDDIT_ARCHIVE_BACKFILL, None, conf=conf)
    assert count("select count(*) from reddit_submissions") == 1  # pfwuyg, posted 2021-09-01
    september = count("select count(*) from reddit_comments where created_at < timestamp '2021-10-01 00:00:00+00'")
    assert 0 < september == count("select count(*) from reddit_comments")
    try:
        run_dag(Dag.REDDIT_ARCHIVE_BACKFILL, None, conf={**conf, "subreddit": "datascience"})
    except DagRunFailedError as exc:
        assert "backfill" in str(exc)
    else:
        raise AssertionError("a missing dump must fail the run")
