"""Event tables: what moved in the gold history (``tool_events``) and who was told (``watchlist_deliveries``).

``tool_events`` is computed by the ``gold_metrics`` DAG from ``popularity_index`` and ``tool_monthly_metrics``
(:mod:`madlake.watchlists.events`); a run replaces the months it recomputed, so a rerun yields the same rows (only
``computed_at`` moves). ``watchlist_deliveries`` is the delivery log: one row per (watchlist, event, destination),
merged on that key, so a rerun or a backfill finds what was already sent and sends nothing twice.
"""

from __future__ import annotations

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    NestedField,
    StringType,
    TimestamptzType,
)

from madlake.names import Table
from madlake.tables.spec import TableSpec

TOOL_EVENTS = TableSpec(
    name=Table.TOOL_EVENTS,
    schema=Schema(
        NestedField(1, "month", DateType(), required=True, doc="the period the event happened in (first day)"),
        NestedField(2, "tool_id", StringType(), required=True),
        NestedField(3, "kind", StringType(), required=True, doc="overtake, entered_top, ... (docs/watchlists.md)"),
        NestedField(4, "category", StringType(), required=True, doc="the category the event is about"),
        NestedField(5, "event_id", StringType(), required=True, doc="stable hash of (month, tool, kind, category)"),
        NestedField(6, "is_news", BooleanType(), required=True, doc="false: a method/coverage artefact, explained"),
        NestedField(7, "headline", StringType(), required=True, doc="one sentence, with the numbers"),
        NestedField(8, "details", StringType(), required=True, doc="JSON object: every number the event rests on"),
        NestedField(9, "signal", StringType(), required=False, doc="the signal the event is about, if one"),
        NestedField(10, "value", DoubleType(), required=False, doc="that signal's value this month"),
        NestedField(11, "previous_value", DoubleType(), required=False, doc="the value it is compared with"),
        NestedField(12, "score", DoubleType(), required=False, doc="popularity score this month"),
        NestedField(13, "previous_score", DoubleType(), required=False, doc="popularity score the month before"),
        NestedField(14, "rank", IntegerType(), required=False, doc="rank in the category this month"),
        NestedField(15, "previous_rank", IntegerType(), required=False, doc="rank in the category the month before"),
        NestedField(16, "other_tools", StringType(), required=False, doc="comma list: the tools overtaken"),
        NestedField(17, "link", StringType(), required=True, doc="the tool's dashboard page, relative to the site"),
        NestedField(18, "is_sample", BooleanType(), required=True),
        NestedField(19, "computed_at", TimestamptzType(), required=True),
    ),
    partition=(("month", "year"),),
    sort=("month", "category", "tool_id", "kind"),
    properties={"write.metadata.previous-versions-max": "10"},
    key=("month", "tool_id", "kind", "category"),
    doc="One row per (month, tool, kind, category): rank changes in a category (overtakes, entering or leaving the "
    "top N), breakouts, new all-time highs, sustained declines, first mentions, and the PyPI method breaks and "
    "coverage changes that explain a jump (is_news false, so an artefact is never reported as news). Each row "
    "carries the numbers that justify it and the tool page's link. Thresholds: madlake.watchlists.rules.",
)

WATCHLIST_DELIVERIES = TableSpec(
    name=Table.WATCHLIST_DELIVERIES,
    schema=Schema(
        NestedField(1, "watchlist", StringType(), required=True),
        NestedField(2, "event_id", StringType(), required=True),
        NestedField(3, "destination", StringType(), required=True, doc="the Airflow connection id (never the URL)"),
        NestedField(4, "month", DateType(), required=True, doc="the event's period"),
        NestedField(5, "tool_id", StringType(), required=True),
        NestedField(6, "kind", StringType(), required=True),
        NestedField(7, "status", StringType(), required=True, doc="sent | failed (failed ones are retried next run)"),
        NestedField(8, "attempts", IntegerType(), required=True, doc="delivery attempts so far, over all runs"),
        NestedField(9, "first_attempt_at", TimestamptzType(), required=True),
        NestedField(10, "last_attempt_at", TimestamptzType(), required=True),
        NestedField(11, "sent_at", TimestamptzType(), required=False, doc="when the endpoint accepted it"),
        NestedField(12, "error", StringType(), required=False, doc="the last failure, redacted"),
        NestedField(13, "run_id", StringType(), required=True, doc="the run of the last attempt"),
    ),
    sort=("watchlist", "event_id"),
    key=("watchlist", "event_id", "destination"),
    doc="The delivery log of the watchlists: one row per (watchlist, event, destination) with its status, attempts "
    "and last error. Merged on that key: a sent event is never sent again (reruns, backfills), a failed one is "
    "retried on the next run.",
)

TABLES = [TOOL_EVENTS, WATCHLIST_DELIVERIES]
