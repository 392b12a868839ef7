"""Gold tables: per-tool daily metrics, category rankings, the monthly popularity index and breakouts.

All four are computed by the ``gold_metrics`` DAG from SQL models in ``madlake/metrics/models`` and written per day
(or per month) with a partition replace, so a rerun of a day replaces exactly that day's rows. Every row is correct as
of its date: no input dated after ``metric_date`` (or after the end of ``month``) is read. ``is_sample`` is true when
any input of the row came from generated or replayed sample data; the dashboard shows a "sample data" banner for it.
"""

from __future__ import annotations

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BooleanType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestamptzType,
)

from madlake.lakehouse.spec import TableSpec
from madlake.names import Table

#: The signals ranked per category and used by the popularity index (column names of ``tool_daily_metrics``).
RANKED_SIGNALS = ("downloads_28d", "mentions_28d", "stars", "new_stars_28d")

#: The popularity index's signals; each has a ``<signal>_component`` and a ``<signal>_value`` column.
INDEX_SIGNALS = ("downloads", "mentions", "stars", "new_stars")

#: Gold tables are replaced a few days at a time, daily: keep the metadata log short (pyiceberg copies the whole table
#: metadata several times per commit, so its size is what a daily commit costs; snapshots are expired by maintenance,
#: except the monthly tags).
_PROPERTIES = {"write.metadata.previous-versions-max": "10"}

TOOL_DAILY_METRICS = TableSpec(
    name=Table.TOOL_DAILY_METRICS,
    schema=Schema(
        NestedField(1, "metric_date", DateType(), required=True),
        NestedField(2, "tool_id", StringType(), required=True),
        NestedField(3, "downloads", LongType(), required=False, doc="PyPI downloads that day, all installers"),
        NestedField(
            4, "downloads_excl_ci", LongType(), required=False, doc="downloads minus CI and mirrors (bandersnatch, ...)"
        ),
        NestedField(5, "downloads_7d", LongType(), required=False, doc="downloads (excl. CI/mirrors), 7 days to date"),
        NestedField(
            6, "downloads_28d", LongType(), required=False, doc="downloads (excl. CI/mirrors), 28 days to date"
        ),
        NestedField(7, "mentions", LongType(), required=False, doc="Reddit mentions created that day"),
        NestedField(8, "mentions_28d", LongType(), required=False),
        NestedField(9, "sentiment_28d", DoubleType(), required=False, doc="mean sentiment [-1,1] weighted by mentions"),
        NestedField(10, "positive_share_28d", DoubleType(), required=False),
        NestedField(11, "negative_share_28d", DoubleType(), required=False),
        NestedField(12, "stars", LongType(), required=False, doc="GitHub stars as of the day (sum over repos)"),
        NestedField(13, "new_stars_28d", LongType(), required=False),
        NestedField(14, "forks", LongType(), required=False),
        NestedField(15, "open_issues", LongType(), required=False),
        NestedField(16, "releases_90d", IntegerType(), required=False, doc="distinct releases seen in 90 days"),
        NestedField(17, "is_sample", BooleanType(), required=True),
        NestedField(18, "computed_at", TimestamptzType(), required=True),
        NestedField(19, "primary_category", StringType(), required=False),
        NestedField(20, "new_stars", LongType(), required=False, doc="new GitHub stars that day"),
    ),
    partition=(("metric_date", "month"),),
    sort=("metric_date", "tool_id"),
    properties=_PROPERTIES,
    key=("metric_date", "tool_id"),
    doc="One row per tool per day: downloads, mentions, sentiment and GitHub signals as of that day "
    "(a tool with several packages or repos sums them).",
)

