"""The offline enrichment: AFINN on the mention's sentence, that sentence as summary, rule-of-thumb usage kinds."""

from __future__ import annotations

import pytest
from madlake.mentions import lexicon
from madlake.mentions.extract import MentionExtractor


def enrich(text: str) -> dict[str, lexicon.Enrichment]:
    x = MentionExtractor.for_catalog()
    return {e.tool_id: e for e in lexicon.enrich(text, {m.tool_id: list(m.spans) for m in x.extract(text)})}


def test_sentiment_follows_the_sentence_of_each_mention() -> None:
    text = (
        "Our warehouse is Snowflake and it is fantastic, fast and a joy to use. "
        "Separately, the old cron box died again. Informatica was a horrible, painful mess and I hated it."
    )
    rows = enrich(text)
    assert rows["snowflake"].sentiment_score > 0.5
    assert rows["informatica"].sentiment_score < -0.5  # the cron box's sentence is not Informatica's
    assert rows["snowflake"].summary == "Our warehouse is Snowflake and it is fantastic, fast and a joy to use."
    assert {r.method for r in rows.values()} == {"lexicon"}
    assert all(r.model.startswith("afinn-") for r in rows.values())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Is Dagster worth it for a small team?", "question"),
        ("We moved from Airflow to Dagster last year.", "comparison"),
        ("Polars vs pandas for 10 GB files.", "comparison"),
        ("We use dbt for every model.", "first_hand"),
        ("We're hiring a data engineer: Snowflake and dbt.", "job_listing"),
        ("1. Data Engineer 2. 5 YOE 3. NYC 4. $150k. Stack: Airflow, Spark.", "job_listing"),
        ("Kafka 4.0 was released today.", "other"),
    ],
)
def test_usage_kind_rules(text: str, kind: str) -> None:
    assert {r.usage_kind for r in enrich(text).values()} == {kind}


def test_summary_is_one_trimmed_sentence() -> None:
    long = "DuckDB " + "really " * 80 + "rocks."
    [row] = enrich(long).values()
    assert len(row.summary) <= 300 and row.summary.endswith("…")
    [row] = enrich("Line one mentions nothing\nDuckDB   is    here\nlast line").values()
    assert row.summary == "DuckDB is here"
