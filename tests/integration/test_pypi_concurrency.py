"""Two days loaded at the same time by two separate processes (as two Airflow workers would) both land intact."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_two_processes_loading_different_days_do_not_interfere(lakehouse: Path) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.pipelines.tools import init_lakehouse
    from madlake.sql.engine import LocalEngine

    init_lakehouse()  # both workers find the tables; the race is on the data, not on table creation
    env = {**os.environ, "MADLAKE_HOME": str(lakehouse), "MADLAKE_PROFILE": "local"}
    cmd = [sys.executable, "-m", "madlake.cli", "pypi", "load", "--start"]
    procs = [
        subprocess.Popen([*cmd, day], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for day in ("2026-03-10", "2026-03-11")
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-2000:]
    counts = (
        LocalEngine()
        .query(
            "select download_date::varchar as d, count(*) as n, count(distinct project) as p from pypi_downloads "
            "group by 1 order by 1"
        )
        .to_pylist()
    )
    assert [c["d"] for c in counts] == ["2026-03-10", "2026-03-11"]
    assert all(c["n"] > 500 and c["p"] == 130 for c in counts)
    table = load_table("pypi_downloads")
    assert list(table.refs()) == ["main"]  # both branches were published and dropped
    published = [
        r for r in load_table("audit_results").scan().to_arrow().to_pylist() if r["published"] and r["success"]
    ]
    assert {r["partition_key"] for r in published} == {"2026-03-10", "2026-03-11"}
