"""GitHub history: the whole real history (2018-12-18 → 2026-08-22) loaded into ``github_repo_history`` in one run.

1. One range run over every day (the ``conf start/end`` / ``madlake github-history load`` path): parse every file,
   one overwrite. Target: under 60 s on 2 cores. Printed by phase, with the Iceberg snapshots it added.
2. Baseline, measured in the same run: the same days loaded one day per run (the path an Airflow backfill takes, each
   run reading its day and committing its overwrite and dead letters) for the first ``BASELINE_DAYS`` days, then
   extrapolated to the whole range (its per-day cost grows as the table grows, so the extrapolation flatters it).

Reads the replay folder of the settings: the bundled files (genuine, best-of trimmed to tracked projects), or the full
history with ``MADLAKE_REPLAY_DIR`` pointed at a folder laid out like it.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date, timedelta

FIRST, LAST = date(2018, 12, 18), date(2026, 8, 22)
TARGET_S = 60.0
BASELINE_DAYS = 40


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="madlake-bench-ghh-") as home:
        os.environ["MADLAKE_HOME"] = home
        from madlake.lakehouse.catalog import reset_catalog_cache
        from madlake.lakehouse.tables import load_table
        from madlake.names import Table
        from madlake.pipelines.github_history import load_day, load_range
        from madlake.pipelines.tools import init_lakehouse

        reset_catalog_cache()
        init_lakehouse()
        table = load_table(Table.GITHUB_REPO_HISTORY)
        before = len(table.snapshots())
        start = time.perf_counter()
        summary = load_range(FIRST, LAST, source_mode="replay")
        wall = time.perf_counter() - start
        table.refresh()
        snaps = len(table.snapshots()) - before
        days = (LAST - FIRST).days + 1
        print(
            f"range run {FIRST}..{LAST}: {summary['rows']:,} rows from {summary['files']} files over {days:,} days in "
            f"{wall:.1f}s (collect {summary['seconds']['collect']:.1f}s, write {summary['seconds']['write']:.1f}s), "
            f"{snaps} table snapshots; target < {TARGET_S:.0f}s: {'ok' if wall < TARGET_S else 'MISSED'}"
        )

        reset_catalog_cache()
        os.environ["MADLAKE_HOME"] = os.path.join(home, "baseline")
        reset_catalog_cache()
        init_lakehouse()
        start = time.perf_counter()
        for i in range(BASELINE_DAYS):
            load_day(FIRST + timedelta(days=i), source_mode="replay")
        per_day = (time.perf_counter() - start) / BASELINE_DAYS
        print(
            f"baseline, one run per day (Airflow backfill path): {per_day:.2f}s per day over the first "
            f"{BASELINE_DAYS} days -> ~{per_day * days / 60:.0f} min for {days:,} days; range run is "
            f"{per_day * days / wall:.0f}x faster"
        )
        reset_catalog_cache()