CATEGORY_DAILY_RANKINGS = TableSpec(
    name=Table.CATEGORY_DAILY_RANKINGS,
    schema=Schema(
        NestedField(1, "metric_date", DateType(), required=True),
        NestedField(2, "category", StringType(), required=True),
        NestedField(3, "tool_id", StringType(), required=True),
        NestedField(4, "signal", StringType(), required=True, doc="one of downloads_28d, mentions_28d, stars, ..."),
        NestedField(5, "value", DoubleType(), required=False),
        NestedField(6, "share", DoubleType(), required=False, doc="value / sum of the category's values that day"),
        NestedField(7, "rank", IntegerType(), required=True, doc="1 = highest value in the category"),
        NestedField(8, "rank_change_28d", IntegerType(), required=False, doc="rank 28 days earlier minus rank"),
        NestedField(9, "rank_change_365d", IntegerType(), required=False, doc="rank 365 days earlier minus rank"),
        NestedField(10, "is_sample", BooleanType(), required=True),
        NestedField(11, "computed_at", TimestamptzType(), required=True),
    ),
    partition=(("metric_date", "month"),),
    sort=("metric_date", "category", "signal", "rank"),
    properties=_PROPERTIES,
    key=("metric_date", "category", "signal", "tool_id"),
    doc="Per category per day per signal: each tool's value, share of the category, rank and rank change "
    "(positive = climbed) against 28 and 365 days earlier.",
)

POPULARITY_INDEX = TableSpec(
    name=Table.POPULARITY_INDEX,
    schema=Schema(
        NestedField(1, "month", DateType(), required=True, doc="first day of the month; values as of its last day"),
        NestedField(2, "tool_id", StringType(), required=True),
        NestedField(3, "category", StringType(), required=True),
        NestedField(4, "method_version", StringType(), required=True, doc="see docs/metrics.md"),
        NestedField(5, "score", DoubleType(), required=True, doc="sum of the components"),
        NestedField(6, "downloads_component", DoubleType(), required=True),
        NestedField(7, "mentions_component", DoubleType(), required=True),
        NestedField(8, "stars_component", DoubleType(), required=True),
        NestedField(9, "new_stars_component", DoubleType(), required=True),
        NestedField(10, "downloads_value", DoubleType(), required=False, doc="downloads (excl. CI) in the month"),
        NestedField(11, "mentions_value", DoubleType(), required=False, doc="mentions in the month"),
        NestedField(12, "stars_value", DoubleType(), required=False, doc="stars at the end of the month"),
        NestedField(13, "new_stars_value", DoubleType(), required=False, doc="new stars in the month"),
        NestedField(14, "rank_in_category", IntegerType(), required=True),
        NestedField(15, "growth_mom", DoubleType(), required=False, doc="score / previous month's score - 1"),
        NestedField(16, "growth_yoy", DoubleType(), required=False, doc="score / score 12 months earlier - 1"),
        NestedField(17, "cagr_3m", DoubleType(), required=False, doc="(score / score 3 months earlier)^(1/3) - 1"),
        NestedField(18, "is_sample", BooleanType(), required=True),
        NestedField(19, "computed_at", TimestamptzType(), required=True),
        NestedField(
            20, "as_of_date", DateType(), required=True, doc="the day the values are as of (month end once final)"
        ),
    ),
    partition=(("month", "year"),),
    sort=("month", "category", "rank_in_category"),
    properties=_PROPERTIES,
    key=("month", "tool_id", "category"),
    doc="Monthly composite popularity score per tool and category (method versioned in docs/metrics.md): each signal "
    "divided by the mean of the category's leaders, log-scaled and weighted; every component kept as a column.",
)

TOOL_BREAKOUTS = TableSpec(
    name=Table.TOOL_BREAKOUTS,
    schema=Schema(
        NestedField(1, "metric_date", DateType(), required=True),
        NestedField(2, "tool_id", StringType(), required=True),
        NestedField(3, "signals", StringType(), required=True, doc="comma-separated signals above 2 sigma"),
        NestedField(4, "n_signals", IntegerType(), required=True),
        NestedField(5, "zscores", StringType(), required=True, doc='JSON object {"signal": z, ...}'),
        NestedField(6, "is_sample", BooleanType(), required=True),
        NestedField(7, "computed_at", TimestamptzType(), required=True),
    ),
    partition=(("metric_date", "year"),),
    sort=("metric_date", "tool_id"),
    properties=_PROPERTIES,
    key=("metric_date", "tool_id"),
    doc="A tool breaks out on a day when two or more of its daily signals are more than 2 standard deviations above "
    "their trailing 90-day mean.",
)

TABLES = [TOOL_DAILY_METRICS, CATEGORY_DAILY_RANKINGS, POPULARITY_INDEX, TOOL_BREAKOUTS]
