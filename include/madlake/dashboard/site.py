"""Render the dashboard as a static site: HTML pages with their data embedded as JSON, plus two small scripts.

The site works from ``file://`` and offline: no CDN, no fetch; every chart's data is in its page and the chart code
(``static/madchart.js``, hand-written SVG) ships in ``assets/``. Pages:

* ``index.html`` — the answers to the MAD questions with the data date, recent breakouts, categories, all tools;
* ``category/<id>.html`` — rank over time, share of category, the latest shares, movers, most loved/criticised;
* ``tool/<id>.html`` — every signal over time, sentiment with example summaries and Reddit links, packages, repos;
* ``compare.html`` — 2-5 tools picked in the page, log-scale toggle, align by first release;
* ``freshness.html`` — last successful load per table and source, and the lags;
* ``site.json`` — a manifest (data date, sample flag, answers, pages) for the CLI, the demo and the tests.

The "sample data" banner is driven by the data: it shows when a gold row of the data date has ``is_sample`` or the
PyPI downloads include ``replay-sample`` rows.

Failure semantics: :func:`build_site` raises :class:`NoGoldDataError` when ``tool_daily_metrics`` is missing or
empty (there is nothing to show; publishing an empty site would hide the previous one), and lets query errors
propagate (they name the query). It writes only into ``out_dir``; publishing is :mod:`madlake.dashboard.publish`.
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

from madlake.dashboard.queries import QueryRunner

if TYPE_CHECKING:
    from madlake.sql.engine import SqlEngine

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
TEMPLATE_DIR = Path(__file__).with_name("templates")
STALE_HOURS = 48

#: The signals of ``category_daily_rankings`` shown on category pages.
CATEGORY_SIGNALS = (
    ("downloads_28d", "Downloads 28d"),
    ("mentions_28d", "Mentions 28d"),
    ("stars", "Stars"),
    ("new_stars_28d", "New stars 28d"),
)
_ACRONYMS = {"olap": "OLAP", "oltp": "OLTP", "nosql": "NoSQL", "ml": "ML", "mlops": "MLOps", "llm": "LLM", "bi": "BI"}


class NoGoldDataError(RuntimeError):
    """The gold tables hold no daily metrics yet: run ``gold_metrics`` first."""


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


def _series(rows: list[dict[str, Any]], x: str, y: str, name: str) -> dict[str, Any]:
    return {"name": name, "points": [[_iso(r[x]), r[y]] for r in rows]}


class SiteBuilder:
    """Runs the queries and renders every page into ``out_dir``."""

    def __init__(self, engine: SqlEngine, available: Sequence[str], out_dir: Path) -> None:
        import jinja2

        self.q = QueryRunner(engine, available)
        self.out = out_dir
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.built_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.pages: list[str] = []

    # ---------------------------------------------------------------------------------------------------------- data
    def status(self) -> dict[str, Any]:
        rows = self.q.run("data_status")
        if not rows or rows[0]["data_date"] is None:
            raise NoGoldDataError("tool_daily_metrics has no rows: run the gold_metrics DAG before dashboard_publish")
        status = dict(rows[0])
        reasons = []
        if status["is_sample"]:
            reasons.append("gold rows of the data date are flagged is_sample")
        sample_pypi = self.q.run("sample_inputs")
        if sample_pypi and sample_pypi[0]["sample_rows"]:
            status["is_sample"] = True
            reasons.append(f"{sample_pypi[0]['sample_rows']:,} PyPI download rows are replay-sample data")
        status["sample_reason"] = "; ".join(reasons)
        return status

    def render(self, template: str, path: str, **context: Any) -> None:
        depth = path.count("/")
        html = self.env.get_template(template).render(root="../" * depth, built_at=self.built_at, **context)
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        self.pages.append(path)

    # --------------------------------------------------------------------------------------------------------- build
    def build(self) -> SiteSummary:
        from madlake.catalog import load_catalog

        status = self.status()
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
        answers = self.answers()
        breakouts = self.q.run("recent_breakouts", (28,))
        tool_rows = [
            {
                **t,
                "score": latest_index.get(t["tool_id"], {}).get("score"),
                "rank": latest_index.get(t["tool_id"], {}).get("rank_in_category"),
                "growth_yoy": latest_index.get(t["tool_id"], {}).get("growth_yoy"),
            }
            for t in tools
        ]
        tool_rows.sort(key=lambda r: -(r["score"] or -1))
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
        self.copy_assets()
        summary = SiteSummary(
            out_dir=self.out,
            data_date=status["data_date"],
            is_sample=bool(status["is_sample"]),
            pages=list(self.pages),
            answers=[{k: a[k] for k in ("key", "question", "answer", "detail")} for a in answers],
            query_ms={k: round(_p95(v) * 1000, 1) for k, v in self.q.timings.items()},
        )
        manifest = {
            "data_date": summary.data_date.isoformat(),
            "is_sample": summary.is_sample,
            "sample_reason": status["sample_reason"],
            "built_at": self.built_at,
            "answers": summary.answers,
            "pages": summary.pages,
            "query_p95_ms": summary.query_ms,
            # the Iceberg snapshot each table was read at: rebuild this exact site with LocalEngine(snapshot_ids=...)
            "snapshots": getattr(self.q.engine, "snapshots", {}),
        }
        (self.out / "site.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        log.info(
            "Built dashboard for %s: %d pages (%d categories, %d tools), sample=%s",
            summary.data_date,
            len(self.pages),
            len(categories),
            len(tools),
            summary.is_sample,
        )
        return summary

    # --------------------------------------------------------------------------------------------------------- pages
    def answers(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []

        def add(key: str, question: str, category: str, rows: list[dict[str, Any]], detail: str, **extra: Any) -> None:
            answer = extra.get("answer") or (rows[0]["name"] if rows else "no data yet")
            answer_tool = rows[0]["tool_id"] if rows and not extra.get("answer") else None
            if rows and answer_tool and "score" in rows[0] and not rows[0]["score"]:
                # the leader scores 0: every tool of the category had no signal that month; naming one would mislead
                answer, answer_tool = "no signal this month", None
            chart = None
            if rows and extra.get("chart", True):
                history = self.q.run("category_rank_history", (category,))
                chart = {
                    "x": "date",
                    "format": "float",
                    "height": 170,
                    "series": [
                        _series([h for h in history if h["tool_id"] == r["tool_id"]], "month", "score", r["name"])
                        for r in rows[:3]
                    ],
                }
            out.append(
                {
                    "key": key,
                    "question": question,
                    "category": category,
                    "category_label": category_label(category),
                    "rows": rows,
                    "answer": answer,
                    "answer_tool": answer_tool,
                    "detail": detail if rows else "",
                    "chart": chart,
                    "table": extra.get("table"),
                }
            )

        def pct(v: float | None) -> str:
            if v is None:
                return "n/a"
            return f"{v * 100:+.1f}%" if abs(v) < 0.1 else f"{v * 100:+.0f}%"

        rows = self.q.run("answer_top_open_source", ("olap_database",))
        add(
            "olap_open_source",
            "Most popular open-source OLAP database",
            "olap_database",
            rows,
            f"Popularity index {rows[0]['score']:.2f} in {rows[0]['month']:%B %Y}; then "
            + ", ".join(r["name"] for r in rows[1:4])
            if rows
            else "",
            table={"head": ["Tool", "Index"], "num": [1], "rows": [[r["name"], f"{r['score']:.2f}"] for r in rows]},
        )
        rows = self.q.run("answer_fastest_growing", ("nosql_database",))
        add(
            "nosql_fastest",
            "Fastest-growing NoSQL database",
            "nosql_database",
            rows,
            f"{pct(rows[0]['growth'])} ({rows[0]['growth_basis']}); then "
            + ", ".join(f"{r['name']} ({pct(r['growth'])})" for r in rows[1:3])
            if rows
            else "",
            table={
                "head": ["Tool", "Growth", "Basis"],
                "num": [1],
                "rows": [[r["name"], pct(r["growth"]), r["growth_basis"]] for r in rows],
            },
        )
        rows = self.q.run("answer_rising_falling", ("file_format",))
        rising = [r for r in rows if r["trend"] == "rising"]
        falling = [r for r in reversed(rows) if r["trend"] == "falling"]
        add(
            "file_formats",
            "File formats rising and falling",
            "file_format",
            rising or rows,
            "Rising: "
            + (", ".join(f"{r['name']} ({pct(r['cagr_3m'])}/month)" for r in rising[:3]) or "none")
            + ". Falling: "
            + (", ".join(f"{r['name']} ({pct(r['cagr_3m'])}/month)" for r in falling[:3]) or "none")
            + ". Trend = 3-month CAGR of the popularity score beyond ±1 %/month.",
            answer=None
            if rising
            else (
                (
                    "none rising"
                    if falling
                    else "all flat"
                    if any(r["trend"] == "flat" for r in rows)
                    else "not enough history yet"
                )
                if rows
                else None
            ),
            table={
                "head": ["Format", "Trend", "3-mo CAGR"],
                "num": [2],
                "rows": [[r["name"], r["trend"], pct(r["cagr_3m"])] for r in rows],
            },
        )
        rows = self.q.run("answer_top_then_now", ("mlops", 36))
        now = [r for r in rows if r["period"] == "now"]
        then = [r for r in rows if r["period"] == "then"]
        if then and not then[0]["score"]:
            then_text = f"{then[0]['month']:%B %Y}: no tool has a signal."
        elif then and then[0]["then_is_target"]:
            then_text = f"Three years ago ({then[0]['month']:%B %Y}): {then[0]['name']}."
        elif then:
            then_text = (
                f"Three years ago: no data yet; the oldest month on record ({then[0]['month']:%B %Y}): "
                f"{then[0]['name']}."
            )
        else:
            then_text = "Three years ago: no data yet."
        add(
            "mlops_then_now",
            "Top MLOps framework three years ago and today",
            "mlops",
            now,
            (
                f"Today ({now[0]['month']:%B %Y}): {now[0]['name'] if now[0]['score'] else 'no tool has a signal'}. "
                if now
                else ""
            )
            + then_text,
            table={
                "head": [
                    "#",
                    f"{then[0]['month']:%b %Y}" if then else "Then",
                    f"{now[0]['month']:%b %Y}" if now else "Now",
                ],
                "num": [],
                "rows": [
                    [
                        str(i + 1),
                        then[i]["name"] if i < len(then) else "–",
                        now[i]["name"] if i < len(now) else "–",
                    ]
                    for i in range(max(len(now), len(then)))
                ],
            },
        )
        rows = self.q.run("answer_loved_criticised", ("orchestration", 5))
        critic = max(rows, key=lambda r: r["negative_share_28d"] or 0) if rows else None
        add(
            "orchestration_sentiment",
            "Most loved and most criticised orchestrator (Reddit, 28 days)",
            "orchestration",
            rows,
            f"Most loved: {rows[0]['name']} (sentiment {rows[0]['sentiment_28d']:+.2f}); most criticised: "
            f"{critic['name']} ({(critic['negative_share_28d'] or 0) * 100:.0f}% negative mentions)."
            if rows and critic
            else "",
            chart=False,
            table={
                "head": ["Tool", "Sentiment", "Negative", "Mentions"],
                "num": [1, 2, 3],
                "rows": [
                    [
                        r["name"],
                        f"{r['sentiment_28d']:+.2f}",
                        f"{(r['negative_share_28d'] or 0) * 100:.0f}%",
                        str(r["mentions_28d"]),
                    ]
                    for r in rows
                ],
            },
        )
        return out

    def category_page(
        self,
        category: str,
        description: str,
        members: list[dict[str, Any]],
        names: dict[str, str],
        ctx: dict[str, Any],
    ) -> list[str]:
        """Render ``category/<id>.html``; return the category's tools by rank in the newest index month."""
        history = self.q.run("category_rank_history", (category,))
        last_month = max((r["month"] for r in history), default=None)
        leaders = [
            r["tool_id"] for r in sorted(history, key=lambda r: r["rank_in_category"]) if r["month"] == last_month
        ]
        shown = leaders[:8] or [m["tool_id"] for m in members[:8]]
        rank_chart = {
            "x": "date",
            "invert": True,
            "format": "int",
            "zero": False,
            "series": [
                _series([r for r in history if r["tool_id"] == t], "month", "rank_in_category", names.get(t, t))
                for t in shown
            ],
        }
        shares = self.q.run("category_share_history", (category, "downloads_28d"))
        share_chart = {
            "x": "date",
            "format": "pct",
            "series": [
                _series([r for r in shares if r["tool_id"] == t], "metric_date", "share", names.get(t, t))
                for t in shown
            ],
        }
        latest_rows = self.q.run("category_latest", (category,))
        by_tool: dict[str, dict[str, Any]] = {}
        for r in latest_rows:
            entry = by_tool.setdefault(
                r["tool_id"], {"tool_id": r["tool_id"], "name": names.get(r["tool_id"], r["tool_id"]), "signals": {}}
            )
            entry["signals"][r["signal"]] = r
            if r["signal"] == "downloads_28d":
                entry["rank_change_28d"] = r["rank_change_28d"]
                entry["rank_change_365d"] = r["rank_change_365d"]
        latest = sorted(
            by_tool.values(),
            key=lambda e: (e["signals"].get("downloads_28d") or {}).get("rank") or 10**6,
        )
        for e in latest:
            e.setdefault("rank_change_28d", None)
            e.setdefault("rank_change_365d", None)
        movers = [
            {**m, "name": names.get(m["tool_id"], m["tool_id"])} for m in self.q.run("category_movers", (category,))
        ]
        sentiment = self.q.run("answer_loved_criticised", (category, 5))
        self.render(
            "category.html",
            f"category/{category}.html",
            title=category_label(category),
            page_kind="category",
            category={"id": category, "label": category_label(category), "description": description, "tools": members},
            rank_chart=rank_chart,
            share_chart=share_chart,
            latest=latest,
            signals=[{"id": s, "label": label} for s, label in CATEGORY_SIGNALS],
            movers=movers,
            sentiment=sentiment,
            compare_ids=shown[:3],
            **ctx,
        )
        return leaders

    def tool_page(self, tool: dict[str, Any], category_leaders: list[str], ctx: dict[str, Any]) -> None:
        tool_id = tool["tool_id"]
        rows = self.q.run("tool_signals", (tool_id,))
        index = [r for r in self.q.run("tool_index", (tool_id,)) if r["category"] == tool["primary_category"]]

        def spec(cols: list[tuple[str, str]], fmt: str = "num", **kw: Any) -> dict[str, Any]:
            return {"x": "date", "format": fmt, "series": [_series(rows, "metric_date", c, n) for c, n in cols], **kw}

        charts = [
            (
                "downloads",
                "PyPI downloads (excl. CI and mirrors)",
                spec([("downloads_7d", "7 days"), ("downloads_28d", "28 days")], toggleLog=True),
            ),
            ("mentions", "Reddit mentions, 28 days", spec([("mentions_28d", "mentions")])),
            (
                "sentiment",
                "Sentiment, 28 days (mean in [-1, 1], shares of mentions)",
                spec(
                    [
                        ("sentiment_28d", "mean sentiment"),
                        ("positive_share_28d", "positive share"),
                        ("negative_share_28d", "negative share"),
                    ],
                    "float",
                    zero=False,
                ),
            ),
            ("stars", "GitHub stars", spec([("stars", "stars")], toggleLog=True)),
            ("new_stars", "New GitHub stars, 28 days", spec([("new_stars_28d", "new stars")])),
            (
                "repo",
                "Forks and open issues",
                spec([("forks", "forks"), ("open_issues", "open issues")], toggleLog=True),
            ),
            ("releases", "Releases, 90 days", spec([("releases_90d", "releases")], "int")),
            (
                "index",
                f"Popularity index in {category_label(tool['primary_category'])} (score and components)",
                {
                    "x": "date",
                    "format": "float",
                    "series": [
                        _series(index, "month", c, n)
                        for c, n in (
                            ("score", "score"),
                            ("downloads_component", "downloads"),
                            ("mentions_component", "mentions"),
                            ("stars_component", "stars"),
                            ("new_stars_component", "new stars"),
                        )
                    ],
                },
            ),
        ]
        mentions = []
        seen: set[str] = set()
        per_pick: dict[str, int] = {}
        for m in self.q.run("tool_mentions", (tool_id,)):
            if m["content_id"] in seen or per_pick.get(m["pick"], 0) >= 3:
                continue
            seen.add(m["content_id"])
            per_pick[m["pick"]] = per_pick.get(m["pick"], 0) + 1
            link = m.get("permalink")
            url = None
            if link:
                url = (
                    link
                    if link.startswith("http")
                    else "https://www.reddit.com" + ("" if link.startswith("/") else "/") + link
                )
            mentions.append({**m, "url": url})
        compare_ids = [tool_id, *[t for t in category_leaders if t != tool_id][:2]]
        self.render(
            "tool.html",
            f"tool/{tool_id}.html",
            title=tool["name"],
            page_kind="tool",
            tool=tool,
            latest=rows[-1] if rows else None,
            charts=[{"id": f"c-{cid}", "title": title, "spec": s} for cid, title, s in charts],
            mentions=mentions,
            breakouts=self.q.run("tool_breakouts", (tool_id,)),
            compare_ids=compare_ids,
            **ctx,
        )

    def compare_page(self, tools: list[dict[str, Any]], series: list[dict[str, Any]], ctx: dict[str, Any]) -> None:
        per_tool: dict[str, dict[str, list[Any]]] = {}
        for r in series:
            s = per_tool.setdefault(
                r["tool_id"], {"month": [], "score": [], "downloads": [], "mentions": [], "stars": [], "new_stars": []}
            )
            s["month"].append(r["month"].isoformat())
            s["score"].append(r["score"])
            s["downloads"].append(r["downloads_value"])
            s["mentions"].append(r["mentions_value"])
            s["stars"].append(r["stars_value"])
            s["new_stars"].append(r["new_stars_value"])
        first = {r["tool_id"]: r["first_day"].isoformat() for r in self.q.run("tool_first_release")}
        latest_score = {tid: s["score"][-1] for tid, s in per_tool.items() if s["score"]}
        default = sorted(latest_score, key=lambda t: -(latest_score[t] or 0))[:3]
        data = {
            "tools": [
                {"id": t["tool_id"], "name": t["name"], "category": t["primary_category"]}
                for t in tools
                if t["tool_id"] in per_tool
            ],
            "series": per_tool,
            "first_release": first,
            "default_tools": default,
        }
        self.render("compare.html", "compare.html", title="Compare", page_kind="compare", compare_data=data, **ctx)

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


def build_site(out_dir: Path, engine: SqlEngine | None = None) -> SiteSummary:
    """Build the whole site into ``out_dir`` (created; existing files are overwritten, others left alone).

    Without ``engine``, the tables are copied once into a :class:`~madlake.dashboard.engine.DashboardEngine` (on
    either profile), so every page reads the same snapshots.
    """
    from madlake.dashboard.engine import DashboardEngine

    if engine is None:
        engine = DashboardEngine()
    available = engine.available_tables() if hasattr(engine, "available_tables") else []
    out_dir.mkdir(parents=True, exist_ok=True)
    return SiteBuilder(engine, available, out_dir).build()
