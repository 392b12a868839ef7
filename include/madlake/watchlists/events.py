"""Compute ``tool_events`` from the monthly gold history: rank changes, breakouts, highs, declines, first mentions, and
the artefacts (PyPI method breaks, coverage changes) that explain a jump instead of news.

The rules and their thresholds are :mod:`madlake.watchlists.rules` (read its docstring first). :func:`compute_events`
is a pure function of the ``popularity_index`` and ``tool_monthly_metrics`` rows: every event of month M reads only
months up to M (it is as of M), so recomputing the whole history yields the same rows, and an event's
``event_id`` (a hash of month, tool, kind and category) is the same in every run: the delivery log keys on it.

:func:`build_events` reads both tables, computes every month and replaces ``tool_events`` for the months the input
covers in one commit (cost: ~10k index rows over 8 years, well under a second of compute).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
from pyiceberg.expressions import And, EqualTo, GreaterThanOrEqual, LessThanOrEqual

from madlake.catalog import load_catalog
from madlake.lakehouse.tables import ensure_tables, load_table
from madlake.lakehouse.writes import replace_partition
from madlake.names import Table
from madlake.orchestration.request import RunRequest
from madlake.watchlists.rules import THRESHOLDS, Thresholds

log = logging.getLogger(__name__)

#: The popularity_index columns the rules read.
INDEX_COLUMNS = (
    "month",
    "tool_id",
    "category",
    "score",
    "rank_in_category",
    "signals",
    "coverage",
    "downloads_method",
    "downloads_share",
    "growth_mom",
    "growth_mom_spans_break",
    "is_sample",
)
MONTHLY_COLUMNS = ("month", "tool_id", "primary_category", "mentions", "reddit_texts", "is_sample")

_ACRONYMS = {"olap": "OLAP", "oltp": "OLTP", "nosql": "NoSQL", "ml": "ML", "mlops": "MLOps", "llm": "LLM", "bi": "BI"}


def category_label(category: str) -> str:
    """``olap_database`` -> ``OLAP database`` (the dashboard's labels)."""
    text = " ".join(_ACRONYMS.get(w, w) for w in category.split("_"))
    return text[0].upper() + text[1:] if text else text


def event_id(month: date, tool_id: str, kind: str, category: str) -> str:
    """The stable id of an event: the same (month, tool, kind, category) has the same id in every run."""
    return hashlib.sha256(f"{month:%Y-%m}|{tool_id}|{kind}|{category}".encode()).hexdigest()[:20]


def tool_link(tool_id: str) -> str:
    """The tool's dashboard page, relative to the site root."""
    return f"tool/{tool_id}.html"


def _prev_month(m: date) -> date:
    return date(m.year - 1, 12, 1) if m.month == 1 else date(m.year, m.month - 1, 1)


def _pct(x: float) -> str:
    return f"{x * 100:+.0f}%"


@dataclass
class _Row:
    month: date
    tool_id: str
    category: str
    score: float
    rank: int
    signals: str
    method: str | None
    share: float | None
    growth: float | None
    spans_break: bool
    is_sample: bool

    @classmethod
    def of(cls, r: Mapping[str, Any]) -> _Row:
        return cls(
            month=r["month"],
            tool_id=r["tool_id"],
            category=r["category"],
            score=float(r["score"]),
            rank=int(r["rank_in_category"]),
            signals=r.get("signals") or "",
            method=r.get("downloads_method"),
            share=r.get("downloads_share"),
            growth=r.get("growth_mom"),
            spans_break=bool(r.get("growth_mom_spans_break")),
            is_sample=bool(r.get("is_sample")),
        )


@dataclass
class _Event:
    month: date
    tool_id: str
    kind: str
    category: str
    is_news: bool
    headline: str
    details: dict[str, Any]
    is_sample: bool
    signal: str | None = None
    value: float | None = None
    previous_value: float | None = None
    score: float | None = None
    previous_score: float | None = None
    rank: int | None = None
    previous_rank: int | None = None
    other_tools: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "tool_id": self.tool_id,
            "kind": self.kind,
            "category": self.category,
            "event_id": event_id(self.month, self.tool_id, self.kind, self.category),
            "is_news": self.is_news,
            "headline": self.headline,
            "details": json.dumps(self.details, sort_keys=True, default=str),
            "signal": self.signal,
            "value": self.value,
            "previous_value": self.previous_value,
            "score": self.score,
            "previous_score": self.previous_score,
            "rank": self.rank,
            "previous_rank": self.previous_rank,
            "other_tools": ",".join(self.other_tools) or None,
            "link": tool_link(self.tool_id),
            "is_sample": self.is_sample,
        }


