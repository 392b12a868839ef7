"""The reddit_mentions pipeline on a local lakehouse: incremental by load time, idempotent, replaces changed items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from madlake.lakehouse.tables import load_table
from madlake.lakehouse.writes import CommitContext, merge, rows_to_arrow
from madlake.mentions.models import sentiment_label
from madlake.names import Table
from madlake.pipelines.mentions import process, read_watermark

CTX = CommitContext(dag_id="test", run_id="r1", source="test")
T0 = datetime(2025, 8, 7, 12, 0, tzinfo=UTC)


def _submission(id_: str, title: str, body: str, loaded_at: datetime, created: datetime = T0) -> dict[str, Any]:
    return {"id": id_, "fullname": f"t3_{id_}", "subreddit": "dataengineering", "title": title, "selftext": body,
            "created_at": created, "first_seen_at": loaded_at, "last_seen_at": loaded_at, "loaded_at": loaded_at,
            "is_deleted": False, "is_removed": False, "source": "api"}  # fmt: skip


def _comment(id_: str, body: str, loaded_at: datetime, created: datetime = T0) -> dict[str, Any]:
    return {"id": id_, "fullname": f"t1_{id_}", "link_id": "t3_a", "submission_id": "a", "subreddit": "dataengineering",
            "body": body, "created_at": created, "first_seen_at": loaded_at, "last_seen_at": loaded_at,
            "loaded_at": loaded_at, "is_deleted": False, "is_removed": False, "source": "api"}  # fmt: skip


def _load(name: str, rows: list[dict[str, Any]]) -> None:
    table = load_table(name)
    merge(table, rows_to_arrow(table, rows), ["id"], CTX)


def _mentions() -> list[tuple[str, str, int, str]]:
    table = load_table(Table.REDDIT_MENTIONS)
    table.refresh()
    return sorted((r["content_id"], r["tool_id"], r["mention_count"], r["method"])
                  for r in table.scan().to_arrow().to_pylist())  # fmt: skip


def test_incremental_idempotent_and_replacing(lakehouse: Path) -> None:
    t1 = T0 + timedelta(hours=1)
    _load(Table.REDDIT_SUBMISSIONS, [_submission("a", "Airflow vs Dagster?", "We love PySpark. Spark SQL too.", t1)])
    _load(Table.REDDIT_COMMENTS, [_comment("c1", "dbt and Snowflake, nothing else", t1),
                                  _comment("c2", "this would spark joy", t1)])  # fmt: skip

    first = process(method="lexicon")
    assert first["items"] == 3 and first["items_with_mentions"] == 2
    expected = [
        ("t1_c1", "dbt", 1, "lexicon"),
        ("t1_c1", "snowflake", 1, "lexicon"),
        ("t3_a", "airflow", 1, "lexicon"),
        ("t3_a", "dagster", 1, "lexicon"),
        ("t3_a", "spark", 2, "lexicon"),
    ]
    assert _mentions() == expected
    assert read_watermark(load_table(Table.REDDIT_MENTIONS)) == t1

    # Nothing new: nothing read, nothing committed, same rows.
    snapshots = len(load_table(Table.REDDIT_MENTIONS).metadata.snapshots)
    again = process(method="lexicon")
    assert again["items"] == 0 and again["commits"] == 0
    assert _mentions() == expected
    assert len(load_table(Table.REDDIT_MENTIONS).metadata.snapshots) == snapshots

    # A late item (created long ago, loaded now) and an edit that drops a tool: only they are processed.
    t2 = t1 + timedelta(hours=1)
    _load(
        Table.REDDIT_COMMENTS,
        [
            _comment("c1", "only dbt now", t2),
            _comment("old", "Kafka in 2019", t2, created=datetime(2019, 5, 1, tzinfo=UTC)),
        ],
    )
    third = process(method="lexicon")
    assert third["items"] == 2
    assert _mentions() == [("t1_c1", "dbt", 1, "lexicon"), ("t1_old", "kafka", 1, "lexicon"),
                           ("t3_a", "airflow", 1, "lexicon"), ("t3_a", "dagster", 1, "lexicon"),
                           ("t3_a", "spark", 2, "lexicon")]  # fmt: skip

    # A backfill of everything replaces, never duplicates.
    process(method="lexicon", reprocess_all=True, chunk=2)
    assert len(_mentions()) == 5

    # Deleted upstream (text cleared by reddit_load): the item's rows go.
    t3 = t2 + timedelta(hours=1)
    deleted = {**_comment("old", "", t3, created=datetime(2019, 5, 1, tzinfo=UTC)), "body": None, "is_deleted": True}
    _load(Table.REDDIT_COMMENTS, [deleted])
    assert process(method="lexicon")["items"] == 1
    assert [m[0] for m in _mentions()].count("t1_old") == 0


def test_rows_carry_valid_sentiment_and_lineage(lakehouse: Path) -> None:
    _load(Table.REDDIT_COMMENTS, [_comment("c9", "DuckDB is amazing, I love it. Pandas was painful and slow.", T0)])
    process(method="lexicon")
    rows = {r["tool_id"]: r for r in load_table(Table.REDDIT_MENTIONS).scan().to_arrow().to_pylist()}
    assert set(rows) == {"duckdb", "pandas"}
    assert rows["duckdb"]["sentiment_score"] > 0.2
    for r in rows.values():
        assert r["sentiment_label"] == sentiment_label(r["sentiment_score"])
        assert r["model"].startswith("afinn-") and r["prompt_version"] == "-"
        assert r["content_type"] == "comment" and r["summary"]


@pytest.mark.parametrize(("score", "label"), [
    (-1.0, "very_negative"), (-0.6000001, "very_negative"), (-0.6, "negative"), (-0.2000001, "negative"),
    (-0.2, "neutral"), (0.0, "neutral"), (0.2, "neutral"), (0.2000001, "positive"), (0.6, "positive"),
    (0.6000001, "very_positive"), (1.0, "very_positive"),
])  # fmt: skip
def test_sentiment_bands_are_contiguous(score: float, label: str) -> None:
    assert sentiment_label(score) == label


def test_sentiment_outside_range_is_refused() -> None:
    for bad in (-1.01, 1.01, float("nan")):
        with pytest.raises(ValueError, match="outside"):
            sentiment_label(bad)


def test_chunks_never_split_one_load_time() -> None:
    from madlake.pipelines.mentions import Item, _chunks

    def item(i: int, hour: int) -> Item:
        return Item(f"t1_{i}", "comment", "x", "", T0, T0 + timedelta(hours=hour))

    items = [item(0, 1), item(1, 2), item(2, 2), item(3, 2), item(4, 3), item(5, 4)]
    chunks = [[i.content_id for i in c] for c in _chunks(items, 2)]
    assert chunks == [["t1_0", "t1_1", "t1_2", "t1_3"], ["t1_4", "t1_5"]]
    assert [len(c) for c in _chunks(items, 100)] == [6]
