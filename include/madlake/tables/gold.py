"""Gold tables: per-tool daily and monthly metrics, category rankings, the monthly popularity index and breakouts.

All five are computed by the ``gold_metrics`` DAG from SQL models in ``madlake/metrics/models`` and written per day
(or per month: ``tool_monthly_metrics`` and ``popularity_index`` v2, 2018-02 onward) with a partition replace, so a
rerun of a day (month) replaces exactly that day's (month's) rows. Every row is correct as
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

from madlake.names import Table
from madlake.tables.spec import TableSpec

#: The signals ranked per category and used by the popularity index (column names of ``tool_daily_metrics``).
RANKED_SIGNALS = ("downloads_28d", "mentions_28d", "stars", "new_stars_28d")

#: The popularity index's signals (v2); each has ``<signal>_value``, ``_index``, ``_component`` and ``_source``.
INDEX_SIGNALS = ("downloads", "stars", "mentions")

#: Weights of the v2 index (renormalized over the signals present).
INDEX_WEIGHTS = {"downloads": 0.5, "stars": 0.3, "mentions": 0.2}

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
        NestedField(4, "method_version", StringType(), required=True, doc="see docs/metrics.md (v2)"),
        NestedField(5, "score", DoubleType(), required=True, doc="weighted mean of the present signals' indexes"),
        NestedField(6, "downloads_component", DoubleType(), required=False, doc="renormalized weight x index"),
        NestedField(7, "mentions_component", DoubleType(), required=False),
        NestedField(8, "stars_component", DoubleType(), required=False),
        NestedField(9, "new_stars_component", DoubleType(), required=False, doc="v1 only (null in v2)"),
        NestedField(10, "downloads_value", DoubleType(), required=False, doc="v2: downloads per day counted"),
        NestedField(11, "mentions_value", DoubleType(), required=False, doc="mentions in the month"),
        NestedField(12, "stars_value", DoubleType(), required=False, doc="stars at the end of the month"),
        NestedField(13, "new_stars_value", DoubleType(), required=False, doc="new stars in the month"),
        NestedField(14, "rank_in_category", IntegerType(), required=True),
        NestedField(15, "growth_mom", DoubleType(), required=False, doc="v2: 10^(d/25)-1 over common signals, 1 month"),
        NestedField(
            16, "growth_yoy", DoubleType(), required=False, doc="v2: 10^(d/25)-1 over common signals, 12 months"
        ),
        NestedField(17, "cagr_3m", DoubleType(), required=False, doc="v2: monthly rate over 3 months"),
        NestedField(18, "is_sample", BooleanType(), required=True),
        NestedField(19, "computed_at", TimestamptzType(), required=True),
        NestedField(
            20, "as_of_date", DateType(), required=True, doc="the day the values are as of (month end once final)"
        ),
        NestedField(21, "coverage", DoubleType(), required=False, doc="share of the full weight present (0-1)"),
        NestedField(22, "n_signals", IntegerType(), required=False, doc="signals with an index"),
        NestedField(23, "signals", StringType(), required=False, doc="comma list of the signals with an index"),
        NestedField(24, "downloads_index", DoubleType(), required=False, doc="100 + 25 log10(value / leader)"),
        NestedField(25, "stars_index", DoubleType(), required=False),
        NestedField(26, "mentions_index", DoubleType(), required=False),
        NestedField(
            27, "downloads_source", StringType(), required=False, doc="pypi_downloads | pypi_downloads_monthly"
        ),
        NestedField(28, "stars_source", StringType(), required=False),
        NestedField(29, "mentions_source", StringType(), required=False),
        NestedField(30, "downloads_method", StringType(), required=False, doc="daily or the snapshot's method"),
        NestedField(31, "downloads_share", DoubleType(), required=False, doc="share of the category in the snapshot"),
        NestedField(32, "downloads_below_list", BooleanType(), required=False),
        NestedField(33, "growth_yoy_spans_break", BooleanType(), required=False, doc="PyPI method differs"),
        NestedField(34, "growth_mom_spans_break", BooleanType(), required=False),
        NestedField(35, "growth_yoy_signals", StringType(), required=False, doc="signals growth_yoy is computed on"),
        NestedField(36, "downloads", LongType(), required=False, doc="downloads counted in the month (same source)"),
        NestedField(
            37,
            "downloads_share_yoy",
            DoubleType(),
            required=False,
            doc="downloads_share / its value 12 months earlier - 1",
        ),
    ),
    partition=(("month", "year"),),
    sort=("month", "category", "rank_in_category"),
    properties=_PROPERTIES,
    key=("month", "tool_id", "category"),
    doc="Monthly popularity index per tool and category (method v2, docs/metrics.md): every month from 2018-02, each "
    "present signal indexed against the category leader that month on a log scale, weights renormalized over the "
    "present signals (coverage), growth relative to the category over the signals present in both months, flagged "
    "when it spans a PyPI method break.",
)

TOOL_MONTHLY_METRICS = TableSpec(
    name=Table.TOOL_MONTHLY_METRICS,
    schema=Schema(
        NestedField(1, "month", DateType(), required=True, doc="first day of the month"),
        NestedField(2, "tool_id", StringType(), required=True),
        NestedField(3, "primary_category", StringType(), required=False),
        NestedField(
            4, "downloads", LongType(), required=False, doc="PyPI downloads counted (null: unknown/below list)"
        ),
        NestedField(5, "downloads_per_day", DoubleType(), required=False, doc="downloads / days the count covers"),
        NestedField(6, "downloads_source", StringType(), required=False, doc="pypi_downloads | pypi_downloads_monthly"),
        NestedField(7, "downloads_method", StringType(), required=False, doc="daily, or the monthly snapshot's method"),
        NestedField(
            8, "downloads_below_list", BooleanType(), required=False, doc="under the snapshot's smallest count"
        ),
        NestedField(9, "downloads_list_min", LongType(), required=False, doc="the snapshot's smallest count"),
        NestedField(10, "stars", LongType(), required=False, doc="GitHub stars at the end of the month"),
        NestedField(11, "new_stars", LongType(), required=False),
        NestedField(12, "forks", LongType(), required=False),
        NestedField(13, "open_issues", LongType(), required=False),
        NestedField(14, "contributors", LongType(), required=False),
        NestedField(15, "stars_source", StringType(), required=False),
        NestedField(16, "mentions", LongType(), required=False, doc="null: no Reddit coverage; 0: covered, none"),
        NestedField(17, "mentions_source", StringType(), required=False),
        NestedField(18, "sentiment", DoubleType(), required=False, doc="mention-weighted mean sentiment [-1, 1]"),
        NestedField(19, "reddit_texts", LongType(), required=False, doc="Reddit texts ingested that month"),
        NestedField(20, "is_sample", BooleanType(), required=True),
        NestedField(21, "computed_at", TimestamptzType(), required=True),
        NestedField(22, "downloads_days", IntegerType(), required=False, doc="days the downloads count covers"),
        NestedField(23, "downloads_snapshot_date", DateType(), required=False, doc="the monthly snapshot used"),
        NestedField(24, "stars_as_of", DateType(), required=False, doc="the day the stars were observed"),
    ),
    partition=(("month", "year"),),
    sort=("month", "tool_id"),
    properties=_PROPERTIES,
    key=("month", "tool_id"),
    doc="One row per tool per month from 2018-02: each signal from the best source for the month (daily PyPI else the "
    "monthly snapshot; GitHub API snapshots else the star backfill else github_repo_history; Reddit mentions when "
    "the month has Reddit coverage), with the source and PyPI method named. Missing is null, never 0.",
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

TABLES = [TOOL_DAILY_METRICS, CATEGORY_DAILY_RANKINGS, POPULARITY_INDEX, TOOL_BREAKOUTS, TOOL_MONTHLY_METRICS]