def _artefact(row: _Row, prev: _Row | None) -> dict[str, Any] | None:
    """Why ``row`` is not comparable with the month before (method break, coverage change), or None."""
    if prev is None:
        return None
    why: dict[str, Any] = {}
    if (row.method and prev.method and row.method != prev.method) or row.spans_break:
        why["method"] = [prev.method, row.method]
    if row.signals != prev.signals:
        why["signals"] = [prev.signals, row.signals]
    return why or None


def compute_events(
    index_rows: Iterable[Mapping[str, Any]],
    monthly_rows: Iterable[Mapping[str, Any]] = (),
    names: Mapping[str, str] | None = None,
    t: Thresholds = THRESHOLDS,
) -> list[dict[str, Any]]:
    """Every event of the history, one dict per ``tool_events`` row (without ``computed_at``), sorted by key.

    Args:
        index_rows: ``popularity_index`` rows (the :data:`INDEX_COLUMNS`), any order.
        monthly_rows: ``tool_monthly_metrics`` rows (:data:`MONTHLY_COLUMNS`), for first mentions.
        names: display names by tool id (default: the ids).
        t: the thresholds (default: :data:`madlake.watchlists.rules.THRESHOLDS`).
    """
    names = names or {}

    def nm(tool: str) -> str:
        return names.get(tool, tool)

    by_cat: dict[str, dict[date, dict[str, _Row]]] = defaultdict(lambda: defaultdict(dict))
    for r in index_rows:
        if r.get("score") is None or r.get("rank_in_category") is None:
            continue
        row = _Row.of(r)
        by_cat[row.category][row.month][row.tool_id] = row

    events: dict[tuple[date, str, str, str], _Event] = {}

    def add(ev: _Event) -> None:
        events[(ev.month, ev.tool_id, ev.kind, ev.category)] = ev

    for category, months in by_cat.items():
        label = category_label(category)
        history: dict[str, list[_Row]] = defaultdict(list)  # per tool, months so far (for highs and streaks)
        for month in sorted(months):
            now = months[month]
            before = months.get(_prev_month(month), {})
            arte = {tool: _artefact(row, before.get(tool)) for tool, row in now.items()}
            for tool, row in now.items():
                prev = before.get(tool)
                _rank_events(add, t, label, category, month, row, prev, now, before, arte, nm)
                _growth_events(add, t, label, category, month, row, prev, arte[tool], history[tool], nm)
                history[tool].append(row)
    _first_mentions(add, t, monthly_rows, nm)
    return [events[k].row() for k in sorted(events)]


