"""Generated *sample* gold data, for developing the dashboard and for its query benchmark.

Every row written here has ``is_sample = true`` (and ``method_version = 'sample'`` in the index), so the dashboard
shows its "sample data" banner over it; nothing here pretends to be a measurement. The series are deterministic for a
seed: per tool a base level drawn log-normally, a yearly growth rate, weekly seasonality, noise, and a few injected
spikes (recorded as breakouts). Category rankings and the monthly index are derived from the daily rows with the
same SQL shape the gold models use (shares, ranks, rank changes; leader-normalised, log-scaled components).

Writes replace each gold table whole (``AlwaysTrue`` partition replace), so running it twice leaves the same rows.
Never run it against a lakehouse holding real gold data: :func:`write_sample_gold` refuses unless ``force`` is set.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from madlake.names import Table

if TYPE_CHECKING:
    import pyarrow as pa

    from madlake.catalog.models import Tool

log = logging.getLogger(__name__)

RANKED_SIGNALS = ("downloads_28d", "mentions_28d", "stars", "new_stars_28d")
INDEX_WEIGHTS = {"downloads": 0.4, "mentions": 0.2, "stars": 0.25, "new_stars": 0.15}


@dataclass(frozen=True)
class SampleGold:
    tool_daily_metrics: pa.Table
    category_daily_rankings: pa.Table
    popularity_index: pa.Table
    tool_breakouts: pa.Table


def pick_tools(n: int | None = None) -> list[Tool]:
    """``n`` tools of the packaged catalog, taken round-robin over the categories (all of them when ``n`` is None)."""
    from madlake.catalog import load_catalog

    tools = list(load_catalog().tools)
    if n is None or n >= len(tools):
        return tools
    by_cat: dict[str, list[Tool]] = {}
    for t in tools:
        by_cat.setdefault(t.categories[0], []).append(t)
    picked: list[Tool] = []
    while len(picked) < n:
        for group in by_cat.values():
            if group and len(picked) < n:
                picked.append(group.pop(0))
    return picked


def generate_sample_gold(tools: list[Tool], start: date, end: date, *, seed: int = 7) -> SampleGold:  # noqa: PLR0915
    """Daily metrics for ``tools`` from ``start`` to ``end`` (inclusive) and everything derived from them."""
    import duckdb
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    days = (end - start).days + 1
    t = np.arange(days)
    now = datetime.now(UTC)
    cols: dict[str, list[Any]] = {k: [] for k in ("metric_date", "tool_id", "primary_category")}
    series: dict[str, list[np.ndarray]] = {}
    breakouts = []
    dates = np.array([start + timedelta(days=int(i)) for i in t], dtype=object)

    def roll_full(x: np.ndarray, w: int) -> np.ndarray:
        c = np.cumsum(np.concatenate([[0], x]))
        idx = np.arange(1, days + 1)
        return c[idx] - c[np.maximum(idx - w, 0)]

    for tool in tools:
        base = float(np.exp(rng.normal(9.0, 1.6)))  # daily downloads
        growth = rng.normal(0.25, 0.45)  # log growth per year
        launch = int(rng.integers(0, days // 2)) if rng.random() < 0.15 else 0  # some tools appear mid-history
        weekly = 1 + 0.18 * np.sin(2 * np.pi * t / 7)
        level = base * np.exp(growth * t / 365.0) * weekly * rng.lognormal(0, 0.12, days)
        level[:launch] = 0
        spikes: list[int] = (
            [int(s) for s in rng.choice(np.arange(max(launch, 30), days), size=2, replace=False)] if days > 60 else []
        )
        mention_rate = np.maximum(0.05, base / 4000.0 * np.exp(growth * t / 365.0) * rng.lognormal(0, 0.3))
        mention_rate[:launch] = 0
        for s in spikes:
            level[s : s + 3] *= 4.0
            mention_rate[s : s + 3] *= 6.0
            breakouts.append((dates[s], tool.id, ["downloads", "mentions"], {"downloads": 4.1, "mentions": 5.3}))
        downloads = np.round(level).astype(np.int64)
        mentions = rng.poisson(mention_rate).astype(np.int64)
        new_stars = rng.poisson(np.maximum(0.1, base / 2500.0 * np.exp(growth * t / 365.0))).astype(np.int64)
        new_stars[:launch] = 0
        stars = int(rng.integers(100, 20000)) * (launch == 0) + np.cumsum(new_stars)
        sentiment_base = float(np.clip(rng.normal(0.15, 0.25), -0.8, 0.9))
        sentiment = np.clip(sentiment_base + 0.1 * np.sin(t / 90.0) + rng.normal(0, 0.03, days), -1, 1)
        excl = np.round(downloads * rng.uniform(0.55, 0.85)).astype(np.int64)
        m28 = roll_full(mentions, 28)
        cols["metric_date"].extend(dates)
        cols["tool_id"].extend([tool.id] * days)
        cols["primary_category"].extend([tool.categories[0]] * days)
        for name, arr in {
            "downloads": downloads,
            "downloads_excl_ci": excl,
            "downloads_7d": roll_full(excl, 7),
            "downloads_28d": roll_full(excl, 28),
            "mentions": mentions,
            "mentions_28d": m28,
            "sentiment_28d": np.where(m28 > 0, sentiment, np.nan),
            "positive_share_28d": np.where(m28 > 0, np.clip(0.45 + sentiment / 2, 0, 1), np.nan),
            "negative_share_28d": np.where(m28 > 0, np.clip(0.2 - sentiment / 3, 0, 1), np.nan),
            "stars": stars,
            "new_stars": new_stars,
            "new_stars_28d": roll_full(new_stars, 28),
            "forks": (stars * 0.14).astype(np.int64),
            "open_issues": (np.sqrt(stars) * 3).astype(np.int64),
            "releases_90d": np.full(days, int(rng.integers(0, 12)), dtype=np.int32),
        }.items():
            series.setdefault(name, []).append(arr)
    arrays: dict[str, Any] = {k: pa.array(v) for k, v in cols.items()}
    for name, parts in series.items():
        joined = np.concatenate(parts)
        arrays[name] = pa.array(joined, from_pandas=True) if joined.dtype.kind == "f" else pa.array(joined)
    n = len(cols["tool_id"])
    arrays["is_sample"] = pa.array([True] * n)
    arrays["computed_at"] = pa.array([now] * n, type=pa.timestamp("us", tz="UTC"))
    tdm = pa.table(arrays)
    tool_cats = pa.table(
        {
            "tool_id": [tool.id for tool in tools for _ in tool.categories],
            "category": [c for tool in tools for c in tool.categories],
        }
    )
    con = duckdb.connect()
    con.execute("set threads to 2")
    con.register("tdm", tdm)
    con.register("tool_cats", tool_cats)
    unpivot = " union all ".join(
        f"select metric_date, tool_id, '{s}' as signal, cast({s} as double) as value from tdm" for s in RANKED_SIGNALS
    )
    cdr = con.sql(
        f"""
        with v as ({unpivot}),
        ranked as (
            select v.metric_date, c.category, v.tool_id, v.signal, v.value,
                   v.value / nullif(sum(v.value) over (partition by v.metric_date, c.category, v.signal), 0) as share,
                   cast(rank() over (partition by v.metric_date, c.category, v.signal order by v.value desc) as integer)
                       as rank
            from v join tool_cats c using (tool_id)
        )
        select r.*,
               cast(r28.rank - r.rank as integer) as rank_change_28d,
               cast(r365.rank - r.rank as integer) as rank_change_365d,
               true as is_sample, ?::timestamptz as computed_at
        from ranked r
        left join ranked r28 on r28.metric_date = r.metric_date - interval 28 day and r28.category = r.category
             and r28.signal = r.signal and r28.tool_id = r.tool_id
        left join ranked r365 on r365.metric_date = r.metric_date - interval 365 day and r365.category = r.category
             and r365.signal = r.signal and r365.tool_id = r.tool_id
        """,
        params=[now],
    ).to_arrow_table()
    weights = INDEX_WEIGHTS
    components = ",\n".join(
        f"{weights[s]} * ln(1 + 100 * coalesce({s}_value / nullif(lead_{s}, 0), 0)) as {s}_component" for s in weights
    )
    pidx = con.sql(
        f"""
        with monthly as (
            select date_trunc('month', metric_date)::date as month, tool_id, max(metric_date) as as_of_date,
                   sum(downloads_excl_ci)::double as downloads_value, sum(mentions)::double as mentions_value,
                   arg_max(stars, metric_date)::double as stars_value, sum(new_stars)::double as new_stars_value
            from tdm group by all
        ),
        m as (select * from monthly join tool_cats using (tool_id)),
        lead as (
            select month, category,
                   avg(downloads_value) filter (where rk_d <= 3) as lead_downloads,
                   avg(mentions_value) filter (where rk_m <= 3) as lead_mentions,
                   avg(stars_value) filter (where rk_s <= 3) as lead_stars,
                   avg(new_stars_value) filter (where rk_n <= 3) as lead_new_stars
            from (select *,
                         row_number() over (partition by month, category order by downloads_value desc) as rk_d,
                         row_number() over (partition by month, category order by mentions_value desc) as rk_m,
                         row_number() over (partition by month, category order by stars_value desc) as rk_s,
                         row_number() over (partition by month, category order by new_stars_value desc) as rk_n
                  from m)
            group by all
        ),
        scored as (
            select m.*, {components}
            from m join lead using (month, category)
        ),
        s2 as (
            select *, downloads_component + mentions_component + stars_component + new_stars_component as score
            from scored
        ),
        s3 as (
            select *,
                   cast(row_number() over (partition by month, category order by score desc) as integer)
                       as rank_in_category,
                   lag(score, 1) over w as s1, lag(score, 3) over w as s3m, lag(score, 12) over w as s12
            from s2 window w as (partition by tool_id, category order by month)
        )
        select month, tool_id, category, 'sample' as method_version, score,
               downloads_component, mentions_component, stars_component, new_stars_component,
               downloads_value, mentions_value, stars_value, new_stars_value, rank_in_category,
               score / nullif(s1, 0) - 1 as growth_mom,
               score / nullif(s12, 0) - 1 as growth_yoy,
               case when s3m > 0 and score > 0 then pow(score / s3m, 1.0 / 3) - 1 end as cagr_3m,
               true as is_sample, ?::timestamptz as computed_at, as_of_date
        from s3
        """,
        params=[now],
    ).to_arrow_table()
    brk = pa.table(
        {
            "metric_date": [b[0] for b in breakouts],
            "tool_id": [b[1] for b in breakouts],
            "signals": [",".join(b[2]) for b in breakouts],
            "n_signals": pa.array([len(b[2]) for b in breakouts], type=pa.int32()),
            "zscores": [json.dumps(b[3]) for b in breakouts],
            "is_sample": [True] * len(breakouts),
            "computed_at": pa.array([now] * len(breakouts), type=pa.timestamp("us", tz="UTC")),
        }
    )
    con.close()
    log.info(
        "Generated sample gold for %d tools x %d days: %d daily rows, %d ranking rows, %d index rows, %d breakouts",
        len(tools),
        days,
        tdm.num_rows,
        cdr.num_rows,
        pidx.num_rows,
        brk.num_rows,
    )
    return SampleGold(tdm, cdr, pidx, brk)


def write_sample_gold(sample: SampleGold, *, force: bool = False) -> dict[str, int]:
    """Replace the four gold tables with ``sample`` (one commit each, source ``sample``). Returns rows per table.

    Raises:
        RuntimeError: a gold table already holds rows that are not sample rows and ``force`` is not set.
    """
    from pyiceberg.expressions import AlwaysTrue, EqualTo

    from madlake.lakehouse import writes
    from madlake.lakehouse.tables import load_table

    ctx = writes.CommitContext.current(source="sample")
    out = {}
    for name, df in (
        (Table.TOOL_DAILY_METRICS, sample.tool_daily_metrics),
        (Table.CATEGORY_DAILY_RANKINGS, sample.category_daily_rankings),
        (Table.POPULARITY_INDEX, sample.popularity_index),
        (Table.TOOL_BREAKOUTS, sample.tool_breakouts),
    ):
        table = load_table(name)
        if not force:
            real = table.scan(row_filter=EqualTo("is_sample", False), selected_fields=("is_sample",)).to_arrow()
            if real.num_rows:
                raise RuntimeError(f"{name} holds {real.num_rows} real (non-sample) rows; refusing to overwrite them")
        sort = [c for c in ("metric_date", "month", "category", "signal", "tool_id") if c in df.column_names]
        ordered = df.sort_by([(c, "ascending") for c in sort])
        writes.replace_partition(table, ordered, AlwaysTrue(), ctx)
        out[name] = ordered.num_rows
    return out


def load_sample_dim_tools(tools: list[Tool]) -> int:
    """Replace ``dim_tools`` with ``tools`` (the real catalog entries, so names, packages and repos are real)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyiceberg.expressions import AlwaysTrue

    from madlake.catalog import load_catalog
    from madlake.catalog.io import dim_tools_arrow
    from madlake.lakehouse import writes
    from madlake.lakehouse.tables import load_table

    table = load_table(Table.DIM_TOOLS)
    rows = dim_tools_arrow(load_catalog(), loaded_at=datetime.now(UTC))
    keep = pa.array(sorted(t.id for t in tools))
    rows = rows.filter(pc.is_in(rows.column("tool_id"), value_set=keep))
    writes.replace_partition(table, rows, AlwaysTrue(), writes.CommitContext.current(source="catalog"))
    return rows.num_rows


