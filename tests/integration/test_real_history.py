"""Real history end to end: the bundled genuine files -> the history tables -> gold v2, checked against the files.

Every expected figure is read from the genuine file in the test itself (never typed in), so the test fails if a
loader, a staging model or the mart drops, rescales, shifts or invents a value.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import REPLAY_DIR

pytestmark = pytest.mark.integration

PYPI_DIR = REPLAY_DIR / "pypi" / "top-pypi-packages-30-days"
RANKING = REPLAY_DIR / "github" / "github-ranking"


@pytest.fixture(scope="module")
def history_lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One lakehouse with the whole bundled PyPI and GitHub history and gold for every month, built once."""
    import os

    from madlake.lakehouse.catalog import reset_catalog_cache

    home = tmp_path_factory.mktemp("history") / "lakehouse"
    saved = os.environ.get("MADLAKE_HOME")
    os.environ["MADLAKE_HOME"] = str(home)
    reset_catalog_cache()
    from madlake.pipelines import github_history, gold, pypi_monthly, tools

    tools.init_lakehouse()
    tools.load_dim_tools()
    pypi_monthly.load_range(date(2018, 2, 1), date(2026, 4, 30))
    github_history.load_range(date(2018, 12, 18), date(2026, 8, 22))
    gold.build_gold_months(date(2018, 2, 1), date(2026, 8, 1))
    yield home
    if saved is None:
        os.environ.pop("MADLAKE_HOME", None)
    else:
        os.environ["MADLAKE_HOME"] = saved
    reset_catalog_cache()


def query(sql: str, params: list | None = None) -> list[dict]:
    from madlake.sql.engine import get_engine

    return get_engine().query(sql, params).to_pylist()


def _genuine_count(file_prefix: str, project: str) -> int | None:
    path = next(PYPI_DIR.glob(f"{file_prefix}_*.json.gz"))
    body = json.loads(gzip.decompress(path.read_bytes()))
    rows = body["rows"] if isinstance(body, dict) else body
    return next((int(r["download_count"]) for r in rows if r["project"] == project), None)


def test_monthly_downloads_equal_the_genuine_snapshot(history_lakehouse: Path) -> None:
    genuine = _genuine_count("2026-04-01", "duckdb")  # ClickHouse file: the calendar month before, March 2026
    assert genuine is not None
    row = query(
        "select downloads, downloads_source, downloads_method from tool_monthly_metrics "
        "where tool_id = 'duckdb' and month = date '2026-03-01'"
    )[0]
    assert row == {
        "downloads": genuine,
        "downloads_source": "pypi_downloads_monthly",
        "downloads_method": "calendar-month",
    }
    stored = query(
        "select downloads from pypi_downloads_monthly where project = 'duckdb' and snapshot_date = date '2026-04-01'"
    )
    assert stored == [{"downloads": genuine}]


def test_every_month_from_2018_has_a_row_and_gaps_are_null_not_zero(history_lakehouse: Path) -> None:
    months = [r["month"] for r in query("select distinct month from popularity_index order by 1")]
    assert months[0] <= date(2018, 2, 1) and months[-1] >= date(2026, 3, 1)
    expected, m = [], months[0]
    while m <= months[-1]:
        expected.append(m)
        m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    assert months == expected  # no month missing in between
    # a censored (below the list) tool-month is null, never 0
    zeros = query("select count(*) as n from tool_monthly_metrics where downloads = 0 or stars = 0")
    assert zeros == [{"n": 0}]
    below = query("select count(*) as n from tool_monthly_metrics where downloads_below_list and downloads is not null")
    assert below == [{"n": 0}]


def test_the_category_leader_indexes_100_and_scores_cover_only_present_signals(history_lakehouse: Path) -> None:
    rows = query(
        "select tool_id, downloads_value, downloads_index, stars_index, mentions_index, score, coverage, n_signals "
        "from popularity_index where category = 'olap_database' and month = date '2026-03-01'"
    )
    with_downloads = [r for r in rows if r["downloads_value"] is not None]
    leader = max(with_downloads, key=lambda r: r["downloads_value"])
    assert leader["downloads_index"] == pytest.approx(100.0)
    for r in rows:
        present = [r[f"{s}_index"] for s in ("downloads", "stars", "mentions") if r[f"{s}_index"] is not None]
        assert r["n_signals"] == len(present) and 0 < r["coverage"] <= 1


def test_github_stars_of_a_month_equal_its_last_day_in_the_genuine_file(history_lakehouse: Path) -> None:
    text = gzip.decompress((RANKING / "DERIVED_tracked_repos_2024.csv.gz").read_bytes()).decode()
    spark = [r for r in csv.DictReader(io.StringIO(text)) if r["repo_url"].endswith("/apache/spark")]
    march = [r for r in spark if r["date"].startswith("2024-03")]
    assert march, "apache/spark is in the bundled 2024 file"
    last = max(march, key=lambda r: r["date"])
    day_rows = query(
        "select stars from github_repo_history where repo = 'apache/spark' and day = ? and source = 'github-ranking'",
        [date.fromisoformat(last["date"])],
    )
    assert day_rows == [{"stars": int(last["stars"])}]
    month = query(
        "select stars, stars_source from tool_monthly_metrics where tool_id = 'spark' and month = ?", [date(2024, 3, 1)]
    )
    assert month == [{"stars": int(last["stars"]), "stars_source": "github_repo_history"}]
