"""The event rules and every threshold they use, in one place (documented in docs/watchlists.md).

An event is computed per month from ``popularity_index`` (method v2: scores within one PyPI snapshot, so months of one
counting method compare like with like) and ``tool_monthly_metrics``. Two months are compared only when they are
consecutive calendar months and the tool has an index row in both; anything else is a gap, not a change.

Artefacts first: a tool-month whose PyPI counting method differs from the month before (``downloads_method``), or
whose set of signals changed (``signals``: stars appear after a GitHub gap, Reddit mentions count only in covered
months), cannot carry news. Its rank changes and jumps are reported as ``method_break`` or ``coverage_change``
(``is_news`` false), with the numbers, so an alert never reports an artefact as a move. An overtake is news only when
neither tool of the pair has an artefact that month.

This module is imported by DAG-free code only; it depends on the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Thresholds:
    """Every number the rules use. Change them here (and in docs/watchlists.md), nowhere else."""

    #: ``entered_top`` / ``left_top``: the top N of a category.
    top_n: int = 3
    #: ``overtake``: only passes that land at this rank or better (the tail of a category reshuffles every month).
    overtake_max_rank: int = 5
    #: ``overtake``: the passer must lead by at least this many index points afterwards (25 points = 10x).
    overtake_min_margin: float = 1.0
    #: ``breakout``: month-over-month growth relative to the category (``growth_mom``) of at least +50 % ...
    breakout_min_growth: float = 0.5
    #: ... by a tool that matters in its category: a score of at least this after the move (25 = a tenth of the
    #: leader on every signal).
    breakout_min_score: float = 50.0
    #: ``all_time_high``: the signals watched for a new high. ``downloads_share`` is the tool's share of its
    #: category's downloads within one PyPI snapshot, comparable across counting methods; raw counts are not.
    ath_signals: tuple[str, ...] = ("downloads_share",)
    #: ... only after this many earlier months with a value (a short history makes every month a record) ...
    ath_min_history: int = 12
    #: ... beating the previous high by at least 5 % (relative) ...
    ath_min_gain: float = 0.05
    #: ... and only for a share of at least 10 % of the category (a 0.1 % share doubling is not news).
    ath_min_value: float = 0.10
    #: ``sustained_decline``: this many consecutive months of negative ``growth_mom`` (each month comparable: no
    #: method break spanned, no gap); reported once, on the month the streak reaches it.
    decline_months: int = 6
    #: ... whose compounded change is at least this bad (-20 %).
    decline_min_total: float = -0.20
    #: ``method_break`` / ``coverage_change``: reported when the artefact month moves the score by at least this many
    #: points, or changes the tool's rank.
    jump_points: float = 5.0
    #: ``first_mention``: news only after an earlier month whose Reddit coverage had at least this share of the
    #: mention month's texts and no mention (a mention as coverage starts or grows is an artefact).
    first_mention_min_coverage: float = 0.25
    #: Delivery: only events of the newest N months of data are sent (a history backfill never floods a channel).
    deliver_months: int = 3
    #: Delivery: attempts per event and run before it is recorded as failed (retried again on the next run).
    deliver_attempts: int = 3
    #: Delivery: seconds before the second attempt (doubled after each failure).
    deliver_backoff_seconds: float = 1.0
    #: Delivery: HTTP timeout per attempt, seconds.
    deliver_timeout_seconds: float = 10.0


THRESHOLDS: Final = Thresholds()

#: Event kinds that are news (a watcher is told) and the artefact kinds that explain a jump instead.
NEWS_KINDS: Final = (
    "overtake",
    "entered_top",
    "left_top",
    "breakout",
    "all_time_high",
    "sustained_decline",
    "first_mention",
)
ARTEFACT_KINDS: Final = ("method_break", "coverage_change")
EVENT_KINDS: Final = NEWS_KINDS + ARTEFACT_KINDS