def generate_sample_mentions(
    tools: list[Tool], start: date, end: date, *, per_tool: int = 60, seed: int = 11
) -> tuple[pa.Table, pa.Table]:
    """Sample ``reddit_mentions`` rows and the ``reddit_submissions`` they point at (``method``/``source`` = sample).

    The summaries say they are generated, and the permalinks follow Reddit's shape under an id prefixed ``sample``
    (they lead nowhere real): they exist so the tool pages' "example mentions" section and its links can be tested
    and benchmarked.
    """
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    span = int((end - start).days) * 86400
    t0 = datetime(start.year, start.month, start.day, tzinfo=UTC)
    now = datetime.now(UTC)
    subs = ("dataengineering", "MachineLearning", "LocalLLaMA", "Python", "datascience")
    mentions: list[dict[str, Any]] = []
    submissions: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        for k in range(per_tool):
            sid = f"sample{i:03d}x{k:04d}"
            created = t0 + timedelta(seconds=int(rng.integers(0, span)))
            score = float(np.clip(rng.normal(0.15, 0.45), -1, 1))
            label = "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"
            sub = subs[int(rng.integers(0, len(subs)))]
            mentions.append(
                {
                    "content_id": f"t3_{sid}",
                    "content_type": "submission",
                    "subreddit": sub,
                    "tool_id": tool.id,
                    "mention_count": int(rng.integers(1, 4)),
                    "sentiment_score": score,
                    "sentiment_label": label,
                    "summary": f"Sample (generated) {label} mention of {tool.name}.",
                    "usage_kind": "discussion",
                    "method": "sample",
                    "model": "sample",
                    "prompt_version": "-",
                    "created_at": created,
                    "source_loaded_at": now,
                    "processed_at": now,
                }
            )
            submissions.append(
                {
                    "id": sid,
                    "fullname": f"t3_{sid}",
                    "subreddit": sub,
                    "title": f"Sample thread about {tool.name}",
                    "permalink": f"/r/{sub}/comments/{sid}/sample_thread/",
                    "is_deleted": False,
                    "is_removed": False,
                    "created_at": created,
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "loaded_at": now,
                    "source": "sample",
                }
            )
    return pa.Table.from_pylist(mentions), pa.Table.from_pylist(submissions)


def write_sample_mentions(mentions: pa.Table, submissions: pa.Table) -> dict[str, int]:
    """Replace ``reddit_mentions`` and ``reddit_submissions`` with sample rows (for tests and the benchmark only).

    Raises:
        RuntimeError: either table already holds rows that are not sample rows.
    """
    from pyiceberg.expressions import AlwaysTrue, NotEqualTo

    from madlake.lakehouse import writes
    from madlake.lakehouse.tables import load_table

    ctx = writes.CommitContext.current(source="sample")
    out = {}
    for name, df, column in (
        (Table.REDDIT_MENTIONS, mentions, "method"),
        (Table.REDDIT_SUBMISSIONS, submissions, "source"),
    ):
        table = load_table(name)
        real = table.scan(row_filter=NotEqualTo(column, "sample"), selected_fields=(column,)).to_arrow()
        if real.num_rows:
            raise RuntimeError(f"{name} holds {real.num_rows} real rows; refusing to overwrite them with sample rows")
        writes.replace_partition(table, writes.conform(table, df), AlwaysTrue(), ctx)
        out[name] = df.num_rows
    return out
