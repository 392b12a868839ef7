"""Render the dashboard as a static site: HTML pages with their data embedded as JSON, plus two small scripts.

The site works from ``file://`` and offline: no CDN, no fetch; every chart's data is in its page and the chart code
(``static/madchart.js``, hand-written SVG) ships in ``assets/``. It reads gold v2 (``tool_monthly_metrics`` and
``popularity_index`` v2) and shows every tool and category month by month over the whole history (2018 → now):

* ``index.html`` — the answers to the MAD questions (the analyst questions of ``madlake/sql/questions``, run through
  :mod:`madlake.metrics.ask`: the same SQL as ``madlake ask``), each with the month it is as of and what it is based
  on; recent breakouts, categories, all tools;
* ``category/<id>.html`` — rank, score and share of the category's downloads by month, the newest month with the
  signals, coverage and source behind each score, movers, most loved/criticised;
* ``tool/<id>.html`` — every signal by month with its source, sentiment with example mentions and their links;
* ``compare.html`` — 2-5 tools picked in the page, log-scale toggle, align by first release;
* ``freshness.html`` — last successful load per table and source, and the period its data covers;
* ``site.json`` — a manifest (data month, sample flag, answers, pages) for the CLI, the demo and the tests.

Missing is not zero: a month without data is ``null`` in the chart data and drawn as a gap, a month below a PyPI list's
cut-off is a gap labelled "< N"; PyPI's counting-method changes are marked on the charts that use downloads. The
"sample data" banner shows only when some row the site shows has ``is_sample`` true.

Failure semantics: :func:`build_site` raises :class:`NoGoldDataError` when ``tool_monthly_metrics`` is missing or
empty (there is nothing to show; publishing an empty site would hide the previous one), and lets query errors of the
dashboard's own queries propagate (they name the query); an analyst question that fails is logged and its card says
so. It writes only into ``out_dir``; publishing is :mod:`madlake.dashboard.publish`.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from madlake.catalog import load_catalog
from madlake.dashboard.engine import DashboardEngine
from madlake.dashboard.links import external_link, reddit_link
from madlake.dashboard.queries import QueryRunner
from madlake.metrics.ask import DEMO_QUESTIONS, list_queries, short_answer
from madlake.watchlists.pages import event_marks, render_watch_pages

if TYPE_CHECKING:
    from madlake.sql.engine import SqlEngine

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
TEMPLATE_DIR = Path(__file__).with_name("templates")
STALE_HOURS = 48
SIGNALS = ("downloads", "stars", "mentions")
#: How PyPI counted, by ``downloads_method`` (docs/pypi.md); the labels of the break marks on the charts.
METHOD_LABELS = {
    "pip-30d": "pip only, 30-day window",
    "all-30d": "all installers, 30-day window",
    "all-shrinking": "all installers, shrinking windows",
    "calendar-month": "all installers, calendar month",
    "daily": "daily counts (pypi_downloads)",
}
#: The signals of the compare page (``compare_series`` columns) and their labels; compare.js accepts only these.
COMPARE_SIGNALS = {
    "score": "Popularity index score",
    "downloads_per_day": "PyPI downloads per day (monthly)",
    "downloads_share": "Share of the category's downloads (same snapshot)",
    "stars": "GitHub stars (month end)",
    "mentions": "Reddit mentions in the month",
}
_ACRONYMS = {"olap": "OLAP", "oltp": "OLTP", "nosql": "NoSQL", "ml": "ML", "mlops": "MLOps", "llm": "LLM", "bi": "BI"}
#: What ``site.json`` keeps of each answer card (the demo prints them).
ANSWER_FIELDS = ("key", "question", "answer", "summary", "detail", "as_of", "basis")


class NoGoldDataError(RuntimeError):
    """The gold tables hold no monthly metrics yet: run the gold pipeline first."""


@dataclass
class SiteSummary:
    out_dir: Path
    data_date: date
    is_sample: bool
    pages: list[str] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    query_ms: dict[str, float] = field(default_factory=dict)


def category_label(category: str) -> str:
    words = [_ACRONYMS.get(w, w) for w in category.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date | datetime) else v


def months_between(first: date, last: date) -> list[date]:
    """Every first-of-month from ``first``'s month to ``last``'s month."""
    out, cur = [], date(first.year, first.month, 1)
    while cur <= last:
        out.append(cur)
        cur = date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
    return out


def count_text(v: float | None) -> str:
    if v is None:
        return "–"
    if abs(v) >= 1e9:
        return f"{v / 1e9:.1f}B"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.1f}M"
    if abs(v) >= 1e4:
        return f"{v / 1e3:.0f}k"
    return f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:.2f}"


def below_text(list_min: int | None) -> str:
    """How a month below a PyPI list's cut-off reads: ``< N`` (never 0)."""
    return f"< {list_min:,}" if list_min is not None else "below the list"


