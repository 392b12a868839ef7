"""tool_monthly_metrics and popularity_index v2 on small hand-built Iceberg tables: best source per signal and month,
missing is null (never 0), below-list downloads, renormalized weights, leader = 100, growth over common signals,
PyPI method breaks, idempotent reruns and bounded reads."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from madlake.names import Table

from .test_gold_metrics import _pypi, _rows, _snapshot, _tools, _write

FIRST, LAST = date(2025, 3, 1), date(2026, 8, 1)
#: (month the counts describe, snapshot_date, method, alpha-core, alpha-client, beta, list minimum)
SNAPSHOTS = [
    (date(2025, 3, 1), date(2025, 3, 20), "all-shrinking", 100_000, 5_000, 10_000, 2_000),
    (date(2025, 3, 1), date(2025, 4, 1), "all-shrinking", 120_000, 6_000, 12_000, 2_000),  # the later one is used
    (date(2025, 8, 1), date(2025, 9, 1), "calendar-month", 310_000, None, 31_000, 3_100),  # alpha-client below list
    (date(2026, 3, 1), date(2026, 4, 1), "calendar-month", 310_000, None, 62_000, 3_100),
    (date(2026, 8, 1), date(2026, 9, 1), "calendar-month", 310_000, None, None, 3_100),  # beta below the list
]


def _snapshot_rows() -> list[dict[str, Any]]:
    rows = []
    for month, snap, method, *counts, lmin in SNAPSHOTS:
        days = 31 if month.month in (3, 8) else 30
        for project, n in zip(("alpha-core", "alpha-client", "beta"), counts, strict=True):
            rows.append({
                "month": month, "project": project, "downloads": n, "rank": None, "list_size": 8000,
                "list_min_downloads": lmin, "below_list": n is None, "window_days": days if method ==
                "calendar-month" else 30, "installers": "all", "method": method, "snapshot_date": snap,
                "source": "top-pypi-packages", "loaded_at": datetime(2026, 9, 2, tzinfo=UTC),
            })  # fmt: skip
    return rows


def _history(day: date, repo: str, tool: str, stars: int, source: str = "github-ranking") -> dict[str, Any]:
    return {
        "day": day, "repo": repo, "tool_id": tool, "listed_as": repo, "stars": stars, "forks": stars // 10,
        "contributors": 7 if source != "github-ranking" else None, "source": source,
        "loaded_at": datetime(2026, 9, 2, tzinfo=UTC),
    }  # fmt: skip


@pytest.fixture
def history_lake(lakehouse: Path) -> Path:
    """alpha (2 packages, 2 repos), beta, gamma (no sources) over 2025-03..2026-08 from the monthly sources, plus
    daily PyPI and GitHub API snapshots in 2026-03 only, and Reddit texts in 2025-08 only."""
    _tools()
    _write(Table.PYPI_DOWNLOADS_MONTHLY, _snapshot_rows())
    hist = [
        _history(date(2025, 3, 10), "a/alpha", "alpha", 900),
        _history(date(2025, 3, 28), "a/alpha", "alpha", 1000),  # last observed day of the month wins
        _history(date(2025, 3, 28), "b/beta", "beta", 100, "best-of-python"),
        _history(date(2025, 8, 30), "a/alpha", "alpha", 1000),
        _history(date(2025, 8, 30), "b/beta", "beta", 1000),
        _history(date(2026, 3, 31), "a/alpha", "alpha", 999_999),  # the API snapshot of the month wins over it
        _history(date(2026, 8, 31), "a/alpha", "alpha", 1000),
        _history(date(2026, 8, 31), "b/beta", "beta", 10),
    ]
    _write(Table.GITHUB_REPO_HISTORY, hist)
    march = [date(2026, 3, d) for d in (30, 31)]
    _write(
        Table.PYPI_DOWNLOADS,
        [r for d in march for r in _pypi(d, "alpha-core", 100, 10, 1) + _pypi(d, "beta", 50, 0, 0)],
    )
    _write(Table.GITHUB_REPO_SNAPSHOTS, [_snapshot(d, "a/alpha", "alpha", 2000) for d in march])
    texts = [{"id": f"c{i}", "created_at": datetime(2025, 8, 5, tzinfo=UTC)} for i in range(1200)]
    _write(Table.REDDIT_COMMENTS, texts)
    _write(Table.REDDIT_MENTIONS, [{
        "content_id": "t1_x", "content_type": "comment", "subreddit": "dataengineering", "tool_id": "alpha",
        "mention_count": 3, "sentiment_score": 0.5, "sentiment_label": "positive", "method": "lexicon",
        "created_at": datetime(2025, 8, 5, 12, tzinfo=UTC), "processed_at": datetime(2025, 8, 6, tzinfo=UTC),
    }])  # fmt: skip
    return lakehouse


def _monthly(month: date) -> dict[str, dict[str, Any]]:
    return {r["tool_id"]: r for r in _rows(Table.TOOL_MONTHLY_METRICS, "month = ?", [month])}


def _index(month: date, category: str = "olap_database") -> dict[str, dict[str, Any]]:
    rows = _rows(Table.POPULARITY_INDEX, "month = ? and category = ?", [month, category])
    return {r["tool_id"]: r for r in rows}


def test_best_source_per_signal_and_month(history_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold_months

    build_gold_months(FIRST, LAST)
    mar25, mar26 = _monthly(date(2025, 3, 1)), _monthly(date(2026, 3, 1))
    # 2025-03: two snapshots describe the month; the latest (2025-04-01) is used; both packages summed.
    a = mar25["alpha"]
    assert (a["downloads"], a["downloads_source"], a["downloads_method"]) == (
        126_000,
        "pypi_downloads_monthly",
        "all-shrinking",
    )
    assert a["downloads_snapshot_date"] == date(2025, 4, 1) and a["downloads_per_day"] == pytest.approx(4200.0)
    assert (a["stars"], a["stars_source"], a["stars_as_of"]) == (1000, "github_repo_history", date(2025, 3, 28))
    assert mar25["beta"]["contributors"] == 7  # from the best-of snapshot
    # 2026-03: daily downloads exist (2 days), so they win over the monthly snapshot; the API snapshot wins for stars.
    a = mar26["alpha"]
    assert (a["downloads"], a["downloads_source"], a["downloads_method"], a["downloads_days"]) == (
        2 * 111, "pypi_downloads", "daily", 2)  # fmt: skip
    assert a["downloads_per_day"] == pytest.approx(111.0) and a["downloads_below_list"] is None
    assert (a["stars"], a["stars_source"]) == (2000, "github_repo_snapshots")
    assert mar26["beta"]["downloads"] == 100 and mar26["beta"]["stars"] is None  # no beta repo snapshot that month


def test_missing_is_null_and_below_list_is_not_zero(history_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold_months

    build_gold_months(FIRST, LAST)
    aug25, aug26 = _monthly(date(2025, 8, 1)), _monthly(date(2026, 8, 1))
    g = aug25["gamma"]  # no package, no repo: every signal null, never 0
    assert (g["downloads"], g["stars"], g["downloads_source"], g["stars_source"]) == (None, None, None, None)
    # Reddit: 2025-08 has 1,200 texts -> covered (0 = none); 2026-08 has none -> null.
    assert (aug25["alpha"]["mentions"], aug25["beta"]["mentions"], aug25["gamma"]["mentions"]) == (3, 0, 0)
    assert aug25["alpha"]["reddit_texts"] == 1200 and aug25["alpha"]["sentiment"] == pytest.approx(0.5)
    assert aug26["alpha"]["mentions"] is None and aug26["alpha"]["mentions_source"] is None
    # alpha-client is below the list but alpha-core is listed: a lower bound, not below the list.
    assert aug25["alpha"]["downloads"] == 310_000 and aug25["alpha"]["downloads_below_list"] is False
    b = aug26["beta"]  # below the 2026-08 list: null downloads, the list minimum kept
    assert (b["downloads"], b["downloads_below_list"], b["downloads_list_min"]) == (None, True, 3_100)
    assert b["downloads_per_day"] is None
    # The index: gamma has no signal -> no row; beta in 2026-08 is judged on stars only, weights renormalized.
    idx = _index(date(2026, 8, 1))
    assert set(idx) == {"alpha", "beta"}
    beta = idx["beta"]
    assert (beta["n_signals"], beta["signals"], beta["coverage"]) == (1, "stars", pytest.approx(0.3))
    assert beta["downloads_index"] is None and beta["downloads_below_list"] is True
    assert beta["score"] == pytest.approx(beta["stars_index"]) == pytest.approx(100 + 25 * math.log10(10 / 1000))


def test_index_formula_leader_100_and_renormalized_weights(history_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold_months

    build_gold_months(FIRST, LAST)
    idx = _index(date(2025, 8, 1))
    a, b = idx["alpha"], idx["beta"]
    # Every signal's leader gets 100; the others 100 + 25 log10(value / leader).
    assert a["downloads_index"] == 100 and a["mentions_index"] == 100
    assert a["stars_index"] == 100 and b["stars_index"] == 100  # a tie: both lead
    assert b["downloads_index"] == pytest.approx(100 + 25 * math.log10(31_000 / 310_000))  # = 75
    assert b["mentions_index"] == 0  # covered month, no mention: index 0, counted
    assert (b["n_signals"], b["coverage"]) == (3, pytest.approx(1.0))
    expected = 0.5 * b["downloads_index"] + 0.3 * b["stars_index"] + 0.2 * b["mentions_index"]
    assert b["score"] == pytest.approx(expected)
    assert b["score"] == pytest.approx(b["downloads_component"] + b["stars_component"] + b["mentions_component"])
    assert a["downloads_share"] == pytest.approx(310_000 / 341_000) and a["rank_in_category"] == 1
    assert (a["downloads_source"], a["stars_source"], a["mentions_source"]) == (
        "pypi_downloads_monthly", "github_repo_history", "reddit_mentions")  # fmt: skip
    assert a["method_version"] == "v2" and a["as_of_date"] == date(2025, 8, 31)
    # 2026-03, no Reddit coverage: two signals, weights renormalized over 0.8.
    m = _index(date(2026, 3, 1))["beta"]
    assert (m["signals"], m["coverage"]) == ("downloads", pytest.approx(0.5))
    assert m["score"] == pytest.approx(m["downloads_index"])


def test_growth_is_relative_over_common_signals_and_flags_method_breaks(history_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold_months

    build_gold_months(FIRST, LAST)
    then, now = _index(date(2025, 3, 1))["beta"], _index(date(2026, 3, 1))["beta"]
    # 2026-03 has downloads only (no stars for beta): growth over downloads, the one signal in both months.
    delta = now["downloads_index"] - then["downloads_index"]
    assert now["growth_yoy"] == pytest.approx(10 ** (delta / 25) - 1, abs=1e-6)
    assert now["growth_yoy_signals"] == "downloads"
    assert now["growth_yoy_spans_break"] is True  # all-shrinking -> calendar-month
    a25, a26 = _index(date(2025, 8, 1))["beta"], _index(date(2026, 8, 1))["beta"]
    # 2026-08: beta is below the list (no downloads): growth on stars only, so no PyPI break is spanned.
    assert a26["growth_yoy_signals"] == "stars" and a26["growth_yoy_spans_break"] is False
    assert a26["growth_yoy"] == pytest.approx(10 ** ((a26["stars_index"] - a25["stars_index"]) / 25) - 1, abs=1e-6)
    # The leader that stays leader reads 0 (growth is against the category leader).
    assert _index(date(2026, 3, 1))["alpha"]["growth_yoy"] == pytest.approx(0.0)
    assert _index(date(2025, 8, 1))["beta"]["growth_yoy"] is None  # no 2024-08 row


def test_rerun_is_byte_identical_and_months_replace(history_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold_months

    first = build_gold_months(FIRST, LAST)
    rows1 = {t: sorted(map(repr, _rows(t))) for t in (Table.TOOL_MONTHLY_METRICS, Table.POPULARITY_INDEX)}
    # Rebuilding one month alone reads the earlier months' indexes from the stored table: the same rows.
    build_gold_months(date(2026, 3, 1), date(2026, 3, 1))
    second = build_gold_months(FIRST, LAST)
    rows2 = {t: sorted(map(repr, _rows(t))) for t in rows1}
    assert first["rows"] == second["rows"] and rows1 == rows2  # exact: doubles are rounded
    assert first["rows"][Table.TOOL_MONTHLY_METRICS] == 3 * 18


def test_a_month_reads_only_its_window(history_lake: Path) -> None:
    from madlake.lakehouse.tables import ensure_tables
    from madlake.metrics.runner import LocalSession

    ensure_tables([Table.POPULARITY_INDEX])
    with LocalSession(date(2026, 3, 1), date(2026, 3, 31)) as session:
        session.run("fct_popularity_index")
        read = dict(session.rows_read)
    assert read[Table.PYPI_DOWNLOADS_MONTHLY] == 3  # the one month's snapshot, not the 15 rows stored
    assert read[Table.GITHUB_REPO_HISTORY] == 1  # 2026-03 (and 2026-02: none), not the 8 rows stored
    assert read[Table.REDDIT_COMMENTS] == 0


def test_a_daily_run_rebuilds_this_month_and_the_last(history_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold, gold_months

    assert gold_months(date(2026, 4, 2), None, None) == (date(2026, 3, 1), date(2026, 4, 1))
    assert gold_months(date(2026, 4, 2), date(2025, 3, 5), date(2025, 5, 1)) == (date(2025, 3, 1), date(2025, 5, 1))
    summary = build_gold(date(2026, 4, 2), follow_late=False)
    assert summary["months"] == ["2026-03", "2026-04"]
    assert {r["month"] for r in _rows(Table.TOOL_MONTHLY_METRICS)} == {date(2026, 3, 1), date(2026, 4, 1)}


def test_short_answers_say_the_month_and_the_basis() -> None:
    from madlake.metrics.ask import short_answer

    olap = [
        {"tool_name": "Alpha", "score": 99.5, "n_signals": 1, "signals": "downloads", "coverage": 0.5,
         "month": date(2026, 3, 1)},
        {"tool_name": "Beta", "score": 90.0, "n_signals": 2, "signals": "downloads,stars", "coverage": 0.8,
         "month": date(2026, 3, 1)},
    ]  # fmt: skip
    text = short_answer("most_popular_open_source_olap", olap)
    assert text.startswith("as of 2026-03: Alpha") and "judged on one signal only: downloads" in text
    growth = [
        {"tool_name": "Mongo", "growth_yoy_pct": 12.5, "compared_on": "downloads,stars", "spans_break": True,
         "score": 90.0, "month": date(2026, 3, 1), "compared_with": date(2025, 3, 1)},
    ]  # fmt: skip
    text = short_answer("fastest_growing_nosql", growth)
    assert text.startswith("2025-03 -> 2026-03") and "+12.5% vs the leader" in text
    assert "on downloads+stars, spans a PyPI method break" in text
    then_now = [
        {"period": "today", "month": date(2026, 3, 1), "tool_name": "MLflow", "score": 100.0, "n_signals": 1,
         "signals": "downloads"},
        {"period": "three years ago", "month": date(2023, 3, 1), "tool_name": None},
    ]  # fmt: skip
    assert short_answer("top_mlops_then_and_now", then_now) == (
        "three years ago (2023-03): no data; "
        "today (2026-03): MLflow (score 100.0, judged on one signal only: downloads)"
    )
    with pytest.raises(KeyError, match="most_loved"):
        short_answer("most_loved_and_criticised", [])


def test_demo_report_prints_the_four_answers(history_lake: Path) -> None:
    from madlake.metrics.ask import DEMO_QUESTIONS, demo_report
    from madlake.pipelines.gold import build_gold_months

    assert demo_report() == []  # no index yet
    build_gold_months(FIRST, LAST)
    lines = demo_report()
    assert "popularity index v2 over 2025-03 .. 2026-08" in lines[1]
    answers = [line.strip() for line in lines[2:] if not line.startswith("- ")]
    assert len(answers) == len(DEMO_QUESTIONS) == 4
    assert answers[0].startswith("as of 2026-08: Alpha") and "failed" not in " ".join(answers)


def test_monthly_start_rebuilds_history_in_the_first_pass(history_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold

    day = date(2026, 4, 2)
    summary = build_gold(day, start=day, end=day, monthly_start=FIRST)
    assert summary["months"] == ["2025-03", "2026-04"]
    assert summary["rows"][Table.TOOL_MONTHLY_METRICS] == 3 * 14  # 2025-03 .. 2026-04, one pass
    assert summary["tags"] == []  # no month ended inside the day's range
