"""The operator's path, through a real Airflow: set-up, unpausing, triggers, a backfill and the asset chain to gold.

One Airflow (see ``_stack.py``) for the module; the tests run in order, like a person at the UI:

1. ``madlake airflow setup`` created the pools; unpausing the DAGs in the documented order schedules nothing that
   fails (``pypi_downloads``' latest interval is outside the replay: it is skipped, with a message).
2. The demo's DAGs triggered by REST succeed and land their tables (``tools_catalog``; ``github_metrics`` for the
   replay's recorded day, through the ``date`` param).
3. A backfill of ``pypi_downloads`` over four replay days (``POST /api/v2/backfills``): each day once, and gold was
   recomputed for exactly those days by the asset chain (the events' ``extra``), with no manual step.
4. Clearing a task instance reruns it and leaves the tables unchanged.
5. A snapshot DAG refuses a backfill with a clear message.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from madlake.names import Dag, Pool, Table

from tests.scheduler._stack import Stack

# Each test waits for a real scheduler on a shared 2-core machine: allow more than the suite's default 600 s.
pytestmark = [pytest.mark.scheduler, pytest.mark.integration, pytest.mark.timeout(900)]

#: Replay days of the bundled PyPI recordings (see ``madlake pypi replay-days``); four consecutive ones.
BACKFILL_DAYS = [date(2026, 3, 1) + timedelta(days=i) for i in range(3)]
GITHUB_DAY = date(2026, 8, 22)  # the day the bundled GitHub replay was recorded
UNPAUSE_ORDER = [Dag.TOOLS_CATALOG, Dag.GOLD_METRICS, Dag.DASHBOARD_PUBLISH, Dag.PYPI_DOWNLOADS, Dag.GITHUB_METRICS]
CHAIN = [Dag.PYPI_DOWNLOADS, Dag.GOLD_METRICS, Dag.DASHBOARD_PUBLISH]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    root = Path(tempfile.mkdtemp(prefix="madlake-sched-"))
    s = Stack(root)
    started = time.monotonic()
    try:
        s.configure()
        s.run(str(Path(s.env["PATH"].split(":")[0]) / "madlake"), "airflow", "setup")
        s.start()
        s.wait_healthy()
        s.wait_dags(set(UNPAUSE_ORDER))
        print(f"[scheduler tier] Airflow up in {time.monotonic() - started:.0f}s on {s.url}")
        yield s
    finally:
        s.stop()
        left = s.alive()
        artifacts = Path(__file__).resolve().parents[2] / "test-artifacts" / "scheduler-logs"
        shutil.rmtree(artifacts, ignore_errors=True)
        if (root / "logs").exists():
            shutil.copytree(root / "logs", artifacts)
        shutil.rmtree(root, ignore_errors=True)
        assert not left, f"process groups still running after stop: {left}"


def _query(stack: Stack, sql: str, params: list | None = None) -> list[dict]:
    import os

    from madlake.lakehouse.catalog import reset_catalog_cache
    from madlake.sql.engine import LocalEngine

    old = {k: os.environ.get(k) for k in ("MADLAKE_HOME", "MADLAKE_PROFILE")}
    os.environ["MADLAKE_HOME"], os.environ["MADLAKE_PROFILE"] = str(stack.madlake_home), "local"
    reset_catalog_cache()
    try:
        return LocalEngine().query(sql, params).to_pylist()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_catalog_cache()


def _fingerprints(stack: Stack, tables: list[str]) -> dict:
    import os

    from madlake.lakehouse.catalog import reset_catalog_cache

    from tests.fingerprint import fingerprint_lakehouse

    old = os.environ.get("MADLAKE_HOME")
    os.environ["MADLAKE_HOME"] = str(stack.madlake_home)
    reset_catalog_cache()
    try:
        return fingerprint_lakehouse(tables)
    finally:
        if old is None:
            os.environ.pop("MADLAKE_HOME", None)
        else:
            os.environ["MADLAKE_HOME"] = old
        reset_catalog_cache()


def test_setup_created_the_pools_and_unpausing_schedules_nothing_that_fails(stack: Stack) -> None:
    pools = {p["name"]: p["slots"] for p in stack.request("GET", "/api/v2/pools")["pools"]}
    assert {Pool.BIGQUERY, Pool.REDDIT, Pool.GITHUB, Pool.LLM} <= set(pools), pools
    for dag_id in UNPAUSE_ORDER:
        stack.unpause(dag_id)
    time.sleep(10)  # let the scheduler create whatever unpausing schedules
    stack.wait_quiet([*UNPAUSE_ORDER], timeout=240)
    failed = [(d, r["dag_run_id"]) for d in UNPAUSE_ORDER for r in stack.runs(d) if r["state"] == "failed"]
    assert not failed, f"unpausing scheduled runs that failed: {failed}"
    # pypi_downloads' latest interval (yesterday) has no replay data: that run is skipped, not failed or retried.
    for run in stack.runs(Dag.PYPI_DOWNLOADS):
        tis = stack.task_instances(Dag.PYPI_DOWNLOADS, run["dag_run_id"])
        assert all(ti["state"] in ("skipped", "success") for ti in tis), tis
        assert all(ti["try_number"] <= 1 for ti in tis), tis


def test_demo_dags_triggered_by_rest_succeed_and_land_their_tables(stack: Stack) -> None:
    run = stack.wait_run(Dag.TOOLS_CATALOG, stack.trigger(Dag.TOOLS_CATALOG))
    assert run["state"] == "success", stack.task_instances(Dag.TOOLS_CATALOG, run["dag_run_id"])
    assert _query(stack, "select count(*) as n from dim_tools")[0]["n"] > 50
    run_id = stack.trigger(Dag.GITHUB_METRICS, {"date": GITHUB_DAY.isoformat()})
    run = stack.wait_run(Dag.GITHUB_METRICS, run_id)
    assert run["state"] == "success", stack.task_instances(Dag.GITHUB_METRICS, run_id)
    days = {r["d"] for r in _query(stack, "select distinct snapshot_date as d from github_repo_snapshots")}
    # The date param named the day, whatever the run's logical date (the run unpausing scheduled, if any, filed the
    # replayed figures under its own day: the scheduled snapshot of today).
    assert GITHUB_DAY in days and days <= {GITHUB_DAY, *_scheduled_days(stack, Dag.GITHUB_METRICS)}, days
    stack.wait_quiet([Dag.GOLD_METRICS, Dag.DASHBOARD_PUBLISH])
    gold = {r["d"] for r in _query(stack, "select distinct metric_date as d from tool_daily_metrics")}
    assert gold == days  # each snapshot's event named its day; gold followed exactly those


def _recomputed_days(stack: Stack) -> set[date]:
    """Days the finished gold runs recomputed (each run's ``periods`` XCom)."""
    days: set[date] = set()
    for run in stack.runs(Dag.GOLD_METRICS):
        if run["state"] != "success":
            continue
        out = stack.xcom(Dag.GOLD_METRICS, run["dag_run_id"], "build_gold_metrics")
        for s, e in (out or {}).get("periods", []):
            first, last = date.fromisoformat(s), date.fromisoformat(e)
            days |= {first + timedelta(days=i) for i in range((last - first).days + 1)}
    return days


def _dump_chain(stack: Stack) -> None:
    """Runs of the chain with the asset events each gold run consumed, to ``test-artifacts/scheduler_chain.json``."""
    import json

    out = {}
    for dag_id in (*CHAIN, Dag.GITHUB_METRICS, Dag.TOOLS_CATALOG):
        runs = []
        for r in stack.runs(dag_id):
            item = {k: r.get(k) for k in ("dag_run_id", "run_type", "state", "logical_date", "start_date", "end_date")}
            if dag_id == Dag.GOLD_METRICS:
                events = stack.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{r['dag_run_id']}/upstreamAssetEvents")
                item["events"] = [e.get("extra") for e in events.get("asset_events", [])]
            runs.append(item)
        out[dag_id] = runs
    path = Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(exist_ok=True)
    (path / "scheduler_chain.json").write_text(json.dumps(out, indent=1, default=str))


def _scheduled_days(stack: Stack, dag_id: str) -> set[date]:
    return {date.fromisoformat(r["logical_date"][:10]) for r in stack.runs(dag_id) if r["run_type"] == "scheduled"}


def test_backfill_of_pypi_reaches_gold_for_exactly_those_days(stack: Stack) -> None:
    backfill = stack.request(
        "POST",
        "/api/v2/backfills",
        {
            "dag_id": Dag.PYPI_DOWNLOADS,
            "from_date": f"{BACKFILL_DAYS[0]}T00:00:00Z",
            "to_date": f"{BACKFILL_DAYS[-1]}T00:00:00Z",
            "reprocess_behavior": "none",
            "max_active_runs": 3,
        },
    )
    deadline = time.monotonic() + 300
    while not stack.request("GET", f"/api/v2/backfills/{backfill['id']}").get("completed_at"):
        assert time.monotonic() < deadline, "backfill did not complete"
        time.sleep(3)
    runs = [r for r in stack.runs(Dag.PYPI_DOWNLOADS) if r["run_type"] == "backfill"]
    assert sorted(r["logical_date"][:10] for r in runs) == [d.isoformat() for d in BACKFILL_DAYS]
    assert {r["state"] for r in runs} == {"success"}, runs
    per_day = _query(
        stack,
        "select download_date as d, count(*) as n, count(distinct (project, version, installer, python_version, "
        "system, country_code, ci)) as k from pypi_downloads group by 1 order by 1",
    )
    assert [r["d"] for r in per_day] == BACKFILL_DAYS  # each day, and only those
    assert all(r["n"] == r["k"] and r["n"] > 500 for r in per_day), per_day  # each row once
    # Wait until finished gold runs recomputed every backfilled day (the chain, not a timer). Airflow may leave
    # some of the backfill's events unconsumed (apache/airflow#56050); gold reads them through its inlets.
    deadline = time.monotonic() + 600
    while True:
        stack.wait_quiet(CHAIN, timeout=420)
        if set(BACKFILL_DAYS) <= _recomputed_days(stack):
            break
        assert time.monotonic() < deadline, f"gold recomputed only {sorted(_recomputed_days(stack))}"
    gold_runs = [r for r in stack.runs(Dag.GOLD_METRICS) if r["run_type"] == "asset_triggered"]
    assert {r["state"] for r in gold_runs} == {"success"}, gold_runs
    _dump_chain(stack)
    recomputed = _recomputed_days(stack)
    snapshots = {r["d"] for r in _query(stack, "select distinct snapshot_date as d from github_repo_snapshots")}
    assert recomputed == {*BACKFILL_DAYS, *snapshots}, sorted(recomputed)
    gold = _query(
        stack,
        "select metric_date as d, count(*) as n, count(distinct tool_id) as k, count(downloads) as with_downloads "
        "from tool_daily_metrics group by 1 order by 1",
    )
    assert [r["d"] for r in gold] == sorted({*BACKFILL_DAYS, *snapshots})
    assert all(r["n"] == r["k"] for r in gold), gold  # one row per tool and day
    assert all(r["with_downloads"] > 0 for r in gold if r["d"] in BACKFILL_DAYS), gold
    dash = [r for r in stack.runs(Dag.DASHBOARD_PUBLISH) if r["run_type"] == "asset_triggered"]
    assert dash and {r["state"] for r in dash} == {"success"}, dash


def test_clearing_a_task_instance_reruns_it_and_leaves_the_tables_unchanged(stack: Stack) -> None:
    tables = [Table.PYPI_DOWNLOADS, Table.TOOL_DAILY_METRICS]
    before = _fingerprints(stack, tables)
    run = next(
        r
        for r in stack.runs(Dag.PYPI_DOWNLOADS)
        if r["run_type"] == "backfill" and r["logical_date"].startswith(BACKFILL_DAYS[1].isoformat())
    )
    stack.request(
        "POST",
        f"/api/v2/dags/{Dag.PYPI_DOWNLOADS}/clearTaskInstances",
        {"dag_run_id": run["dag_run_id"], "task_ids": ["load_pypi_day"], "only_failed": False, "dry_run": False},
    )
    deadline = time.monotonic() + 240
    while True:
        (ti,) = stack.task_instances(Dag.PYPI_DOWNLOADS, run["dag_run_id"])
        if ti["try_number"] >= 2 and ti["state"] in ("success", "failed"):
            break
        assert time.monotonic() < deadline, ti
        time.sleep(2)
    assert ti["state"] == "success", ti
    stack.wait_quiet(CHAIN, timeout=300)
    after = _fingerprints(stack, tables)
    from tests.fingerprint import diff

    assert not diff(before, after), diff(before, after)


def test_a_snapshot_dag_refuses_a_backfill(stack: Stack) -> None:
    with pytest.raises(AssertionError) as refused:
        stack.request(
            "POST",
            "/api/v2/backfills",
            {
                "dag_id": Dag.GITHUB_METRICS,
                "from_date": "2026-08-01T00:00:00Z",
                "to_date": "2026-08-03T00:00:00Z",
                "reprocess_behavior": "none",
                "max_active_runs": 1,
            },
        )
    assert "HTTP 400" in str(refused.value) and "does not allow backfill runs" in str(refused.value)
    assert not [r for r in stack.runs(Dag.GITHUB_METRICS) if r["run_type"] == "backfill"]
