"""Generated gold v2 for the dashboard's tests and benchmark: every row has ``is_sample = true``.

Shaped like the real history the dashboard shows (issue 11), so the pages are exercised on the same cases:

* months from 2018-02 to ``end``; some tools launch mid-history (nothing before: null, not 0);
* downloads from ``pypi_downloads_monthly`` with its method breaks (``pip-30d`` until 2024-10, ``all-30d`` 2024-11,
  ``all-shrinking`` 2024-12 → 2025-06, ``calendar-month`` from 2025-07), months below the list's cut-off
  (``downloads`` null, ``downloads_below_list`` true, ``downloads_list_min`` set), then daily ``pypi_downloads``
  for the newest months;
* stars from ``github_repo_history`` from 2018-12 with months missing (the repo fell out of every top-100 list), then
  ``github_repo_snapshots``;
* mentions only in the months Reddit covers (2021-06 → 2022-06, 2025-07 → 2025-08 and the newest months): null
  elsewhere, 0 when covered and unmentioned; every other tool without a repository never matched at all (so some
  tools are judged on one signal only);
* ``popularity_index`` v2 from those rows as the contract says (index 100 + 25·log10(value / leader), weighted mean
  of the present signals, coverage, growth as 10^(Δscore/25) − 1, ``growth_yoy_spans_break``).

The numbers are generated (deterministic for a seed); tool names, packages and repos are the real catalog's.
:func:`write_gold` writes into the lakehouse of the current ``MADLAKE_HOME`` and refuses to overwrite real rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from madlake.names import Table

if TYPE_CHECKING:
    import pyarrow as pa
    from madlake.catalog.models import Tool
    from madlake.tables.spec import TableSpec

log = logging.getLogger(__name__)

FIRST_MONTH = date(2018, 2, 1)
WEIGHTS = {"downloads": 0.5, "stars": 0.3, "mentions": 0.2}
METHOD_VERSION = "v2"
#: (first month, method) of each PyPI counting method, as in ``pypi_downloads_monthly``.
PYPI_METHODS = (
    (date(2018, 2, 1), "pip-30d"),
    (date(2024, 11, 1), "all-30d"),
    (date(2024, 12, 1), "all-shrinking"),
    (date(2025, 7, 1), "calendar-month"),
)
REDDIT_COVERED = ((date(2021, 6, 1), date(2022, 6, 1)), (date(2025, 7, 1), date(2025, 8, 1)))
DAILY_MONTHS = 3  # the newest months come from the daily sources


@dataclass(frozen=True)
class SynthGold:
    tools: list[Tool]
    tool_monthly_metrics: pa.Table
    popularity_index: pa.Table


def months_between(start: date, end: date) -> list[date]:
    out, cur = [], date(start.year, start.month, 1)
    while cur <= end:
        out.append(cur)
        cur = date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
    return out


def pick_tools(n: int | None = None) -> list[Tool]:
    """``n`` catalog tools round-robin over the primary categories (all of them when ``n`` is None)."""
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


def _method(month: date) -> str:
    return [m for start, m in PYPI_METHODS if month >= start][-1]


def _days_in(month: date) -> int:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return (nxt - month).days


def generate(tools: list[Tool], end: date, *, start: date = FIRST_MONTH, seed: int = 7) -> SynthGold:
    """Monthly gold v2 for ``tools`` from ``start`` to the month of ``end``."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    months = months_between(start, end)
    n = len(months)
    t = np.arange(n)
    now = datetime.now(UTC)
    daily_from = months[max(0, n - DAILY_MONTHS)]
    covered = np.array([any(a <= m <= b for a, b in REDDIT_COVERED) or m >= daily_from for m in months], dtype=bool)
    methods = np.array([_method(m) for m in months], dtype=object)
    days = np.array([_days_in(m) for m in months], dtype=float)
    shrink = np.cumsum(methods == "all-shrinking")
    window = np.where(
        methods == "calendar-month",
        days,
        np.where(methods == "all-shrinking", np.maximum(18.0, 32.0 - 2.0 * shrink), 30.0),
    )
    # the list's cut-off grows over the years (the 8,000th project of 2026 has more downloads than that of 2018)
    list_min = np.round(4_000 * np.exp(t / 40.0)).astype(np.int64)
    pip_share = np.where(np.array([m < date(2024, 11, 1) for m in months]), 0.62, 1.0)
    is_daily = np.array([m >= daily_from for m in months])
    ghr_from = date(2018, 12, 1)
    cols: dict[str, list[Any]] = {k: [] for k in ("month", "tool_id", "primary_category")}
    data: dict[str, list[np.ndarray]] = {}

    def put(name: str, arr: np.ndarray) -> None:
        data.setdefault(name, []).append(arr)

    for k, tool in enumerate(tools):
        base = float(np.exp(rng.normal(10.5, 1.8)))  # downloads per day in 2018
        growth = rng.normal(0.03, 0.03)  # log growth per month
        launch = int(rng.integers(0, n * 2 // 3)) if rng.random() < 0.25 else 0
        alive = t >= launch
        per_day = base * np.exp(growth * (t - launch)) * rng.lognormal(0, 0.08, n) * pip_share
        has_pypi = bool(getattr(tool, "pypi", ()))
        has_repo = bool(getattr(tool, "github", ()))
        dl = np.round(per_day * window).astype(np.int64)
        below = (dl < list_min) & ~is_daily
        dl_valid = alive & has_pypi & ~below
        downloads = np.where(dl_valid, dl, 0)
        put("downloads", pa.array(downloads, mask=~dl_valid))
        put("downloads_per_day", pa.array(np.where(dl_valid, downloads / window, np.nan), mask=~dl_valid))
        src = np.where(is_daily, "pypi_downloads", "pypi_downloads_monthly").astype(object)
        meth = np.where(is_daily, "daily", methods).astype(object)
        known = alive & has_pypi
        put("downloads_source", pa.array(np.where(known, src, None), type=pa.string()))
        put("downloads_method", pa.array(np.where(known, meth, None), type=pa.string()))
        put("downloads_below_list", pa.array(np.where(known, below, None), type=pa.bool_()))
        put("downloads_list_min", pa.array(np.where(known & ~is_daily, list_min, 0), mask=~(known & ~is_daily)))
        stars0 = float(rng.integers(200, 30_000))
        new = rng.poisson(np.maximum(1.0, stars0 / 60 * np.exp(growth * t)))
        stars = np.round(stars0 + np.cumsum(new)).astype(np.int64)
        in_ghr = np.array([m >= ghr_from for m in months]) & (rng.random(n) > 0.06)
        s_valid = alive & has_repo & (in_ghr | is_daily)
        put("stars", pa.array(np.where(s_valid, stars, 0), mask=~s_valid))
        prev_valid = np.concatenate([[False], s_valid[:-1]])
        ns_valid = s_valid & prev_valid
        put("new_stars", pa.array(np.where(ns_valid, new, 0), mask=~ns_valid))
        put("forks", pa.array(np.where(s_valid, stars // 7, 0), mask=~s_valid))
        put("open_issues", pa.array(np.where(s_valid, np.sqrt(stars).astype(np.int64) * 3, 0), mask=~s_valid))
        c_valid = s_valid & (rng.random() < 0.6)
        put("contributors", pa.array(np.where(c_valid, np.sqrt(stars).astype(np.int64), 0), mask=~c_valid))
        ssrc = np.where(is_daily, "github_repo_snapshots", "github_repo_history").astype(object)
        put("stars_source", pa.array(np.where(s_valid, ssrc, None), type=pa.string()))
        # every other tool with a PyPI package but no repo is never matched on Reddit: judged on PyPI alone
        m_valid = covered & alive & (has_repo or not has_pypi or k % 2 == 1)
        mentions = rng.poisson(np.maximum(0.05, base / 3_000 * np.exp(growth * t))).astype(np.int64)
        put("mentions", pa.array(np.where(m_valid, mentions, 0), mask=~m_valid))
        put("mentions_source", pa.array(np.where(m_valid, "reddit_mentions", None), type=pa.string()))
        senti = np.clip(rng.normal(0.15, 0.25) + rng.normal(0, 0.05, n), -1, 1)
        sv = m_valid & (mentions > 0)
        put("sentiment", pa.array(np.where(sv, senti, np.nan), mask=~sv))
        put("reddit_texts", pa.array(np.where(m_valid, mentions * 3 + 1, 0), mask=~m_valid))
        cols["month"].extend(months)
        cols["tool_id"].extend([tool.id] * n)
        cols["primary_category"].extend([tool.categories[0]] * n)

    arrays: dict[str, Any] = {k: pa.array(v) for k, v in cols.items()}
    for name, parts in data.items():
        arrays[name] = pa.concat_arrays(parts)
    rows = len(cols["tool_id"])
    arrays["is_sample"] = pa.array([True] * rows)
    arrays["computed_at"] = pa.array([now] * rows, type=pa.timestamp("us", tz="UTC"))
    tmm = pa.table(arrays)
    for name in (
        "downloads",
        "downloads_list_min",
        "stars",
        "new_stars",
        "forks",
        "open_issues",
        "contributors",
        "mentions",
        "reddit_texts",
    ):
        tmm = tmm.set_column(tmm.schema.get_field_index(name), name, tmm.column(name).cast(pa.int64()))
    pidx = _index(tools, tmm, now)
    log.info(
        "Generated SAMPLE gold v2: %d tools x %d months: %d monthly rows, %d index rows",
        len(tools),
        n,
        tmm.num_rows,
        pidx.num_rows,
    )
    return SynthGold(tools, tmm, pidx)


def _index(tools: list[Tool], tmm: pa.Table, now: datetime) -> pa.Table:
    import duckdb
    import pyarrow as pa

    cats = pa.table(
        {"tool_id": [t.id for t in tools for _ in t.categories], "category": [c for t in tools for c in t.categories]}
    )
    breaks = pa.table({"break_month": [m for m, _ in PYPI_METHODS[1:]]})
    con = duckdb.connect()
    con.execute("set threads to 2")
    for name, table in (("tmm", tmm), ("cats", cats), ("breaks", breaks)):
        con.register(name, table)
    w = WEIGHTS
    sql = f"""
    with v as (
        select m.month, m.tool_id, c.category, m.downloads_method, m.downloads_below_list,
               m.downloads_per_day::double as downloads_value, m.downloads_source,
               m.stars::double as stars_value, m.stars_source,
               m.mentions::double as mentions_value, m.mentions_source
        from tmm m join cats c using (tool_id)
    ),
    lead as (
        select month, category, max(downloads_value) as ld, max(stars_value) as ls, max(mentions_value) as lm,
               sum(downloads_value) as sd
        from v group by all
    ),
    ix as (
        select v.*, l.sd,
               case when downloads_value > 0 then 100 + 25 * log10(downloads_value / l.ld) end as downloads_index,
               case when stars_value > 0 then 100 + 25 * log10(stars_value / l.ls) end as stars_index,
               case when mentions_value > 0 then 100 + 25 * log10(mentions_value / l.lm)
                    when mentions_value = 0 then 0 end as mentions_index
        from v join lead l using (month, category)
    ),
    sc as (
        select *,
               (case when downloads_index is not null then {w["downloads"]} else 0 end
                + case when stars_index is not null then {w["stars"]} else 0 end
                + case when mentions_index is not null then {w["mentions"]} else 0 end)::double as coverage,
               {w["downloads"]} * downloads_index as downloads_component,
               {w["stars"]} * stars_index as stars_component,
               {w["mentions"]} * mentions_index as mentions_component
        from ix
    ),
    s2 as (
        select *,
               (coalesce(downloads_component, 0) + coalesce(stars_component, 0) + coalesce(mentions_component, 0))
                   / coverage as score,
               (downloads_index is not null)::int + (stars_index is not null)::int
                   + (mentions_index is not null)::int as n_signals,
               concat_ws(',', case when downloads_index is not null then 'downloads' end,
                              case when stars_index is not null then 'stars' end,
                              case when mentions_index is not null then 'mentions' end) as signals
        from sc where coverage > 0
    ),
    s3 as (
        select *, cast(row_number() over (partition by month, category order by score desc, tool_id) as integer)
                  as rank_in_category
        from s2
    )
    select a.month, a.tool_id, a.category, '{METHOD_VERSION}' as method_version, a.score, a.coverage,
           cast(a.n_signals as integer) as n_signals, a.signals,
           a.downloads_value, a.downloads_index, a.downloads_component,
           case when a.downloads_index is not null then a.downloads_source end as downloads_source,
           a.stars_value, a.stars_index, a.stars_component,
           case when a.stars_index is not null then a.stars_source end as stars_source,
           a.mentions_value, a.mentions_index, a.mentions_component,
           case when a.mentions_index is not null then a.mentions_source end as mentions_source,
           a.downloads_method, a.downloads_value / nullif(a.sd, 0) as downloads_share, a.downloads_below_list,
           a.rank_in_category,
           pow(10, (a.score - p1.score) / 25) - 1 as growth_mom,
           pow(10, (a.score - p12.score) / 25) - 1 as growth_yoy,
           case when p12.score is null then null
                else exists (select 1 from breaks b where b.break_month > p12.month and b.break_month <= a.month)
           end as growth_yoy_spans_break,
           pow(pow(10, (a.score - p3.score) / 25), 1.0 / 3) - 1 as cagr_3m,
           true as is_sample, ?::timestamptz as computed_at,
           cast(a.month + interval 1 month - interval 1 day as date) as as_of_date
    from s3 a
    left join s3 p1 on p1.tool_id = a.tool_id and p1.category = a.category and p1.month = a.month - interval 1 month
    left join s3 p3 on p3.tool_id = a.tool_id and p3.category = a.category and p3.month = a.month - interval 3 month
    left join s3 p12 on p12.tool_id = a.tool_id and p12.category = a.category
         and p12.month = a.month - interval 12 month
    order by a.month, a.category, a.rank_in_category
    """
    out = con.sql(sql, params=[now]).to_arrow_table()
    con.close()
    return out


# ------------------------------------------------------------------------------------------------------ Reddit items
def generate_mentions(tools: list[Tool], end: date, *, per_tool: int = 8, seed: int = 11) -> dict[str, pa.Table]:
    """``reddit_mentions`` rows (method ``sample``) and the submissions and comments they point at (source
    ``sample``), dated in the 60 days before ``end``; ids are base36 like Reddit's (they lead nowhere real)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    t0 = datetime(end.year, end.month, end.day, tzinfo=UTC) - timedelta(days=60)
    now = datetime.now(UTC)
    subs = ("dataengineering", "MachineLearning", "LocalLLaMA", "Python", "datascience")
    mentions: list[dict[str, Any]] = []
    submissions: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        for k in range(per_tool):
            sid = np.base_repr(36**5 + i * 1000 + k, 36).lower()
            created = t0 + timedelta(seconds=int(rng.integers(0, 60 * 86400)))
            score = float(np.clip(rng.normal(0.15, 0.45), -1, 1))
            label = "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"
            sub = subs[int(rng.integers(0, len(subs)))]
            is_comment = k % 2 == 1
            cid = np.base_repr(36**6 + i * 1000 + k, 36).lower()
            mentions.append(_mention(f"t1_{cid}" if is_comment else f"t3_{sid}", sub, tool, score, label, created, now))
            submissions.append(_submission(sid, sub, f"/r/{sub}/comments/{sid}/sample_thread/", created, now))
            if is_comment:
                comments.append(_comment(cid, sid, sub, f"/r/{sub}/comments/{sid}/sample_thread/{cid}/", created, now))
    return {
        Table.REDDIT_MENTIONS: pa.Table.from_pylist(mentions),
        Table.REDDIT_SUBMISSIONS: pa.Table.from_pylist(submissions),
        Table.REDDIT_COMMENTS: pa.Table.from_pylist(comments),
    }


def _mention(content_id: str, sub: str, tool: Any, score: float, label: str, created: datetime, now: datetime) -> dict:
    return {
        "content_id": content_id,
        "content_type": "comment" if content_id.startswith("t1_") else "submission",
        "subreddit": sub,
        "tool_id": tool.id,
        "mention_count": 1,
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


def _submission(sid: str, sub: str, permalink: str, created: datetime, now: datetime) -> dict:
    return {
        "id": sid,
        "fullname": f"t3_{sid}",
        "subreddit": sub,
        "title": "Sample thread",
        "permalink": permalink,
        "is_deleted": False,
        "is_removed": False,
        "created_at": created,
        "first_seen_at": now,
        "last_seen_at": now,
        "loaded_at": now,
        "source": "sample",
    }


def _comment(cid: str, sid: str, sub: str, permalink: str, created: datetime, now: datetime) -> dict:
    return {
        "id": cid,
        "fullname": f"t1_{cid}",
        "link_id": f"t3_{sid}",
        "submission_id": sid,
        "subreddit": sub,
        "permalink": permalink,
        "is_deleted": False,
        "is_removed": False,
        "created_at": created,
        "first_seen_at": now,
        "last_seen_at": now,
        "loaded_at": now,
        "source": "sample",
    }


def hostile_mentions(tool: Any, end: date) -> dict[str, pa.Table]:
    """Mentions whose stored permalinks point off Reddit (issue 13 item 6), one with a well-formed id and one without.

    ``spoofed1``: a valid submission id with ``permalink = https://evil.example/...``: the page must link to
    reddit.com built from the id. ``t3_../x``: an id that cannot be a Reddit id and an absolute permalink: the page
    must not call it a Reddit link, and must show the host ``evil.example``.
    """
    import pyarrow as pa

    now = datetime.now(UTC)
    created = datetime(end.year, end.month, end.day, tzinfo=UTC) - timedelta(days=1)
    return {
        Table.REDDIT_MENTIONS: pa.Table.from_pylist(
            [
                _mention("t3_spoofed1", "dataengineering", tool, 0.9, "positive", created, now),
                _mention("t3_../x", "dataengineering", tool, -0.9, "negative", created, now),
            ]
        ),
        Table.REDDIT_SUBMISSIONS: pa.Table.from_pylist(
            [
                _submission("spoofed1", "dataengineering", "https://evil.example/r/dataengineering/", created, now),
                _submission("../x", "dataengineering", "https://evil.example/phish", created, now),
            ]
        ),
    }


# --------------------------------------------------------------------------------------------------------- writing
def contract_spec(name: str) -> TableSpec:
    """The registered spec of ``name`` when it has every column of the gold v2 contract (COMMON.md), else one that
    has (until the gold pipeline registers its v2 spec)."""
    from madlake.tables import all_specs
    from madlake.tables.spec import TableSpec
    from pyiceberg.schema import Schema
    from pyiceberg.types import BooleanType, DateType, DoubleType, IntegerType, LongType, NestedField, StringType
    from pyiceberg.types import TimestamptzType as Ts

    s, ln, d, dbl, b, i = StringType, LongType, DateType, DoubleType, BooleanType, IntegerType
    contract: dict[str, list[tuple[str, Any, bool]]] = {
        Table.TOOL_MONTHLY_METRICS: [
            ("month", d, True),
            ("tool_id", s, True),
            ("primary_category", s, False),
            ("downloads", ln, False),
            ("downloads_per_day", dbl, False),
            ("downloads_source", s, False),
            ("downloads_method", s, False),
            ("downloads_below_list", b, False),
            ("downloads_list_min", ln, False),
            ("stars", ln, False),
            ("new_stars", ln, False),
            ("forks", ln, False),
            ("open_issues", ln, False),
            ("contributors", ln, False),
            ("stars_source", s, False),
            ("mentions", ln, False),
            ("mentions_source", s, False),
            ("sentiment", dbl, False),
            ("reddit_texts", ln, False),
            ("is_sample", b, True),
            ("computed_at", Ts, True),
        ],
        Table.POPULARITY_INDEX: [
            ("month", d, True),
            ("tool_id", s, True),
            ("category", s, True),
            ("method_version", s, True),
            ("score", dbl, True),
            ("coverage", dbl, True),
            ("n_signals", i, True),
            ("signals", s, True),
            *[
                (f"{sig}_{col}", typ, False)
                for sig in ("downloads", "stars", "mentions")
                for col, typ in (("value", dbl), ("index", dbl), ("component", dbl), ("source", s))
            ],
            ("downloads_method", s, False),
            ("downloads_share", dbl, False),
            ("downloads_below_list", b, False),
            ("rank_in_category", i, True),
            ("growth_mom", dbl, False),
            ("growth_yoy", dbl, False),
            ("growth_yoy_spans_break", b, False),
            ("cagr_3m", dbl, False),
            ("is_sample", b, True),
            ("computed_at", Ts, True),
        ],
    }[name]
    registered = all_specs().get(name)
    if registered is not None and {c for c, _, _ in contract} <= {f.name for f in registered.schema.fields}:
        return registered
    key = ("month", "tool_id") if name == Table.TOOL_MONTHLY_METRICS else ("month", "tool_id", "category")
    return TableSpec(
        name=name,
        schema=Schema(*[NestedField(k + 1, c, typ(), required=req) for k, (c, typ, req) in enumerate(contract)]),
        partition=(("month", "year"),),
        sort=key,
        key=key,
        doc="SAMPLE gold v2 written by bench/synth (contract columns)",
    )


def _replace(name: str, df: pa.Table, spec: TableSpec | None = None, *, sample_column: str = "is_sample") -> int:
    from madlake.lakehouse import writes
    from madlake.lakehouse.catalog import get_catalog
    from madlake.lakehouse.tables import ensure_table, identifier, load_table
    from pyiceberg.expressions import AlwaysTrue

    catalog = get_catalog()
    ident = identifier(name)
    if spec is not None and catalog.table_exists(ident):
        table = catalog.load_table(ident)
        missing = {f.name for f in spec.schema.fields} - {f.name for f in table.schema().fields}
        if (
            missing
        ):  # an older layout (popularity_index v1) in a scratch lakehouse: recreate it if nothing real is in it
            _refuse_real(table, name, sample_column)
            catalog.drop_table(ident)
    table = ensure_table(spec) if spec is not None else load_table(name)
    _refuse_real(table, name, sample_column)
    writes.replace_partition(
        table, writes.conform(table, df), AlwaysTrue(), writes.CommitContext.current(source="sample")
    )
    return df.num_rows


def _refuse_real(table: Any, name: str, column: str) -> None:
    from pyiceberg.expressions import EqualTo, NotEqualTo

    if column not in {f.name for f in table.schema().fields}:
        return
    real = EqualTo(column, False) if column == "is_sample" else NotEqualTo(column, "sample")
    rows = table.scan(row_filter=real, selected_fields=(column,)).to_arrow().num_rows
    if rows:
        raise RuntimeError(f"{name} holds {rows} real (non-sample) rows; refusing to overwrite them with sample rows")


def write_gold(gold: SynthGold) -> dict[str, int]:
    """Replace ``dim_tools`` (the real catalog entries of ``gold.tools``), ``tool_monthly_metrics`` and
    ``popularity_index`` with ``gold``. Raises ``RuntimeError`` if a gold table holds real rows."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from madlake.catalog import load_catalog
    from madlake.catalog.io import dim_tools_arrow
    from madlake.lakehouse import writes
    from madlake.lakehouse.tables import load_table
    from pyiceberg.expressions import AlwaysTrue

    dim = load_table(Table.DIM_TOOLS)
    rows = dim_tools_arrow(load_catalog(), loaded_at=datetime.now(UTC))
    rows = rows.filter(pc.is_in(rows.column("tool_id"), value_set=pa.array(sorted(t.id for t in gold.tools))))
    writes.replace_partition(dim, rows, AlwaysTrue(), writes.CommitContext.current(source="catalog"))
    return {
        Table.DIM_TOOLS: rows.num_rows,
        Table.TOOL_MONTHLY_METRICS: _replace(
            Table.TOOL_MONTHLY_METRICS, gold.tool_monthly_metrics, contract_spec(Table.TOOL_MONTHLY_METRICS)
        ),
        Table.POPULARITY_INDEX: _replace(
            Table.POPULARITY_INDEX, gold.popularity_index, contract_spec(Table.POPULARITY_INDEX)
        ),
    }


def write_mentions(tables: dict[str, pa.Table], *, append: bool = False) -> dict[str, int]:
    """Write sample Reddit rows (``reddit_mentions`` method ``sample``, items source ``sample``); ``append`` adds them
    to sample rows already written. Raises ``RuntimeError`` if a table holds real rows."""
    import pyarrow as pa
    from madlake.lakehouse.tables import load_table

    out = {}
    for name, df in tables.items():
        column = "method" if name == Table.REDDIT_MENTIONS else "source"
        rows = df
        if append:
            table = load_table(name)
            rows = pa.concat_tables([table.scan().to_arrow(), writes_conform(table, df)])
        out[name] = _replace(name, rows, sample_column=column)
    return out


def writes_conform(table: Any, df: pa.Table) -> pa.Table:
    from madlake.lakehouse import writes

    return writes.conform(table, df)
