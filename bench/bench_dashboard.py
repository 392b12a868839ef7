"""Dashboard query speed: every query the site runs, p50/p95, on 3 years x 113 tools of generated sample gold data.

Budget (issue 7): every dashboard query p95 <= 100 ms locally. The site build runs its queries on an in-memory
snapshot of the tables (``madlake.dashboard.engine.DashboardEngine``); the baseline, measured in the same run, is the
general-purpose ``LocalEngine`` (DuckDB views over the Iceberg tables' Parquet files). Parameters rotate over tools
and categories, as the build does. Also prints the snapshot load time and the whole site build time.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

TOOLS = 113
START, END = date(2023, 11, 1), date(2026, 10, 31)  # 3 years
RUNS = 30
BUDGET_MS = 100.0


def _pctl(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="madlake-bench-dashboard-") as tmp:
        os.environ["MADLAKE_HOME"] = tmp
        os.environ["MADLAKE_PROFILE"] = "local"
        _run(Path(tmp))


def _run(home: Path) -> None:
    import logging

    logging.getLogger("madlake").setLevel(logging.WARNING)
    from madlake.dashboard import sample
    from madlake.dashboard.engine import DashboardEngine
    from madlake.dashboard.queries import QUERIES, QueryRunner
    from madlake.dashboard.site import build_site
    from madlake.lakehouse.catalog import reset_catalog_cache
    from madlake.ops.freshness import refresh_source_freshness
    from madlake.sql.engine import LocalEngine

    reset_catalog_cache()
    t0 = time.perf_counter()
    tools = sample.pick_tools(TOOLS)
    gold = sample.generate_sample_gold(tools, START, END)
    sample.load_sample_dim_tools(tools)
    rows = sample.write_sample_gold(gold)
    sample.write_sample_mentions(*sample.generate_sample_mentions(tools, START, END, per_tool=60))
    refresh_source_freshness(END)
    print(
        f"data: {len(tools)} tools x {(END - START).days + 1} days (sample) in {time.perf_counter() - t0:.1f}s: "
        + ", ".join(f"{k} {v:,}" for k, v in rows.items())
    )

    t0 = time.perf_counter()
    snap = DashboardEngine()
    load_s = time.perf_counter() - t0
    views = LocalEngine()
    fast = QueryRunner(snap, snap.available_tables())
    base = QueryRunner(views, views.available_tables())
    tool_ids = [t.id for t in tools]
    categories = sorted({c for t in tools for c in t.categories})

    def params_for(name: str, i: int) -> tuple:
        example = QUERIES[name].example_params
        if name.startswith("tool_") and example:
            return (tool_ids[i % len(tool_ids)],)
        if name.startswith("category_") and example:
            return (categories[i % len(categories)], *example[1:])
        return example

    for runner in (fast, base):  # warm up: first-use registration/plan costs are not per-query costs
        for name in QUERIES:
            runner.run(name, params_for(name, 0))
        runner.timings.clear()
    for i in range(RUNS):
        for name in QUERIES:
            fast.run(name, params_for(name, i))
            base.run(name, params_for(name, i))

    print(f"snapshot engine: {sum(snap.rows.values()):,} rows copied in {load_s:.2f}s (once per site build)")
    print(f"{'query':<26} {'p50 ms':>7} {'p95 ms':>7} {'views p95':>9} {'views/snap':>10}  budget {BUDGET_MS:.0f} ms")
    worst = 0.0
    for name in QUERIES:
        ts = [t * 1000 for t in fast.timings[name]]
        bs = [t * 1000 for t in base.timings[name]]
        p95, b95 = _pctl(ts, 0.95), _pctl(bs, 0.95)
        worst = max(worst, p95)
        verdict = "ok" if p95 <= BUDGET_MS else "OVER"
        print(f"{name:<26} {statistics.median(ts):7.1f} {p95:7.1f} {b95:9.1f} {b95 / p95:9.1f}x  {verdict}")
    print(f"slowest dashboard query p95: {worst:.1f} ms = {worst / BUDGET_MS:.2f} x the {BUDGET_MS:.0f} ms budget")

    t0 = time.perf_counter()
    summary = build_site(home / "site", snap)
    build_s = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in (home / "site").rglob("*") if p.is_file())
    print(
        f"site build: {len(summary.pages)} pages, {size / 1e6:.1f} MB in {build_s:.1f}s (+{load_s:.1f}s snapshot load)"
    )
    if worst > BUDGET_MS:
        raise AssertionError(f"a dashboard query's p95 is {worst:.1f} ms, over the {BUDGET_MS:.0f} ms budget")


if __name__ == "__main__":
    main()
