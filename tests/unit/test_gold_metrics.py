"""Gold metrics on a hand-built lakehouse: values checked against hand computation, as-of correctness (no future
data leaks in), idempotence, bounded incremental reads, late data, breakouts, audits and monthly tags."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from madlake.names import Table

DAY = date(2026, 3, 31)


# --------------------------------------------------------------------------------------------------------------------
# Fixture data: three tools in one category, written into the real source tables
# --------------------------------------------------------------------------------------------------------------------


def _write(name: str, rows: list[dict[str, Any]]) -> None:
    from madlake.lakehouse.tables import ensure_table
    from madlake.lakehouse.writes import CommitContext

    from bench.synth.gold_sources import contract_spec, fit_to_table

    table = ensure_table(contract_spec(name))
    columns = {k: [r.get(k) for r in rows] for k in rows[0]}
    data = fit_to_table(table.schema().as_arrow(), columns)
    table.append(data, snapshot_properties=CommitContext.standalone("test").properties())


def _tools() -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.lakehouse.writes import CommitContext, replace_partition, rows_to_arrow
    from pyiceberg.expressions import AlwaysTrue

    table = load_table(Table.DIM_TOOLS)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    base = {"aliases": [], "npm_packages": [], "homepage": None, "loaded_at": now}
    rows = [
        {
            **base,
            "tool_id": "alpha",
            "name": "Alpha",
            "categories": ["olap_database"],
            "primary_category": "olap_database",
            "pypi_packages": ["alpha-core", "alpha-client"],
            "github_repos": ["a/alpha", "a/alpha-ui"],
            "open_source": True,
        },
        {
            **base,
            "tool_id": "beta",
            "name": "Beta",
            "categories": ["olap_database", "query_engine"],
            "primary_category": "olap_database",
            "pypi_packages": ["beta"],
            "github_repos": ["b/beta"],
            "open_source": True,
        },
        {
            **base,
            "tool_id": "gamma",
            "name": "Gamma",
            "categories": ["olap_database"],
            "primary_category": "olap_database",
            "pypi_packages": [],
            "github_repos": [],
            "open_source": False,
        },
    ]
    replace_partition(table, rows_to_arrow(table, rows), AlwaysTrue(), CommitContext.standalone("test"))


def _pypi(day: date, project: str, pip: int, ci: int, mirror: int) -> list[dict[str, Any]]:
    common = {"download_date": day, "project": project, "version": "1.0", "source": "bigquery"}
    return [
        {**common, "installer": "pip", "ci": False, "downloads": pip},
        {**common, "installer": "uv", "ci": True, "downloads": ci},
        {**common, "installer": "bandersnatch", "ci": False, "downloads": mirror},
    ]


def _mention(day: date, tool: str, count: int, score: float, label: str, processed: datetime | None = None) -> dict:
    created = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=13)
    return {
        "content_id": f"t1_{tool}{day:%m%d}{count}{label}",
        "content_type": "comment",
        "subreddit": "dataengineering",
        "created_at": created,
        "tool_id": tool,
        "mention_count": count,
        "sentiment_score": score,
        "sentiment_label": label,
        "method": "lexicon",
        "processed_at": processed or created + timedelta(hours=1),
    }


def _snapshot(day: date, repo: str, tool: str, stars: int, tag: str | None = None, tag_day: date | None = None) -> dict:
    release_at = datetime.combine(tag_day, datetime.min.time(), tzinfo=UTC) if tag_day else None
    return {
        "snapshot_date": day,
        "repo": repo,
        "requested_repo": repo,
        "tool_id": tool,
        "stars": stars,
        "forks": stars // 10,
        "open_issues": 5,
        "latest_release_tag": tag,
        "latest_release_at": release_at,
        "origin": "replay",
        "not_modified": False,
        "fetched_at": datetime.combine(day, datetime.min.time(), tzinfo=UTC),
    }


def _stars(day: date, repo: str, tool: str, new: int) -> dict:
    return {
        "repo": repo,
        "star_date": day,
        "new_stars": new,
        "cumulative_stars": 0,
        "tool_id": tool,
        "origin": "live",
        "loaded_at": datetime(2026, 4, 1, tzinfo=UTC),
    }


@pytest.fixture
def small_lake(lakehouse: Path) -> Path:
    """40 days (2026-02-20..2026-03-31) of known inputs: alpha (2 packages, 2 repos), beta, gamma (no sources)."""
    _tools()
    start = DAY - timedelta(days=39)
    pypi, mentions, snaps, stars = [], [], [], []
    for i in range(40):
        d = start + timedelta(days=i)
        pypi += _pypi(d, "alpha-core", 1000 + i, 100, 7)
        pypi += _pypi(d, "alpha-client", 10, 1, 0)
        pypi += _pypi(d, "beta", 500, 50, 3)
        pypi += _pypi(d, "not-tracked", 99999, 0, 0)
        snaps += [
            _snapshot(d, "a/alpha", "alpha", 1000 + 10 * i, "v1", date(2025, 11, 1)),
            _snapshot(d, "a/alpha-ui", "alpha", 100, "ui-2", date(2026, 3, 20)),
            _snapshot(d, "b/beta", "beta", 5000 + i),
        ]
        stars += [
            _stars(d, "a/alpha", "alpha", 10),
            _stars(d, "a/alpha-ui", "alpha", 0),
            _stars(d, "b/beta", "beta", 1),
        ]
        if i % 2 == 0:
            mentions.append(_mention(d, "alpha", 2, 0.5, "positive"))
        mentions.append(_mention(d, "beta", 1, -0.7, "very_negative"))
    snaps[-3]["latest_release_tag"] = "v2"  # a/alpha released v2 on the last day
    snaps[-3]["latest_release_at"] = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    _write(Table.PYPI_DOWNLOADS, pypi)
    _write(Table.REDDIT_MENTIONS, mentions)
    _write(Table.GITHUB_REPO_SNAPSHOTS, snaps)
    _write(Table.GITHUB_STARS_DAILY, stars)
    return lakehouse


def _rows(table: str, where: str = "true", params: list | None = None) -> list[dict[str, Any]]:
    from madlake.sql.engine import LocalEngine

    rows = LocalEngine().query(f"select * from {table} where {where}", params).to_pylist()
    for r in rows:
        r.pop("computed_at", None)
    return rows


def _by_key(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("metric_date", "month", "category", "signal", "tool_id")
    return sorted(rows, key=lambda r: tuple(str(r.get(k)) for k in keys))


def _approx(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Floats to 1e-9 relative: DuckDB's parallel sums may differ in the last bits between runs."""
    return [{k: pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def _metrics(day: date) -> dict[str, dict[str, Any]]:
    return {r["tool_id"]: r for r in _rows(Table.TOOL_DAILY_METRICS, "metric_date = ?", [day])}


# --------------------------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------------------------


def test_tool_daily_metrics_match_hand_computation(small_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold

    build_gold(DAY, start=DAY, end=DAY)
    m = _metrics(DAY)
    assert set(m) == {"alpha", "beta", "gamma"}
    a, b, g = m["alpha"], m["beta"], m["gamma"]
    # Day 39: alpha-core pip 1039 + ci 100 + mirror 7; alpha-client 10 + 1 + 0 (two packages summed).
    assert a["downloads"] == 1039 + 100 + 7 + 10 + 1
    assert a["downloads_excl_ci"] == 1039 + 10
    assert a["downloads_7d"] == sum(1000 + i + 10 for i in range(33, 40))
    assert a["downloads_28d"] == sum(1000 + i + 10 for i in range(12, 40))
    assert b["downloads_28d"] == 28 * 500
    # Mentions: alpha every other day with 2 mentions, beta one negative per day.
    assert a["mentions"] == 0 and b["mentions"] == 1  # day index 39 is odd
    assert a["mentions_28d"] == 2 * len([i for i in range(12, 40) if i % 2 == 0])
    assert a["sentiment_28d"] == pytest.approx(0.5) and a["positive_share_28d"] == 1.0
    assert b["sentiment_28d"] == pytest.approx(-0.7) and b["negative_share_28d"] == 1.0
    # GitHub: two repos summed; releases in 90 days: ui-2 (2026-03-20) and v2 (today); v1 (2025-11-01) is too old.
    assert a["stars"] == 1000 + 10 * 39 + 100 and a["forks"] == (1000 + 390) // 10 + 10
    assert a["releases_90d"] == 2 and b["releases_90d"] == 0
    assert a["new_stars_28d"] == 280 and a["new_stars"] == 10
    # A tool without packages or repos has no downloads or stars, but it has (zero) mentions.
    assert g["downloads"] is None and g["stars"] is None and g["mentions_28d"] == 0
    assert not a["is_sample"]


def test_rankings_share_rank_and_rank_change(small_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold

    build_gold(DAY, start=DAY - timedelta(days=28), end=DAY)
    rows = _rows(Table.CATEGORY_DAILY_RANKINGS, "metric_date = ? and category = 'olap_database'", [DAY])
    by = {(r["signal"], r["tool_id"]): r for r in rows}
    alpha, beta = by[("downloads_28d", "alpha")], by[("downloads_28d", "beta")]
    total = alpha["value"] + beta["value"]
    assert alpha["rank"] == 1 and beta["rank"] == 2
    assert alpha["share"] == pytest.approx(alpha["value"] / total)
    assert ("downloads_28d", "gamma") not in by  # no value, not ranked
    # Mentions 28 days earlier (2026-03-03): only the first 12 days were in the window (6 alpha days x 2 = 12 vs 12
    # beta days x 1 = 12: tie broken by tool id); rank change = earlier rank - rank.
    m_alpha, m_beta = by[("mentions_28d", "alpha")], by[("mentions_28d", "beta")]
    assert m_alpha["rank_change_28d"] == 0 and m_beta["rank_change_28d"] == 0
    assert m_alpha["rank_change_365d"] is None  # no data a year ago
    # beta also competes in query_engine, alone.
    qe = _rows(Table.CATEGORY_DAILY_RANKINGS, "metric_date = ? and category = 'query_engine'", [DAY])
    assert {r["tool_id"] for r in qe} == {"beta"} and all(r["share"] == 1.0 for r in qe)


def test_popularity_index_follows_the_documented_formula(small_lake: Path) -> None:
    """v2 from daily sources: downloads per day of the month, stars at the month end; mentions not indexed (no
    Reddit texts table: the month has no measured coverage); leader = 100, weights renormalized."""
    from madlake.pipelines.gold import build_gold

    build_gold(DAY, start=DAY, end=DAY)
    monthly = {r["tool_id"]: r for r in _rows(Table.TOOL_MONTHLY_METRICS, "month = ?", [date(2026, 3, 1)])}
    idx = {r["tool_id"]: r for r in _rows(Table.POPULARITY_INDEX, "category = 'olap_database'")}
    weights = {"downloads": 0.5, "stars": 0.3}
    values = {
        t: {"downloads": monthly[t]["downloads_per_day"], "stars": monthly[t]["stars"]} for t in ("alpha", "beta")
    }
    # 31 days of March, all installers: alpha (1000+i+100+7 + 10+1) per day, i = 9..39; beta 553 per day.
    assert monthly["alpha"]["downloads"] == sum(1000 + i + 118 for i in range(9, 40))
    assert monthly["alpha"]["downloads_days"] == 31 and monthly["beta"]["downloads_per_day"] == 553
    assert (
        monthly["alpha"]["stars"] == 1000 + 10 * 39 + 100
        and monthly["alpha"]["stars_source"] == "github_repo_snapshots"
    )
    assert set(idx) == {"alpha", "beta"}  # gamma has no signal: no row
    for tool, row in idx.items():
        total, expected = 0.0, 0.0
        for signal, weight in weights.items():
            leader = max(v[signal] for v in values.values())
            index = max(0.0, 100 + 25 * math.log10(values[tool][signal] / leader))
            assert row[f"{signal}_index"] == pytest.approx(index, abs=1e-6), (tool, signal)
            total, expected = total + weight, expected + weight * index
        assert row["score"] == pytest.approx(expected / total, abs=1e-6)
        assert row["coverage"] == pytest.approx(0.8) and row["mentions_index"] is None
        assert row["method_version"] == "v2" and row["month"] == date(2026, 3, 1) and row["as_of_date"] == DAY
    ranked = sorted(idx.values(), key=lambda r: -r["score"])
    assert [r["rank_in_category"] for r in ranked] == [1, 2] and idx["alpha"]["downloads_method"] == "daily"


# --------------------------------------------------------------------------------------------------------------------
# As of, idempotence, incrementality
# --------------------------------------------------------------------------------------------------------------------


def test_future_data_does_not_change_a_past_day(small_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold

    past = DAY - timedelta(days=5)
    build_gold(past, start=past, end=past)
    tables = (Table.TOOL_DAILY_METRICS, Table.CATEGORY_DAILY_RANKINGS, Table.POPULARITY_INDEX)
    before = {t: _by_key(_rows(t)) for t in tables}
    # Data dated after the past day, in every source.
    later = [past + timedelta(days=k) for k in range(1, 6)]
    _write(Table.PYPI_DOWNLOADS, [r for d in later for r in _pypi(d, "beta", 10**7, 0, 0)])
    _write(Table.REDDIT_MENTIONS, [_mention(d, "gamma", 50, 1.0, "very_positive") for d in later])
    _write(Table.GITHUB_REPO_SNAPSHOTS, [_snapshot(d, "b/beta", "beta", 10**6, "v9", d) for d in later])
    _write(Table.GITHUB_STARS_DAILY, [_stars(d, "b/beta", "beta", 10**5) for d in later])
    build_gold(past, start=past, end=past, follow_late=False)
    after = {t: _by_key(_rows(t)) for t in tables}
    assert {t: _approx(rows) for t, rows in after.items()} == before
    # ...while the later day does see it.
    build_gold(DAY, start=DAY, end=DAY)
    assert _metrics(DAY)["beta"]["downloads"] > 10**7


def test_rerun_replaces_the_same_rows(small_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold

    first = build_gold(DAY, start=DAY - timedelta(days=2), end=DAY)
    rows1 = _rows(Table.TOOL_DAILY_METRICS)
    second = build_gold(DAY, start=DAY - timedelta(days=2), end=DAY)
    rows2 = _rows(Table.TOOL_DAILY_METRICS)
    assert first["rows"] == second["rows"] and len(rows1) == 9
    assert _approx(_by_key(rows2)) == _by_key(rows1)


def test_daily_run_reads_only_its_windows(small_lake: Path) -> None:
    from madlake.metrics.runner import LocalSession

    with LocalSession(DAY, DAY) as session:
        session.run("fct_tool_daily_metrics")
        read = dict(session.rows_read)
    assert read[Table.PYPI_DOWNLOADS] == 28 * 12  # 28 days x 4 projects x 3 rows, not the 40 days stored
    assert read[Table.REDDIT_MENTIONS] == 28 + 14
    assert read[Table.GITHUB_STARS_DAILY] == 28 * 3
    assert read[Table.GITHUB_REPO_SNAPSHOTS] == 40 * 3  # 90-day window: all 40 stored days


def test_late_mentions_extend_the_recomputed_range(small_lake: Path) -> None:
    from madlake.pipelines.gold import build_gold, gold_range

    build_gold(DAY, start=DAY, end=DAY)
    assert gold_range(DAY) == (DAY, DAY)
    late_day = DAY - timedelta(days=6)
    _write(
        Table.REDDIT_MENTIONS,
        [_mention(late_day, "gamma", 3, 0.9, "very_positive", processed=datetime.now(UTC) + timedelta(seconds=1))],
    )
    assert gold_range(DAY) == (late_day, DAY)
    result = build_gold(DAY)
    assert result["start"] == late_day.isoformat()
    assert _metrics(DAY)["gamma"]["mentions_28d"] == 3


# --------------------------------------------------------------------------------------------------------------------
# Breakouts, audits, monthly tags
# --------------------------------------------------------------------------------------------------------------------


def test_breakout_needs_two_signals_above_two_sigma(lakehouse: Path) -> None:
    from madlake.pipelines.gold import build_gold

    _tools()
    start, spike = date(2026, 1, 1), date(2026, 2, 15)
    noise = [0, 3, -2, 5, -4, 1, -1, 2, -3]
    pypi, mentions, stars = [], [], []
    for i in range((spike - start).days + 1):
        d = start + timedelta(days=i)
        on_spike = d == spike
        # beta: downloads and mentions jump on the spike day, stars do not; alpha: only downloads jump.
        pypi += _pypi(d, "beta", 5000 if on_spike else 500 + noise[i % 9], 0, 0)
        pypi += _pypi(d, "alpha-core", 9000 if on_spike else 900 + noise[(i + 4) % 9], 0, 0)
        mentions.append(_mention(d, "beta", 30 if on_spike else 2 + noise[i % 9] % 3, 0.1, "neutral"))
        mentions.append(_mention(d, "alpha", 2 + noise[(i + 2) % 9] % 3, 0.1, "neutral"))
        stars.append(_stars(d, "b/beta", "beta", 4 + noise[(i + 1) % 9]))
    _write(Table.PYPI_DOWNLOADS, pypi)
    _write(Table.REDDIT_MENTIONS, mentions)
    _write(Table.GITHUB_STARS_DAILY, stars)
    build_gold(spike, start=start, end=spike)
    rows = _rows(Table.TOOL_BREAKOUTS)
    assert [(r["metric_date"], r["tool_id"]) for r in rows] == [(spike, "beta")]
    assert rows[0]["signals"] == "downloads,mentions" and rows[0]["n_signals"] == 2
    z = json.loads(rows[0]["zscores"])
    assert z["downloads"] > 2 and z["mentions"] > 2 and z["new_stars"] < 2


def test_audit_rejects_duplicate_keys_and_impossible_values(lakehouse: Path) -> None:
    import pyarrow as pa
    from madlake.lakehouse.tables import load_table
    from madlake.pipelines.gold import audit_gold

    table = load_table(Table.TOOL_DAILY_METRICS)
    bad = pa.table(
        {
            "metric_date": [DAY, DAY],
            "tool_id": ["x", "x"],
            "downloads": [5, 5],
            "downloads_excl_ci": [9, 1],
            "downloads_7d": [1, 1],
            "downloads_28d": [1, 1],
            "mentions": [0, 0],
            "mentions_28d": [0, 0],
            "new_stars_28d": [0, 0],
            "sentiment_28d": [0.1, 1.5],
            "positive_share_28d": [0.5, 0.5],
            "negative_share_28d": [0.1, 0.1],
        }
    )
    report = audit_gold(bad, table, 0, expected_rows=2)
    failed = {r.expectation for r in report.results if not r.success}
    assert failed == {"key (metric_date, tool_id) unique", "downloads_excl_ci <= downloads", "sentiment_28d in [-1, 1]"}
    good = (
        bad.slice(1, 1)
        .set_column(3, "downloads_excl_ci", pa.array([1]))
        .set_column(9, "sentiment_28d", pa.array([0.2]))
    )
    assert audit_gold(good, table, 0, expected_rows=1).success


def test_backfill_tags_each_month_and_as_of_reads_reproduce_it(small_lake: Path) -> None:
    from madlake.metrics.ask import run_query
    from madlake.pipelines.gold import build_gold, snapshot_ids_at
    from madlake.sql.engine import LocalEngine

    result = build_gold(DAY, start=date(2026, 2, 20), end=DAY)
    assert (
        "popularity_index@monthly-2026-02" in result["tags"] and "tool_daily_metrics@monthly-2026-03" in result["tags"]
    )
    feb = snapshot_ids_at("monthly-2026-02")
    old = LocalEngine(snapshot_ids=feb).query("select max(metric_date) as d from tool_daily_metrics").to_pylist()
    assert old == [{"d": date(2026, 2, 28)}]
    answer_feb = run_query("most_popular_open_source_olap", as_of="monthly-2026-02").to_pylist()
    assert answer_feb and {r["as_of_date"] for r in answer_feb} == {date(2026, 2, 28)}
    # A recomputation later does not move the tag.
    build_gold(DAY, start=date(2026, 2, 27), end=date(2026, 2, 28))
    assert snapshot_ids_at("monthly-2026-02") == feb
    with pytest.raises(KeyError, match="monthly-2020-01"):
        snapshot_ids_at("monthly-2020-01")


def test_a_failed_audit_publishes_nothing_and_is_recorded(small_lake: Path) -> None:
    from madlake.lakehouse.tables import load_table
    from madlake.lakehouse.writes import AuditFailedError, CommitContext, replace_partition
    from madlake.pipelines.gold import build_gold
    from madlake.sql.engine import LocalEngine
    from pyiceberg.expressions import AlwaysTrue

    build_gold(DAY, start=DAY, end=DAY)
    before = _rows(Table.TOOL_DAILY_METRICS)
    # A broken catalog load: the same tool twice in dim_tools -> duplicate (metric_date, tool_id) keys.
    dim = load_table(Table.DIM_TOOLS)
    rows = dim.scan().to_arrow()
    import pyarrow as pa

    replace_partition(dim, pa.concat_tables([rows, rows.slice(0, 1)]), AlwaysTrue(), CommitContext.standalone("test"))
    with pytest.raises(AuditFailedError, match="duplicated keys"):
        build_gold(DAY, start=DAY - timedelta(days=1), end=DAY)
    assert _rows(Table.TOOL_DAILY_METRICS) == before  # neither day was written
    log = (
        LocalEngine()
        .query(
            "select expectation, success, published from audit_results "
            "where table_name = 'madlake.tool_daily_metrics' and not success"
        )
        .to_pylist()
    )
    assert log == [
        {"expectation": "key (metric_date, tool_id) unique", "success": False, "published": False},
        {"expectation": "one row per tool per day", "success": False, "published": False},
    ]
