"""The ``lakehouse_maintenance`` DAG through Airflow (local), and the Athena OPTIMIZE/VACUUM path on moto_server."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from pathlib import Path

import boto3
import pyarrow as pa
import pytest

from tests.integration._reliability import record
from tests.integration.conftest import AwsLakehouse

pytestmark = pytest.mark.integration


def _data_files(table) -> int:
    table.refresh()
    return sum(1 for _ in table.scan().plan_files())


def test_maintenance_dag_compacts_expires_and_cleans_without_changing_rows(lakehouse: Path) -> None:
    from madlake.lakehouse.deadletter import Rejection, write_dead_letters
    from madlake.lakehouse.tables import ensure_tables, load_table
    from madlake.lakehouse.writes import CommitContext
    from madlake.names import Dag, Table
    from madlake.ops.maintenance import list_table_files
    from madlake.orchestration.runner import run_dag

    from tests.fingerprint import fingerprint_lakehouse

    ensure_tables()
    ctx = CommitContext("test", "seed", "test")
    for i in range(9):  # nine daily loads -> nine small files in the rejected_records/source=pypi partition
        write_dead_letters("pypi", "row", date(2024, 1, 1) + timedelta(days=i), [Rejection(f"bad {i}", {"i": i})], ctx)
    table = load_table(Table.REJECTED_RECORDS)
    orphan = Path(table.location().removeprefix("file://")) / "data" / "source=pypi" / "00000-0-killed-writer.parquet"
    orphan.write_bytes(b"PAR1" + b"\0" * 1000)
    old = time.time() - 4 * 3600
    os.utime(orphan, (old, old))
    before_prints = fingerprint_lakehouse()
    files_before = len(list_table_files(table))
    data_files_before = _data_files(table)

    run_dag(Dag.LAKEHOUSE_MAINTENANCE, None, conf={"retention_days": 0, "orphan_min_age_hours": 0})

    after_prints = fingerprint_lakehouse()
    table = load_table(Table.REJECTED_RECORDS)
    files_after = len(list_table_files(table))
    record(
        "maintenance_dag",
        data_files_before=data_files_before,
        data_files_after=_data_files(table),
        files_before=files_before,
        files_after=files_after,
        tables_fingerprinted=len(after_prints),
        rows_lost=sum(b.rows for b in before_prints.values()) - sum(a.rows for a in after_prints.values()),
    )
    assert {n: p.row_hash for n, p in after_prints.items()} == {n: p.row_hash for n, p in before_prints.items()}
    assert data_files_before == 9 and _data_files(table) == 1
    assert not orphan.exists(), "the killed writer's file was not removed"
    assert files_after < files_before
    # Main's last snapshots are kept whatever the retention: time travel to the pre-compaction state still works.
    assert len(table.metadata.snapshots) == 3


def test_maintain_cli_dry_run_then_real(lakehouse: Path) -> None:
    import json
    import subprocess
    import sys

    from madlake.lakehouse.tables import ensure_table
    from madlake.lakehouse.writes import conform

    from tests.unit.test_maintenance import SPEC

    table = ensure_table(SPEC)
    for i in range(8):
        table.append(conform(table, pa.table({"day": [date(2024, 1, 1)], "key": [f"k{i}"], "value": [i]})))
    env = {**os.environ, "MADLAKE_HOME": str(lakehouse)}
    madlake = str(Path(sys.executable).with_name("madlake"))
    dry = subprocess.run(
        [madlake, "maintain", "--table", "events", "--dry-run", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert dry.returncode == 0, dry.stderr[-2000:]
    (planned,) = json.loads(dry.stdout)
    assert planned["dry_run"] and planned["partitions_compacted"] == 1 and _data_files(table) == 8
    real = subprocess.run(
        [madlake, "maintain", "--table", "events"], env=env, capture_output=True, text=True, check=False
    )
    assert real.returncode == 0, real.stderr[-2000:]
    assert "madlake.events" in real.stdout and "8->1" in real.stdout, real.stdout
    assert _data_files(table) == 1
    unknown = subprocess.run(
        [madlake, "maintain", "--table", "nope"], env=env, capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 1 and "unknown table 'nope'" in unknown.stderr


def test_aws_profile_runs_athena_optimize_and_vacuum(aws_profile: AwsLakehouse, moto_server: str) -> None:
    from madlake.config import get_settings
    from madlake.lakehouse.deadletter import Rejection, write_dead_letters
    from madlake.lakehouse.writes import CommitContext
    from madlake.names import Table
    from madlake.ops.maintenance import MaintenancePolicy, maintain

    ctx = CommitContext("test", "seed", "test")
    write_dead_letters("reddit", "comment", date(2024, 1, 1), [Rejection("bad", {"x": 1})], ctx)
    settings = get_settings()

    (report,) = maintain([Table.REJECTED_RECORDS], MaintenancePolicy(snapshot_retention=timedelta(days=2)))

    athena = boto3.client("athena", endpoint_url=moto_server, region_name="us-east-1")
    sent = []
    for qid in athena.list_query_executions()["QueryExecutionIds"]:
        execution = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if execution["QueryExecutionContext"].get("Database") == settings.namespace:
            sent.append(execution["Query"])
    qualified = f"{settings.namespace}.{Table.REJECTED_RECORDS}"
    expected = [
        f"ALTER TABLE {qualified} SET TBLPROPERTIES ("
        "'vacuum_max_snapshot_age_seconds'='172800', 'vacuum_min_snapshots_to_keep'='3')",
        f"OPTIMIZE {qualified} REWRITE DATA USING BIN_PACK",
        f"VACUUM {qualified}",
    ]
    record("maintenance_athena", statements=len(sent), data_files=report.after.data_files, files=report.after.files)
    assert sorted(sent) == sorted(expected)
    assert report.engine == "athena" and report.statements == expected
    # Files and bytes come from S3 through the same listing code as locally.
    assert report.before.data_files == 1 and report.before.files >= 4 and report.before.bytes > 0
