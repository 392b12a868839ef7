"""Three days of the same year partition loaded at once by separate processes (as Airflow backfill workers would)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAYS = ("2022-03-01", "2022-03-02", "2022-03-03")


def test_concurrent_day_runs_all_land_once(lakehouse: Path) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.names import Table
    from madlake.pipelines.github_history import load_range
    from madlake.pipelines.tools import init_lakehouse

    init_lakehouse()
    env = {**os.environ, "MADLAKE_HOME": str(lakehouse), "MADLAKE_PROFILE": "local"}
    cmd = [sys.executable, "-m", "madlake.cli", "github-history", "load", "--no-progress", "--start"]
    procs = [
        subprocess.Popen([*cmd, d], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for d in DAYS
    ]
    for p in procs:
        _out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]

    def rows() -> list[tuple]:
        data = load_table(Table.GITHUB_REPO_HISTORY).scan().to_arrow().to_pylist()
        return sorted((r["day"], r["repo"], r["source"], r["stars"]) for r in data)

    concurrent = rows()
    assert {r[0] for r in concurrent} == {date.fromisoformat(d) for d in DAYS}
    assert len(set(concurrent)) == len(concurrent)
    load_range(date.fromisoformat(DAYS[0]), date.fromisoformat(DAYS[-1]), source_mode="replay")
    assert rows() == concurrent  # the same as one sequential run over the four days