def _rank_events(
    add: Any,
    t: Thresholds,
    label: str,
    category: str,
    month: date,
    row: _Row,
    prev: _Row | None,
    now: Mapping[str, _Row],
    before: Mapping[str, _Row],
    arte: Mapping[str, dict[str, Any] | None],
    nm: Any,
) -> None:
    """Overtakes, entering/leaving the top N, and the artefacts that explain a rank change or a jump."""
    if prev is None:
        return
    tool = row.tool_id
    own = arte[tool]
    common = [o for o in now if o != tool and o in before]
    passed = [o for o in common if before[o].rank < prev.rank and now[o].rank > row.rank]
    passed_by = [o for o in common if before[o].rank > prev.rank and now[o].rank < row.rank]
    appeared_above = [o for o in now if o not in before and now[o].rank < row.rank]
    gone_above = [o for o in before if o not in now and before[o].rank < prev.rank]
    causes = {o: arte[o] for o in passed + passed_by if arte[o]}
    causes |= {o: {"appeared": True} for o in appeared_above}
    causes |= {o: {"gone": True} for o in gone_above}
    numbers = {
        "rank": row.rank,
        "previous_rank": prev.rank,
        "score": round(row.score, 2),
        "previous_score": round(prev.score, 2),
        "signals": row.signals,
        "previous_signals": prev.signals,
        "method": row.method,
        "previous_method": prev.method,
    }
    base: dict[str, Any] = {
        "month": month,
        "tool_id": tool,
        "category": category,
        "is_sample": row.is_sample,
        "score": row.score,
        "previous_score": prev.score,
        "rank": row.rank,
        "previous_rank": prev.rank,
    }
    suppressed: list[str] = []

    clean = [o for o in passed if not own and not arte[o]]
    strong = [o for o in clean if row.score - now[o].score >= t.overtake_min_margin]
    if strong and row.rank <= t.overtake_max_rank:
        others = sorted(strong, key=lambda o: now[o].rank)
        add(
            _Event(
                **base,
                kind="overtake",
                is_news=True,
                headline=f"{nm(tool)} overtook {', '.join(nm(o) for o in others)} in {label} ({month:%Y-%m}): "
                f"rank {prev.rank} → {row.rank}, score {row.score:.1f} vs "
                + ", ".join(f"{now[o].score:.1f}" for o in others),
                details=numbers
                | {
                    "overtaken": {
                        o: {"rank": now[o].rank, "previous_rank": before[o].rank, "score": round(now[o].score, 2)}
                        for o in others
                    },
                    "min_margin": t.overtake_min_margin,
                },
                signal="score",
                value=row.score,
                previous_value=prev.score,
                other_tools=others,
            )
        )
    elif passed and row.rank <= t.overtake_max_rank and (own or any(arte[o] for o in passed)):
        suppressed.append("overtake")

    crossed_in = prev.rank > t.top_n >= row.rank
    crossed_out = prev.rank <= t.top_n < row.rank
    if crossed_in or crossed_out:
        kind = "entered_top" if crossed_in else "left_top"
        if own or causes:
            suppressed.append(kind)
        else:
            verb = "entered" if crossed_in else "left"
            add(
                _Event(
                    **base,
                    kind=kind,
                    is_news=True,
                    headline=f"{nm(tool)} {verb} the top {t.top_n} of {label} ({month:%Y-%m}): rank {prev.rank} → "
                    f"{row.rank}, score {prev.score:.1f} → {row.score:.1f}",
                    details=numbers | {"top_n": t.top_n},
                    signal="rank",
                    value=float(row.rank),
                    previous_value=float(prev.rank),
                )
            )

    jump = abs(row.score - prev.score)
    if own and (jump >= t.jump_points or row.rank != prev.rank or suppressed):
        method = "method" in own
        kind = "method_break" if method else "coverage_change"
        if method:
            why = f"PyPI's counting changed ({own['method'][0] or '?'} → {own['method'][1] or '?'})"
        else:
            why = f"its signals changed ({own['signals'][0] or 'none'} → {own['signals'][1] or 'none'})"
        add(
            _Event(
                **base,
                kind=kind,
                is_news=False,
                headline=f"{nm(tool)} in {label} ({month:%Y-%m}): rank {prev.rank} → {row.rank}, score "
                f"{prev.score:.1f} → {row.score:.1f}, because {why}: an artefact, not news",
                details=numbers | {"artefact": own, "suppressed": suppressed, "jump_points": t.jump_points},
                signal="score",
                value=row.score,
                previous_value=prev.score,
            )
        )
    elif suppressed and causes:
        # The tool's own data is comparable, but the tools it crossed (or that appeared or vanished) are not.
        kinds = {"method" if "method" in (c or {}) else "coverage" for c in causes.values()}
        kind = "method_break" if kinds == {"method"} else "coverage_change"
        add(
            _Event(
                **base,
                kind=kind,
                is_news=False,
                headline=f"{nm(tool)} in {label} ({month:%Y-%m}): rank {prev.rank} → {row.rank} only because "
                f"{', '.join(nm(o) for o in sorted(causes))} changed method or coverage: an artefact, not news",
                details=numbers | {"caused_by": causes, "suppressed": suppressed},
                signal="rank",
                value=float(row.rank),
                previous_value=float(prev.rank),
                other_tools=sorted(causes),
            )
        )