def monthly_series(
    rows: list[dict[str, Any]], months: list[date], column: str, name: str, note: Any = None
) -> dict[str, Any]:
    """One chart series over the whole month axis: ``null`` where a month has no row or no value (a gap, never 0).

    ``note(row)`` may return a text for a null point (``"< 4,000"`` below a list's cut-off), shown on hover.
    """
    by_month = {r["month"]: r for r in rows}
    points: list[list[Any]] = []
    for m in months:
        row = by_month.get(m)
        value = row.get(column) if row else None
        point: list[Any] = [m.isoformat(), value]
        if value is None and row is not None and note is not None and (text := note(row)):
            point.append(text)
        points.append(point)
    return {"name": name, "points": points}


def method_breaks(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Chart marks where PyPI's counting method changes (the method most tools were counted with, month by month)."""
    dominant: dict[date, str] = {}
    for r in rows:  # ordered by month, then tools desc: the first row of a month is its dominant method
        dominant.setdefault(r["month"], r["downloads_method"])
    marks, previous = [], None
    for month in sorted(dominant):
        method = dominant[month]
        if previous is not None and method != previous:
            marks.append({"x": month.isoformat(), "label": "PyPI: " + METHOD_LABELS.get(method, method)})
        previous = method
    return marks


def _ranges(rows: list[dict[str, Any]], column: str) -> list[str]:
    """``source (first → last month, N months)`` for each value of ``column``, in order of first appearance."""
    spans: dict[str, list[date]] = {}
    for r in rows:
        if r.get(column):
            spans.setdefault(r[column], []).append(r["month"])
    return [f"{k} ({min(v):%Y-%m} → {max(v):%Y-%m}, {len(v)} months)" for k, v in spans.items()]


def basis_text(row: dict[str, Any]) -> str:
    """What an index row is based on: signals with their sources, coverage, one signal only, below the cut-off."""
    parts = []
    for s in SIGNALS:
        source = row.get(f"{s}_source")
        if not source:
            continue
        extra = ""
        if s == "downloads" and row.get("downloads_method"):
            extra = ", " + row["downloads_method"]
        parts.append(f"{s} ({source}{extra})")
    text = "based on " + (", ".join(parts) or (row.get("signals") or "no signal"))
    if row.get("coverage") is not None:
        text += f"; coverage {row['coverage'] * 100:.0f} %"
    if row.get("n_signals") == 1:
        text += "; judged on one signal only"
    if row.get("downloads_below_list"):
        text += "; downloads below the PyPI list's cut-off (not counted as 0)"
    return text


class SiteBuilder:
    """Runs the queries and renders every page into ``out_dir``."""

    def __init__(self, engine: SqlEngine, available: Sequence[str], out_dir: Path) -> None:
        self.q = QueryRunner(engine, available)
        self.out = out_dir
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["count"] = count_text
        self.env.filters["below"] = below_text
        self.built_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.pages: list[str] = []
        self.months: list[date] = []
        self.breaks: list[dict[str, str]] = []

    # ---------------------------------------------------------------------------------------------------------- data
    def status(self) -> dict[str, Any]:
        rows = self.q.run("data_status")
        if not rows or rows[0]["data_month"] is None:
            raise NoGoldDataError(
                "tool_monthly_metrics has no rows: run the gold pipeline (gold_metrics) before dashboard_publish"
            )
        status = dict(rows[0])
        reasons = []
        if status["sample_rows"]:
            reasons.append(f"{status['sample_rows']:,} monthly metric rows are flagged is_sample")
        if status["sample_index_rows"]:
            reasons.append(f"{status['sample_index_rows']:,} popularity index rows are flagged is_sample")
        status["is_sample"] = bool(reasons)
        status["sample_reason"] = "; ".join(reasons)
        status["data_date"] = status["data_month"]
        status["period"] = f"{status['first_month']:%B %Y} → {status['data_month']:%B %Y}"
        return status

    def render(self, template: str, path: str, **context: Any) -> None:
        depth = path.count("/")
        html = self.env.get_template(template).render(root="../" * depth, built_at=self.built_at, **context)
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        self.pages.append(path)

    def chart(self, series: list[dict[str, Any]], fmt: str = "num", *, marks: bool = False, **kw: Any) -> dict:
        spec: dict[str, Any] = {"x": "date", "format": fmt, "series": series, **kw}
        if marks and self.breaks:
            spec["marks"] = self.breaks
        return spec

    # --------------------------------------------------------------------------------------------------------- build
    def build(self) -> SiteSummary:
        status = self.status()
        self.months = months_between(status["first_month"], status["data_month"])
        self.breaks = method_breaks(self.q.run("method_breaks"))
        tools = self.q.run("tools")
        names = {t["tool_id"]: t["name"] for t in tools}
        descriptions = dict(load_catalog().categories)
        series = self.q.run("compare_series")
        latest_index: dict[str, dict[str, Any]] = {}
        for row in series:
            latest_index[row["tool_id"]] = row  # ordered by month: the last one wins
        ctx = {"status": status}

        categories = sorted({c for t in tools for c in (t["categories"] or [])})
        category_cards = []
        leaders_of: dict[str, list[str]] = {}
        for category in categories:
            members = [t for t in tools if category in (t["categories"] or [])]
            leaders = self.category_page(category, descriptions.get(category, ""), members, names, ctx)
            leaders_of[category] = leaders
            category_cards.append(
                {
                    "id": category,
                    "label": category_label(category),
                    "description": descriptions.get(category, ""),
                    "leaders": [{"name": names.get(t, t)} for t in leaders[:3]],
                }
            )
        log.info("Rendered %d category pages", len(categories))
        for i, tool in enumerate(tools, 1):
            self.tool_page(tool, leaders_of.get(tool["primary_category"], []), ctx)
            if i % 25 == 0 or i == len(tools):
                log.info("Rendered %d/%d tool pages", i, len(tools))
        answers = self.answers(names)
        breakouts = self.q.run("recent_breakouts", (28,))
        tool_rows = []
        for t in tools:
            last = latest_index.get(t["tool_id"], {})
            tool_rows.append(
                {
                    **t,
                    "score": last.get("score"),
                    "rank": last.get("rank_in_category"),
                    "growth_yoy": last.get("growth_yoy"),
                    "coverage": last.get("coverage"),
                    "n_signals": last.get("n_signals"),
                    "month": last.get("month"),
                }
            )
        tool_rows.sort(key=lambda r: (-(r["score"] if r["score"] is not None else -1e9), r["name"]))
        self.render(
            "index.html",
            "index.html",
            title="Overview",
            page_kind="overview",
            answers=answers,
            breakouts=breakouts,
            categories=category_cards,
            tools=tool_rows,
            **ctx,
        )
        self.compare_page(tools, series, ctx)
        self.freshness_page(ctx)
        render_watch_pages(self, ctx)  # "what changed" + the watchlists' Atom feeds
        self.copy_assets()
        summary = SiteSummary(
            out_dir=self.out,
            data_date=status["data_month"],
            is_sample=bool(status["is_sample"]),
            pages=list(self.pages),
            answers=[{k: a[k] for k in ANSWER_FIELDS} for a in answers],
            query_ms={k: round(_p95(v) * 1000, 1) for k, v in self.q.timings.items()},
        )
        manifest = {
            "data_date": summary.data_date.isoformat(),
            "first_month": status["first_month"].isoformat(),
            "is_sample": summary.is_sample,
            "sample_reason": status["sample_reason"],
            "method_breaks": self.breaks,
            "built_at": self.built_at,
            "answers": summary.answers,
            "pages": summary.pages,
            "query_p95_ms": summary.query_ms,
            # the Iceberg snapshot each table was read at: rebuild this exact site with LocalEngine(snapshot_ids=...)
            "snapshots": getattr(self.q.engine, "snapshots", {}),
        }
        (self.out / "site.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        log.info(
            "Built dashboard for %s..%s: %d pages (%d categories, %d tools, %d months), sample=%s",
            status["first_month"],
            status["data_month"],
            len(self.pages),
            len(categories),
            len(tools),
            len(self.months),
            summary.is_sample,
        )
        return summary

    # ------------------------------------------------------------------------------------------------------- answers
    def answers(self, names: dict[str, str]) -> list[dict[str, Any]]:
        """One card per analyst question of ``madlake/sql/questions`` (same SQL as ``madlake ask``)."""
        ids = {v: k for k, v in names.items()}
        out = []
        for query in list_queries():
            category = query.category
            card: dict[str, Any] = {
                "key": query.name,
                "question": query.question,
                "method": query.method,
                "category": category,
                "category_label": category_label(category) if category else None,
                "rows": [],
                "answer": "no data yet",
                "answer_tool": None,
                "detail": "",
                "as_of": None,
                "basis": [],
                "chart": None,
                "table": None,
                "summary": None,
            }
            try:
                rows = self.q.ask(query.name)
            except Exception as exc:  # one question failing must not hide the others; the card says so
                log.warning("Analyst question %s could not be answered: %s", query.name, str(exc)[:300])
                card["answer"] = "could not be answered"
                card["detail"] = str(exc)[:300]
                out.append(card)
                continue
            card["rows"] = rows
            if rows:
                self._fill_answer(card, rows, ids)
                card["summary"] = self._summary(query.name, rows)
            out.append(card)
        return out

    @staticmethod
    def _summary(name: str, rows: list[dict[str, Any]]) -> str | None:
        """The question's one-sentence answer from :mod:`madlake.metrics.ask`, for the questions that have one."""
        return short_answer(name, rows) if name in DEMO_QUESTIONS else None

    def _fill_answer(self, card: dict[str, Any], rows: list[dict[str, Any]], ids: dict[str, str]) -> None:
        first = rows[0]
        named = [r for r in rows if r.get("tool_name")]
        if "period" in first:
            card["answer"] = " · ".join(f"{r['period']}: {r.get('tool_name') or 'no tool with a signal'}" for r in rows)
            card["answer_tool"] = None
        elif "verdict" in first:
            best: dict[str, Any] = {}
            for r in rows:
                best.setdefault(r["verdict"], r.get("tool_name"))
            card["answer"] = " · ".join(f"{k}: {v}" for k, v in best.items())
        elif named:
            card["answer"] = named[0]["tool_name"]
            card["answer_tool"] = ids.get(named[0]["tool_name"])
        as_of = [r[c] for r in rows for c in ("month", "as_of_date", "metric_date") if isinstance(r.get(c), date)]
        months = sorted({date(d.year, d.month, 1) for d in as_of})
        card["as_of"] = f"{max(as_of):%B %Y}" if as_of else None
        # what the answer is based on: the index rows of the tools it names, in the months it names
        category = card["category"]
        if category and self.q.can_run("index_basis"):
            order = {name: i for i, name in enumerate(dict.fromkeys(r["tool_name"] for r in named))}
            found: list[tuple[int, date, str]] = []
            for month in months or [self.months[-1]]:
                for b in self.q.run("index_basis", (category, month)):
                    if b["name"] in order:
                        found.append((order[b["name"]], month, f"{b['name']} ({month:%b %Y}): {basis_text(b)}"))
            card["basis"] = [text for _, _, text in sorted(found, key=lambda f: (f[0], -f[1].toordinal()))]
        if card["basis"]:
            card["detail"] = "; ".join(card["basis"][:3])
        shown = list(dict.fromkeys(ids[r["tool_name"]] for r in named if r["tool_name"] in ids))[:3]
        if category and shown:
            history = self.q.run("category_history", (category,))
            label = {v: k for k, v in ids.items()}
            card["chart"] = self.chart(
                [
                    monthly_series([h for h in history if h["tool_id"] == t], self.months, "score", label[t])
                    for t in shown
                ],
                "float",
                marks=True,
                height=170,
                zero=False,
            )
        columns = [c for c in first if c not in ("is_sample",)]
        card["table"] = {
            "head": columns,
            "rows": [[_cell(r.get(c)) for c in columns] for r in rows[:10]],
            "num": [i for i, c in enumerate(columns) if isinstance(first.get(c), int | float) and c != "rank"],
        }

    # --------------------------------------------------------------------------------------------------------- pages
    def category_page(
        self,
        category: str,
        description: str,
        members: list[dict[str, Any]],
        names: dict[str, str],
        ctx: dict[str, Any],
    ) -> list[str]:
        """Render ``category/<id>.html``; return the category's tools by rank in the newest index month."""
        latest = self.q.run("category_latest", (category,))
        leaders = [r["tool_id"] for r in latest]
        shown = leaders[:8] or [m["tool_id"] for m in members[:8]]
        history = self.q.run("category_history", (category,))

        def per_tool(column: str) -> list[dict[str, Any]]:
            return [
                monthly_series([r for r in history if r["tool_id"] == t], self.months, column, names.get(t, t))
                for t in shown
            ]

        rank_chart = self.chart(per_tool("rank_in_category"), "int", invert=True, zero=False)
        score_chart = self.chart(per_tool("score"), "float", marks=True, zero=False)
        share_chart = self.chart(per_tool("downloads_share"), "pct", marks=True)
        for r in latest:
            r["basis"] = basis_text(r)
        movers = [
            {**m, "name": names.get(m["tool_id"], m["tool_id"])} for m in self.q.run("category_movers", (category,))
        ]
        sentiment = self.sentiment(category)
        self.render(
            "category.html",
            f"category/{category}.html",
            title=category_label(category),
            page_kind="category",
            category={"id": category, "label": category_label(category), "description": description, "tools": members},
            rank_chart=rank_chart,
            score_chart=score_chart,
            share_chart=share_chart,
            latest=latest,
            latest_month=latest[0]["month"] if latest else None,
            movers=movers,
            sentiment=sentiment,
            compare_ids=shown[:3],
            **ctx,
        )
        return leaders

    def sentiment(self, category: str) -> dict[str, Any] | None:
        """The analyst question on Reddit sentiment for ``category``, when there is one taking a category."""
        for query in list_queries():
            if "category" in query.params and "loved" in query.name:
                try:
                    rows = self.q.ask(query.name, {"category": category})
                except Exception as exc:
                    log.warning("Analyst question %s failed for %s: %s", query.name, category, str(exc)[:300])
                    return None
                columns = [c for c in (rows[0] if rows else {}) if c != "is_sample"]
                return {
                    "question": query.question,
                    "head": columns,
                    "rows": [[_cell(r.get(c)) for c in columns] for r in rows],
                }
        return None

    def tool_page(self, tool: dict[str, Any], category_leaders: list[str], ctx: dict[str, Any]) -> None:
        tool_id = tool["tool_id"]
        rows = self.q.run("tool_monthly", (tool_id,))
        index = [r for r in self.q.run("tool_index", (tool_id,)) if r["category"] == tool["primary_category"]]
        months = self.months

        def below(r: dict[str, Any]) -> str | None:
            return below_text(r.get("downloads_list_min")) if r.get("downloads_below_list") else None

        below_months = [r for r in rows if r.get("downloads_below_list")]
        covered = [r for r in rows if r.get("mentions") is not None]
        one_signal = sum(1 for r in index if r["n_signals"] == 1)
        charts = [
            {
                "id": "c-downloads",
                "title": "PyPI downloads per day, by month",
                "spec": self.chart(
                    [monthly_series(rows, months, "downloads_per_day", "downloads per day", below)],
                    marks=True,
                    toggleLog=True,
                ),
                "basis": ["; ".join(_ranges(rows, "downloads_source")) or "no PyPI data"]
                + (
                    [
                        f"{len(below_months)} months below the PyPI list's cut-off, drawn as gaps: "
                        + ", ".join(
                            f"{r['month']:%Y-%m} {below_text(r['downloads_list_min'])}" for r in below_months[:4]
                        )
                        + (" …" if len(below_months) > 4 else "")
                    ]
                    if below_months
                    else []
                ),
            },
            {
                "id": "c-stars",
                "title": "GitHub stars at the end of each month",
                "spec": self.chart([monthly_series(rows, months, "stars", "stars")], toggleLog=True),
                "basis": ["; ".join(_ranges(rows, "stars_source")) or "no GitHub data"],
            },
            {
                "id": "c-new-stars",
                "title": "New GitHub stars per month",
                "spec": self.chart([monthly_series(rows, months, "new_stars", "new stars")]),
                "basis": ["; ".join(_ranges(rows, "stars_source")) or "no GitHub data"],
            },
            {
                "id": "c-repo",
                "title": "Forks, open issues and contributors",
                "spec": self.chart(
                    [
                        monthly_series(rows, months, "forks", "forks"),
                        monthly_series(rows, months, "open_issues", "open issues"),
                        monthly_series(rows, months, "contributors", "contributors"),
                    ],
                    toggleLog=True,
                ),
                "basis": ["; ".join(_ranges(rows, "stars_source")) or "no GitHub data"],
            },
            {
                "id": "c-mentions",
                "title": "Reddit mentions per month",
                "spec": self.chart([monthly_series(rows, months, "mentions", "mentions")], "int"),
                "basis": [
                    "; ".join(_ranges(rows, "mentions_source")) or "no Reddit coverage",
                    f"Reddit covers {len(covered)} of {len(months)} months: the others are gaps, not 0",
                ],
            },
            {
                "id": "c-sentiment",
                "title": "Mean sentiment of the month's mentions ([-1, 1])",
                "spec": self.chart([monthly_series(rows, months, "sentiment", "mean sentiment")], "float", zero=False),
                "basis": ["; ".join(_ranges(rows, "mentions_source")) or "no Reddit coverage"],
            },
            {
                "id": "c-index",
                "title": f"Popularity index in {category_label(tool['primary_category'])}: score and signal indexes",
                "spec": self.chart(
                    [
                        monthly_series(index, months, "score", "score"),
                        *[monthly_series(index, months, f"{s}_index", s) for s in SIGNALS],
                    ],
                    "float",
                    marks=True,
                    zero=False,
                ),
                "basis": [basis_text(index[-1]) + f" (in {index[-1]['month']:%B %Y})" if index else "no index yet"]
                + ([f"judged on one signal only in {one_signal} of {len(index)} months"] if one_signal else []),
            },
        ]
        events = self.q.run("tool_events", (tool_id,))
        charts.append(
            {
                "id": "c-events",
                "title": "Events (tool_events): the popularity score, this tool's news marked",
                "spec": self.chart([monthly_series(index, months, "score", "score")], "float", zero=False)
                | {"marks": event_marks(events, tool["primary_category"])},
                "basis": ["rank changes, breakouts, highs, declines; method/coverage artefacts are listed, not marked"],
            }
        )
        mentions = []
        seen: set[str] = set()
        per_pick: dict[str, int] = {}
        for m in self.q.run("tool_mentions", (tool_id,)):
            if m["content_id"] in seen or per_pick.get(m["pick"], 0) >= 3:
                continue
            seen.add(m["content_id"])
            per_pick[m["pick"]] = per_pick.get(m["pick"], 0) + 1
            link = reddit_link(
                m.get("content_id"),
                m.get("content_type"),
                m.get("subreddit"),
                m.get("submission_id"),
                m.get("permalink"),
            )
            mentions.append({**m, "link": link})
        last = rows[-1] if rows else None
        last_index = index[-1] if index else None
        compare_ids = [tool_id, *[t for t in category_leaders if t != tool_id][:2]]
        self.render(
            "tool.html",
            f"tool/{tool_id}.html",
            title=tool["name"],
            page_kind="tool",
            tool=tool,
            homepage=external_link(tool.get("homepage")),
            latest=last,
            latest_index=last_index,
            latest_basis=basis_text(last_index) if last_index else None,
            charts=charts,
            mentions=mentions,
            breakouts=self.q.run("tool_breakouts", (tool_id,)),
            events=events,
            compare_ids=compare_ids,
            **ctx,
        )

    def compare_page(self, tools: list[dict[str, Any]], series: list[dict[str, Any]], ctx: dict[str, Any]) -> None:
        by_tool: dict[str, list[dict[str, Any]]] = {}
        for r in series:
            by_tool.setdefault(r["tool_id"], []).append(r)
        per_tool = {
            tid: {s: [p[1] for p in monthly_series(rows, self.months, s, s)["points"]] for s in COMPARE_SIGNALS}
            for tid, rows in by_tool.items()
        }
        first = {r["tool_id"]: r["first_day"].isoformat() for r in self.q.run("tool_first_release")}
        latest_score = {tid: rows[-1]["score"] for tid, rows in by_tool.items()}
        default = sorted(latest_score, key=lambda t: -(latest_score[t] or 0))[:3]
        data = {
            "months": [m.isoformat() for m in self.months],
            "signals": COMPARE_SIGNALS,
            "signal_order": list(COMPARE_SIGNALS),  # tojson sorts keys: the first one is the default
            "marks": self.breaks,
            "tools": [
                {"id": t["tool_id"], "name": t["name"], "category": t["primary_category"]}
                for t in tools
                if t["tool_id"] in per_tool
            ],
            "series": per_tool,
            "first_release": first,
            "default_tools": default,
        }
        self.render(
            "compare.html",
            "compare.html",
            title="Compare",
            page_kind="compare",
            compare_data=data,
            signals=COMPARE_SIGNALS,
            **ctx,
        )

    def freshness_page(self, ctx: dict[str, Any]) -> None:
        rows = self.q.run("freshness")
        checked = max((r["checked_at"] for r in rows), default=None)
        self.render(
            "freshness.html",
            "freshness.html",
            title="Freshness",
            page_kind="freshness",
            rows=rows,
            checked_at=checked.strftime("%Y-%m-%d %H:%M UTC") if checked else None,
            stale_hours=STALE_HOURS,
            **ctx,
        )

    def copy_assets(self) -> None:
        assets = self.out / "assets"
        assets.mkdir(parents=True, exist_ok=True)
        for f in STATIC_DIR.iterdir():
            if f.suffix in (".js", ".css"):
                shutil.copyfile(f, assets / f.name)


def _cell(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 1e4 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 1e4 else str(v)
    if isinstance(v, date | datetime):
        return v.isoformat()[:10]
    return str(v)


def build_site(out_dir: Path, engine: SqlEngine | None = None) -> SiteSummary:
    """Build the whole site into ``out_dir`` (created; existing files are overwritten, others left alone).

    Without ``engine``, the tables are copied once into a :class:`~madlake.dashboard.engine.DashboardEngine` (on
    either profile), so every page reads the same snapshots.
    """
    if engine is None:
        engine = DashboardEngine()
    available = engine.available_tables() if hasattr(engine, "available_tables") else []
    out_dir.mkdir(parents=True, exist_ok=True)
    return SiteBuilder(engine, available, out_dir).build()
