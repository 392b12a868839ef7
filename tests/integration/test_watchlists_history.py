"""Events on the real history: the bundled genuine PyPI and GitHub files -> gold v2 -> ``tool_events``.

Each asserted move is first stated from ``popularity_index`` in the test (ranks, scores, method, signals of the two
months), then the event is required to say exactly that: the rule must find the real move, and must call the
artefact at the November 2024 PyPI method change an artefact.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory):
    """A lakehouse with the whole bundled PyPI and GitHub history, gold for every month, and tool_events."""
    import os

    from madlake.lakehouse.catalog import reset_catalog_cache

    home = tmp_path_factory.mktemp("watch-history") / "lakehouse"
    saved = os.environ.get("MADLAKE_HOME")
    os.environ["MADLAKE_HOME"] = str(home)
    reset_catalog_cache()
    from madlake.pipelines import github_history, gold, pypi_monthly, tools
    from madlake.watchlists.events import build_events

    tools.init_lakehouse()
    tools.load_dim_tools()
    pypi_monthly.load_range(date(2018, 2, 1), date(2026, 4, 30))
    github_history.load_range(date(2018, 12, 18), date(2026, 8, 22))
    gold.build_gold_months(date(2018, 2, 1), date(2026, 8, 1))
    summary = build_events()
    yield {"home": home, "summary": summary}
    if saved is None:
        os.environ.pop("MADLAKE_HOME", None)
    else:
        os.environ["MADLAKE_HOME"] = saved
    reset_catalog_cache()


def query(sql: str, params: list | None = None) -> list[dict]:
    from madlake.sql.engine import get_engine

    return get_engine().query(sql, params).to_pylist()


def index_rows(category: str, month: str, tools: tuple[str, ...]) -> dict[str, dict]:
    rows = query(
        "select tool_id, rank_in_category, score, signals, downloads_method from popularity_index "
        "where category = ? and month = cast(? as date) and method_version = 'v2'",
        [category, month],
    )
    return {r["tool_id"]: r for r in rows if r["tool_id"] in tools}


def events(**where: str) -> list[dict]:
    clauses = " and ".join(f"{k} = ?" for k in where)
    return query(f"select * from tool_events where {clauses} order by month, kind", list(where.values()))


@pytest.mark.parametrize(
    ("category", "before", "after", "passer", "passed"),
    [
        # OLAP: ClickHouse led DuckDB in 2025-02 (same method, same signals); in 2025-03 DuckDB led.
        ("olap_database", "2025-02-01", "2025-03-01", "duckdb", "clickhouse"),
        # OLAP: Apache Druid led ClickHouse in 2019-10; ClickHouse led from 2019-11.
        ("olap_database", "2019-10-01", "2019-11-01", "clickhouse", "druid"),
        # MLOps: Weights & Biases ranked above MLflow in 2019-04; MLflow became the leader in 2019-05.
        ("mlops", "2019-04-01", "2019-05-01", "mlflow", "wandb"),
    ],
)
def test_a_real_overtake_is_found_with_its_numbers(history, category, before, after, passer, passed) -> None:
    was, now = index_rows(category, before, (passer, passed)), index_rows(category, after, (passer, passed))
    # the move, stated from the index itself
    assert was[passed]["rank_in_category"] < was[passer]["rank_in_category"]
    assert now[passer]["rank_in_category"] < now[passed]["rank_in_category"]
    for tool in (passer, passed):  # comparable months: same PyPI method and the same signals
        assert was[tool]["downloads_method"] == now[tool]["downloads_method"]
        assert was[tool]["signals"] == now[tool]["signals"]
    [event] = events(tool_id=passer, kind="overtake", category=category, month=after)
    assert event["is_news"] is True
    assert passed in event["other_tools"].split(",")
    assert (event["previous_rank"], event["rank"]) == (
        was[passer]["rank_in_category"],
        now[passer]["rank_in_category"],
    )
    assert event["score"] == pytest.approx(now[passer]["score"])
    assert event["link"] == f"tool/{passer}.html"
    details = json.loads(event["details"])
    assert details["overtaken"][passed]["previous_rank"] == was[passed]["rank_in_category"]


def test_the_november_2024_method_change_is_an_artefact_not_news(history) -> None:
    tools = ("duckdb", "clickhouse")
    was, now = index_rows("olap_database", "2024-10-01", tools), index_rows("olap_database", "2024-11-01", tools)
    # DuckDB passed ClickHouse in the first snapshot counted with every installer (pip only until then) ...
    assert (was["clickhouse"]["rank_in_category"], was["duckdb"]["rank_in_category"]) == (1, 2)
    assert now["duckdb"]["rank_in_category"] == 1
    assert (was["duckdb"]["downloads_method"], now["duckdb"]["downloads_method"]) == ("pip-30d", "all-shrinking")
    # ... which the events call a method break, not an overtake
    assert not events(tool_id="duckdb", kind="overtake", category="olap_database", month="2024-11-01")
    [artefact] = events(tool_id="duckdb", kind="method_break", category="olap_database", month="2024-11-01")
    assert artefact["is_news"] is False
    assert "pip-30d → all-shrinking" in artefact["headline"]
    assert "overtake" in json.loads(artefact["details"])["suppressed"]
    news_at_break = query(
        "select count(*) as n from tool_events where month = date '2024-11-01' and is_news and kind in "
        "('overtake', 'entered_top', 'left_top', 'breakout')"
    )
    assert news_at_break == [{"n": 0}]


def test_every_kind_occurs_and_a_rerun_replaces_the_same_events(history) -> None:
    from madlake.watchlists.events import build_events

    by_kind = history["summary"]["by_kind"]
    for kind in ("overtake", "entered_top", "left_top", "breakout", "all_time_high", "sustained_decline"):
        assert by_kind.get(kind, 0) > 0, kind
    assert by_kind.get("method_break", 0) > 0 and by_kind.get("coverage_change", 0) > 0
    first = {r["event_id"] for r in query("select event_id from tool_events")}
    again = build_events()
    assert again["by_kind"] == by_kind
    rows = query("select event_id from tool_events")
    assert {r["event_id"] for r in rows} == first and len(rows) == len(first)  # replaced, not appended


def test_the_default_watchlists_feed_of_the_real_events_is_valid_atom(history, tmp_path: Path) -> None:
    from madlake.watchlists.delivery import read_events
    from madlake.watchlists.feed import render_feed
    from madlake.watchlists.io import load_watchlists

    from tests.unit.test_watchlists import validate_atom

    w = load_watchlists().default_watchlist
    data = render_feed(read_events(), w)
    ids = validate_atom(data)
    assert len(ids) > 10
    assert b"overtook" in data


def test_the_site_shows_what_changed_the_tools_events_and_the_feeds(history, tmp_path: Path) -> None:
    import re

    from madlake.dashboard.site import build_site

    from tests.unit.test_watchlists import validate_atom

    out = tmp_path / "site"
    summary = build_site(out)
    assert "changes.html" in summary.pages
    page = (out / "changes.html").read_text(encoding="utf-8")
    months = re.findall(r'data-month="(\d{4}-\d{2})"', page)
    assert months == sorted(months, reverse=True) and months[0] == "2026-08"  # newest period first
    section = page.split('data-month="2025-03"', 1)[1].split("<section", 1)[0]
    assert "DuckDB overtook ClickHouse in OLAP database (2025-03)" in section
    assert 'href="tool/duckdb.html"' in section
    november = page.split('data-month="2024-11"', 1)[1].split("<section", 1)[0]
    assert "artefact(s)" in november and "overtook" not in november.split("<details>")[0]
    tool = (out / "tool" / "duckdb.html").read_text(encoding="utf-8")
    spec = re.search(r'<script type="application/json" id="c-events">(.*?)</script>', tool, re.S)
    assert spec, "the tool page has an events chart"
    marks = {m["x"]: m["label"] for m in json.loads(spec.group(1))["marks"]}
    assert "overtake" in marks["2025-03-01"]
    assert "2024-11-01" not in marks  # the method break is not marked as news
    assert "DuckDB overtook ClickHouse" in tool
    for name in ("mad_leaders", "orchestrators"):
        assert validate_atom((out / "feeds" / f"{name}.atom").read_bytes())