def _growth_events(
    add: Any,
    t: Thresholds,
    label: str,
    category: str,
    month: date,
    row: _Row,
    prev: _Row | None,
    own: dict[str, Any] | None,
    history: Sequence[_Row],
    nm: Any,
) -> None:
    """Breakouts, all-time highs of the watched signals, sustained declines."""
    tool = row.tool_id
    base: dict[str, Any] = {
        "month": month,
        "tool_id": tool,
        "category": category,
        "is_sample": row.is_sample,
        "score": row.score,
    }
    if prev is not None:
        base |= {"previous_score": prev.score, "rank": row.rank, "previous_rank": prev.rank}
    growth = row.growth
    comparable = prev is not None and not own and growth is not None and not row.spans_break
    if (
        prev is not None
        and growth is not None
        and comparable
        and growth >= t.breakout_min_growth
        and (row.score >= t.breakout_min_score)
    ):
        add(
            _Event(
                **base,
                kind="breakout",
                is_news=True,
                headline=f"{nm(tool)} broke out in {label} ({month:%Y-%m}): {_pct(growth)} month over month "
                f"relative to the category, score {prev.score:.1f} → {row.score:.1f}",
                details={
                    "growth_mom": round(growth, 4),
                    "signals": row.signals,
                    "score": round(row.score, 2),
                    "previous_score": round(prev.score, 2),
                    "min_growth": t.breakout_min_growth,
                    "min_score": t.breakout_min_score,
                },
                signal="growth_mom",
                value=growth,
            )
        )
    # All-time high of the watched signals (downloads_share: comparable across counting methods).
    method_break = bool(own and "method" in own)
    for signal in t.ath_signals:
        value = row.share if signal == "downloads_share" else None
        earlier = [(r.month, r.share) for r in history if r.share is not None] if signal == "downloads_share" else []
        if value is None or len(earlier) < t.ath_min_history or method_break:
            continue
        high_month, high = max(earlier, key=lambda p: p[1])
        if value >= t.ath_min_value and value >= high * (1 + t.ath_min_gain):
            add(
                _Event(
                    **base,
                    kind="all_time_high",
                    is_news=True,
                    headline=f"{nm(tool)} reached an all-time high share of {label} PyPI downloads ({month:%Y-%m}): "
                    f"{value * 100:.1f}% (previous high {high * 100:.1f}% in {high_month:%Y-%m})",
                    details={
                        "signal": signal,
                        "value": round(value, 4),
                        "previous_high": round(high, 4),
                        "previous_high_month": f"{high_month:%Y-%m}",
                        "months_of_history": len(earlier),
                        "min_gain": t.ath_min_gain,
                    },
                    signal=signal,
                    value=value,
                    previous_value=high,
                )
            )
    # Sustained decline: the streak of consecutive comparable months with negative growth, ending at this month.
    streak: list[_Row] = []
    chain = [*history, row]
    for i in range(len(chain) - 1, -1, -1):
        r = chain[i]
        ok = r.growth is not None and r.growth < 0 and not r.spans_break
        ok = ok and i > 0 and chain[i - 1].month == _prev_month(r.month)
        if not ok:
            break
        streak.append(r)
    if len(streak) == t.decline_months:
        total = 1.0
        for r in streak:
            total *= 1 + (r.growth or 0.0)
        total -= 1
        if total <= t.decline_min_total:
            first = streak[-1].month
            add(
                _Event(
                    **base,
                    kind="sustained_decline",
                    is_news=True,
                    headline=f"{nm(tool)} declined {t.decline_months} months in a row relative to {label} "
                    f"({first:%Y-%m} → {month:%Y-%m}): {_pct(total)} in all, score now {row.score:.1f}",
                    details={
                        "months": t.decline_months,
                        "total_change": round(total, 4),
                        "growth_mom": {f"{r.month:%Y-%m}": round(r.growth or 0.0, 4) for r in reversed(streak)},
                        "min_total": t.decline_min_total,
                    },
                    signal="growth_mom",
                    value=total,
                )
            )


