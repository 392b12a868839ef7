"""``source_freshness`` from Iceberg metadata: last successful load per table and source, newest data date, lags."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from madlake.lakehouse import writes
from madlake.lakehouse.tables import load_table
from madlake.names import Table
from pyiceberg.expressions import AlwaysTrue, EqualTo

pytestmark = pytest.mark.integration


def _breakouts(day: date, tool: str = "duckdb") -> pa.Table:
    table = load_table(Table.TOOL_BREAKOUTS)
    return writes.rows_to_arrow(
        table,
        [
            {
                "metric_date": day,
                "tool_id": tool,
                "signals": "downloads,mentions",
                "n_signals": 2,
                "zscores": "{}",
                "is_sample": True,
                "computed_at": datetime.now(UTC),
            }
        ],
    )


def _day_filter(day: date) -> EqualTo:
    return EqualTo("metric_date", day.isoformat())


def _rows(check_date: date) -> list[dict]:
    from madlake.sql.engine import LocalEngine

    return (
        LocalEngine()
        .query("select * from source_freshness where check_date = ? order by table_name, source", [check_date])
        .to_pylist()
    )


def test_last_load_per_source_ignores_failed_audits_and_reruns_replace(lakehouse: Path) -> None:
    from madlake.ops.freshness import refresh_source_freshness

    table = load_table(Table.TOOL_BREAKOUTS)
    gold = writes.CommitContext("gold_metrics", "run-a", "gold")
    backfill = writes.CommitContext("gold_backfill", "run-b", "backfill")
    writes.replace_partition(table, _breakouts(date(2026, 3, 1)), _day_filter(date(2026, 3, 1)), gold)
    writes.replace_partition(table, _breakouts(date(2026, 3, 9)), _day_filter(date(2026, 3, 9)), backfill)
    backfill_snapshot = table.current_snapshot().snapshot_id

    def failing(staged, tbl, snapshot_id):
        return writes.AuditReport((writes.ExpectationResult("always fails", False, "x"),))

    # A failed audit commits to its branch only: it must not count as a load, nor move the newest data date.
    failed = writes.CommitContext("gold_metrics", "run-c", "gold")
    with pytest.raises(writes.AuditFailedError):
        writes.write_audit_publish(
            table, _breakouts(date(2026, 4, 30)), _day_filter(date(2026, 4, 30)), "d", failing, failed
        )

    now = datetime.now(UTC) + timedelta(hours=5)
    check = date(2026, 3, 12)
    summary = refresh_source_freshness(check, now=now)
    rows = [r for r in _rows(check) if r["table_name"] == Table.TOOL_BREAKOUTS]
    assert [r["source"] for r in rows] == ["backfill", "gold"]
    by_source = {r["source"]: r for r in rows}
    assert by_source["backfill"]["last_snapshot_id"] == backfill_snapshot
    assert by_source["gold"]["last_dag_id"] == "gold_metrics" and by_source["gold"]["last_run_id"] == "run-a"
    assert by_source["gold"]["loads"] == 1  # run-c's branch commit is not on main
    for r in rows:
        assert r["table_rows"] == 2
        assert r["data_column"] == "metric_date"
        assert r["newest_data_date"] == date(2026, 3, 9)
        assert r["data_lag_days"] == 3
        assert 4.9 < r["load_lag_hours"] < 5.5
    assert summary["rows"] == len(_rows(check))

    # rerun for the same day: the same rows, not twice as many
    refresh_source_freshness(check, now=now)
    assert len(_rows(check)) == summary["rows"]


def test_a_table_never_loaded_has_no_row_and_timestamps_give_dates(lakehouse: Path) -> None:
    from madlake.ops.freshness import data_column, refresh_source_freshness
    from madlake.tables import get_spec

    load_table(Table.POPULARITY_INDEX)  # created, never written
    assert data_column(get_spec(Table.REDDIT_SUBMISSIONS)) == "created_at"
    assert data_column(get_spec(Table.DIM_TOOLS)) is None
    submissions = load_table(Table.REDDIT_SUBMISSIONS)
    now = datetime(2026, 5, 2, 13, 0, tzinfo=UTC)
    row = {
        "id": "abc",
        "fullname": "t3_abc",
        "subreddit": "dataengineering",
        "is_deleted": False,
        "is_removed": False,
        "created_at": datetime(2026, 5, 1, 23, 59, tzinfo=UTC),
        "first_seen_at": now,
        "last_seen_at": now,
        "loaded_at": now,
        "source": "api",
    }
    writes.merge(
        submissions, writes.rows_to_arrow(submissions, [row]), ["id"], writes.CommitContext("r", "1", "reddit")
    )
    refresh_source_freshness(date(2026, 5, 2))
    rows = {r["table_name"]: r for r in _rows(date(2026, 5, 2))}
    assert Table.POPULARITY_INDEX not in rows
    assert rows[Table.REDDIT_SUBMISSIONS]["newest_data_date"] == date(2026, 5, 1)
    assert rows[Table.REDDIT_SUBMISSIONS]["source"] == "reddit"


def test_coverage_period_of_the_history_tables(lakehouse: Path) -> None:
    """The freshness page's coverage: oldest and newest data date and the number of distinct dates, per table, for
    the history tables too (pypi_downloads_monthly: one per snapshot; github_repo_history: one per day)."""
    from madlake.ops.freshness import refresh_source_freshness

    now = datetime(2026, 5, 2, 13, 0, tzinfo=UTC)
    pypi = load_table(Table.PYPI_DOWNLOADS_MONTHLY)
    snapshots = [date(2018, 2, 3), date(2018, 2, 10), date(2024, 11, 1), date(2026, 4, 1)]
    rows = [
        {
            "month": date(s.year, s.month, 1),
            "project": project,
            "downloads": None if project == "rare" else 1000,
            "rank": None if project == "rare" else 1,
            "list_size": 8000,
            "list_min_downloads": 500,
            "below_list": project == "rare",
            "window_days": 30,
            "installers": "pip",
            "method": "pip-30d",
            "snapshot_date": s,
            "source": "replay",
            "loaded_at": now,
        }
        for s in snapshots
        for project in ("duckdb", "rare")
    ]
    writes.merge(
        pypi, writes.rows_to_arrow(pypi, rows), ["snapshot_date", "project"], writes.CommitContext("p", "1", "r")
    )
    github = load_table(Table.GITHUB_REPO_HISTORY)
    days = [date(2018, 12, 18), date(2018, 12, 19), date(2025, 1, 5)]
    rows = [
        {
            "day": d,
            "repo": "duckdb/duckdb",
            "tool_id": "duckdb",
            "listed_as": "cwida/duckdb",
            "stars": 100,
            "source": source,
            "loaded_at": now,
        }
        for d in days
        for source in ("github-ranking", "best-of-python")
    ]
    writes.merge(
        github, writes.rows_to_arrow(github, rows), ["day", "repo", "source"], writes.CommitContext("g", "1", "g")
    )
    daily = load_table(Table.PYPI_DOWNLOADS)  # partitioned by day of its data column: periods from partition values
    rows = [
        {"download_date": d, "project": "duckdb", "version": v, "downloads": 5, "source": "replay"}
        for d in (date(2026, 3, 1), date(2026, 3, 3))
        for v in ("1.0", "1.1")
    ]
    writes.replace_partition(
        daily, writes.rows_to_arrow(daily, rows), AlwaysTrue(), writes.CommitContext("d", "1", "replay")
    )
    refresh_source_freshness(date(2026, 5, 2), now=now)
    got = {r["table_name"]: r for r in _rows(date(2026, 5, 2))}
    assert got[Table.PYPI_DOWNLOADS]["data_periods"] == 2
    assert got[Table.PYPI_DOWNLOADS]["oldest_data_date"] == date(2026, 3, 1)
    monthly = got[Table.PYPI_DOWNLOADS_MONTHLY]
    assert (monthly["oldest_data_date"], monthly["newest_data_date"]) == (date(2018, 2, 3), date(2026, 4, 1))
    assert monthly["data_periods"] == 4  # snapshots, not rows (8) nor months (3)
    history = got[Table.GITHUB_REPO_HISTORY]
    assert (history["oldest_data_date"], history["newest_data_date"]) == (date(2018, 12, 18), date(2025, 1, 5))
    assert history["data_periods"] == 3  # days, not rows (6)
