"""``reddit_mentions``: one row per (Reddit item, tracked tool it mentions), with sentiment and a one-line summary.

Written by :mod:`madlake.pipelines.mentions`. Rows of an item are replaced as a whole whenever the item is
(re)processed, so an item edited to drop a tool loses that tool's row, and a rerun never duplicates.
"""

from __future__ import annotations

from pyiceberg.schema import Schema
from pyiceberg.types import DoubleType, LongType, NestedField, StringType, TimestamptzType

from madlake.names import Table
from madlake.tables.spec import TableSpec

REDDIT_MENTIONS = TableSpec(
    name=Table.REDDIT_MENTIONS,
    schema=Schema(
        # ids
        NestedField(1, "content_id", StringType(), required=True, doc="Reddit fullname: t3_<id> or t1_<id>"),
        NestedField(2, "content_type", StringType(), required=True, doc="submission | comment"),
        NestedField(3, "subreddit", StringType(), required=True),
        NestedField(4, "tool_id", StringType(), required=True, doc="dim_tools.tool_id"),
        # measures
        NestedField(5, "mention_count", LongType(), required=True, doc="occurrences of the tool in title+body"),
        NestedField(6, "sentiment_score", DoubleType(), required=True, doc="[-1, 1]"),
        NestedField(
            7,
            "sentiment_label",
            StringType(),
            required=True,
            doc="very_negative [-1,-0.6) | negative [-0.6,-0.2) | neutral [-0.2,0.2] | positive (0.2,0.6] "
            "| very_positive (0.6,1]",
        ),
        NestedField(8, "summary", StringType(), required=True, doc="one sentence about the tool in this text"),
        NestedField(
            9, "usage_kind", StringType(), required=True, doc="first_hand | question | comparison | job_listing | other"
        ),
        # lineage
        NestedField(10, "method", StringType(), required=True, doc="llm | lexicon"),
        NestedField(11, "model", StringType(), required=True, doc="LLM model name, or the lexicon (vader-3.3.2)"),
        NestedField(12, "prompt_version", StringType(), required=True, doc="LLM prompt version; '-' for lexicon"),
        # timestamps
        NestedField(13, "created_at", TimestamptzType(), required=True, doc="when the item was posted"),
        NestedField(
            14,
            "source_loaded_at",
            TimestamptzType(),
            required=True,
            doc="the item's loaded_at in its Reddit table when it was processed (the watermark)",
        ),
        NestedField(15, "processed_at", TimestamptzType(), required=True),
    ),
    partition=(("created_at", "month"),),
    sort=("tool_id", "created_at"),
    key=("content_id", "tool_id"),
    doc="Tool mentions in Reddit posts and comments (catalog-driven extraction) with per-tool sentiment, summary and "
    "usage kind from an LLM or the offline VADER lexicon (column method says which).",
)

TABLES = [REDDIT_MENTIONS]