def _first_mentions(add: Any, t: Thresholds, monthly_rows: Iterable[Mapping[str, Any]], nm: Any) -> None:
    """The first month a tool is mentioned on the ingested Reddit (months without coverage are null, not 0).

    News only when an earlier month with comparable coverage (at least ``first_mention_min_coverage`` of the texts
    of the mention month) did not mention the tool. Otherwise the mention says only that coverage started or grew
    (e.g. a subreddit's full feed after months of salary threads): an artefact, ``is_news`` false.
    """
    rows = sorted(monthly_rows, key=lambda r: (r["tool_id"], r["month"]))
    first: dict[str, Mapping[str, Any]] = {}
    quiet_texts: dict[str, list[int]] = defaultdict(list)  # texts of each covered month without a mention
    for r in rows:
        tool = r["tool_id"]
        if tool in first:
            continue
        if (r.get("mentions") or 0) > 0:
            first[tool] = r
        elif (r.get("reddit_texts") or 0) > 0:
            quiet_texts[tool].append(int(r["reddit_texts"]))
    for tool, r in first.items():
        month = r["month"]
        floor = t.first_mention_min_coverage * int(r.get("reddit_texts") or 0)
        quiet = sum(1 for n in quiet_texts[tool] if n >= floor)
        texts = f"{int(r['mentions'])} mention(s) in {int(r.get('reddit_texts') or 0):,} texts"
        news = quiet > 0
        headline = (
            f"{nm(tool)} was mentioned on the tracked subreddits for the first time ({month:%Y-%m}): {texts}, "
            f"after {quiet} month(s) of comparable coverage without a mention"
            if news
            else f"{nm(tool)} first mentioned as the tracked subreddits' coverage started or grew ({month:%Y-%m}): "
            f"{texts} (not news)"
        )
        add(
            _Event(
                month=month,
                tool_id=tool,
                kind="first_mention",
                category=r.get("primary_category") or "",
                is_news=news,
                headline=headline,
                details={"mentions": int(r["mentions"]), "reddit_texts": r.get("reddit_texts"), "quiet_months": quiet},
                is_sample=bool(r.get("is_sample")),
                signal="mentions",
                value=float(r["mentions"]),
            )
        )


# ---------------------------------------------------------------------------------------------------- the gold step
def read_inputs() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """The v2 ``popularity_index`` rows, ``tool_monthly_metrics`` rows and tool names, read with pyiceberg."""
    ensure_tables([Table.POPULARITY_INDEX, Table.TOOL_MONTHLY_METRICS])
    index = (
        load_table(Table.POPULARITY_INDEX)
        .scan(row_filter=EqualTo("method_version", "v2"), selected_fields=INDEX_COLUMNS)
        .to_arrow()
        .to_pylist()
    )
    monthly = load_table(Table.TOOL_MONTHLY_METRICS).scan(selected_fields=MONTHLY_COLUMNS).to_arrow().to_pylist()
    names = {tool.id: tool.name for tool in load_catalog().tools}
    return index, monthly, names


def build_events(t: Thresholds = THRESHOLDS, *, request: RunRequest | None = None) -> dict[str, Any]:
    """Recompute ``tool_events`` over the whole monthly history and replace the months it covers (one commit).

    Idempotent: the same gold tables give the same rows (only ``computed_at`` moves) and the same event ids. A
    month that no longer has an event loses its old rows (the replace covers every month of the input).
    ``request``: the run (its DAG and run id tag the commit; ``None``: a standalone run).

    Returns:
        ``{"events": n, "news": n, "months": [first, last], "by_kind": {...}, "seconds": s}`` for XCom.
    """
    started = time.perf_counter()
    index, monthly, names = read_inputs()
    rows = compute_events(index, monthly, names, t)
    months = [r["month"] for r in index] + [r["month"] for r in monthly]
    by_kind: dict[str, int] = defaultdict(int)
    for r in rows:
        by_kind[r["kind"]] += 1
    summary: dict[str, Any] = {
        "events": len(rows),
        "news": sum(1 for r in rows if r["is_news"]),
        "by_kind": dict(sorted(by_kind.items())),
        "months": [f"{min(months):%Y-%m}", f"{max(months):%Y-%m}"] if months else [],
    }
    if not months:
        log.info("tool_events: no monthly gold data yet; nothing to compute")
        return summary | {"seconds": round(time.perf_counter() - started, 3)}
    ensure_tables([Table.TOOL_EVENTS])
    table = load_table(Table.TOOL_EVENTS)
    now = datetime.now(UTC)
    target = table.schema().as_arrow()
    data = pa.Table.from_pylist([{**r, "computed_at": now} for r in rows], schema=target)
    row_filter = And(
        GreaterThanOrEqual("month", min(months).isoformat()), LessThanOrEqual("month", max(months).isoformat())
    )
    replace_partition(table, data, row_filter, (request or RunRequest.for_cli()).commit("gold"))
    summary["seconds"] = round(time.perf_counter() - started, 3)
    log.info(
        "tool_events: %d events (%d news) over %s..%s in %.2fs: %s",
        summary["events"],
        summary["news"],
        *summary["months"],
        summary["seconds"],
        summary["by_kind"],
    )
    return summary
