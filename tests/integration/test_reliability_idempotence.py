"""Idempotence: every DAG run twice for the same date leaves identical table fingerprints (rows and an order-free hash).

The DAGs run through Airflow (``dag.test``, the scheduler's code path) in the demo's dependency order on one lakehouse
built up by this module; each test runs its DAG for its date, fingerprints every table, runs it again, and compares.
One date per DAG keeps this to two runs each (~7-20 s per test).

Excluded from the comparison, on purpose:

* ``audit_results``: an append-only log with one row per audit *attempt*; a rerun audits again and must add rows.
* Load-time bookkeeping columns (``loaded_at``, ``processed_at``, a dead letter's ``run_id``, freshness's
  ``checked_at``...): see :data:`tests.fingerprint.VOLATILE_COLUMNS`; each fingerprint names what it left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from madlake.names import Dag, Table

from tests.integration._reliability import record

pytestmark = pytest.mark.integration

NOT_FINGERPRINTED = (Table.AUDIT_RESULTS,)


@dataclass(frozen=True)
class Run:
    dag_id: str
    day: date | None = None
    conf: dict[str, Any] = field(default_factory=dict)


#: One date per DAG, in dependency order: the days the bundled replay data covers (as in ``madlake demo``), with the
#: PyPI range cut to three days and the GitHub star history to two weeks to keep the proof fast.
RUNS: list[Run] = [
    Run(Dag.TOOLS_CATALOG),
    Run(Dag.PYPI_DOWNLOADS, conf={"start": "2026-03-01", "end": "2026-03-03"}),
    Run(Dag.GITHUB_METRICS, date(2026, 8, 22)),
    Run(Dag.GITHUB_STAR_HISTORY, conf={"since": "2026-08-08", "date": "2026-08-22"}),
    Run(Dag.PYPI_MONTHLY, conf={"start": "2026-01-01", "end": "2026-03-31"}),
    Run(Dag.GITHUB_HISTORY, conf={"start": "2025-01-08", "end": "2025-01-10"}),
    Run(Dag.REDDIT_INGEST, date(2025, 8, 8), conf={"threads": "1mkowrw"}),
    Run(Dag.REDDIT_LOAD, date(2025, 8, 8)),
    Run(Dag.REDDIT_MENTIONS, conf={"method": "lexicon"}),
    Run(Dag.GOLD_METRICS, conf={"date": "2026-03-03"}),
    Run(Dag.DASHBOARD_PUBLISH, date(2026, 3, 3)),
    Run(Dag.LAKEHOUSE_MAINTENANCE),
]

#: DAGs not rerun here, and why.
NOT_RUN = {
    Dag.REDDIT_ARCHIVE_BACKFILL: "needs an archive dump; its rerun-is-a-no-op contract is tested in the Reddit tests",
}


@pytest.fixture(scope="module")
def shared_lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from madlake.lakehouse.catalog import reset_catalog_cache

    home = tmp_path_factory.mktemp("idempotence") / "lakehouse"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MADLAKE_HOME", str(home))
        mp.setenv("MADLAKE_PROFILE", "local")
        reset_catalog_cache()
        state: dict[str, Any] = {"done": set(), "results": {}}
        yield state
        reset_catalog_cache()


def _run(run: Run) -> None:
    from madlake.orchestration.runner import run_dag

    run_dag(run.dag_id, run.day, conf=run.conf or None)


def test_every_dag_is_covered() -> None:
    from airflow.dag_processing.dagbag import DagBag
    from madlake.orchestration.runner import DAGS_FOLDER

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    covered = {r.dag_id for r in RUNS} | set(NOT_RUN)
    assert set(bag.dags) <= covered, f"add these DAGs to RUNS (or NOT_RUN, with a reason): {set(bag.dags) - covered}"


@pytest.mark.parametrize("run", RUNS, ids=lambda r: r.dag_id)
def test_dag_run_twice_for_the_same_date_changes_nothing(shared_lakehouse: dict[str, Any], run: Run) -> None:
    from tests.fingerprint import diff, fingerprint_lakehouse

    # Upstream DAGs first (also when this test is run on its own).
    for earlier in RUNS[: RUNS.index(run)]:
        if earlier.dag_id not in shared_lakehouse["done"]:
            _run(earlier)
            shared_lakehouse["done"].add(earlier.dag_id)

    _run(run)
    first = fingerprint_lakehouse(skip=NOT_FINGERPRINTED)
    _run(run)
    second = fingerprint_lakehouse(skip=NOT_FINGERPRINTED)
    shared_lakehouse["done"].add(run.dag_id)

    problems = diff(first, second)
    duplicates = {n: p.duplicate_keys for n, p in second.items() if p.duplicate_keys}
    shared_lakehouse["results"][run.dag_id] = len(problems)
    record(
        f"idempotence_{run.dag_id}",
        runs=2,
        tables_fingerprinted=len(second),
        rows_total=sum(p.rows for p in second.values()),
        tables_with_rows=sum(1 for p in second.values() if p.rows),
        differences=len(problems),
        duplicate_keys=sum(duplicates.values()),
        details=problems,
    )
    assert not problems, "\n".join(problems)
    assert not duplicates, duplicates
